"""Audio-only animation with the learned model: clip -> Animation, same contract as the procedural bake.

The model predicts the speaking face with its emotion at 100 frames a second; this resamples it to the
requested fps and adds the seeded idle life (blinks, gaze, head) that no audio predicts. Offline, phones
recognised from the same audio (``recognized_phones``, see phonetics.recognize_words) add what the model
misses on real voices: the lips seal on their p/b/m where the model's closure is weaker, and in their
pauses the jaw the model opens for breath and room noise comes to rest. The rest of the face stays the
model's.
"""

from __future__ import annotations

import numpy as np

from emobridge.animate import DEFAULT_FPS, DEFAULT_MOUTH_PRESERVATION, Style, add_idle, articulate, emotion_frames, frame_count
from emobridge.animate.expression import check_mouth_preservation
from emobridge.animation import Animation
from emobridge.audio import SAMPLE_RATE, log_mel
from emobridge.emotion import EmotionTrack
from emobridge.model.output import CLOSURE_SLOT, JAW, to_arkit
from emobridge.model.runtime import FaceModel
from emobridge.phonetics import Phone


def conditioning(emotion_100: np.ndarray, mouth_preservation: float, style: Style) -> np.ndarray:
    """[T, 10]: emotion per frame, mouth preservation, style (the layout of model.json's cond_layout)."""
    n = len(emotion_100)
    return np.concatenate([emotion_100, np.full((n, 1), mouth_preservation), np.tile(style.vector(), (n, 1))],
                          axis=1).astype(np.float32)


def resample_frames(frames: np.ndarray, src_fps: float, n_out: int, dst_fps: float) -> np.ndarray:
    """Linear interpolation of [T, C] curves onto ``n_out`` frames at ``dst_fps``."""
    src_t = np.arange(len(frames)) / src_fps
    dst_t = np.arange(n_out) / dst_fps
    return np.stack([np.interp(dst_t, src_t, frames[:, c]) for c in range(frames.shape[1])], axis=1)


class AudioAnimator:
    def __init__(self, model: FaceModel | None = None) -> None:
        self.model = model or FaceModel()

    def animate(
        self,
        audio16k: np.ndarray,
        fps: float = DEFAULT_FPS,
        emotion: EmotionTrack | np.ndarray | None = None,
        mouth_preservation: float = DEFAULT_MOUTH_PRESERVATION,
        seed: int = 0,
        style: Style | None = None,
        idle: bool = True,
        recognized_phones: list[Phone] | None = None,
    ) -> Animation:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        mp = check_mouth_preservation(mouth_preservation)
        style = style or Style()
        mel = log_mel(audio16k)
        rate = self.model.frame_rate
        emotion_100 = emotion_frames(emotion, len(mel), rate)
        face = self.model.infer(mel, conditioning(emotion_100, mp, style))
        if recognized_phones:
            self._add_recognized(face, mel, recognized_phones, emotion_100, mp, style)
        n = frame_count(len(audio16k) / SAMPLE_RATE, fps)
        frames = resample_frames(to_arkit(face), rate, n, fps)
        head = np.zeros((n, 3))
        if idle:
            frames, head = add_idle(frames, fps, None, seed)
        return Animation(
            fps=float(fps),
            frames=np.clip(frames, 0.0, 1.0).astype(np.float32),
            head_rotation=head.astype(np.float32),
            emotion=emotion_frames(emotion, n, fps).astype(np.float32),
            meta={"generator": "model", "mouth_preservation": mp, "seed": seed,
                  "model_lookahead_ms": self.model.lookahead * 1000 / rate},
        )

    def _add_recognized(self, face: np.ndarray, mel: np.ndarray, phones: list[Phone], emotion_100: np.ndarray,
                        mp: float, style: Style) -> None:
        """In place on the model's output [T, 52]: the recognised phones' lip seals and rests."""
        art = articulate(phones, np.arange(len(face)) / self.model.frame_rate)
        face[:, CLOSURE_SLOT] = np.maximum(face[:, CLOSURE_SLOT], art.closure)
        # In pauses only the jaw the model opens for sound rests (the neutral take's jaw); an emotion's own
        # jaw (surprise) stays. Resting the whole jaw failed surprise's FACS check.
        sound_jaw = face[:, JAW]
        if emotion_100.any():
            sound_jaw = self.model.infer(mel, conditioning(np.zeros_like(emotion_100), mp, style))[:, JAW]
        face[:, JAW] = np.maximum(face[:, JAW] - (1.0 - art.activity) * np.clip(sound_jaw, 0.0, None), 0.0)
