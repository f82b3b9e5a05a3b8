"""Training: this package owns the synthetic speech corpus and the training of the audio -> ARKit-52 model.

The speech side makes readable, phonetically rich sentences (``text``), speaks them with local TTS
engines that report their own phone timings (``tts``: flite, Festival, espeak-ng), and varies the
audio without moving those timings, except for an explicit time scale (``augment``). The procedural
animator turns the exact phones into face targets. (The ``augment`` function stays in its module,
``emobridge.train.augment.augment``, so the package attribute keeps naming the module.)
"""

from emobridge.train.augment import DEFAULT_AUGMENT, Augmented, AugmentError, scale_phones
from emobridge.train.text import generate_sentences
from emobridge.train.tts import VOICES, TTSError, Voice, available_voices, synthesize, voice_available

__all__ = [
    "DEFAULT_AUGMENT", "VOICES", "AugmentError", "Augmented", "TTSError", "Voice", "available_voices",
    "generate_sentences", "scale_phones", "synthesize", "voice_available",
]
