"""`emobridge stream`: a file streamed in 20 ms chunks to a sidecar, frames recorded with receive times."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from emobridge.cli import main

pytest.importorskip("torch", reason="the tiny test model is exported with torch")

_spec = importlib.util.spec_from_file_location("_emobridge_server_conftest_cli",
                                               Path(__file__).parents[1] / "server" / "conftest.py")
_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_server)


def test_realtime_stream_records_frames_as_they_arrive(tiny_model_dir, tone_wav, tmp_path, capsys):
    srv = _server.ServerThread(tiny_model_dir)
    try:
        out = tmp_path / "live.json"
        assert main(["stream", str(tone_wav(seconds=0.6)), "--server", srv.address, "--realtime", "--fps", "30",
                     "-o", str(out)]) == 0
    finally:
        srv.stop()
    doc = json.loads(out.read_text())
    receive = doc["meta"]["receive_times"]
    assert doc["fps"] == 30 and len(doc["frames"]) == 18 and doc["meta"]["realtime"]
    # Real-time pacing: frames arrive spread over the clip, each after its own time (it needs the audio past it).
    assert receive[-1] >= 0.5 and all(r >= i / 30 for i, r in enumerate(receive))
    assert "median_receive_minus_frame_time_s" in capsys.readouterr().out


def test_stream_to_a_missing_server_is_a_clear_error(tone_wav, tmp_path, capsys):
    assert main(["stream", str(tone_wav()), "--server", "127.0.0.1:1", "--timeout", "3", "-o", str(tmp_path / "o.json")]) == 2
    assert "UNAVAILABLE" in capsys.readouterr().err
