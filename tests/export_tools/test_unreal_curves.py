"""Unreal curve table CSV: a key-time header row, one row per curve, names from the rig profile."""

import csv

import numpy as np

from emobridge.rig.profile import load_profile
from emobridge_export.unreal_curves import export_unreal_curves


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def test_pascal_case_arkit_curves_by_default(baked, tmp_path):
    rows = _read(export_unreal_curves(baked, tmp_path / "curves.csv"))
    assert rows[0][0] == "---" and len(rows[0]) == len(baked.frames) + 1
    assert np.allclose([float(t) for t in rows[0][1:]], np.arange(len(baked.frames)) / baked.fps, atol=1e-5)
    assert [r[0] for r in rows[1:4]] == ["EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft"] and len(rows) == 53
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]]).T
    assert np.abs(values - baked.frames).max() < 1e-5


def test_rig_profile_names_and_values(baked, tmp_path):
    ict = load_profile("ict_facekit")
    rows = _read(export_unreal_curves(baked, tmp_path / "ict.csv", rig=ict))
    assert tuple(r[0] for r in rows[1:]) == ict.shape_names
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]]).T
    assert np.abs(values - ict.apply(baked.frames)).max() < 1e-5
