"""Local mode: lines baked by long-lived worker processes on this machine, one line at a time each.

Processes (not threads): the aligner and the exporters hold the GIL. They are spawned (not forked) with
BLAS/OpenMP pinned to one thread, and each bakes with a one-thread ONNX Runtime session, so N workers use
N cores; each keeps its model loaded for its whole life. Every worker has its own pipe, so when one dies
(a native crash, the OOM killer) exactly the line it held is known: that line is retried on a fresh
worker, up to ``MAX_ATTEMPTS`` times (like Ray's task retries), and nothing else is disturbed.
"""

from __future__ import annotations

import os
import signal
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait

from emobridge.batch.manifest import Line
from emobridge.batch.work import THREAD_ENV, Job, LineResult, bake_line

MAX_ATTEMPTS = 4  # one try and three retries, as Ray's default max_retries for tasks


def local_results(lines: Iterable[Line], job: Job, workers: int) -> Iterator[LineResult]:
    """Bake ``lines`` on ``workers`` processes, yielding each result as it finishes (in any order)."""
    queue = deque(lines)
    attempts: Counter[str] = Counter()
    with _thread_env():
        idle = [_Worker(job) for _ in range(min(workers, len(queue)))]
        busy: dict[Connection, tuple[_Worker, Line]] = {}
        try:
            while queue or busy:
                while idle and queue:
                    worker, line = idle.pop(), queue.popleft()
                    with suppress(OSError):  # it died idle: recv() below sees the pipe's end and retries the line
                        worker.conn.send(line)
                    busy[worker.conn] = (worker, line)
                for conn in wait(list(busy)):
                    worker, line = busy.pop(conn)
                    try:
                        result = conn.recv()
                    except (EOFError, OSError):  # the worker died mid-line
                        worker.stop()
                        attempts[line.id] += 1
                        if attempts[line.id] < MAX_ATTEMPTS:
                            queue.appendleft(line)
                        else:
                            yield LineResult(line.id, "failed", error=f"the worker process died {MAX_ATTEMPTS} times "
                                             "on this line (a crash in native code, or out of memory?)")
                        idle.append(_Worker(job))
                        continue
                    idle.append(worker)
                    yield result
        finally:
            for worker in idle:
                worker.stop()
            for worker, _ in busy.values():  # interrupted: their lines are not wanted any more
                worker.stop(kill=True)


class _Worker:
    """One spawned process serving lines over its own pipe until it is sent None."""

    def __init__(self, job: Job) -> None:
        self.conn, child = get_context("spawn").Pipe()
        self.process = get_context("spawn").Process(target=_serve, args=(child, job), daemon=True)
        self.process.start()
        child.close()

    def stop(self, kill: bool = False) -> None:
        if not kill:
            with suppress(OSError):  # already dead
                self.conn.send(None)
            self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _serve(conn: Connection, job: Job) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle; it stops the workers
    try:
        while (line := conn.recv()) is not None:
            conn.send(bake_line(line, job))
    except (EOFError, OSError):  # the driver is gone (killed): nobody wants the result
        pass


@contextmanager
def _thread_env() -> Iterator[None]:
    """Pin BLAS/OpenMP threads in the environment the workers are spawned with; restored afterwards."""
    saved = {k: os.environ.get(k) for k in THREAD_ENV}
    os.environ.update(THREAD_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
