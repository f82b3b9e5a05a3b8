"""Batch baking: a dialogue manifest of voice lines -> animation JSON and engine assets, on one machine or on Ray.

Owns everything between "a file listing thousands of voice lines" and "a folder of finished assets plus a
report"; baking one clip stays in ``emobridge.bake`` and the file formats stay in ``emobridge_export``.

    manifest    read and validate a CSV or JSONL manifest into ``Line`` objects (bad lines become errors, not crashes)
    work        one line in a worker process: bake, lip-sync self-check, every requested format as bytes
    selfcheck   the cheap per-line lip-sync check (does the jaw follow the speech, rest in the pauses)
    outdir      the output folder: atomic writes, per-line done markers (resume), the report, a lock
    local       a process pool on this machine (one model per process, a dead worker is retried)
    cluster     the same work as Ray tasks
    run         ``run_batch``: skip what is done, dispatch the rest, commit results, progress bar, report

Workers only compute and return bytes; the driver alone writes files, so local and Ray runs share one
commit path and give byte-identical outputs for the same manifest. See docs/batch.md.
"""

from emobridge.batch.manifest import Line, ManifestError, read_manifest
from emobridge.batch.run import FORMATS, BatchSummary, run_batch

__all__ = ["FORMATS", "BatchSummary", "Line", "ManifestError", "read_manifest", "run_batch"]
