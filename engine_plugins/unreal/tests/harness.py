"""Shared helpers of tests/engine_plugins/test_unreal_*.py: compile the non-UE C++ of the Unreal plugin, run a
real sidecar with Live Link output, capture its UDP packets and decode them like the engine does.

Loaded by file path (the tests run with --import-mode=importlib), so it imports nothing from the tests.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

UNREAL = Path(__file__).resolve().parents[1]
REPO = UNREAL.parents[1]
DECODER_SRC = UNREAL / "tests" / "livelink_face_decoder.cpp"
GLUE_SRC = UNREAL / "tests" / "glue_check.cpp"
GLUE_INCLUDE = UNREAL / "EmoBridge" / "Source" / "EmoBridge" / "Private"
NATIVE_INCLUDE = REPO / "engine_plugins" / "native" / "include"
REPLAY = UNREAL / "tools" / "replay_livelink.py"
FIXTURE = UNREAL / "tools" / "captures" / "hello_npc1.ebll"
HELLO_WAV = REPO / "examples" / "hello.wav"


def compiler() -> str | None:
    return shutil.which(os.environ.get("CXX", "g++"))


def compile_cpp(sources: list[Path], out: Path, flags: list[str] = ()) -> Path:
    """g++ -std=c++17 (raises CalledProcessError with the compiler's message on failure)."""
    cmd = [compiler(), "-std=c++17", "-O1", "-Wall", "-Wextra", "-Werror", *map(str, sources), *flags, "-o", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode:
        raise AssertionError(f"compile failed: {' '.join(cmd)}\n{result.stderr}")
    return out


def native_library_dir() -> Path | None:
    """Folder holding libemobridge.so from the top-level CMake build (or $EMOBRIDGE_NATIVE_LIB_DIR)."""
    for folder in (os.environ.get("EMOBRIDGE_NATIVE_LIB_DIR"), REPO / "build" / "engine_plugins" / "native"):
        if folder and (Path(folder) / "libemobridge.so").exists():
            return Path(folder)
    return None


def replay_module():
    spec = importlib.util.spec_from_file_location("replay_livelink", REPLAY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def decode(decoder: Path, path: Path, *extra: str) -> tuple[list[dict], dict]:
    """Run the engine-faithful decoder; (per-packet records, summary)."""
    out = subprocess.run([str(decoder), *extra, str(path)], capture_output=True, check=True)
    lines = [json.loads(line) for line in out.stdout.decode("utf-8", "surrogateescape").splitlines()]
    return lines[:-1], lines[-1]


@contextlib.contextmanager
def sidecar(livelink_port: int | None = None, subject: str = "emobridge", model_dir: Path | None = None):
    """`emobridge serve [--livelink 127.0.0.1:PORT --subject NAME]` on a free gRPC port; yields that port."""
    cmd = [sys.executable, "-m", "emobridge", "serve", "--port", "0", "--host", "127.0.0.1"]
    if livelink_port is not None:
        cmd += ["--livelink", f"127.0.0.1:{livelink_port}", "--subject", subject]
    if model_dir is not None:
        cmd += ["--model", str(model_dir)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        deadline = time.monotonic() + 120
        port = None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            match = re.search(r"serving on port (\d+)", line)
            if match:
                port = int(match.group(1))
                break
            if not line and proc.poll() is not None:
                break
        if port is None:
            raise AssertionError("sidecar did not start: " + "".join(lines))
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep its log pipe drained
        yield port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class UdpCapture:
    """A bound local UDP socket recording everything sent to it in a background thread."""

    def __init__(self, idle: float = 1.5, first_timeout: float = 120.0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # a fast stream sends in bursts
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.packets: list[tuple[float, bytes]] = []
        module = replay_module()
        self._thread = threading.Thread(
            target=lambda: self.packets.extend(module.record(sock=self.sock, idle=idle, first_timeout=first_timeout)))
        self._thread.start()

    def finish(self, timeout: float = 60.0) -> list[tuple[float, bytes]]:
        self._thread.join(timeout)
        self.sock.close()
        return self.packets
