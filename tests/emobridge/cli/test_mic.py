"""`emobridge mic`: a (fake) microphone streamed to a real sidecar, live latency printed."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from emobridge.cli import main

pytest.importorskip("torch", reason="the tiny test model is exported with torch")

_here = Path(__file__).parents[1]
_spec = importlib.util.spec_from_file_location("_emobridge_server_conftest_mic", _here / "server" / "conftest.py")
_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_server)
_mic_spec = importlib.util.spec_from_file_location("_emobridge_test_mic", _here / "audio" / "test_mic.py")
_mic = importlib.util.module_from_spec(_mic_spec)
_mic_spec.loader.exec_module(_mic)


def test_mic_streams_to_the_server_and_prints_latency(tiny_model_dir, monkeypatch, capsys, tmp_path):
    from emobridge.audio import load_audio

    speech = load_audio(_here.parents[1] / "examples" / "hello.wav")[:int(1.5 * 16000)]
    monkeypatch.setitem(sys.modules, "sounddevice", _mic.fake_sounddevice((speech * 32767).astype(np.int16)))
    srv = _server.ServerThread(tiny_model_dir)
    try:
        out = tmp_path / "mic.json"
        assert main(["mic", "--server", srv.address, "--seconds", "1.2", "--emotion", "happy", "-o", str(out)]) == 0
    finally:
        srv.stop()
    text = capsys.readouterr().out
    assert "latency beyond lookahead" in text and "p99" in text
    doc = json.loads(out.read_text())
    assert len(doc["frames"]) == 72 and doc["emotion"][0][0] == 1.0
    assert max(doc["meta"]["latency_s"]) < 0.5
