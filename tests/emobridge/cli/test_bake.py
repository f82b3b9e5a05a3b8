"""The `emobridge bake` command end to end, including every bad input of the face-core issue."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from emobridge.animation import Animation
from emobridge.cli import main


def _bake(*args: str) -> int:
    return main(["bake", *map(str, args)])


@pytest.fixture
def speech(tmp_path):
    if not shutil.which("flite"):
        pytest.skip("flite is not installed (./setup.sh installs it)")
    path = tmp_path / "line.wav"
    subprocess.run(["flite", "-t", "Please pass me the map.", "-o", str(path)], check=True)
    return path


def test_bake_writes_the_animation_json(speech, tmp_path, capsys):
    out = tmp_path / "out" / "line.json"
    assert _bake(speech, "--text", "Please pass me the map.", "--emotion", "happy=0.7,surprise=0.2",
                 "--fps", 30, "--seed", 4, "-o", out) == 0
    doc = json.loads(out.read_text())
    assert doc["fps"] == 30 and len(doc["blendshape_names"]) == 52
    anim = Animation.load(out)
    assert anim.emotion[-1, 0] == pytest.approx(0.7, abs=1e-6)
    assert "route: transcript" in capsys.readouterr().out


def test_text_file_and_emotion_track(speech, tmp_path):
    (tmp_path / "t.txt").write_text("Please pass me the map.")
    track = tmp_path / "track.json"
    track.write_text(json.dumps({"keyframes": [{"time": 0, "emotion": {"sad": 1}},
                                               {"time": 0.5, "emotion": {"angry": 0.8}, "transition": 0.3}]}))
    out = tmp_path / "o.json"
    assert _bake(speech, "--text-file", tmp_path / "t.txt", "--emotion-track", track, "-o", out) == 0
    anim = Animation.load(out)
    assert anim.emotion[0, 1] == pytest.approx(1.0) and anim.emotion[-1, 2] == pytest.approx(0.8, abs=1e-3)


def test_8khz_stereo_is_accepted(tmp_path):
    t = np.arange(8000) / 8000
    x = 0.3 * np.sin(2 * np.pi * 150 * t) * (0.5 - 0.5 * np.cos(2 * np.pi * 2 * t))
    path = tmp_path / "phone.wav"
    sf.write(path, np.stack([x, 0.5 * x], axis=1), 8000)
    assert _bake(path, "-o", tmp_path / "o.json") == 0
    assert len(Animation.load(tmp_path / "o.json").frames) == 60


def test_empty_transcript_is_a_documented_fallback(tone_wav, tmp_path):
    assert _bake(tone_wav(), "--text", "", "-o", tmp_path / "o.json") == 0
    assert Animation.load(tmp_path / "o.json").meta["route"] in ("model", "phones")


def _nan_wav(tmp_path):
    path = tmp_path / "nan.wav"
    x = np.zeros(1600, np.float32)
    x[100] = np.nan
    sf.write(path, x, 16000, subtype="FLOAT")
    return path


def _corrupt(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x00\x01garbage" * 50)
    return path


def _zero_length(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    return path


def _header_only(tmp_path):
    path = tmp_path / "header.wav"
    sf.write(path, np.zeros(0, np.float32), 16000)
    return path


@pytest.mark.parametrize("make, extra, message", [
    (lambda tmp: tmp / "missing.wav", [], "file not found"),
    (_corrupt, [], "cannot decode"),
    (_zero_length, [], "zero-length"),
    (_header_only, [], "no audio samples"),
    (_nan_wav, [], "NaN"),
    (None, ["--emotion", "hapy=1"], "unknown emotion"),
    (None, ["--emotion", "happy=-0.5"], "happy"),
    (None, ["--emotion", "happy=lots"], "happy"),
    (None, ["--mouth-preservation", "2"], "mouth_preservation"),
    (None, ["--fps", "0"], "fps"),
    (None, ["--style", "energy=3"], "energy"),
    (None, ["--style", "loud=1"], "unknown key"),
    (None, ["--model", "/nonexistent"], "model.json"),
    (None, ["--text-file", "/nonexistent/t.txt"], "text-file"),
])
def test_bad_input_is_one_clear_line_and_exit_2(make, extra, message, tone_wav, tmp_path, capsys):
    audio = make(tmp_path) if make else tone_wav()
    assert _bake(audio, *extra, "-o", tmp_path / "o.json") == 2
    err = capsys.readouterr().err
    assert err.startswith("emobridge: error:") and message.lower() in err.lower(), err
    assert "Traceback" not in err and not (tmp_path / "o.json").exists()


def test_bake_on_a_sidecar_equals_the_local_bake(speech, tiny_model_dir, tmp_path, capsys):
    """`--server`: the same clip, transcript and emotion track baked by the sidecar's Bake call."""
    pytest.importorskip("torch", reason="the tiny test model is exported with torch")
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("_emobridge_server_conftest_bake",
                                                  Path(__file__).parents[1] / "server" / "conftest.py")
    server = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(server)
    track = tmp_path / "track.json"
    track.write_text(json.dumps({"keyframes": [{"time": 0.0, "emotion": {"sad": 0.5}},
                                               {"time": 0.6, "emotion": {"happy": 0.9}, "transition": 0.2}]}))
    common = [speech, "--text", "Please pass me the map.", "--emotion-track", track, "--fps", "30", "--seed", "3"]
    assert _bake(*common, "--model", tiny_model_dir, "-o", tmp_path / "local.json") == 0
    srv = server.ServerThread(tiny_model_dir)
    try:
        assert _bake(*common, "--server", srv.address, "-o", tmp_path / "served.json") == 0
    finally:
        srv.stop()
    local, served = Animation.load(tmp_path / "local.json"), Animation.load(tmp_path / "served.json")
    assert served.frames.shape == local.frames.shape and np.abs(served.frames - local.frames).max() < 1e-4
    assert np.abs(served.emotion - local.emotion).max() < 1e-4 and served.emotion[-1][0] > 0.8


def test_bake_on_a_missing_sidecar_is_a_clear_error(tone_wav, tmp_path, capsys):
    assert _bake(tone_wav(), "--server", "127.0.0.1:1", "-o", tmp_path / "o.json") == 2
    assert "127.0.0.1:1" in capsys.readouterr().err
