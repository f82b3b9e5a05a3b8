"""emobridge.server.workers: the pieces of `serve --workers` (the processes themselves: tests/emobridge/cli/test_serve.py)."""

from __future__ import annotations

import socket

from emobridge.server.metrics import ServerMetrics, serve_metrics
from emobridge.server.workers import WorkerMetrics, free_port


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
