"""`emobridge serve`: a real server process, streamed to by `emobridge stream`, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from emobridge.cli import main

pytest.importorskip("torch", reason="the tiny test model is exported with torch")


def _start(model_dir, *extra):
    proc = subprocess.Popen([sys.executable, "-m", "emobridge", "serve", "--model", str(model_dir), "--port", "0",
                             "--host", "127.0.0.1", *extra], stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        match = re.search(r"serving on port (\d+)(?:, metrics on http://localhost:(\d+))?", line)
        if match:
            return proc, int(match.group(1)), match.group(2) and int(match.group(2)), lines
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("server did not start: " + "".join(lines))


def test_serve_streams_logs_json_and_stops_on_sigterm(tiny_model_dir, tone_wav, tmp_path, capsys):
    proc, port, metrics_port, lines = _start(tiny_model_dir, "--metrics-port", "0", "--max-streams", "3")
    try:
        out = tmp_path / "frames.json"
        assert main(["stream", str(tone_wav(seconds=1.0)), "--server", f"127.0.0.1:{port}", "--emotion", "happy=0.5",
                     "-o", str(out)]) == 0
        doc = json.loads(out.read_text())
        assert len(doc["frames"]) == 60 and len(doc["meta"]["receive_times"]) == 60
        assert doc["emotion"][0][0] == pytest.approx(0.5) and doc["meta"]["frames_sent"] == 60
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
        assert "emobridge_frames_total 60" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    events = [json.loads(line) for line in "".join(lines).splitlines() + err.splitlines() if line.startswith("{")]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "listening" and "stream_open" in kinds and "stream_close" in kinds and kinds[-1] == "shutdown"


def test_serve_rejects_bad_arguments(tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path), "--livelink", "nohostport"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err
    assert main(["serve", "--model", str(tmp_path), "--port", "0"]) == 2
    assert "model.json" in capsys.readouterr().err
    assert main(["serve", "--model", str(tmp_path), "--max-bakes", "0"]) == 2
    assert "--max-bakes" in capsys.readouterr().err
    assert main(["serve", "--model", str(tmp_path), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err



def _children(pid: int) -> list[int]:
    return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]


def test_serve_workers_share_one_port_sum_their_metrics_and_stop_together(tiny_model_dir, tone_wav, tmp_path):
    proc, port, metrics_port, lines = _start(tiny_model_dir, "--workers", "2", "--metrics-port", "0",
                                             "--max-streams", "4")
    workers = _children(proc.pid)
    try:
        assert len(workers) == 2 and "(2 workers)" in lines[-1]
        wav = tone_wav(seconds=0.5)
        for i in range(6):  # each `emobridge stream` is its own connection, handed to either worker
            assert main(["stream", str(wav), "--server", f"127.0.0.1:{port}", "-o", str(tmp_path / f"{i}.json")]) == 0
            assert len(json.loads((tmp_path / f"{i}.json").read_text())["frames"]) == 30
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
        assert "emobridge_streams_total 6\n" in text and "emobridge_frames_total 180\n" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 0
    for pid in workers:  # stopped and reaped, not orphaned
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_serve_workers_all_stop_when_one_dies(tiny_model_dir):
    proc, _, _, _ = _start(tiny_model_dir, "--workers", "2")
    workers = _children(proc.pid)
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "worker 0 exited" in err
    with pytest.raises(ProcessLookupError):
        os.kill(workers[1], 0)


def test_serve_refuses_a_port_another_server_holds(tiny_model_dir, capsys):
    proc, port, _, _ = _start(tiny_model_dir)
    try:
        assert main(["serve", "--model", str(tiny_model_dir), "--host", "127.0.0.1", "--port", str(port)]) == 2
        assert "another server using the port" in capsys.readouterr().err
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
