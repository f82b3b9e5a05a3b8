"""Phones -> mouth articulation curves by Cohen-Massaro dominance blending.

Every phone pulls the jaw and the lips toward its targets with a dominance that is full inside the
phone and fades as a Gaussian outside it; each frame takes the dominance-weighted average of all
targets. Jaw and lips have separate dominances, so a bilabial can own the lips while a neighbouring
vowel keeps the jaw open (real coarticulation rather than step functions). Bilabials then get a closure
envelope that the caller uses to seal the lips whatever else is going on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from emobridge.phonetics.phones import Phone
from emobridge.rig import ARKIT_INDEX, NUM_BLENDSHAPES

TUNING_PATH = Path(__file__).with_name("articulation.json")
_NEUTRAL_WEIGHT = 0.02  # a faint pull to rest, so gaps between distant phones relax instead of holding


@lru_cache(maxsize=1)
def tuning() -> dict[str, Any]:
    return json.loads(TUNING_PATH.read_text())


@dataclass
class Articulation:
    """Mouth curves for a clip, sampled at the animation's frame times."""

    weights: np.ndarray   # [N, 52] articulation channels only (jaw, lips, tongue); others zero
    closure: np.ndarray   # [N] 0..1, how firmly a bilabial seals the lips at each frame
    closure_soft: np.ndarray  # [N] the same with slower ramps, for emotion offsets that must give way smoothly
    activity: np.ndarray  # [N] 0..1, smoothed "is speaking" (0 in pauses)


@dataclass
class _Segment:
    start: float
    end: float
    target: np.ndarray    # [52]
    jaw_dominance: float
    lip_dominance: float
    spread: float


def _target_vector(spec: dict[str, Any]) -> np.ndarray:
    channels = tuning()["channels"]
    vec = np.zeros(NUM_BLENDSHAPES)
    for group, value in spec.items():
        if group in channels:
            names = channels[group]
            for name in [names] if isinstance(names, str) else names:
                vec[ARKIT_INDEX[name]] = value
    return vec


def phone_target(label: str) -> np.ndarray:
    """The ARKit articulation pose [52] a phone pulls toward (its nucleus for a diphthong; SIL for unknown)."""
    table = tuning()["phones"]
    return _target_vector(table.get(label, table["SIL"]))


def _segments(phones: list[Phone]) -> list[_Segment]:
    """Phones -> dominance segments; diphthongs split into a nucleus and a glide to their end vowel."""
    cfg = tuning()
    table, classes = cfg["phones"], cfg["dominance_classes"]
    out: list[_Segment] = []
    for phone in phones:
        spec = table.get(phone.label, table["SIL"])
        cls = classes[spec["class"]]
        jaw, lips = cls["jaw"], cls["lips"]
        if phone.label == "SIL":
            # Short pauses between words barely close the mouth; long pauses return it to rest.
            scale = np.clip(phone.duration / cfg["silence_full_dominance_s"], cfg["silence_min_dominance"], 1.0)
            jaw, lips = jaw * scale, lips * scale
        parts = [(phone.start, phone.end, spec)]
        if "to" in spec:
            split = phone.start + cfg["diphthong_glide_start"] * phone.duration
            parts = [(phone.start, split, spec), (split, phone.end, {**table[spec["to"]], "jaw": spec["jaw"] * 0.5
                                                                   + table[spec["to"]]["jaw"] * 0.5})]
        for start, end, part in parts:
            out.append(_Segment(start, end, _target_vector(part), jaw, lips, cls["spread_s"]))
    return out


def _interval_distance(t: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """[N, K] distance in seconds from each time to each interval (0 inside)."""
    return np.maximum(0.0, np.maximum(start[None, :] - t[:, None], t[:, None] - end[None, :]))


def _raised_cosine_envelope(t: np.ndarray, intervals: list[tuple[float, float]], ramp_in: float,
                            ramp_out: float) -> np.ndarray:
    """1 inside any interval, raised-cosine ramps of the given lengths outside, max over intervals."""
    env = np.zeros_like(t)
    for start, end in intervals:
        before = np.clip((start - t) / ramp_in, 0.0, 1.0)
        after = np.clip((t - end) / ramp_out, 0.0, 1.0)
        env = np.maximum(env, 0.5 * (1 + np.cos(np.pi * np.maximum(before, after))))
    return env


def articulate(phones: list[Phone], times: np.ndarray, spread_scale: float = 1.0) -> Articulation:
    """Blend phone targets into mouth curves at ``times`` (seconds).

    ``spread_scale`` widens (> 1, smoother, mumbled) or narrows (< 1, crisper) every phone's influence.
    """
    cfg = tuning()
    # Sampling each frame slightly ahead makes the mouth lead the audio, as real articulators do.
    times = np.asarray(times, dtype=np.float64) + cfg["anticipation_s"]
    n = len(times)
    segs = _segments(phones)
    if not segs:
        return Articulation(np.zeros((n, NUM_BLENDSHAPES)), np.zeros(n), np.zeros(n), np.zeros(n))
    start = np.array([s.start for s in segs])
    end = np.array([s.end for s in segs])
    spread = np.array([s.spread for s in segs]) * spread_scale
    shape = np.exp(-((_interval_distance(times, start, end) / spread[None, :]) ** 2))  # [N, K]
    targets = np.stack([s.target for s in segs])                                       # [K, 52]

    jaw_mask = np.zeros(NUM_BLENDSHAPES, bool)
    for group in cfg["jaw_channels"]:
        jaw_mask[ARKIT_INDEX[cfg["channels"][group]]] = True
    weights = np.zeros((n, NUM_BLENDSHAPES))
    for mask, dominance in ((jaw_mask, [s.jaw_dominance for s in segs]), (~jaw_mask, [s.lip_dominance for s in segs])):
        d = shape * np.asarray(dominance)[None, :]
        weights[:, mask] = (d @ targets[:, mask]) / (d.sum(axis=1, keepdims=True) + _NEUTRAL_WEIGHT)

    closure_cfg = cfg["closure"]
    bilabials = [(p.start, p.end) for p in phones if p.label in closure_cfg["phones"]]
    closure = _raised_cosine_envelope(times, bilabials, closure_cfg["ramp_in_s"], closure_cfg["ramp_out_s"])
    soft = closure_cfg["emotion_ramp_s"]
    closure_soft = _raised_cosine_envelope(times, bilabials, soft, soft)
    speech = [(p.start, p.end) for p in phones if p.label != "SIL"]
    activity = _raised_cosine_envelope(times, speech, 0.15, 0.15)
    return Articulation(weights, closure, closure_soft, activity)
