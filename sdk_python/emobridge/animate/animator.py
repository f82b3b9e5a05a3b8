"""The procedural animator: phones + emotion + prosody -> a full ARKit-52 Animation.

This is the quality reference (the teacher) of the learned model: the articulated mouth from
coarticulation, the emotion overlay from expression, brow raises heard in the pitch, and the seeded
life of idle (blinks, gaze, head) that no model can predict from audio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emobridge.animate.coarticulation import articulate
from emobridge.animate.expression import DEFAULT_MOUTH_PRESERVATION, compose_face
from emobridge.animate.idle import accent_brows, idle_motion
from emobridge.animation import Animation
from emobridge.audio.prosody import Prosody
from emobridge.emotion import EMOTIONS, EmotionTrack
from emobridge.phonetics.phones import Phone
from emobridge.rig import ARKIT_INDEX

DEFAULT_FPS = 60.0
BLINK_CHANNELS = [ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]


@dataclass(frozen=True)
class Style:
    """Speaking style, each in -1..1 (0 = the tuned default).

    energy: articulation size (-1 = 30% smaller jaw and lip motion, +1 = 30% larger).
    smoothness: coarticulation width (-1 = crisp, phone by phone; +1 = 50% wider, mumbled).
    """

    energy: float = 0.0
    smoothness: float = 0.0

    def __post_init__(self) -> None:
        for name in ("energy", "smoothness"):
            value = float(getattr(self, name))
            if not -1.0 <= value <= 1.0:  # also rejects NaN
                raise ValueError(f"style {name} must be between -1 and 1, got {value}")

    def vector(self) -> np.ndarray:
        return np.array([self.energy, self.smoothness], dtype=np.float32)


def frame_count(duration_s: float, fps: float) -> int:
    return max(1, int(round(duration_s * fps)))


def emotion_frames(emotion: EmotionTrack | np.ndarray | None, n: int, fps: float) -> np.ndarray:
    """The emotion in effect at each of ``n`` frames: [n, 7]."""
    if emotion is None:
        return np.zeros((n, len(EMOTIONS)))
    if isinstance(emotion, EmotionTrack):
        return emotion.sample(n, fps).astype(np.float64)
    return np.broadcast_to(np.asarray(emotion, dtype=np.float64), (n, len(EMOTIONS))).copy()


def add_idle(frames: np.ndarray, fps: float, prosody: Prosody | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Blinks, gaze and head motion on top of a face [N, 52]; returns (frames clipped to 0..1, head [N, 3])."""
    times = np.arange(len(frames)) / fps
    idle = idle_motion(times, fps, prosody, seed)
    face = np.asarray(frames, dtype=np.float64).copy()
    others = np.ones(face.shape[1], bool)
    others[BLINK_CHANNELS] = False
    face[:, others] += idle.weights[:, others]
    # A blink closes the eye fully whatever the emotion's squint.
    face[:, BLINK_CHANNELS] = np.maximum(face[:, BLINK_CHANNELS], idle.weights[:, BLINK_CHANNELS])
    return np.clip(face, 0.0, 1.0), idle.head_rotation


def animate(
    phones: list[Phone],
    duration_s: float,
    fps: float = DEFAULT_FPS,
    emotion: EmotionTrack | np.ndarray | None = None,
    mouth_preservation: float = DEFAULT_MOUTH_PRESERVATION,
    prosody: Prosody | None = None,
    seed: int = 0,
    style: Style | None = None,
    idle: bool = True,
) -> Animation:
    """Animate a clip. ``emotion`` is a track, a constant 7-vector, or None for neutral.

    ``idle=False`` leaves out blinks, gaze and head motion (the learned model's training targets).
    """
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    style = style or Style()
    n = frame_count(duration_s, fps)
    times = np.arange(n) / fps
    emotions = emotion_frames(emotion, n, fps)

    art = articulate(phones, times, spread_scale=1.0 + 0.5 * style.smoothness)
    art.weights *= 1.0 + 0.3 * style.energy
    face = compose_face(art, emotions, mouth_preservation) + accent_brows(times, prosody)
    head = np.zeros((n, 3))
    if idle:
        face, head = add_idle(face, fps, prosody, seed)
    return Animation(
        fps=float(fps),
        frames=np.clip(face, 0.0, 1.0).astype(np.float32),
        head_rotation=head.astype(np.float32),
        emotion=emotions.astype(np.float32),
        meta={"generator": "procedural", "mouth_preservation": mouth_preservation, "seed": seed},
    )
