"""Ray mode on a local two-CPU Ray: the same bytes as local mode, and a worker killed mid-batch is retried."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from emobridge.batch import run_batch

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e 'sdk_python[batch]')")

FORMATS = ("json", "unity-anim", "gltf", "livelink-csv")


@pytest.fixture(scope="module")
def local_ray():
    """One Ray for the module: starting it takes 10-20 s on two cores. run_batch joins it (``ray_address`` "auto")."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_outputs_are_byte_identical_to_local_mode(local_ray, reference, outputs_of, tmp_path):
    manifest, ref_out, ids = reference
    summary = run_batch(manifest, tmp_path, FORMATS, ray_address="auto", gltf_mesh="placeholder", progress=False)
    assert (summary.ok, summary.failed) == (len(ids), 0)
    assert outputs_of(tmp_path) == outputs_of(ref_out)
    assert [r["id"] for r in summary.rows] == ids


def _ray_task_pids() -> list[int]:
    """Worker processes running a bake_line task right now (Ray retitles them ``ray::bake_line``)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().startswith(b"ray::bake_line"):
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


def test_a_worker_killed_mid_batch_is_retried_and_the_batch_completes(local_ray, reference, outputs_of, tmp_path):
    manifest, ref_out, ids = reference
    killed: list[int] = []

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for pid in _ray_task_pids()[:1]:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.01)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    summary = run_batch(manifest, tmp_path, FORMATS, ray_address="auto", gltf_mesh="placeholder", progress=False)
    killer.join()
    assert killed, "no running bake_line task was found to kill"
    # Without a retry the killed task's line would be reported failed (WorkerCrashedError).
    assert (summary.ok, summary.failed) == (len(ids), 0)
    assert outputs_of(tmp_path) == outputs_of(ref_out)
