"""One voice line in a worker process: bake it, self-check it, render every requested format to bytes.

``bake_line`` is a pure function of (line, job) run the same way by the local pool and by Ray tasks. It
writes nothing the driver can see (exporters write into a private temp folder and the bytes are read
back), so a worker that dies mid-line leaves no trace and the driver alone decides what is committed.
The learned model is cached per process by ``emobridge.bake`` (loaded on a worker's first model line).
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emobridge.batch.manifest import Line

# Formats other than "json" are emobridge_export.EXPORTERS; "json" is the animation JSON itself.
JSON = "json"
# One thread per worker process: N workers then share N cores instead of oversubscribing them.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ORT_THREADS = 1


@dataclass(frozen=True)
class Job:
    """What every line of a batch shares."""

    formats: tuple[str, ...] = (JSON,)
    gltf_mesh: str | None = None    # None: the ICT head when found, else a placeholder (see emobridge_export.gltf)
    model_dir: str | None = None    # None: the bundled model
    recognize: bool = False         # audio-only lines also recognise words to seal p/b/m (bake(recognize=True))


@dataclass
class LineResult:
    """A finished line: ``outputs`` maps paths relative to the output folder to file contents."""

    id: str
    status: str                     # "ok" or "failed"
    outputs: dict[str, bytes] = field(default_factory=dict)
    row: dict[str, Any] = field(default_factory=dict)  # report fields: route, timings, self-check, warnings
    error: str = ""


def output_path(line_id: str, fmt: str) -> str:
    """Where a format of a line goes, relative to the output folder: one subfolder per format."""
    from emobridge_export import EXPORTERS

    suffix = ".json" if fmt == JSON else EXPORTERS[fmt][2]
    return f"{fmt}/{line_id}{suffix}"


def bake_line(line: Line, job: Job) -> LineResult:
    """Bake one line; any error becomes a failed result (one bad line must never stop the batch)."""
    started = time.perf_counter()
    row: dict[str, Any] = {"audio": str(line.audio)}
    with _CollectedWarnings() as warnings:
        try:
            fields, outputs = _bake(line, job)
            row.update(fields)
            status, error = "ok", ""
        except Exception as err:  # noqa: BLE001 - corrupt audio, bad track, exporter errors: all per-line failures
            outputs, status, error = {}, "failed", f"{type(err).__name__}: {err}"
    row["warnings"] = "; ".join(warnings)
    row["bake_s"] = round(time.perf_counter() - started, 3)
    return LineResult(line.id, status, outputs, row, error)


def _bake(line: Line, job: Job) -> tuple[dict[str, Any], dict[str, bytes]]:
    import numpy as np

    from emobridge.audio import load_audio
    from emobridge.bake import bake
    from emobridge.batch.selfcheck import lipsync_selfcheck
    from emobridge.emotion import EmotionTrack

    audio = load_audio(line.audio)  # decoded once: the bake and the self-check both use it
    emotion = EmotionTrack.load(line.emotion_track) if line.emotion_track else (
        np.asarray(line.emotion, np.float32) if line.emotion else None)
    anim = bake(audio, text=line.text, emotion=emotion, mouth_preservation=line.mouth_preservation, fps=line.fps,
                seed=line.seed, progress=False, model_dir=job.model_dir, device="cpu", threads=ORT_THREADS,
                audio_name=line.audio.name, recognize=job.recognize)
    outputs: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="emobridge-batch-") as tmp:
        for fmt in job.formats:
            rel = output_path(line.id, fmt)
            path = Path(tmp) / Path(rel).name  # the final file name: exporters embed the stem (clip names)
            _export(anim, fmt, path, line, job)
            outputs[rel] = path.read_bytes()
    fields = {"route": anim.meta.get("route", ""), "audio_s": anim.meta.get("duration_s"), "frames": len(anim.frames),
              **lipsync_selfcheck(anim, audio)}
    return fields, outputs


def _export(anim, fmt: str, path: Path, line: Line, job: Job) -> None:
    if fmt == JSON:
        anim.save(path)
        return
    from emobridge_export import RIGLESS_FORMATS, exporter

    options: dict[str, Any] = {}
    if fmt not in RIGLESS_FORMATS and line.rig:
        options["rig"] = line.rig
    if fmt == "gltf" and job.gltf_mesh:
        options["mesh"] = job.gltf_mesh
    exporter(fmt)(anim, path, **options)


class _CollectedWarnings(logging.Handler):
    """Gathers emobridge's warnings during one line for the report, instead of printing them over the bar."""

    LOGGERS = ("emobridge", "emobridge_export")

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> list[str]:
        self._saved = []
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.propagate))
            logger.addHandler(self)
            logger.propagate = False
        return self.messages

    def __exit__(self, *exc: object) -> None:
        for logger, propagate in self._saved:
            logger.removeHandler(self)
            logger.propagate = propagate

