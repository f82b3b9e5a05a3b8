"""Rig profiles: how ARKit-52 weights become one rig's blendshape values (data, not code).

A profile is a JSON file (``emobridge/rig/profiles/*.json`` ship with the package; a user's own file
works the same) that lists the rig's shapes in the order they should appear. Each shape reads one ARKit
channel, or combines several, then applies gain, offset and a clamp:

    {"name": "My rig",
     "description": "what it is for",
     "shapes": {
        "Blink_L":      "eyeBlinkLeft",                                   # rename
        "JawOpen":      {"from": "jawOpen", "gain": 0.8},                  # rename + gain
        "BrowsUp_L":    {"from": "browInnerUp"},                           # split: one channel ...
        "BrowsUp_R":    {"from": "browInnerUp"},                           # ... drives two halves
        "Smile":        {"from": ["mouthSmileLeft", "mouthSmileRight"], "combine": "mean"},
        "Sneer":        {"from": "noseSneerLeft", "offset": -0.1, "min": 0.0, "max": 0.8}}}

value = clamp(combine(source channels) * gain + offset, min, max), with gain 1, offset 0, min 0, max 1
and combine "mean" by default (also "max" and "sum"). Source names take any ARKit spelling (eyeBlink_L,
EyeBlinkLeft, eyeBlinkLeft). ARKit channels a profile does not read are simply not sent to that rig.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from emobridge.rig import ARKIT_INDEX, NUM_BLENDSHAPES, UnknownBlendshapeError, canonical_name

COMBINE = ("mean", "max", "sum")
_ENTRY_KEYS = {"from", "combine", "gain", "offset", "min", "max"}


class RigProfileError(ValueError):
    """A profile that cannot be used; the message names the file and the shape."""


@dataclass(frozen=True)
class Shape:
    name: str
    sources: tuple[int, ...]  # ARKit indices
    combine: str = "mean"
    gain: float = 1.0
    offset: float = 0.0
    low: float = 0.0
    high: float = 1.0


@dataclass(frozen=True)
class RigProfile:
    name: str
    description: str
    shapes: tuple[Shape, ...]

    @property
    def shape_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.shapes)

    def apply(self, frames: np.ndarray) -> np.ndarray:
        """ARKit weights [T, 52] (canonical order) -> this rig's values [T, len(shapes)]."""
        frames = np.asarray(frames, dtype=np.float64)
        if frames.ndim != 2 or frames.shape[1] != NUM_BLENDSHAPES:
            raise ValueError(f"rig profile {self.name!r} needs ARKit frames [T, 52], got shape {frames.shape}")
        out = np.empty((len(frames), len(self.shapes)))
        for j, shape in enumerate(self.shapes):
            picked = frames[:, shape.sources]
            value = {"mean": picked.mean, "max": picked.max, "sum": picked.sum}[shape.combine](axis=1)
            out[:, j] = np.clip(value * shape.gain + shape.offset, shape.low, shape.high)
        return out.astype(np.float32)

    @classmethod
    def from_dict(cls, doc: Any, origin: str = "rig profile") -> RigProfile:
        if not isinstance(doc, dict) or not isinstance(doc.get("shapes"), dict) or not doc["shapes"]:
            raise RigProfileError(f"{origin}: needs an object with a non-empty 'shapes' object")
        shapes = tuple(_shape(name, spec, origin) for name, spec in doc["shapes"].items())
        return cls(str(doc.get("name", origin)), str(doc.get("description", "")), shapes)


def _shape(name: str, spec: Any, origin: str) -> Shape:
    where = f"{origin}: shape {name!r}"
    if isinstance(spec, str):
        spec = {"from": spec}
    if not isinstance(spec, dict) or "from" not in spec:
        raise RigProfileError(f"{where} must be an ARKit name or an object with 'from'")
    unknown = set(spec) - _ENTRY_KEYS
    if unknown:
        raise RigProfileError(f"{where} has unknown keys {sorted(unknown)} (allowed: {sorted(_ENTRY_KEYS)})")
    sources = spec["from"] if isinstance(spec["from"], list) else [spec["from"]]
    if not sources or not all(isinstance(s, str) for s in sources):
        raise RigProfileError(f"{where}: 'from' must be an ARKit name or a non-empty list of them")
    try:
        indices = tuple(ARKIT_INDEX[canonical_name(s)] for s in sources)
    except UnknownBlendshapeError as err:
        raise RigProfileError(f"{where}: {err}") from None
    combine = spec.get("combine", "mean")
    if combine not in COMBINE:
        raise RigProfileError(f"{where}: 'combine' must be one of {COMBINE}, got {combine!r}")
    numbers = {}
    for key, default in (("gain", 1.0), ("offset", 0.0), ("min", 0.0), ("max", 1.0)):
        value = spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise RigProfileError(f"{where}: {key!r} must be a number, got {value!r}")
        numbers[key] = float(value)
    if numbers["min"] > numbers["max"]:
        raise RigProfileError(f"{where}: 'min' {numbers['min']} is above 'max' {numbers['max']}")
    return Shape(name, indices, combine, numbers["gain"], numbers["offset"], numbers["min"], numbers["max"])


def builtin_profiles() -> list[str]:
    """Names of the profiles shipped with the package (``arkit`` is the identity)."""
    folder = resources.files("emobridge.rig").joinpath("profiles")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_profile(name_or_path: str | Path) -> RigProfile:
    """A shipped profile by name (``ict_facekit``, ``vrm_perfect_sync``, ...) or a profile JSON file."""
    path = Path(name_or_path)
    if path.suffix.lower() != ".json" and str(name_or_path) in builtin_profiles():
        text = resources.files("emobridge.rig").joinpath("profiles", f"{name_or_path}.json").read_text("utf-8")
        origin = f"{name_or_path} (built-in)"
    else:
        if not path.is_file():
            raise RigProfileError(f"rig profile {str(name_or_path)!r} is neither a file nor a built-in profile "
                                  f"({', '.join(builtin_profiles())})")
        text, origin = path.read_text("utf-8"), str(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise RigProfileError(f"{origin}: not valid JSON ({err})") from None
    return RigProfile.from_dict(doc, origin)
