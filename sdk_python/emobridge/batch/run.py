"""``run_batch``: a manifest in, a folder of assets and a report out; local processes or Ray.

The driver validates the manifest, skips lines an earlier run finished (their done markers), hands the
rest to the local pool or to Ray, and commits each result as it arrives (outputs, then the done marker).
The report is written at the end, in manifest order, with a row for every line: ``ok`` (baked now),
``skipped`` (done earlier; its row is the one recorded then) or ``failed`` (with the error).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from emobridge.batch.manifest import read_manifest
from emobridge.batch.outdir import OutputDir, line_key
from emobridge.batch.work import JSON, Job

FORMATS = (JSON, "unity-anim", "gltf", "livelink-csv", "unreal-curves", "visemes")


@dataclass
class BatchSummary:
    lines: int
    ok: int
    skipped: int
    failed: int
    seconds: float
    report_csv: Path
    report_json: Path
    rows: list[dict[str, Any]]


def run_batch(
    manifest: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    formats: tuple[str, ...] = (JSON,),
    workers: int | None = None,
    ray_address: str | None = None,
    gltf_mesh: str | None = None,
    model_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    recognize: bool = False,
) -> BatchSummary:
    """Bake every line of ``manifest`` into ``outdir``. ``workers``: processes (local; default all cores) or
    concurrent tasks (Ray; default the cluster's CPUs). ``ray_address`` switches to Ray. ``recognize``: audio-only
    lines also recognise their words to seal the lips on p/b/m (see ``bake``; about 9x real time per worker)."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown format(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(FORMATS)}")
    started = time.perf_counter()
    lines, invalid = read_manifest(manifest)
    job = Job(tuple(dict.fromkeys(formats)), gltf_mesh, str(model_dir) if model_dir else None, recognize)
    rows: dict[int, dict[str, Any]] = {bad.row: {"id": bad.id, "line": bad.row, "status": "failed", "error": bad.error}
                                       for bad in invalid}
    with OutputDir(outdir) as out:
        keys = {line.id: line_key(line, job) for line in lines}
        todo = []
        for line in lines:
            earlier = out.done_row(line, keys[line.id])
            if earlier is not None:
                rows[line.row] = {**earlier, "line": line.row, "status": "skipped"}
            else:
                todo.append(line)
        by_id = {line.id: line for line in todo}
        bar = tqdm(total=len(lines) + len(invalid), initial=len(lines) - len(todo) + len(invalid), unit="line",
                   desc="bake-batch", file=sys.stderr, disable=not progress, dynamic_ncols=True)
        failed = len(invalid)
        for result in _results(todo, job, workers, ray_address):
            line = by_id[result.id]
            rows[line.row] = out.commit(result, line, keys[line.id])
            failed += result.status != "ok"
            bar.set_postfix_str(f"failed {failed}" if failed else "", refresh=False)
            bar.update()
        bar.close()
        ordered = [rows[row] for row in sorted(rows)]
        report_csv, report_json = out.write_report(ordered)
    count = {status: sum(r["status"] == status for r in ordered) for status in ("ok", "skipped", "failed")}
    return BatchSummary(len(ordered), count["ok"], count["skipped"], count["failed"], time.perf_counter() - started,
                        report_csv, report_json, ordered)


def _results(todo: list, job: Job, workers: int | None, ray_address: str | None):
    if not todo:
        return iter(())
    if ray_address:
        from emobridge.batch.cluster import ray_results

        return ray_results(todo, job, ray_address, workers)
    from emobridge.batch.local import local_results

    return local_results(todo, job, workers or os.cpu_count() or 1)


__all__ = ["FORMATS", "BatchSummary", "run_batch"]
