"""Unity AnimationClip (.anim) export: one blendshape curve per shape on one SkinnedMeshRenderer.

Owns the .anim text: Unity's YAML layout of an AnimationClip (serializedVersion 7) whose float curves drive
``blendShape.<name>`` (weights 0..100) on the renderer at ``renderer_path``, the generic-binding hashes Unity
derives from those curves (CRC32 of the path and of the attribute), and the keyframe reduction that keeps
clips small: only the keys needed for the curve to stay within ``tolerance`` of every baked frame.
Head rotation is not written; it drives a bone, not the face renderer.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import zlib
from pathlib import Path

import numpy as np

from emobridge.animation import Animation
from emobridge.rig import ARKIT_INDEX, ARKIT_NAMES, UnknownBlendshapeError, canonical_name
from emobridge.rig.profile import RigProfile
from emobridge_export import ExportError, rig_shapes

SKINNED_MESH_RENDERER = 137  # Unity class ID of the component that owns blendshape weights
BLENDSHAPE_BINDING = 20      # genericBindings customType of "blendShape.<name>" attributes
FLOAT32_SLACK = 1e-4         # of the 0..100 scale: Unity stores float32 times, values and slopes (~1e-5 off)
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_ ./()\-]*")  # written as-is; anything else is single-quoted


def unity_hash(text: str) -> int:
    """Unity's generic-binding hash of a path or attribute: CRC32 of the UTF-8 bytes ("" hashes to 0)."""
    return zlib.crc32(text.encode("utf-8"))


def reduce_keys(times: np.ndarray, values: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of the samples to keep so straight lines between kept keys stay within ``tolerance`` of all.

    Greedy with a slope cone: from the last kept key, every later sample j narrows the range of slopes a
    line may take to pass within tolerance of it; a candidate end key is valid while its own slope is in
    the range left by the samples before it. The furthest valid candidate is kept once the range is empty.
    O(T) per curve; the first and last samples are always kept.
    """
    t, v = [float(x) for x in times], [float(x) for x in values]
    keep, anchor = [0], 0
    while anchor < len(v) - 1:
        lo, hi, best = -math.inf, math.inf, anchor + 1
        for j in range(anchor + 1, len(v)):
            dt = t[j] - t[anchor]
            if lo <= (v[j] - v[anchor]) / dt <= hi:
                best = j
            lo = max(lo, (v[j] - tolerance - v[anchor]) / dt)
            hi = min(hi, (v[j] + tolerance - v[anchor]) / dt)
            if lo > hi:
                break
        keep.append(best)
        anchor = best
    return np.asarray(keep)


def export_unity_anim(animation: Animation, out: str | os.PathLike[str], rig: RigProfile | str | os.PathLike[str] | None = None,
                      renderer_path: str = "Face", tolerance: float = 0.5, clip_name: str | None = None) -> Path:
    """Write ``animation`` as a Unity .anim clip; returns the path written.

    ``rig``: a RigProfile (or a built-in profile name / profile JSON path) naming the curves; without one
    the curves are the 52 ARKit names. ``renderer_path``: the SkinnedMeshRenderer's path below the Animator
    ("" is the Animator's own object). ``tolerance``: the largest error allowed by keyframe reduction, in
    Unity blendshape weight (0..100). ``clip_name``: m_Name, by default the file name without suffix.
    """
    out = Path(out)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not math.isfinite(tolerance) or tolerance <= 0:
        raise ExportError(f"tolerance must be a positive number of blendshape weight (0..100), got {tolerance!r}")
    if not isinstance(renderer_path, str):
        raise ExportError(f"renderer_path must be a string ('' for the Animator's own object), got {renderer_path!r}")
    fps = animation.fps
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
        raise ExportError(f"animation fps must be a positive number, got {fps!r}")
    frames = _arkit_frames(animation)
    if rig is None:
        names, weights = ARKIT_NAMES, frames
    else:
        names, weights = rig_shapes(rig, frames)

    # Reduce on exactly what Unity will store (float32), so the tolerance holds for the file, not our copy.
    times = (np.arange(len(weights)) / fps).astype(np.float32)
    values = np.clip(np.asarray(weights, np.float64) * 100.0, 0.0, 100.0).astype(np.float32)
    budget = tolerance - FLOAT32_SLACK  # a budget <= 0 keeps every key
    path_text = _scalar(renderer_path, "renderer_path")
    curves, bindings = [], []
    for j, name in enumerate(names):
        attribute = f"blendShape.{name}"
        curves += _curve_lines(times, values[:, j], reduce_keys(times, values[:, j], budget))
        curves += [f"    attribute: {_scalar(attribute, 'blendshape name')}", f"    path: {path_text}",
                   f"    classID: {SKINNED_MESH_RENDERER}", "    script: {fileID: 0}", "    flags: 0"]
        bindings += ["    - serializedVersion: 2", f"      path: {unity_hash(renderer_path)}",
                     f"      attribute: {unity_hash(attribute)}", "      script: {fileID: 0}",
                     f"      typeID: {SKINNED_MESH_RENDERER}", f"      customType: {BLENDSHAPE_BINDING}",
                     "      isPPtrCurve: 0", "      isIntCurve: 0", "      isSerializeReferenceCurve: 0"]

    name_text = _scalar(out.stem if clip_name is None else clip_name, "clip_name")
    lines = [
        "%YAML 1.1", "%TAG !u! tag:unity3d.com,2011:", "--- !u!74 &7400000", "AnimationClip:",
        "  m_ObjectHideFlags: 0", "  m_CorrespondingSourceObject: {fileID: 0}", "  m_PrefabInstance: {fileID: 0}",
        "  m_PrefabAsset: {fileID: 0}", f"  m_Name: {name_text}", "  serializedVersion: 7", "  m_Legacy: 0",
        "  m_Compressed: 0", "  m_UseHighQualityCurve: 1", "  m_RotationCurves: []", "  m_CompressedRotationCurves: []",
        "  m_EulerCurves: []", "  m_PositionCurves: []", "  m_ScaleCurves: []", "  m_FloatCurves:", *curves,
        "  m_PPtrCurves: []", f"  m_SampleRate: {_num(fps)}", "  m_WrapMode: 0", "  m_Bounds:",
        "    m_Center: {x: 0, y: 0, z: 0}", "    m_Extent: {x: 0, y: 0, z: 0}",
        # Unity rebuilds the binding constant on import; written so the clip is complete as it stands.
        "  m_ClipBindingConstant:", "    genericBindings:", *bindings, "    pptrCurveMapping: []",
        "  m_AnimationClipSettings:", "    serializedVersion: 2", "    m_AdditiveReferencePoseClip: {fileID: 0}",
        "    m_AdditiveReferencePoseTime: 0", "    m_StartTime: 0", f"    m_StopTime: {_num(len(weights) / fps)}",
        "    m_OrientationOffsetY: 0", "    m_Level: 0", "    m_CycleOffset: 0", "    m_HasAdditiveReferencePose: 0",
        "    m_LoopTime: 0", "    m_LoopBlend: 0", "    m_LoopBlendOrientation: 0", "    m_LoopBlendPositionY: 0",
        "    m_LoopBlendPositionXZ: 0", "    m_KeepOriginalOrientation: 0", "    m_KeepOriginalPositionY: 1",
        "    m_KeepOriginalPositionXZ: 0", "    m_HeightFromFeet: 0", "    m_Mirror: 0",
        "  m_EditorCurves:", *curves,  # the editor's copy of the float curves, identical for blendshapes
        "  m_EulerEditorCurves: []", "  m_HasGenericRootTransform: 0", "  m_HasMotionFloatCurves: 0", "  m_Events: []",
    ]
    _write_atomic(out, "\n".join(lines) + "\n")
    return out


def _arkit_frames(animation: Animation) -> np.ndarray:
    """The animation's weights [T, 52] in canonical ARKit order, reordered if its names list another order."""
    frames = np.asarray(animation.frames, dtype=np.float64)
    if frames.ndim != 2 or frames.shape[0] == 0 or frames.shape[1] != len(ARKIT_NAMES):
        raise ExportError(f"animation frames must be ARKit weights [T >= 1, 52], got shape {frames.shape}")
    if not np.all(np.isfinite(frames)):
        raise ExportError("animation frames contain NaN or infinite values")
    names = tuple(animation.blendshape_names)
    if names == ARKIT_NAMES:
        return frames
    try:
        order = [ARKIT_INDEX[canonical_name(n)] for n in names]
    except UnknownBlendshapeError as err:
        raise ExportError(f"animation blendshape_names: {err}") from None
    if sorted(order) != list(range(len(ARKIT_NAMES))):
        raise ExportError("animation blendshape_names must name each of the 52 ARKit shapes exactly once")
    return frames[:, np.argsort(order)]


def _curve_lines(times: np.ndarray, values: np.ndarray, kept: np.ndarray) -> list[str]:
    """One m_FloatCurves entry's curve block; tangents make Unity's Hermite segments the straight lines."""
    t, v = times[kept].astype(np.float64), values[kept].astype(np.float64)
    slopes = np.diff(v) / np.diff(t)
    ins, outs = np.concatenate([[0.0], slopes]), np.concatenate([slopes, [0.0]])  # flat beyond the ends (clamped)
    lines = ["  - curve:", "      serializedVersion: 2", "      m_Curve:"]
    # tangentMode 69 = broken, linear on both sides: Unity plays the slopes, and the editor keeps the lines.
    for k in range(len(kept)):
        lines += ["      - serializedVersion: 3", f"        time: {_num(t[k])}", f"        value: {_num(v[k])}",
                  f"        inSlope: {_num(ins[k])}", f"        outSlope: {_num(outs[k])}", "        tangentMode: 69",
                  "        weightedMode: 0", "        inWeight: 0.33333334", "        outWeight: 0.33333334"]
    return lines + ["      m_PreInfinity: 2", "      m_PostInfinity: 2", "      m_RotationOrder: 4"]


def _num(x: float) -> str:
    """The shortest decimal that reads back as the same float32 (Unity's storage), never in exponent form."""
    text = np.format_float_positional(np.float32(x), trim="-")
    return "0" if text == "-0" else text


def _scalar(text: str, what: str) -> str:
    """A YAML scalar for a name or path: plain when safe, else single-quoted; control characters refused."""
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ExportError(f"{what} {text!r} contains a control character (newline, tab, ...)")
    if text == "" or (_PLAIN.fullmatch(text) and not text.endswith(" ")):
        return text
    return "'" + text.replace("'", "''") + "'"


def _write_atomic(path: Path, text: str) -> None:
    """Write next to the target, then rename over it: Unity (or a reader) never sees half a clip."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ExportError(f"cannot write {path}: {err.strerror or err}") from None


__all__ = ["export_unity_anim", "reduce_keys", "unity_hash"]
