"""Contact sheets: labelled grids of rendered key frames of an ``Animation`` (or of hand-made poses)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from emobridge.animation import Animation
from emobridge.render.mesh import FaceMesh
from emobridge.render.raster import render_face
from emobridge.rig import ARKIT_INDEX, ARKIT_NAMES, NUM_BLENDSHAPES, face_tables

SHEET_BACKGROUND = (250, 250, 251)
TEXT = (40, 42, 48)
MUTED = (104, 108, 118)
MIN_ACTIVE = 0.05          # weights / intensities below this are not worth a label


# -- sampling ----------------------------------------------------------------------------------------
def _positions(anim: Animation, times_or_indices: Sequence[float] | Sequence[int] | np.ndarray) -> np.ndarray:
    """Fractional frame positions: integers are frame indices (negative from the end), floats are seconds."""
    values = np.asarray(times_or_indices)
    if values.ndim == 0:
        values = values.reshape(1)
    count = len(anim.frames)
    if values.size == 0:
        return np.zeros(0)
    if np.issubdtype(values.dtype, np.integer):
        index = values.astype(np.int64)
        bad = (index < -count) | (index >= count)
        if bad.any():
            raise ValueError(f"frame index {int(index[bad][0])} is out of range for {count} frames")
        return np.where(index < 0, index + count, index).astype(np.float64)
    if not np.issubdtype(values.dtype, np.floating):
        raise ValueError("frames must be given as integer indices or float times in seconds")
    seconds = values.astype(np.float64)
    bad = ~np.isfinite(seconds) | (seconds < 0) | (seconds > anim.duration + 1e-9)
    if bad.any():
        raise ValueError(f"time {seconds[bad][0]:g} s is outside the animation (0 .. {anim.duration:.3f} s)")
    return np.clip(seconds * anim.fps, 0, count - 1)   # the last frame holds until the end


def _sample(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of per-frame rows at fractional frame positions."""
    lo = np.floor(positions).astype(np.int64)
    hi = np.minimum(lo + 1, len(values) - 1)
    t = (positions - lo)[:, None]
    return (values[lo] * (1 - t) + values[hi] * t).astype(np.float32)


def frame_weights(anim: Animation, times_or_indices: Sequence[float] | Sequence[int] | np.ndarray) -> np.ndarray:
    """[K,52] ARKit weights of ``anim`` at the given frames.

    Integers (Python ints or an integer array) are frame indices, negative ones counting from the end;
    floats are times in seconds, linearly interpolated between neighbouring frames (frame i is at i/fps).
    Raises ``ValueError`` for indices or times outside the animation.
    """
    return _sample(np.asarray(anim.frames, np.float32), _positions(anim, times_or_indices))


def _even_indices(anim: Animation, n: int) -> np.ndarray:
    if n < 1:
        raise ValueError(f"a contact sheet needs at least one frame, got n={n}")
    count = len(anim.frames)
    return np.unique(np.round(np.linspace(0, count - 1, min(n, count))).astype(np.int64))


# -- labels ------------------------------------------------------------------------------------------
def short_name(name: str) -> str:
    """``mouthSmileLeft`` -> ``mouthSmileL`` (keeps labels narrow)."""
    for side, letter in (("Left", "L"), ("Right", "R")):
        if name.endswith(side):
            return name[: -len(side)] + letter
    return name


def _top(values: Sequence[float] | np.ndarray, names: Sequence[str], k: int = 2) -> str:
    values = np.asarray(values, np.float64)
    order = [i for i in np.argsort(-values, kind="stable")[:k] if values[i] >= MIN_ACTIVE]
    return "  ".join(f"{names[i]} {values[i]:.2g}" for i in order)


def weights_summary(weights: np.ndarray, k: int = 2, channels: Sequence[int] | None = None) -> str:
    """The ``k`` strongest ARKit channels (of ``channels``, default all) as ``jawOpen 0.7  browDownL 0.3``.

    A Left/Right pair with equal weights counts once, as ``mouthSmile L+R 1``.
    """
    w = np.asarray(weights, np.float32).reshape(-1)
    pick = range(NUM_BLENDSHAPES) if channels is None else [int(i) for i in channels]
    names, values, done = [], [], set()
    for i in pick:
        name = ARKIT_NAMES[i]
        if i in done:
            continue
        done.add(i)
        if name.endswith("Left") and name[:-4] + "Right" in ARKIT_INDEX:
            j = ARKIT_INDEX[name[:-4] + "Right"]
            if j in pick and j not in done and abs(w[i] - w[j]) < 0.005:
                done.add(j)
                names.append(name[:-4] + " L+R")
                values.append(w[i])
                continue
        names.append(short_name(name))
        values.append(w[i])
    return _top(values, names, k)


# Speech articulation (jaw, lip shapes) vs the rest (smile/frown, cheeks, brows, eyes: mostly expression).
ARTICULATION_CHANNELS = tuple(ARKIT_INDEX[n] for n in face_tables()["articulation_channels"] if n in ARKIT_INDEX)
EXPRESSION_CHANNELS = tuple(i for i in range(NUM_BLENDSHAPES) if i not in ARTICULATION_CHANNELS)


def _frame_caption(anim: Animation, position: float, weights: np.ndarray, emotion: np.ndarray | None) -> list[str]:
    index = round(float(position))
    lines = [f"t={position / anim.fps:.2f}s  #{index}"]
    if emotion is not None:
        names = list(face_tables()["emotions"])
        if len(names) != len(emotion):
            names = [f"e{i}" for i in range(len(emotion))]
        lines.append(_top(emotion, names) or "neutral")
    else:
        lines.append(weights_summary(weights, channels=EXPRESSION_CHANNELS) or "no expression")
    lines.append(weights_summary(weights, channels=ARTICULATION_CHANNELS) or "mouth at rest")
    return lines


# -- drawing -----------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)   # Pillow >= 10.1 with FreeType: a scalable font
    except (TypeError, OSError, ImportError):
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: float) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _line_height(font) -> int:
    _, top, _, bottom = font.getbbox("Ag…#")
    return int(bottom - min(top, 0)) + 3


def grid(
    tiles: Sequence[Image.Image],
    captions: Sequence[Sequence[str]] | None = None,
    *,
    columns: int | None = None,
    title: str | None = None,
    subtitle: str | None = None,
) -> Image.Image:
    """Lay equal-size ``tiles`` out in a grid, each with its caption lines below it, plus a title band."""
    if not tiles:
        raise ValueError("nothing to lay out: no tiles")
    n = len(tiles)
    columns = _default_columns(n) if columns is None else max(1, min(int(columns), n))
    rows = math.ceil(n / columns)
    tw, th = tiles[0].size
    pad = max(6, tw // 24)
    font = _font(max(10, min(18, tw // 17)))
    line_h = _line_height(font)
    n_lines = max((len(c) for c in captions), default=0) if captions else 0
    caption_h = n_lines * line_h + (pad // 2 if n_lines else 0)
    title_font = _font(max(13, min(26, tw // 11)))
    title_h = 0
    if title:
        title_h = _line_height(title_font) + pad
        if subtitle:
            title_h += line_h
    width = columns * tw + (columns + 1) * pad
    height = title_h + rows * (th + caption_h) + (rows + 1) * pad
    sheet = Image.new("RGB", (width, height), SHEET_BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((pad, pad), _fit(draw, title, title_font, width - 2 * pad), fill=TEXT, font=title_font)
        if subtitle:
            y = pad + _line_height(title_font)
            draw.text((pad, y), _fit(draw, subtitle, font, width - 2 * pad), fill=MUTED, font=font)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        x = pad + c * (tw + pad)
        y = title_h + pad + r * (th + caption_h + pad)
        sheet.paste(tile, (x, y))
        for j, line in enumerate(captions[i] if captions else ()):
            draw.text((x + 2, y + th + pad // 3 + j * line_h), _fit(draw, line, font, tw - 4),
                      fill=TEXT if j == 0 else MUTED, font=font)
    return sheet


def _default_columns(n: int) -> int:
    if n <= 4:
        return n
    return 3 if n in (5, 6, 9) else 4


# -- sheets ------------------------------------------------------------------------------------------
def contact_sheet(
    anim: Animation,
    n: int = 8,
    *,
    frames: Sequence[int] | Sequence[float] | np.ndarray | None = None,
    size: int = 256,
    labels: bool = True,
    columns: int | None = None,
    title: str | None = None,
    mesh: FaceMesh | str | os.PathLike[str] | None = None,
    supersample: int = 2,
) -> Image.Image:
    """A labelled grid of ``n`` evenly spaced frames of ``anim`` (first to last), or of explicit ``frames``.

    ``frames`` follows ``frame_weights``: integers are frame indices, floats are seconds. Each tile is a
    ``size`` x ``size`` ``render_face`` of that frame (with its head rotation); with ``labels`` it is
    captioned with its time and frame, the two strongest emotions (or expression channels such as smile,
    brows and blinks when the animation has no emotion track) and the two strongest speech-articulation
    channels (jaw and lip shapes, ``articulation_channels`` of the face tables). ``title`` defaults
    to a one-line summary of the animation; pass ``""`` for none.
    """
    if frames is None:
        positions = _even_indices(anim, n).astype(np.float64)
    else:
        positions = _positions(anim, frames)
        if len(positions) == 0:
            raise ValueError("a contact sheet needs at least one frame")
    weights = _sample(np.asarray(anim.frames, np.float32), positions)
    rotation = None if anim.head_rotation is None else _sample(np.asarray(anim.head_rotation), positions)
    emotion = None if anim.emotion is None else _sample(np.asarray(anim.emotion), positions)
    mesh = mesh if isinstance(mesh, FaceMesh) else FaceMesh.default(mesh)
    tiles = [
        render_face(weights[i], mesh, size, None if rotation is None else rotation[i], supersample=supersample)
        for i in range(len(positions))
    ]
    captions = None
    if labels:
        captions = [
            _frame_caption(anim, positions[i], weights[i], None if emotion is None else emotion[i])
            for i in range(len(positions))
        ]
    if title is None:
        source = anim.meta.get("audio") or anim.meta.get("source") or "animation"
        title = f"{source}: {len(anim.frames)} frames at {anim.fps:g} fps ({anim.duration:.2f} s)"
    return grid(tiles, captions, columns=columns, title=title or None)


def pose_weights(pose: Mapping[str, float] | Sequence[float] | np.ndarray) -> np.ndarray:
    """52 ARKit weights from ``{canonical ARKit name: weight}`` (others 0) or a 52-vector."""
    if isinstance(pose, Mapping):
        w = np.zeros(NUM_BLENDSHAPES, np.float32)
        for name, value in pose.items():
            if name not in ARKIT_INDEX:
                raise ValueError(f"unknown ARKit blendshape {name!r}")
            w[ARKIT_INDEX[name]] = float(value)
        return w
    w = np.asarray(pose, np.float32).reshape(-1)
    if w.shape != (NUM_BLENDSHAPES,):
        raise ValueError(f"expected {NUM_BLENDSHAPES} ARKit weights, got {w.size}")
    return w


def pose_sheet(
    poses: Mapping[str, Mapping[str, float] | Sequence[float] | np.ndarray],
    *,
    size: int = 256,
    labels: bool = True,
    columns: int | None = None,
    title: str | None = None,
    mesh: FaceMesh | str | os.PathLike[str] | None = None,
    supersample: int = 2,
) -> Image.Image:
    """A labelled grid of hand-made poses: ``{label: {ARKit name: weight} or 52 weights}``.

    Each caption is the label and the pose's strongest channels (up to four).
    """
    mesh = mesh if isinstance(mesh, FaceMesh) else FaceMesh.default(mesh)
    weights = [pose_weights(p) for p in poses.values()]
    tiles = [render_face(w, mesh, size, supersample=supersample) for w in weights]
    captions = None
    if labels:
        captions = []
        for label, w in zip(poses, weights, strict=True):
            summary = weights_summary(w, k=4) or "all weights 0"
            captions.append([label] if summary == label else [label, summary])
    return grid(tiles, captions, columns=columns, title=title)
