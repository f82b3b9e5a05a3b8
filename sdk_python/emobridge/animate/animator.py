"""The procedural animator: phones + emotion + prosody -> a full ARKit-52 Animation.

This is the quality reference (the teacher) of the learned model: the articulated mouth from
coarticulation, the emotion overlay from expression, and blinks, gaze, brows and head from idle.
"""

from __future__ import annotations

import numpy as np

from emobridge.animate.coarticulation import articulate
from emobridge.animate.expression import DEFAULT_MOUTH_PRESERVATION, compose_face
from emobridge.animate.idle import idle_motion
from emobridge.animation import Animation
from emobridge.audio.prosody import Prosody
from emobridge.emotion import EMOTIONS, EmotionTrack
from emobridge.phonetics.phones import Phone
from emobridge.rig import ARKIT_INDEX

DEFAULT_FPS = 60.0


def frame_count(duration_s: float, fps: float) -> int:
    return max(1, int(round(duration_s * fps)))


def animate(
    phones: list[Phone],
    duration_s: float,
    fps: float = DEFAULT_FPS,
    emotion: EmotionTrack | np.ndarray | None = None,
    mouth_preservation: float = DEFAULT_MOUTH_PRESERVATION,
    prosody: Prosody | None = None,
    seed: int = 0,
) -> Animation:
    """Animate a clip. ``emotion`` is a track, a constant 7-vector, or None for neutral."""
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    n = frame_count(duration_s, fps)
    times = np.arange(n) / fps
    if emotion is None:
        emotion = np.zeros(len(EMOTIONS))
    if isinstance(emotion, EmotionTrack):
        emotion_frames = emotion.sample(n, fps)
    else:
        emotion_frames = np.broadcast_to(np.asarray(emotion, dtype=np.float64), (n, len(EMOTIONS))).copy()

    art = articulate(phones, times)
    face = compose_face(art, emotion_frames, mouth_preservation)
    idle = idle_motion(times, fps, prosody, seed)
    # Idle eyes add to the expression; a blink closes the eye fully whatever the emotion's squint.
    blinks = [ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]
    others = np.ones(face.shape[1], bool)
    others[blinks] = False
    face[:, others] += idle.weights[:, others]
    face[:, blinks] = np.maximum(face[:, blinks], idle.weights[:, blinks])
    return Animation(
        fps=float(fps),
        frames=np.clip(face, 0.0, 1.0).astype(np.float32),
        head_rotation=idle.head_rotation.astype(np.float32),
        emotion=emotion_frames.astype(np.float32),
        meta={"generator": "procedural", "mouth_preservation": mouth_preservation, "seed": seed},
    )
