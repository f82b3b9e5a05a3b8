"""emobridge.server.metrics: Prometheus text format and the HTTP endpoint."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from emobridge.server.metrics import Histogram, ServerMetrics, serve_metrics


def test_histogram_buckets_are_cumulative():
    h = Histogram("x_seconds", "help", (0.1, 1.0))
    for v in (0.05, 0.5, 0.5, 5.0):
        h.observe(v)
    text = h.render()
    assert '# TYPE x_seconds histogram' in text
    assert 'x_seconds_bucket{le="0.1"} 1' in text and 'x_seconds_bucket{le="1"} 3' in text
    assert 'x_seconds_bucket{le="+Inf"} 4' in text and "x_seconds_count 4" in text and "x_seconds_sum 6.05" in text


def test_endpoint_serves_every_metric():
    metrics = ServerMetrics()
    metrics.streams.set(3)
    metrics.batch.observe(32)
    httpd = serve_metrics(metrics, 0, "127.0.0.1")
    try:
        port = httpd.server_address[1]
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert "emobridge_streams 3" in text and 'emobridge_batch_size_bucket{le="32"} 1' in text
        assert "emobridge_frame_latency_seconds_count 0" in text
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nope", timeout=5)
    finally:
        httpd.shutdown()
        httpd.server_close()
