"""The Animation JSON contract: the lingua franca between bake, export, streaming and evaluation.

``{"fps": 60, "blendshape_names": [52 ARKit names], "frames": [[52 floats in 0..1], ...],
"head_rotation": [[yaw, pitch, roll] radians, ...], "emotion": [[7 intensities], ...], "meta": {...}}``
``head_rotation``, ``emotion`` and ``meta`` are optional.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emobridge.rig import ARKIT_NAMES


class AnimationFormatError(ValueError):
    """An animation document that breaks the contract; the message names the field."""


@dataclass
class Animation:
    """ARKit-52 weights per frame plus optional head rotation and the emotion in effect."""

    fps: float
    frames: np.ndarray                      # [T, 52] float32 in 0..1, canonical ARKit order
    head_rotation: np.ndarray | None = None  # [T, 3] yaw, pitch, roll in radians
    emotion: np.ndarray | None = None        # [T, 7] intensities over emotion.EMOTIONS
    meta: dict[str, Any] = field(default_factory=dict)
    blendshape_names: tuple[str, ...] = ARKIT_NAMES

    @property
    def duration(self) -> float:
        return len(self.frames) / self.fps

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "fps": self.fps,
            "blendshape_names": list(self.blendshape_names),
            "frames": np.round(self.frames.astype(np.float64), 5).tolist(),
        }
        if self.head_rotation is not None:
            doc["head_rotation"] = np.round(self.head_rotation.astype(np.float64), 5).tolist()
        if self.emotion is not None:
            doc["emotion"] = np.round(self.emotion.astype(np.float64), 4).tolist()
        doc["meta"] = self.meta
        return doc

    def save(self, path: str | Path) -> None:
        """Write the JSON atomically enough for tools: a temp file renamed over the target."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), separators=(",", ":")), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def from_dict(cls, doc: Any) -> Animation:
        """Validate a parsed document; every failure names the offending field."""
        if not isinstance(doc, dict):
            raise AnimationFormatError("animation JSON must be an object with fps, blendshape_names and frames")
        for key in ("fps", "blendshape_names", "frames"):
            if key not in doc:
                raise AnimationFormatError(f"animation JSON is missing the field {key!r}")
        fps = doc["fps"]
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
            raise AnimationFormatError(f"field 'fps' must be a positive number, got {fps!r}")
        names = doc["blendshape_names"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
            raise AnimationFormatError("field 'blendshape_names' must be a non-empty list of strings")
        frames = _matrix(doc["frames"], "frames", len(names))
        if not np.all((frames >= -1e-6) & (frames <= 1 + 1e-6)):
            raise AnimationFormatError("field 'frames' has weights outside 0..1")
        head = _matrix(doc["head_rotation"], "head_rotation", 3, len(frames)) if doc.get("head_rotation") is not None else None
        emotion = _matrix(doc["emotion"], "emotion", None, len(frames)) if doc.get("emotion") is not None else None
        meta = doc.get("meta") or {}
        if not isinstance(meta, dict):
            raise AnimationFormatError("field 'meta' must be an object")
        return cls(float(fps), frames.astype(np.float32), head, emotion, meta, tuple(names))

    @classmethod
    def load(cls, path: str | Path) -> Animation:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AnimationFormatError(f"animation file not found: {path}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise AnimationFormatError(f"{path} is not valid JSON: {err}") from None
        except OSError as err:  # a directory, no permission, ...
            raise AnimationFormatError(f"cannot read animation file {path}: {err.strerror or err}") from None
        return cls.from_dict(doc)


def _matrix(value: Any, name: str, width: int | None, rows: int | None = None) -> np.ndarray:
    """A [rows, width] finite float matrix, or an AnimationFormatError naming the field."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AnimationFormatError(f"field {name!r} must be a list of equal-length number lists") from None
    if arr.ndim != 2 or (arr.size == 0 and name == "frames"):
        raise AnimationFormatError(f"field {name!r} must be a non-empty list of number lists")
    if width is not None and arr.shape[1] != width:
        raise AnimationFormatError(f"field {name!r} rows must have {width} values, got {arr.shape[1]}")
    if rows is not None and arr.shape[0] != rows:
        raise AnimationFormatError(f"field {name!r} has {arr.shape[0]} rows but 'frames' has {rows}")
    if not np.all(np.isfinite(arr)):
        raise AnimationFormatError(f"field {name!r} contains NaN or infinite values")
    return arr
