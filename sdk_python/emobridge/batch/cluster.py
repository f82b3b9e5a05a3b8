"""Cluster mode: the same ``bake_line`` as Ray tasks (``pip install -e "sdk_python[batch]"``).

Tasks (not actors): Ray reuses a worker process for task after task, and ``emobridge.bake`` caches the model
per process, so each worker loads it once. A worker that dies mid-task is a system failure Ray retries
(``max_retries``) on another worker; an exception inside a line is already a failed ``LineResult``, so
application errors are never retried. Results (the output bytes) come back to the driver, which writes
them: workers need to read the audio (a shared file system or the same paths on every node) but never
write to the output folder. At most a few tasks per CPU are in flight, so the object store holds a bounded
number of results however long the manifest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from emobridge.batch.manifest import Line
from emobridge.batch.work import THREAD_ENV, Job, LineResult, bake_line

MAX_RETRIES = 3
IN_FLIGHT_PER_CPU = 2


def ray_results(lines: Iterable[Line], job: Job, address: str, workers: int | None = None) -> Iterator[LineResult]:
    """Bake ``lines`` as Ray tasks on the cluster at ``address`` ("auto", "ray://host:10001", "local", ...).

    Joins the Ray session already open in this process if there is one. ``workers`` caps the tasks running
    at once (default: the cluster's CPUs).
    """
    ray = _ray()
    if not ray.is_initialized():
        # Ray pins OMP threads for 1-CPU tasks; the job's env pins the BLAS libraries that do not read it.
        ray.init(address=address, runtime_env={"env_vars": THREAD_ENV}, log_to_driver=False)
    task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(bake_line)
    job_ref = ray.put(job)
    limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1))) * IN_FLIGHT_PER_CPU
    queue = list(lines)[::-1]
    running: dict = {}
    while queue or running:
        while queue and len(running) < limit:
            line = queue.pop()
            running[task.remote(line, job_ref)] = line
        done, _ = ray.wait(list(running), num_returns=1)
        for ref in done:
            line = running.pop(ref)
            try:
                yield ray.get(ref)
            except ray.exceptions.RayError as err:  # retries used up (worker kept dying), or the node was lost
                yield LineResult(line.id, "failed", error=f"Ray task failed after {MAX_RETRIES} retries: "
                                 f"{type(err).__name__}: {str(err)[:300]}")


def _ray():
    try:
        import ray
    except ImportError:
        raise RuntimeError('--ray needs Ray: pip install -e "sdk_python[batch]" (./setup.sh installs it)') from None
    return ray
