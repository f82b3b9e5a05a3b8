"""Live Link Face CSV takes: the writer, and a reader for takes from the iOS app or from this writer.

A take is one row per frame: ``Timecode`` (``HH:MM:SS:FF.fff``: hours, minutes, seconds, frame within the
second and the subframe fraction), ``BlendshapeCount`` (61) and the 61 curves in PascalCase: the 52 ARKit
blendshapes (EyeBlinkLeft, ...) then HeadYaw, HeadPitch, HeadRoll and the left / right eye yaw, pitch,
roll, rotations in radians (the writer derives the eyes' from the eyeLook weights, ``emobridge.rig.eyes``).
The reader finds every column by its header name, case-insensitively and in any ARKit spelling, because
real takes do not always keep the column order.
"""

from __future__ import annotations

import contextlib
import csv
import math
import re
from pathlib import Path

import numpy as np

from emobridge.animation import Animation
from emobridge.livelink.packet import CURVE_COUNT, CURVE_NAMES, ROTATION_NAMES
from emobridge.rig import ARKIT_INDEX, NUM_BLENDSHAPES, UnknownBlendshapeError, canonical_name
from emobridge.rig.eyes import eye_rotations
from emobridge.rig.profile import RigProfile
from emobridge_export import ExportError

_TIMECODE = re.compile(r"^(\d+):(\d{2}):(\d{2})[:;](\d+)(?:\.(\d+))?$")


def timecode(seconds: float, fps: float) -> str:
    """``HH:MM:SS:FF.fff`` of a time in seconds at ``fps`` (frames counted within each second)."""
    whole = math.floor(seconds + 1e-9)
    frame = (seconds - whole) * fps
    frame_index = math.floor(frame + 1e-6)
    sub = max(0.0, frame - frame_index)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{frame_index:02d}.{min(int(round(sub * 1000)), 999):03d}"


def parse_timecode(text: str, fps: float) -> float:
    """Seconds of a ``HH:MM:SS:FF[.fff]`` timecode at ``fps``."""
    match = _TIMECODE.match(text.strip())
    if not match:
        raise ExportError(f"timecode {text!r} is not HH:MM:SS:FF.fff")
    h, m, s, f = (int(g) for g in match.groups()[:4])
    sub = float("0." + match.group(5)) if match.group(5) else 0.0
    return h * 3600 + m * 60 + s + (f + sub) / fps


def export_livelink_csv(animation: Animation, out: str | Path, rig: RigProfile | None = None,
                        start_seconds: float = 0.0) -> Path:
    """Write the take; ``start_seconds`` sets the first frame's timecode (a time of day, say)."""
    if rig is not None:
        raise ExportError("a Live Link Face take always carries the 61 ARKit curves; --rig does not apply to livelink-csv")
    if not math.isfinite(start_seconds) or start_seconds < 0:
        raise ExportError(f"start_seconds must be a non-negative number, got {start_seconds}")
    out = Path(out)
    n = len(animation.frames)
    curves = np.zeros((n, CURVE_COUNT))
    curves[:, :NUM_BLENDSHAPES] = animation.frames
    if animation.head_rotation is not None:
        curves[:, NUM_BLENDSHAPES:NUM_BLENDSHAPES + 3] = animation.head_rotation
    curves[:, NUM_BLENDSHAPES + 3:NUM_BLENDSHAPES + 6], curves[:, NUM_BLENDSHAPES + 6:] = eye_rotations(animation.frames)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Timecode", "BlendshapeCount", *CURVE_NAMES])
        for i in range(n):
            writer.writerow([timecode(start_seconds + i / animation.fps, animation.fps), CURVE_COUNT,
                             *(f"{v:.9g}" for v in curves[i])])
    tmp.replace(out)
    return out


def _column_index(header: list[str]) -> tuple[dict[int, int], dict[int, int], int | None]:
    """Header -> (ARKit index -> column, rotation index -> column, timecode column)."""
    weights, rotations, time_col = {}, {}, None
    rotation_keys = {name.lower(): i for i, name in enumerate(ROTATION_NAMES)}
    for col, raw in enumerate(header):
        name = raw.strip()
        if name.lower() == "timecode":
            time_col = col
        elif name.lower() in rotation_keys:
            rotations[rotation_keys[name.lower()]] = col
        elif name.lower() != "blendshapecount" and name:
            with contextlib.suppress(UnknownBlendshapeError):  # extra columns (a tool's own) are ignored
                weights[ARKIT_INDEX[canonical_name(name)]] = col
    return weights, rotations, time_col


def read_livelink_csv(path: str | Path, fps: float = 60.0) -> Animation:
    """A take -> Animation at ``fps`` (the rate the take was recorded at; Live Link Face records 60).

    Missing blendshape columns read as 0; rows the app wrote with BlendshapeCount 0 (no face tracked)
    are skipped; timecodes must advance.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh) if row]
    except (OSError, UnicodeDecodeError) as err:
        raise ExportError(f"cannot read Live Link Face CSV {path}: {err}") from None
    if not rows:
        raise ExportError(f"{path}: empty file, expected a header row (Timecode, BlendshapeCount, EyeBlinkLeft, ...)")
    weights, rotations, time_col = _column_index(rows[0])
    if not weights:
        raise ExportError(f"{path}: the header names no ARKit blendshape column (e.g. EyeBlinkLeft)")
    count_col = next((i for i, h in enumerate(rows[0]) if h.strip().lower() == "blendshapecount"), None)
    frames, head, times = [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) < len(rows[0]):
            raise ExportError(f"{path}:{line}: {len(row)} values for {len(rows[0])} columns")
        try:
            if count_col is not None and float(row[count_col]) == 0:
                continue
            values = np.zeros(NUM_BLENDSHAPES)
            for arkit, col in weights.items():
                values[arkit] = float(row[col])
            rot = np.array([float(row[rotations[k]]) if k in rotations else 0.0 for k in range(3)])
        except ValueError as err:
            raise ExportError(f"{path}:{line}: not a number ({err})") from None
        if not (np.all(np.isfinite(values)) and np.all(np.isfinite(rot))):
            raise ExportError(f"{path}:{line}: NaN or infinite value")
        if time_col is not None:
            times.append(parse_timecode(row[time_col], fps))
        frames.append(np.clip(values, 0.0, 1.0))
        head.append(rot)
    if not frames:
        raise ExportError(f"{path}: no frames with tracked blendshapes")
    if len(times) > 1 and np.any(np.diff(times) <= 0):
        raise ExportError(f"{path}: timecodes do not advance (is the frame rate {fps} right?)")
    return Animation(fps=float(fps), frames=np.array(frames, np.float32), head_rotation=np.array(head, np.float32),
                     meta={"source": str(path), "start_seconds": times[0] if times else 0.0})
