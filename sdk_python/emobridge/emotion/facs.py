"""The FACS rule check of quality.md: does an animation show the emotion it was asked for?

Each emotion names groups of ARKit channels (face_tables.json ``facs_rules``); the emotional take must
raise the mean of every group over a neutral take of the same clip by at least ``margin``. Contempt is
one-sided: its group must be raised more on one side than the other.
"""

from __future__ import annotations

import numpy as np

from emobridge.emotion.space import EMOTIONS, EmotionError
from emobridge.rig import ARKIT_INDEX, face_tables

DEFAULT_MARGIN = 0.1


def _group_mean(frames: np.ndarray, names: list[str]) -> float:
    return float(frames[:, [ARKIT_INDEX[n] for n in names]].mean())


def facs_rule_holds(emotion: str, neutral: np.ndarray, emotional: np.ndarray, margin: float = DEFAULT_MARGIN) -> bool:
    """Whether ``emotional`` [T, 52] shows ``emotion`` relative to ``neutral`` [T, 52] of the same clip."""
    if emotion not in EMOTIONS:
        raise EmotionError(f"unknown emotion {emotion!r}; known: {', '.join(EMOTIONS)}")
    for group in face_tables()["facs_rules"][emotion]:
        if group[0] == "one_sided":
            left = [n for n in group[1:] if n.endswith("Left")]
            right = [n for n in group[1:] if n.endswith("Right")]
            lift = [_group_mean(emotional, side) - _group_mean(neutral, side) for side in (left, right)]
            if abs(lift[0] - lift[1]) < margin:
                return False
        elif _group_mean(emotional, group) - _group_mean(neutral, group) < margin:
            return False
    return True
