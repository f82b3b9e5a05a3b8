"""`emobridge export` and `emobridge preview` on the command line: every format, rig profiles, clear errors."""

import json

import numpy as np
import pytest

from emobridge.animation import Animation
from emobridge.cli import main

pytest.importorskip("emobridge_export", reason="the export tools are installed by ./setup.sh")


@pytest.fixture
def anim_json(tmp_path):
    frames = np.random.default_rng(0).uniform(0, 1, (30, 52)).astype(np.float32)
    path = tmp_path / "line.json"
    Animation(fps=30.0, frames=frames, head_rotation=np.zeros((30, 3), np.float32)).save(path)
    return path


@pytest.mark.parametrize("fmt, suffix, rig", [("unity-anim", ".anim", "ict_facekit"), ("gltf", ".glb", None),
                                              ("livelink-csv", ".csv", None), ("unreal-curves", ".csv", "metahuman_arkit"),
                                              ("visemes", ".csv", None)])
def test_every_format_writes_its_file(anim_json, fmt, suffix, rig, capsys):
    args = ["export", fmt, str(anim_json)] + (["--rig", rig] if rig else [])
    if fmt == "gltf":
        args += ["--mesh", "placeholder"]
    assert main(args) == 0
    out = anim_json.with_suffix(suffix)
    assert out.is_file() and out.stat().st_size > 0
    assert f"{fmt}, 30 frames at 30 fps" in capsys.readouterr().out


@pytest.mark.parametrize("doc, words", [({"fps": 0, "blendshape_names": ["jawOpen"], "frames": [[0.1]]}, "'fps'"),
                                        ({"fps": 30, "blendshape_names": ["jawOpen"]}, "'frames'"),
                                        ({"fps": 30, "blendshape_names": ["jawOpen"], "frames": [[0.1, 0.2]]}, "'frames'")])
def test_malformed_animation_names_the_field(tmp_path, capsys, doc, words):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    for fmt in ("unity-anim", "gltf", "livelink-csv", "unreal-curves", "visemes"):
        assert main(["export", fmt, str(bad), "-o", str(tmp_path / "out")]) == 2
        assert words in capsys.readouterr().err


def test_bad_rig_and_tolerance_are_clear_errors(anim_json, capsys):
    assert main(["export", "unity-anim", str(anim_json), "--rig", "no_such_rig"]) == 2
    assert "neither a file nor a built-in" in capsys.readouterr().err
    assert main(["export", "unity-anim", str(anim_json), "--tolerance", "0"]) == 2
    assert "--tolerance must be positive" in capsys.readouterr().err
