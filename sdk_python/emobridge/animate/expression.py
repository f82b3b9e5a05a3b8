"""Emotion overlay on the articulated mouth, with mouth preservation and bilabial closure.

The emotion vector maps linearly onto ARKit offsets through the basis in face_tables.json, so
intensity sweeps are monotonic and blends are smooth by construction. ``mouth_preservation``
(0..1) says how much the speaking mouth is protected from emotion: at 1 the jaw and lips articulate
exactly as in neutral speech while the upper face and mouth corners carry the emotion; at 0 emotion
offsets and articulation gain act fully. Closure always wins: on p/b/m the lips seal whatever
the emotion.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from emobridge.animate.coarticulation import Articulation, tuning
from emobridge.emotion.space import EMOTIONS
from emobridge.rig import ARKIT_INDEX, NUM_BLENDSHAPES, face_tables

DEFAULT_MOUTH_PRESERVATION = 0.5


@lru_cache(maxsize=1)
def emotion_basis() -> np.ndarray:
    """[7, 52] ARKit offsets of each basis emotion at intensity 1."""
    basis = np.zeros((len(EMOTIONS), NUM_BLENDSHAPES))
    for row, name in enumerate(EMOTIONS):
        for channel, value in face_tables()["emotion_basis"][name].items():
            basis[row, ARKIT_INDEX[channel]] = value
    return basis


def _mask(names: list[str]) -> np.ndarray:
    mask = np.zeros(NUM_BLENDSHAPES, bool)
    mask[[ARKIT_INDEX[n] for n in names]] = True
    return mask


def check_mouth_preservation(value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(f"mouth_preservation must be between 0 and 1, got {value}")
    return value


def compose_face(art: Articulation, emotion: np.ndarray, mouth_preservation: float) -> np.ndarray:
    """Articulation [N, 52] + emotion [N, 7] -> face weights [N, 52] (not yet clipped)."""
    mp = check_mouth_preservation(mouth_preservation)
    tables = face_tables()
    articulation_mask = _mask(tables["articulation_channels"])
    lip_opening_mask = _mask(tables["lip_opening_channels"])
    gains = np.array([tuning()["emotion_articulation_gain"][name] for name in EMOTIONS])

    offsets = emotion @ emotion_basis()
    # While speaking, emotion's own jaw/lip offsets give way to articulation in proportion to mp.
    offsets[:, articulation_mask] *= (1.0 - mp * art.activity)[:, None]
    # Closure wins: lip-parting articulation yields on the bilabial's own ramps, lip-parting emotion
    # offsets on slower ones (so a sneer eases off around a p/b/m instead of flickering).
    offsets[:, lip_opening_mask] *= 1.0 - art.closure_soft[:, None]
    gain = 1.0 + (1.0 - mp) * (emotion @ gains)
    face = art.weights * gain[:, None]
    face[:, lip_opening_mask] *= 1.0 - art.closure[:, None]
    face += offsets
    jaw, close = ARKIT_INDEX["jawOpen"], ARKIT_INDEX["mouthClose"]
    sealing = art.closure * tuning()["closure"]["seal_ratio"] * np.clip(face[:, jaw], 0.0, 1.0)
    face[:, close] = np.maximum(face[:, close], sealing)
    return face
