"""Emotion vectors: a float32 array of intensities in [0, 1] over EMOTIONS (zero = neutral)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from emobridge.rig import face_tables

EMOTIONS: tuple[str, ...] = tuple(face_tables()["emotions"])
_ALIASES: dict[str, dict[str, float]] = face_tables()["emotion_aliases"]
_VA = {name: np.array(face_tables()["emotion_valence_arousal"][name], dtype=np.float64) for name in EMOTIONS}


class EmotionError(ValueError):
    """An emotion that cannot be understood; the message says what is accepted."""


def _known_names() -> str:
    return ", ".join(EMOTIONS) + " (aliases: " + ", ".join(sorted(_ALIASES)) + "; or neutral)"


def _weights_of(name: str) -> dict[str, float]:
    key = name.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    if key in EMOTIONS:
        return {key: 1.0}
    if key in _ALIASES:
        return _ALIASES[key]
    if key in ("neutral", "none", "calm"):
        return {}
    raise EmotionError(f"unknown emotion {name!r}; known: {_known_names()}")


def _check_intensity(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise EmotionError(f"emotion {name!r}: intensity must be a number in 0..1, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0.0 or value > 1.0:
        raise EmotionError(f"emotion {name!r}: intensity must be in 0..1, got {value}")
    return value


def parse_emotion(spec: Mapping[str, float] | None) -> np.ndarray:
    """Mapping of names (basis names or aliases) to intensities -> emotion vector.

    Aliases that expand to several basis emotions add up; the sum of each basis emotion is clipped
    to 1. ``valence``/``arousal`` keys are accepted together and add their mapped vector.
    """
    vec = np.zeros(len(EMOTIONS), dtype=np.float64)
    if not spec:
        return vec.astype(np.float32)
    spec = dict(spec)
    if "valence" in spec or "arousal" in spec:
        if "valence" not in spec or "arousal" not in spec:
            raise EmotionError("valence and arousal must be given together")
        vec += emotion_from_valence_arousal(spec.pop("valence"), spec.pop("arousal"))
    for name, value in spec.items():
        intensity = _check_intensity(name, value)
        for basis_name, share in _weights_of(name).items():
            vec[EMOTIONS.index(basis_name)] += share * intensity
    return np.clip(vec, 0.0, 1.0).astype(np.float32)


def parse_emotion_string(text: str | None) -> np.ndarray:
    """CLI form ``"happy=0.7,surprise=0.2"`` (a bare name means 1.0; ``neutral`` or empty = zero)."""
    spec: dict[str, float] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition("=")
        try:
            spec[name.strip()] = float(value) if value.strip() else 1.0
        except ValueError:
            raise EmotionError(f"emotion {name.strip()!r}: {value.strip()!r} is not a number (write name=0.7)") from None
        if name.strip().lower() in ("neutral", "none", "calm"):
            spec.pop(name.strip())
    return parse_emotion(spec)


def emotion_from_valence_arousal(valence: float, arousal: float) -> np.ndarray:
    """Map a (valence, arousal) point in [-1, 1]^2 onto the basis.

    Each basis emotion sits at its circumplex direction (face_tables.json); the point's direction
    shares its intensity among the emotions it points towards (weights cos(angle)^4, so nearby
    emotions blend and opposite ones get nothing). The distance from the origin, capped at 1, is the
    total intensity; (0, 0) is neutral.
    """
    v = _check_signed("valence", valence)
    a = _check_signed("arousal", arousal)
    strength = min(1.0, math.hypot(v, a))
    if strength < 1e-6:
        return np.zeros(len(EMOTIONS), dtype=np.float32)
    direction = np.array([v, a]) / math.hypot(v, a)
    cosines = np.array([direction @ (_VA[n] / np.linalg.norm(_VA[n])) for n in EMOTIONS])
    weights = np.clip(cosines, 0.0, None) ** 4
    return (strength * weights / weights.sum()).astype(np.float32)


def _check_signed(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value):
        raise EmotionError(f"{name} must be a number in -1..1, got {value!r}")
    if not -1.0 <= float(value) <= 1.0:
        raise EmotionError(f"{name} must be in -1..1, got {value}")
    return float(value)


def describe(vec: np.ndarray) -> dict[str, float]:
    """Non-zero intensities by name, for logs and metadata."""
    return {name: round(float(x), 3) for name, x in zip(EMOTIONS, vec, strict=True) if x > 1e-4}
