"""A real sidecar (on the tiny model of tests/conftest.py) on a free localhost port, run in a background loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="exporting the tiny test model needs the train extra (torch)")

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    """About 1.6 s of real speech at 16 kHz, quantised to PCM16 (what a stream sends)."""
    from emobridge.audio import load_audio

    audio = load_audio(REPO / "examples" / "hello.wav")[: int(1.6 * 16000)]
    return np.round(np.clip(audio, -1, 1) * 32767.0) / 32767.0


class ServerThread:
    """A sidecar on its own event loop in a daemon thread; ``call(coro)`` runs a coroutine there."""

    def __init__(self, model_dir: Path, **kwargs) -> None:
        from emobridge.server import start_server

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self.call(start_server(model_dir, port=0, host="127.0.0.1", **kwargs))
        self.address = f"127.0.0.1:{self.server.port}"
        self.service = self.server.service
        self.stopped = False

    def call(self, coro, timeout: float = 60.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def active(self) -> int:
        return len(self.service.active)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.service.active and self.service.slots == 0:
                return True
            time.sleep(0.01)
        return False

    def stop(self, grace: float = 2.0) -> None:
        if not self.stopped:
            self.stopped = True
            self.call(self.server.stop(grace))
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


@pytest.fixture(scope="session")
def server(tiny_model_dir):
    from emobridge.server import Limits

    srv = ServerThread(tiny_model_dir, limits=Limits(max_streams=6, max_pending_seconds=0.2, max_outbound_frames=20,
                                                     config_timeout_s=2.0), metrics_port=0)
    yield srv
    srv.stop()


@pytest.fixture
def make_server(tiny_model_dir):
    servers = []

    def make(**kwargs) -> ServerThread:
        srv = ServerThread(tiny_model_dir, **kwargs)
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.stop()
