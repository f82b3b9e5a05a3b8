"""Dialogue manifests: one voice line per CSV row (with a header) or per JSONL object.

Fields (CSV columns / JSON keys; only ``audio`` is required):
    id                  unique name of the line and of its output files (default: the audio file's stem)
    audio               audio file (wav/flac/ogg/mp3)
    text | text_file    transcript, or a file holding it (lines with one use forced alignment)
    rig                 rig profile: built-in name or profile JSON (for unity-anim, gltf, unreal-curves)
    emotion | emotion_track
                        ``happy=0.6,angry=0.2`` or a JSON object ``{"happy": 0.6}``, or a keyframe track file
    fps, seed, mouth_preservation

Relative paths resolve against the manifest's folder. Every line is validated here, before any baking, so
a typo fails that line (``LineError``, naming the manifest line and the field) and never the batch.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emobridge.animate import DEFAULT_FPS, DEFAULT_MOUTH_PRESERVATION

FIELDS = ("id", "audio", "text", "text_file", "rig", "emotion", "emotion_track", "fps", "seed", "mouth_preservation")
_ID = re.compile(r"^[\w][\w.-]*$")  # becomes a file name: no separators, no leading dot


class ManifestError(ValueError):
    """The manifest as a whole cannot be read (missing file, no header, unknown column)."""


@dataclass(frozen=True)
class Line:
    """One validated voice line; ``row`` is its line number in the manifest (for messages only)."""

    id: str
    audio: Path
    row: int = 0
    text: str | None = None
    rig: str | None = None
    emotion: tuple[float, ...] | None = None
    emotion_track: Path | None = None
    fps: float = DEFAULT_FPS
    seed: int = 0
    mouth_preservation: float = DEFAULT_MOUTH_PRESERVATION

    def spec(self) -> dict[str, Any]:
        """What the bake depends on (not where the line sits in the manifest)."""
        return {"id": self.id, "audio": str(self.audio), "text": self.text, "rig": self.rig, "emotion": self.emotion,
                "emotion_track": str(self.emotion_track) if self.emotion_track else None, "fps": self.fps,
                "seed": self.seed, "mouth_preservation": self.mouth_preservation}


@dataclass(frozen=True)
class LineError:
    """A manifest line that failed validation: reported as failed, never baked."""

    id: str
    row: int
    error: str


class _FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def read_manifest(path: str | Path) -> tuple[list[Line], list[LineError]]:
    """All lines of a ``.csv`` or ``.jsonl`` manifest: the valid ones and the errors, in manifest order."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest not found: {path}")
    records = _jsonl_records(path) if path.suffix.lower() in (".jsonl", ".ndjson") else _csv_records(path)
    base = path.parent.resolve()  # absolute, so cluster workers and resumed runs see the same paths
    lines: list[Line] = []
    errors: list[LineError] = []
    seen: set[str] = set()
    rigs: dict[str, str | None] = {}  # rig value -> error (None: loads); profiles are parsed once per manifest
    for row, record in records:
        fallback_id = _fallback_id(record, row)
        try:
            if isinstance(record, str):
                raise _FieldError("-", record)
            line = _line(record, row, base, rigs)
            if line.id in seen:
                raise _FieldError("id", f"duplicate id {line.id!r} (ids name the output files and must be unique)")
            seen.add(line.id)
            lines.append(line)
        except _FieldError as err:
            errors.append(LineError(fallback_id, row, f"{path.name} line {row}, field {err.field!r}: {err}"))
    return lines, errors


def _csv_records(path: Path) -> list[tuple[int, dict[str, str] | str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in reader.fieldnames or []]
        if "audio" not in header:
            raise ManifestError(f"{path}: the CSV header must name an 'audio' column (columns: {', '.join(FIELDS)})")
        unknown = [h for h in header if h and h not in FIELDS]
        if unknown:
            raise ManifestError(f"{path}: unknown column(s) {', '.join(unknown)}; columns are {', '.join(FIELDS)}")
        reader.fieldnames = header
        records: list[tuple[int, dict[str, str] | str]] = []
        for record in reader:
            if None in record:
                records.append((reader.line_num, f"more cells than the header has columns: {record[None]}"))
            elif any((v or "").strip() for v in record.values()):
                records.append((reader.line_num, {k: v.strip() for k, v in record.items() if k and v and v.strip()}))
        return records


def _jsonl_records(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    records: list[tuple[int, dict[str, Any] | str]] = []
    for row, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as err:
            records.append((row, f"not valid JSON ({err})"))
            continue
        if not isinstance(record, dict):
            records.append((row, "each line must be a JSON object"))
            continue
        unknown = [k for k in record if k not in FIELDS]
        records.append((row, f"unknown key(s) {', '.join(unknown)}; keys are {', '.join(FIELDS)}") if unknown
                       else (row, {k: v for k, v in record.items() if v not in (None, "")}))
    return records


def _fallback_id(record: dict[str, Any] | str, row: int) -> str:
    """A name for a line's report row even when the line is invalid."""
    if isinstance(record, dict):
        if isinstance(record.get("id"), str) and record["id"].strip():
            return record["id"].strip()
        if isinstance(record.get("audio"), str) and record["audio"].strip():
            return Path(record["audio"]).stem
    return f"line-{row}"


def _line(record: dict[str, Any], row: int, base: Path, rigs: dict[str, str | None]) -> Line:
    if "audio" not in record:
        raise _FieldError("audio", "missing (every line needs an audio file)")
    audio = _existing_file(record, "audio", base)
    line_id = str(record.get("id", audio.stem)).strip()
    if not _ID.match(line_id):
        raise _FieldError("id", f"{line_id!r} cannot name a file: use letters, digits, '_', '-' and '.'")
    return Line(id=line_id, audio=audio, row=row, text=_text(record, base), rig=_rig(record, base, rigs),
                emotion=_emotion(record), emotion_track=_emotion_track(record, base),
                fps=_number(record, "fps", DEFAULT_FPS, float, lambda v: 0 < v <= 240, "between 0 and 240"),
                seed=_number(record, "seed", 0, int, lambda v: v >= 0, "a non-negative integer"),
                mouth_preservation=_number(record, "mouth_preservation", DEFAULT_MOUTH_PRESERVATION, float,
                                           lambda v: 0 <= v <= 1, "between 0 and 1"))


def _existing_file(record: dict[str, Any], field: str, base: Path) -> Path:
    value = record[field]
    if not isinstance(value, str):
        raise _FieldError(field, f"must be a file path, got {value!r}")
    path = base / value  # an absolute value replaces base
    if not path.is_file():
        raise _FieldError(field, f"file not found: {path}")
    return path


def _text(record: dict[str, Any], base: Path) -> str | None:
    if "text" in record and "text_file" in record:
        raise _FieldError("text", "give text or text_file, not both")
    if "text_file" in record:
        path = _existing_file(record, "text_file", base)
        try:
            return path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise _FieldError("text_file", f"cannot read {path}: {err}") from None
    text = record.get("text")
    if text is not None and not isinstance(text, str):
        raise _FieldError("text", f"must be a string, got {text!r}")
    return text


def _rig(record: dict[str, Any], base: Path, rigs: dict[str, str | None]) -> str | None:
    from emobridge.rig.profile import load_profile

    value = record.get("rig")
    if value is None:
        return None
    if not isinstance(value, str):
        raise _FieldError("rig", f"must be a profile name or file, got {value!r}")
    # A built-in name stays a name; anything else is a profile file relative to the manifest.
    resolved = str(base / value) if (base / value).is_file() else value
    if resolved not in rigs:
        try:
            load_profile(resolved)
            rigs[resolved] = None
        except (ValueError, OSError) as err:
            rigs[resolved] = str(err)
    if rigs[resolved]:
        raise _FieldError("rig", rigs[resolved])
    return resolved


def _emotion(record: dict[str, Any]) -> tuple[float, ...] | None:
    from emobridge.emotion import parse_emotion, parse_emotion_string

    value = record.get("emotion")
    if value is None:
        return None
    if "emotion_track" in record:
        raise _FieldError("emotion", "give emotion or emotion_track, not both")
    try:
        if isinstance(value, str) and value.lstrip().startswith("{"):
            value = json.loads(value)
        vector = parse_emotion(value) if isinstance(value, dict) else parse_emotion_string(str(value))
    except (ValueError, TypeError) as err:
        raise _FieldError("emotion", str(err)) from None
    return tuple(float(v) for v in vector)


def _emotion_track(record: dict[str, Any], base: Path) -> Path | None:
    from emobridge.emotion import EmotionTrack

    if "emotion_track" not in record:
        return None
    path = _existing_file(record, "emotion_track", base)
    try:
        EmotionTrack.load(path)
    except (ValueError, OSError) as err:
        raise _FieldError("emotion_track", str(err)) from None
    return path


def _number(record: dict[str, Any], field: str, default: Any, kind: Callable[[Any], Any], ok: Callable[[Any], bool],
            expected: str) -> Any:
    value = record.get(field, default)
    try:
        number = kind(value) if not isinstance(value, bool) else None
        if kind is int and float(value) != number:  # "2.5" must not become seed 2
            number = None
    except (TypeError, ValueError):
        number = None
    if number is None or (isinstance(number, float) and not math.isfinite(number)) or not ok(number):
        raise _FieldError(field, f"must be {expected}, got {value!r}")
    return number
