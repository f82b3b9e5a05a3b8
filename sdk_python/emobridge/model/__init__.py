"""The learned audio-to-face model: network (PyTorch, training/export only), ONNX export, ONNX Runtime
inference (offline and streaming with cached state) and audio-only animation.

    network         FaceNet (causal dilated convs + FiLM conditioning), EmotionRecognizer
    export          checkpoint -> face_offline.onnx + face_step.onnx + model.json
    runtime         FaceModel (CUDA when present, else CPU), FaceStream
    output          the network's output layout (closure in the mouthClose slot) -> ARKit weights
    audio_animator  clip -> Animation with the model, idle life added
The shipped default model lives in ``default/`` (see its MODEL_CARD.md).
Importing this package does not import torch; only training and export need it.
"""

from emobridge.model.audio_animator import AudioAnimator
from emobridge.model.runtime import DEFAULT_MODEL_DIR, FaceModel, FaceStream, ModelError

__all__ = ["DEFAULT_MODEL_DIR", "AudioAnimator", "FaceModel", "FaceStream", "ModelError"]
