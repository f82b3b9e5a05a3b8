"""Prometheus text-format metrics of the sidecar (no client library needed) and the HTTP endpoint serving them."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)


class Metric(ABC):
    kind = "untyped"

    def __init__(self, name: str, help_text: str) -> None:
        self.name, self.help = name, help_text

    @abstractmethod
    def lines(self) -> list[str]:
        """The metric's sample lines in Prometheus text format."""

    def render(self) -> str:
        return "\n".join([f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}", *self.lines()])


class Counter(Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text)
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def lines(self) -> list[str]:
        return [f"{self.name} {self.value:g}"]


class Gauge(Counter):
    kind = "gauge"

    def set(self, value: float) -> None:
        self.value = value


class Histogram(Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: tuple[float, ...]) -> None:
        super().__init__(name, help_text)
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float, times: int = 1) -> None:
        i = 0
        while i < len(self.buckets) and value > self.buckets[i]:
            i += 1
        self.counts[i] += times
        self.sum += value * times
        self.count += times

    def lines(self) -> list[str]:
        out, running = [], 0
        for bound, n in zip(self.buckets, self.counts, strict=False):
            running += n
            out.append(f'{self.name}_bucket{{le="{bound:g}"}} {running}')
        out += [f'{self.name}_bucket{{le="+Inf"}} {self.count}', f"{self.name}_sum {self.sum:g}",
                f"{self.name}_count {self.count}"]
        return out


class ServerMetrics:
    """Every metric the server exports."""

    def __init__(self) -> None:
        self.streams = Gauge("emobridge_streams", "Animate streams open now")
        self.streams_total = Counter("emobridge_streams_total", "Animate streams opened")
        self.streams_rejected = Counter("emobridge_streams_rejected_total", "Animate streams refused (limits, bad input)")
        self.frames = Counter("emobridge_frames_total", "animation frames sent on Animate streams")
        self.latency = Histogram("emobridge_frame_latency_seconds",
                                 "time from the audio completing a frame's model step to the frame being ready "
                                 "(beyond the model lookahead)", LATENCY_BUCKETS)
        self.batch = Histogram("emobridge_batch_size", "streams stepped per batched model call", BATCH_BUCKETS)
        self.step_seconds = Histogram("emobridge_step_seconds", "duration of one batched model step",
                                      LATENCY_BUCKETS)
        # The step's wall time split in two, to tell a slow device from a slow event loop: the model call alone,
        # and the wait from its end until the scheduler runs again (0 when the step runs on the loop's thread).
        self.step_compute_seconds = Histogram("emobridge_step_compute_seconds",
                                              "the model call alone within one batched step", LATENCY_BUCKETS)
        self.step_resume_seconds = Histogram("emobridge_step_resume_seconds",
                                             "from a threaded model call's end until the scheduler resumes",
                                             LATENCY_BUCKETS)
        self.loop_lag = Histogram("emobridge_loop_lag_seconds",
                                  "how late the event loop wakes the scheduler from its pause between ticks",
                                  LATENCY_BUCKETS)
        self.bakes = Counter("emobridge_bakes_total", "Bake requests served")

    def render(self) -> str:
        return "\n".join(m.render() for m in vars(self).values() if isinstance(m, Metric)) + "\n"


def sum_metrics(texts: list[str]) -> str:
    """Several workers' Prometheus texts as one: each sample summed over the workers (every metric here is a
    count, a gauge of open streams or a histogram, so the sum is the whole server's value)."""
    totals: dict[str, float] = {}
    order: list[str] = []  # comments and samples in the first text's order
    for text in texts:
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                if line not in order:
                    order.append(line)
                continue
            key, _, value = line.rpartition(" ")
            if key not in totals:
                order.append(key)
                totals[key] = 0.0
            totals[key] += float(value)
    return "\n".join(f"{k} {totals[k]:g}" if k in totals else k for k in order) + "\n"


def serve_metrics(metrics: ServerMetrics, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Serve ``/metrics`` on ``host:port`` from a daemon thread; ``shutdown()`` the result to stop. ``metrics`` is
    anything with a ``render()`` giving Prometheus text (``emobridge serve --workers`` passes the workers' sum)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            if self.path.split("?")[0] not in ("/metrics", "/"):
                self.send_error(404, "metrics are at /metrics")
                return
            body = metrics.render().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=httpd.serve_forever, name="emobridge-metrics", daemon=True).start()
    return httpd
