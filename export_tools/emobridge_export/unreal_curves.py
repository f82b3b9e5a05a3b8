"""Unreal curve table CSV: one row per curve, one column per key time, for Content Browser import.

Unreal imports a CSV whose first row is ``---`` followed by the key times in seconds and whose other rows
are a curve name followed by its values, as a Curve Table (choose "Curve Table" and "Linear" interpolation
in the import dialog). Curves are named as the rig profile says; without one they are the ARKit curve names
in PascalCase (EyeBlinkLeft, JawOpen, ...), which is what the MetaHuman face AnimBP's
``mh_arkit_mapping_pose`` reads (see docs/export.md for that route).
"""

from __future__ import annotations

from pathlib import Path

from emobridge.animation import Animation
from emobridge.rig import ARKIT_NAMES, pascal_name
from emobridge.rig.profile import RigProfile
from emobridge_export import rig_shapes


def export_unreal_curves(animation: Animation, out: str | Path, rig: RigProfile | None = None) -> Path:
    out = Path(out)
    if rig is None:
        names, values = tuple(pascal_name(n) for n in ARKIT_NAMES), animation.frames
    else:
        names, values = rig_shapes(rig, animation.frames)
    times = [i / animation.fps for i in range(len(values))]
    lines = [",".join(["---", *(f"{t:.6g}" for t in times)])]
    for j, name in enumerate(names):
        lines.append(",".join([name, *(f"{v:.6g}" for v in values[:, j])]))
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(out)
    return out
