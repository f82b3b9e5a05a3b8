"""Procedural animator: phone timings, emotion and prosody -> ARKit-52 curves (the teacher model).

    coarticulation  phones -> jaw and lip curves by dominance blending, bilabial closure envelope
    expression      emotion overlay through the basis, mouth preservation, closure wins
    idle            blinks, gaze, head motion, brow raises on pitch accents (seeded)
    animator        puts them together into an Animation
Tuning data (per-phone targets, dominance classes, closure) lives in articulation.json.
"""

from emobridge.animate.animator import DEFAULT_FPS, Style, add_idle, animate, emotion_frames, frame_count
from emobridge.animate.coarticulation import Articulation, articulate
from emobridge.animate.expression import DEFAULT_MOUTH_PRESERVATION, compose_face, emotion_basis

__all__ = [
    "DEFAULT_FPS",
    "DEFAULT_MOUTH_PRESERVATION",
    "Articulation",
    "Style",
    "add_idle",
    "animate",
    "articulate",
    "compose_face",
    "emotion_basis",
    "emotion_frames",
    "frame_count",
]
