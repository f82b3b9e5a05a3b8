"""Several server processes on one port (``emobridge serve --workers N``) and their supervisor.

One Python process serves about a hundred 60 fps streams whatever the device: the per-stream work around
the batched model call (audio in, frames out, gRPC messages) holds its interpreter lock. Workers are whole
``emobridge serve`` processes bound to the same port with SO_REUSEPORT; the kernel hands each new client
connection to one of them, and each batches the streams of its own connections. The supervisor starts
them, serves their metrics summed on one endpoint, and stops them all when it is stopped or one dies.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from emobridge.server.metrics import serve_metrics, sum_metrics

READY = re.compile(r"serving on port (\d+)(?:, metrics on http://localhost:(\d+))?")


class WorkerError(RuntimeError):
    """A worker did not start or stopped on its own; the message carries the end of its output."""


def free_port(host: str) -> int:
    """A TCP port nothing listens on now, for workers that must all bind the same one."""
    family, kind, proto, _, address = socket.getaddrinfo(host.strip("[]") or "::", 0, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.bind(address)
        return probe.getsockname()[1]


class WorkerMetrics:
    """``render()`` for the metrics endpoint: every worker's metrics, fetched now and summed."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports

    def render(self) -> str:
        texts = []
        for port in self.ports:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
                texts.append(reply.read().decode())
        return sum_metrics(texts)


def _spawn(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "emobridge", "serve", *argv], stderr=subprocess.PIPE, text=True)


class WorkerLog:
    """A worker's stderr, read on a thread: its "serving on port" line, then the rest forwarded to ours.

    Reading on a thread lets the supervisor keep to its start deadline (and a SIGTERM) even when a
    worker hangs without printing anything."""

    def __init__(self, child: subprocess.Popen, index: int) -> None:
        self.child, self.index = child, index
        self.ready = threading.Event()  # set by the ready line, or when the worker's output ends
        self.started = False
        self.metrics_port: int | None = None
        self.seen: list[str] = []  # what it printed before its ready line
        threading.Thread(target=self._pump, daemon=True, name=f"emobridge-worker-{index}-log").start()

    def _pump(self) -> None:
        assert self.child.stderr is not None
        for line in self.child.stderr:
            if self.started:
                sys.stderr.write(line)
                continue
            match = READY.search(line)
            if match:
                self.metrics_port = int(match.group(2)) if match.group(2) else None
                self.started = True
                self.ready.set()
            else:
                self.seen.append(line)
        self.ready.set()

    def wait(self, deadline: float, stop: threading.Event) -> int | None:
        """The worker's metrics port (None without one) once it serves, or at once when ``stop`` is set;
        WorkerError when it exits first or misses ``deadline`` (monotonic seconds)."""
        while not self.ready.wait(0.1):
            if stop.is_set():
                return None
            if time.monotonic() > deadline:
                raise WorkerError(f"worker {self.index} did not start in time; its output: {self._output()}")
        if not self.started:
            self.child.wait()
            raise WorkerError(f"worker {self.index} exited with {self.child.returncode} before serving: {self._output()}")
        return self.metrics_port

    def _output(self) -> str:
        return "".join(self.seen)[-2000:] or "none"


def supervise(worker_argv: list[str], workers: int, port: int, metrics_port: int | None, grace: float,
              start_timeout: float = 300.0) -> int:
    """Run ``workers`` copies of ``emobridge serve worker_argv`` on ``port`` until SIGINT/SIGTERM (exit 0) or a
    worker's own exit (the others are stopped; exit 1). ``worker_argv`` must name the port and ``--reuse-port``."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    children: list[subprocess.Popen] = []
    try:
        for _ in range(workers):  # all load the model at once
            children.append(_spawn(worker_argv))
        deadline = time.monotonic() + start_timeout
        logs = [WorkerLog(child, i) for i, child in enumerate(children)]
        metric_ports = [log.wait(deadline, stop) for log in logs]
        if stop.is_set():  # stopped while starting: the finally below stops them
            return 0
        endpoint = None
        if metrics_port is not None:
            endpoint = serve_metrics(WorkerMetrics([p for p in metric_ports if p]), metrics_port)
        print(f"emobridge: serving on port {port}"
              + (f", metrics on http://localhost:{endpoint.server_address[1]}/metrics" if endpoint else "")
              + f" ({workers} workers)", file=sys.stderr, flush=True)
        while not stop.wait(0.2):
            gone = [i for i, c in enumerate(children) if c.poll() is not None]
            if gone:
                print(f"emobridge: worker {gone[0]} exited with {children[gone[0]].returncode}; stopping the others",
                      file=sys.stderr, flush=True)
                return 1
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)  # each ends its streams within its grace
        for child in children:
            try:
                child.wait(grace + 10)
            except subprocess.TimeoutExpired:
                child.kill()
