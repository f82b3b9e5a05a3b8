"""The `emobridge render` command: argument errors, the missing-mesh message and real renders."""

import numpy as np
import pytest
from PIL import Image

import emobridge.render.mesh as mesh_module
from emobridge.animation import Animation
from emobridge.cli import CliError, main
from emobridge.cli.render import parse_pose, parse_times
from emobridge.render.mesh import MESH_ENV
from emobridge.rig import ARKIT_INDEX, NUM_BLENDSHAPES


def _render(*args) -> int:
    return main(["render", *map(str, args)])


@pytest.fixture
def anim_json(tmp_path):
    frames = np.zeros((20, NUM_BLENDSHAPES), np.float32)
    frames[:, ARKIT_INDEX["jawOpen"]] = np.linspace(0, 0.8, 20)
    path = tmp_path / "clip.json"
    Animation(20.0, frames, meta={"audio": "clip.wav"}).save(path)
    return path


def test_parse_pose_and_times():
    assert parse_pose("jawOpen=1,mouth_smile_left=0.5") == (
        "jawOpen=1,mouth_smile_left=0.5", {"jawOpen": 1.0, "mouthSmileLeft": 0.5})
    assert parse_pose("wide: EyeWideLeft, eyeWide_R=0.4") == ("wide", {"eyeWideLeft": 1.0, "eyeWideRight": 0.4})
    assert parse_pose("neutral") == ("neutral", {})
    assert parse_times("0.5, 1.2s,") == [0.5, 1.2]
    for bad in ("smile=1", "jawOpen=2", "jawOpen=x"):
        with pytest.raises(CliError):
            parse_pose(bad)
    with pytest.raises(CliError):
        parse_times("0.5,soon")


@pytest.mark.parametrize("argv, message", [
    (["-o", "x.png"], "nothing to render"),
    (["{anim}", "--pose", "jawOpen=1", "-o", "x.png"], "not both"),
    (["--pose", "smiley=1", "-o", "x.png"], "unknown blendshape"),
    (["--pose", "jawOpen=1.5", "-o", "x.png"], "between 0 and 1"),
    (["--pose", "jawOpen=1", "--frames", "3", "-o", "x.png"], "not to --pose"),
    (["{anim}", "--frames", "0", "-o", "x.png"], "--frames"),
    (["{anim}", "--times", "0.5,later", "-o", "x.png"], "--times"),
    (["{anim}", "--size", "5", "-o", "x.png"], "--size"),
    (["{anim}", "-o", "x.unknown"], "extension"),
    (["{tmp}/missing.json", "-o", "x.png"], "not found"),
])
def test_user_errors_are_one_line(argv, message, anim_json, tmp_path, capsys):
    argv = [a.format(anim=anim_json, tmp=tmp_path) for a in argv]
    assert _render(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("emobridge: error:") and message in err and "Traceback" not in err


def test_missing_mesh_names_the_env_var_and_the_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(MESH_ENV, str(tmp_path / "nowhere.npz"))
    assert _render("--pose", "jawOpen=1", "-o", tmp_path / "pose.png") == 2
    err = capsys.readouterr().err
    assert MESH_ENV in err and "nowhere.npz" in err
    assert _render("--pose", "jawOpen=1", "--mesh", tmp_path / "other.npz", "-o", tmp_path / "p.png") == 2
    assert "other.npz" in capsys.readouterr().err
    # no env, no --mesh and no shared/ folder above: the expected location is spelled out
    monkeypatch.delenv(MESH_ENV)
    monkeypatch.setattr(mesh_module, "_search_roots", lambda starts: None)
    assert _render("--pose", "jawOpen=1", "-o", tmp_path / "pose.png") == 2
    err = capsys.readouterr().err
    assert MESH_ENV in err and "shared/data/mesh/ict_facekit/ict_facekit_expressions.npz" in err
    assert not (tmp_path / "pose.png").exists()


# -- real renders (need ../shared) -------------------------------------------------------------------
@pytest.fixture
def mesh_path(shared_dir):
    path = shared_dir / "data/mesh/ict_facekit/ict_facekit_expressions.npz"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


def test_single_pose_and_pose_sheet(mesh_path, tmp_path, capsys):
    out = tmp_path / "pose.png"
    assert _render("--pose", "jawOpen=1,mouthSmileLeft=0.5", "--size", 64, "--mesh", mesh_path, "-o", out) == 0
    assert Image.open(out).size == (64, 64)
    assert "pose.png: 64x64" in capsys.readouterr().out
    sheet = tmp_path / "sub" / "poses.png"
    assert _render("--pose", "neutral", "--pose", "open:jawOpen=1", "--size", 48, "--mesh", mesh_path,
                   "-o", sheet) == 0
    assert Image.open(sheet).size[0] > 2 * 48


def test_animation_sheet(mesh_path, anim_json, tmp_path, capsys):
    out = tmp_path / "sheet.png"
    assert _render(anim_json, "--frames", 3, "--size", 48, "--mesh", mesh_path, "-o", out) == 0
    wide = Image.open(out).size
    assert wide[0] > 3 * 48 and wide[1] > 48
    assert "3 frames" in capsys.readouterr().out
    assert _render(anim_json, "--times", "0.2,0.6", "--size", 48, "--columns", 1, "--no-labels", "--title", "",
                   "--mesh", mesh_path, "-o", out) == 0
    tall = Image.open(out).size
    assert tall[0] < 48 + 30 and tall[1] > 2 * 48
    assert _render(anim_json, "--times", "9", "--size", 48, "--mesh", mesh_path, "-o", out) == 2
    assert "outside the animation" in capsys.readouterr().err
