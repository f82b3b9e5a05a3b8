"""The output folder of a batch: atomic writes, per-line done markers, the report, and a lock.

Layout::

    OUTDIR/json/<id>.json  OUTDIR/unity-anim/<id>.anim  OUTDIR/gltf/<id>.glb  OUTDIR/livelink-csv/<id>.csv ...
    OUTDIR/report.csv  OUTDIR/report.json      this run's row per manifest line (written last)
    OUTDIR/.done/<id>.json                      a line's done marker: its key, output sizes and report row
    OUTDIR/.tmp/                                temp files, emptied at the start of every run
    OUTDIR/.lock                                held (flock) while a run writes here

Every file is written to ``.tmp/``, fsynced and ``os.replace``d into place, so no path ever holds half a
file. A line counts as done only when its marker exists, its key matches (same manifest fields, formats,
options, audio file size and mtime, emobridge version) and every output it lists has the recorded size.
The marker is written after the outputs, so a kill -9 at any moment leaves either a done line or one that
is baked again on the next run (overwriting the same paths: never a duplicate).
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from emobridge.batch.manifest import Line
from emobridge.batch.work import Job, LineResult

REPORT_COLUMNS = ("id", "line", "status", "route", "audio_s", "bake_s", "lipsync_ok", "jaw_corr", "open_speech",
                  "open_rest", "outputs", "warnings", "error", "audio")


class OutputDirBusy(RuntimeError):
    """Another run holds the folder's lock."""


def line_key(line: Line, job: Job) -> str:
    """Everything a line's outputs depend on, hashed: a changed line or option is baked again."""
    from emobridge import __version__

    stat = line.audio.stat()
    doc = {"line": line.spec(), "job": [job.formats, job.gltf_mesh, job.model_dir, job.recognize], "version": __version__,
           "audio_file": [stat.st_size, stat.st_mtime_ns]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


class OutputDir:
    """Opened for one run: takes the lock and clears stale temp files (a killed run's leftovers)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.root / ".lock", "w")  # noqa: SIM115 - held for the object's life
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise OutputDirBusy(f"{self.root}: another bake-batch run is writing there") from None
        self.tmp = self.root / ".tmp"
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir()
        (self.root / ".done").mkdir(exist_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._lock.close()

    def __enter__(self) -> OutputDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _marker(self, line_id: str) -> Path:
        return self.root / ".done" / f"{line_id}.json"

    def done_row(self, line: Line, key: str) -> dict[str, Any] | None:
        """The report row of a line finished by an earlier run with the same key, else None."""
        try:
            marker = json.loads(self._marker(line.id).read_text(encoding="utf-8"))
            complete = marker["key"] == key and all(
                (self.root / rel).stat().st_size == size for rel, size in marker["outputs"].items())
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return marker["row"] if complete else None

    def commit(self, result: LineResult, line: Line, key: str) -> dict[str, Any]:
        """Write a finished line (outputs, then its done marker) and return its report row."""
        row = {**result.row, "id": result.id, "line": line.row, "status": result.status, "error": result.error,
               "outputs": ";".join(result.outputs)}
        if result.status != "ok":
            return row
        for rel, data in result.outputs.items():
            self.write(rel, data)
        marker = {"key": key, "outputs": {rel: len(data) for rel, data in result.outputs.items()}, "row": row}
        self.write(self._marker(line.id).relative_to(self.root).as_posix(), json.dumps(marker, indent=1).encode())
        return row

    def write(self, rel: str, data: bytes) -> Path:
        """Atomically replace ``root/rel`` with ``data`` (temp file in the same file system, fsync, rename)."""
        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.tmp, prefix=dest.name + ".")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return dest

    def write_report(self, rows: list[dict[str, Any]]) -> tuple[Path, Path]:
        """report.json (full rows) and report.csv (REPORT_COLUMNS), both atomically."""
        text = io.StringIO()
        writer = csv.DictWriter(text, REPORT_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if row.get(k) is None else row.get(k)) for k in REPORT_COLUMNS} for row in rows)
        return (self.write("report.csv", text.getvalue().encode()),
                self.write("report.json", json.dumps(rows, indent=1).encode()))
