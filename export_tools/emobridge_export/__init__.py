"""emobridge export tools: turn animation JSON (ARKit-52) into what each engine imports, and retarget FLAME.

Owns the file formats, not the face: every exporter takes an ``emobridge.animation.Animation`` and an
optional ``emobridge.rig.profile.RigProfile`` (which blendshape names and values the target rig gets) and
writes one file. ``emobridge export FORMAT IN.json -o OUT [--rig PROFILE]`` is the command line over
``EXPORTERS``; each module is also a plain library.

    unity-anim     unity_anim.export_unity_anim        Unity AnimationClip (.anim YAML)
    gltf           gltf.export_gltf                     glTF 2.0 / GLB head with morph-target animation
    livelink-csv   livelink_csv.export_livelink_csv    Live Link Face CSV take (+ read_livelink_csv)
    unreal-curves  unreal_curves.export_unreal_curves  Unreal curve table CSV
    visemes        visemes.export_visemes              the 15 Oculus visemes per frame (CSV or JSON)

FLAME <-> ARKit retargeting lives in ``flame`` and previews (video / PNG strip) in ``preview``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from emobridge.rig.profile import RigProfile, RigProfileError, load_profile

EXPORTERS: dict[str, tuple[str, str, str]] = {
    # format: (module, function, default file suffix)
    "unity-anim": ("emobridge_export.unity_anim", "export_unity_anim", ".anim"),
    "gltf": ("emobridge_export.gltf", "export_gltf", ".glb"),
    "livelink-csv": ("emobridge_export.livelink_csv", "export_livelink_csv", ".csv"),
    "unreal-curves": ("emobridge_export.unreal_curves", "export_unreal_curves", ".csv"),
    "visemes": ("emobridge_export.visemes", "export_visemes", ".csv"),
}
# Formats whose layout is fixed by their consumer (Live Link Face's 61 curves, Oculus' 15 visemes): no rig profile.
RIGLESS_FORMATS = ("livelink-csv", "visemes")


class ExportError(ValueError):
    """An export that cannot be written as asked; the message says what to change."""


def rig_shapes(rig: RigProfile | str | os.PathLike[str], frames: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """A rig's shape names and values [T, K] for ARKit frames [T, 52]; ``rig`` is a profile, a built-in name or
    a profile file."""
    try:
        profile = rig if isinstance(rig, RigProfile) else load_profile(rig)
        return profile.shape_names, profile.apply(frames)
    except (RigProfileError, ValueError) as err:
        raise ExportError(f"rig profile cannot be used: {err}") from None


def exporter(fmt: str) -> Callable[..., Path]:
    """The export function of a format: ``fn(animation, out_path, rig=None, **options) -> Path``."""
    if fmt not in EXPORTERS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORTERS)}")
    module, function, _suffix = EXPORTERS[fmt]
    return getattr(importlib.import_module(module), function)


__all__ = ["EXPORTERS", "RIGLESS_FORMATS", "ExportError", "exporter", "rig_shapes"]
