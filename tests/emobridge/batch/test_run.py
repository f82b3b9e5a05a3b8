"""Local batches: outputs and report, bad lines, resume, a kill -9 midway, a worker killed mid-line, determinism."""

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from emobridge.animation import Animation
from emobridge.batch import run_batch

FORMATS = ("json", "unity-anim", "gltf", "livelink-csv")
SUFFIXES = {"json": ".json", "unity-anim": ".anim", "gltf": ".glb", "livelink-csv": ".csv"}


def _assert_complete_and_valid(out: Path, ids: list[str]) -> None:
    """Exactly one parseable file per line and format, and no temp files left."""
    for fmt, suffix in SUFFIXES.items():
        assert sorted(p.name for p in (out / fmt).iterdir()) == sorted(f"{i}{suffix}" for i in ids)
    for i in ids:
        Animation.load(out / "json" / f"{i}.json")
        assert (out / "unity-anim" / f"{i}.anim").read_text().startswith("%YAML")
        assert (out / "gltf" / f"{i}.glb").read_bytes()[:4] == b"glTF"
        rows = list(csv.reader((out / "livelink-csv" / f"{i}.csv").open()))
        assert rows[0][0] == "Timecode" and len(rows) > 10
    assert not any((out / ".tmp").iterdir()) if (out / ".tmp").exists() else True


def _bake_batch_cli(manifest: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "emobridge", "bake-batch", str(manifest), "-o", str(out),
                             "--formats", ",".join(FORMATS), "--gltf-mesh", "placeholder", "--workers", "2",
                             "--no-progress", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def test_outputs_report_and_lipsync_check(reference):
    manifest, out, ids = reference
    _assert_complete_and_valid(out, ids)
    report = json.loads((out / "report.json").read_text())
    assert [r["id"] for r in report] == ids and {r["status"] for r in report} == {"ok"}
    assert {r["route"] for r in report} == {"model", "transcript"}
    assert all(r["lipsync_ok"] and r["bake_s"] > 0 and r["audio_s"] > 0.9 for r in report)
    rows = list(csv.DictReader((out / "report.csv").open()))
    assert rows[0]["outputs"] == "json/line000.json;unity-anim/line000.anim;gltf/line000.glb;livelink-csv/line000.csv"


def test_bad_lines_are_reported_and_the_rest_bakes(clips, tmp_path):
    (clips / "corrupt.wav").write_bytes(b"RIFF not really a wave file")
    manifest = tmp_path / "lines.jsonl"
    manifest.write_text("\n".join(json.dumps(d) for d in [
        {"id": "good", "audio": str(clips / "clip0.wav")},
        {"id": "missing", "audio": str(clips / "nope.wav")},
        {"id": "corrupt", "audio": str(clips / "corrupt.wav")},
        {"id": "good2", "audio": str(clips / "clip1.wav"), "emotion": "sad=0.5"}]))
    summary = run_batch(manifest, tmp_path / "out", ("json",), workers=2, progress=False)
    status = {r["id"]: (r["status"], r["error"]) for r in summary.rows}
    assert status["good"] == status["good2"] == ("ok", "")
    assert status["missing"][0] == status["corrupt"][0] == "failed"
    assert "line 2, field 'audio': file not found" in status["missing"][1]
    assert status["corrupt"][1].startswith("AudioError")
    assert sorted(p.name for p in (tmp_path / "out" / "json").iterdir()) == ["good.json", "good2.json"]


def test_rerun_skips_done_lines_and_rebakes_changed_or_damaged_ones(clips, tmp_path):
    manifest = tmp_path / "lines.csv"
    manifest.write_text(f"id,audio,seed\na,{clips / 'clip0.wav'},1\nb,{clips / 'clip1.wav'},2\nc,{clips / 'clip2.wav'},3\n")
    out = tmp_path / "out"
    assert run_batch(manifest, out, ("json",), workers=1, progress=False).ok == 3
    manifest.write_text(manifest.read_text().replace(",2\n", ",5\n"))  # b's seed changed
    (out / "json" / "c.json").write_bytes(b"{")                       # c damaged (a different size)
    summary = run_batch(manifest, out, ("json",), workers=1, progress=False)
    assert {r["id"]: r["status"] for r in summary.rows} == {"a": "skipped", "b": "ok", "c": "ok"}
    assert Animation.load(out / "json" / "b.json").meta["seed"] == 5
    assert run_batch(manifest, out, ("json", "livelink-csv"), workers=1, progress=False).ok == 3  # a format added


def test_kill_9_midway_then_rerun_finishes_exactly_once_and_byte_identical(reference, outputs_of, tmp_path):
    manifest, ref_out, ids = reference
    out = tmp_path / "out"
    proc = _bake_batch_cli(manifest, out)
    deadline = time.monotonic() + 120
    while len(list((out / ".done").glob("*.json"))) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the batch finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, no chance to clean up
    proc.wait()
    done_before = {p.stem for p in (out / ".done").glob("*.json")}
    assert 4 <= len(done_before) < len(ids)
    assert not (out / "report.json").exists()

    rerun = _bake_batch_cli(manifest, out)
    stdout, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr.decode()
    report = json.loads((out / "report.json").read_text())
    assert [r["id"] for r in report] == ids
    assert {r["id"] for r in report if r["status"] == "skipped"} == done_before
    assert {r["id"] for r in report if r["status"] == "ok"} == set(ids) - done_before
    _assert_complete_and_valid(out, ids)
    assert outputs_of(out) == outputs_of(ref_out)


def _spawned_workers() -> list[int]:
    """Pids of the local batch workers: spawned children of this process."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"multiprocessing.spawn" in cmdline:  # not the resource tracker
            pids.append(int(stat.parent.name))
    return pids


def test_a_worker_killed_mid_batch_is_replaced_and_its_line_retried(reference, outputs_of, tmp_path):
    manifest, ref_out, ids = reference
    killed: list[int] = []
    out = tmp_path / "out"

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if list((out / ".done").glob("*.json")) if (out / ".done").exists() else False:
                for pid in _spawned_workers()[:1]:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    summary = run_batch(manifest, out, FORMATS, workers=2, gltf_mesh="placeholder", progress=False)
    killer.join()
    assert killed, "no worker was found to kill"
    assert (summary.ok, summary.failed) == (len(ids), 0)
    assert outputs_of(out) == outputs_of(ref_out)


def test_recognizing_words_is_a_job_option_that_rebakes(clips, tmp_path):
    manifest = tmp_path / "lines.csv"
    manifest.write_text(f"id,audio\nhello,{clips / 'hello.wav'}\n")
    out = tmp_path / "out"
    assert run_batch(manifest, out, ("json",), workers=1, progress=False).ok == 1
    assert "recognized" not in Animation.load(out / "json" / "hello.json").meta
    summary = run_batch(manifest, out, ("json",), workers=1, progress=False, recognize=True)
    assert [r["status"] for r in summary.rows] == ["ok"]   # a changed option: baked again, not skipped
    assert "map" in Animation.load(out / "json" / "hello.json").meta["recognized"].split()
