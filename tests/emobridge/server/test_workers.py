"""emobridge.server.workers: the pieces of `serve --workers` (the processes themselves: tests/emobridge/cli/test_serve.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest

from emobridge.server.metrics import ServerMetrics, serve_metrics
from emobridge.server.workers import WorkerError, WorkerLog, WorkerMetrics, free_port


def test_free_port_can_be_listened_on():
    port = free_port("127.0.0.1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_worker_metrics_are_the_sum_of_every_workers():
    a, b = ServerMetrics(), ServerMetrics()
    a.frames.inc(60)
    b.frames.inc(40)
    a.batch.observe(3)
    b.batch.observe(100, times=2)
    endpoints = [serve_metrics(m, 0, "127.0.0.1") for m in (a, b)]
    try:
        text = WorkerMetrics([e.server_address[1] for e in endpoints]).render()
    finally:
        for e in endpoints:
            e.shutdown()
    assert "emobridge_frames_total 100\n" in text
    assert 'emobridge_batch_size_bucket{le="4"} 1\n' in text and 'emobridge_batch_size_bucket{le="128"} 3\n' in text
    assert "emobridge_batch_size_sum 203\n" in text and "emobridge_batch_size_count 3\n" in text
    assert text.count("# TYPE emobridge_frames_total counter") == 1


def _child(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)


def test_a_silent_worker_misses_its_start_deadline_instead_of_blocking():
    child = _child("import time; time.sleep(60)")
    try:
        started = time.monotonic()
        with pytest.raises(WorkerError, match="worker 3 did not start in time"):
            WorkerLog(child, 3).wait(time.monotonic() + 0.5, threading.Event())
        assert time.monotonic() - started < 5
    finally:
        child.kill()
        child.wait()


def test_a_worker_that_exits_before_serving_is_named_with_its_output():
    child = _child("import sys; sys.stderr.write('no model here\\n'); sys.exit(2)")
    with pytest.raises(WorkerError, match="worker 0 exited with 2 before serving: no model here"):
        WorkerLog(child, 0).wait(time.monotonic() + 30, threading.Event())


def test_a_ready_worker_gives_its_metrics_port_and_a_stop_ends_the_wait():
    child = _child("import sys, time; sys.stderr.write('emobridge: serving on port 5, metrics on "
                   "http://localhost:9100/metrics\\n'); sys.stderr.flush(); time.sleep(60)")
    silent = _child("import time; time.sleep(60)")
    try:
        assert WorkerLog(child, 0).wait(time.monotonic() + 30, threading.Event()) == 9100
        stop = threading.Event()
        stop.set()
        assert WorkerLog(silent, 1).wait(time.monotonic() + 30, stop) is None
    finally:
        for c in (child, silent):
            c.kill()
            c.wait()
