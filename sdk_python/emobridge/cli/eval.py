"""`emobridge eval DIR`: bake every clip of a folder and print its rig-true lip-sync metrics as a table.

The transcripts are the evaluator's reference (forced-aligned phone timings); by default the clips are baked
from the audio alone, as a game would without a script. ``--with-text`` bakes with the transcript too.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from emobridge.animate import DEFAULT_FPS
from emobridge.cli import CliError

log = logging.getLogger(__name__)

COLUMNS = (  # metric, header, format
    ("bilabial_closure", "bilabial", "{:.3f}"),
    ("open_vowel", "open_vowel", "{:.3f}"),
    ("lag_ms", "lag_ms", "{:+.1f}"),
    ("corr", "corr", "{:.3f}"),
    ("hf_ratio", "hf_ratio", "{:.4f}"),
    ("silence_ratio", "silence", "{:.2f}"),
)
MISS = "!"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="lip-sync metrics over a folder of clips with transcripts",
        description="Bake every clip of DIR and measure rig-true lip sync (the inner-lip gap of the ICT-FaceKit "
        "head against forced-aligned phones of the transcript; shared/design/quality.md). DIR holds audio "
        "(wav/flac/ogg/mp3) with a transcripts.tsv (id<TAB>text; audio as id.ext in DIR or DIR/audio) or "
        "sidecar .txt/.lab files. Prints a table per clip and the mean, marking means that miss the targets "
        f"with '{MISS}'.",
        epilog="example: emobridge eval ../shared/data/speech/ljspeech --emotion happy=1 --json ljspeech.json",
    )
    p.add_argument("folder", type=Path, metavar="DIR", help="folder of clips with transcripts")
    p.add_argument("--emotion", help="constant emotion for every bake, e.g. happy=1 or angry=0.5,surprise=0.2")
    p.add_argument("--with-text", action="store_true",
                   help="bake with the transcript as well (default: audio only; the transcript is then used only "
                   "to measure), and hold the results to the with-transcript targets")
    p.add_argument("--no-model", action="store_true",
                   help="audio-only bakes use phone recognition + the procedural animator instead of the model")
    p.add_argument("--recognize", action="store_true", help="audio-only bakes also recognise the words, as "
                   "`emobridge bake --recognize` does (measures the offline route; slower)")
    p.add_argument("--fps", type=float, default=DEFAULT_FPS, help=f"frame rate of the bakes (default {DEFAULT_FPS:g})")
    p.add_argument("--json", type=Path, metavar="OUT.json", help="also write every clip's metrics to this JSON file")
    p.add_argument("--workers", type=int, default=1, help="clips baked in parallel processes (default 1)")
    p.set_defaults(run=run)


# -- one clip (module level, so worker processes can run it) ------------------------------------------------

def evaluate_clip(audio: Path, text: str, emotion: np.ndarray | None, with_text: bool, use_model: bool,
                  fps: float, recognize: bool = False) -> dict[str, Any]:
    """Bake and measure one clip. Returns its metrics, or ``{"skipped": reason}``; never raises on a bad clip."""
    from emobridge.audio import AudioError, load_audio
    from emobridge.bake import bake
    from emobridge.evaluation import lipsync_metrics
    from emobridge.phonetics import AlignmentError, align_transcript

    row: dict[str, Any] = {"clip": audio.stem, "audio": str(audio), "transcript": text}
    try:
        audio16k = load_audio(audio)
        phones, unknown = align_transcript(audio16k, text)
    except AlignmentError as err:
        return {**row, "skipped": f"transcript cannot be aligned: {err}"}
    except (AudioError, OSError) as err:
        return {**row, "skipped": f"audio cannot be read: {err}"}
    try:
        anim = bake(audio, text=text if with_text else None, emotion=emotion, fps=fps, use_model=use_model,
                    progress=False, recognize=recognize)
    except (AudioError, OSError, RuntimeError) as err:
        return {**row, "skipped": f"bake failed: {err}"}
    row["route"] = anim.meta.get("route", "?")
    row["unknown_words"] = unknown
    row.update(lipsync_metrics(anim, audio16k, phones))
    return row


# -- the command ---------------------------------------------------------------------------------------------

def _evaluate_all(jobs: list[tuple], workers: int) -> list[dict[str, Any]]:
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    bar = tqdm(total=len(jobs), desc="eval", unit="clip", leave=False)
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    with logging_redirect_tqdm():
        if workers <= 1:
            for i, job in enumerate(jobs):
                bar.set_postfix_str(job[0].name)
                results[i] = evaluate_clip(*job)
                bar.update()
        else:
            import multiprocessing

            # spawn: workers must not inherit a forked copy of a model runtime's threads
            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = {pool.submit(evaluate_clip, *job): i for i, job in enumerate(jobs)}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.update()
    bar.close()
    return [r for r in results if r is not None]


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(kept)) if kept else None


def _cell(value: float | None, fmt: str, mark: bool = False) -> str:
    return "-" if value is None else fmt.format(value) + (MISS if mark else "")


def _target_text(op: str, bound: float) -> str:
    return f"|x|<={bound:g}" if op == "abs<=" else f"{op}{bound:g}"


def format_table(rows: list[dict[str, Any]], mean: dict[str, float | None], with_text: bool) -> str:
    """The per-clip table, the mean row (misses marked) and the target row."""
    from emobridge.evaluation import TARGETS, meets_target

    targets = TARGETS["text" if with_text else "audio"]
    header = ["clip", "route", "dur_s", *(h for _, h, _ in COLUMNS)]
    body = [[r["clip"], r["route"], f"{r['duration_s']:.2f}", *(_cell(r.get(m), f) for m, _, f in COLUMNS)]
            for r in rows]
    body.append([f"mean ({len(rows)})", "", "",
                 *(_cell(mean[m], f.replace("+", ""), meets_target(m, mean[m], with_text) is False)
                   for m, _, f in COLUMNS)])
    body.append(["target", "text" if with_text else "audio only", "",
                 *(_target_text(*targets[m]) for m, _, _ in COLUMNS)])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = []
    for k, line in enumerate([header, *body]):
        if k == len(body) - 1:   # a rule above the mean row
            lines.append("  ".join("-" * w for w in widths))
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from emobridge.bake import model_available
    from emobridge.emotion import parse_emotion_string
    from emobridge.evaluation import METRICS, TARGETS, find_clips, meets_target
    from emobridge.render import resolve_mesh_path

    folder: Path = args.folder
    if not folder.exists():
        raise CliError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise CliError(f"{folder} is not a folder; pass a folder of clips with a transcripts.tsv or .txt/.lab files")
    if not 0 < args.fps <= 240:
        raise CliError(f"--fps must be between 0 and 240, got {args.fps:g}")
    if args.workers < 1:
        raise CliError(f"--workers must be at least 1, got {args.workers}")
    if args.recognize and args.with_text:
        raise CliError("--recognize is for audio-only bakes; --with-text bakes from the transcript")
    emotion = parse_emotion_string(args.emotion) if args.emotion else None
    resolve_mesh_path()  # fail now, with the hint where the ICT head goes, rather than once per clip
    clips = find_clips(folder)
    if not clips:
        raise CliError(f"{folder}: no clips with transcripts found (need audio files with a transcripts.tsv "
                       "of id<TAB>text lines, or a .txt/.lab file beside each audio file)")
    use_model = not args.no_model
    if not args.with_text and use_model and not model_available():
        log.warning("no trained model found; audio-only bakes use phone recognition (route 'phones')")
    jobs = [(audio, text, emotion, args.with_text, use_model, args.fps, args.recognize) for audio, text in clips]
    results = _evaluate_all(jobs, min(args.workers, len(jobs), os.cpu_count() or 1))
    rows = [r for r in results if "skipped" not in r]
    skipped = [r for r in results if "skipped" in r]

    setting = "with transcript" if args.with_text else "audio only" + (" + recognised words" if args.recognize else "")
    total_s = sum(r["duration_s"] for r in rows)
    print(f"{folder}: {len(rows)} of {len(results)} clips ({total_s:.1f} s), {setting}, "
          f"emotion {args.emotion or 'neutral'}, {args.fps:g} fps")
    # The lag target is on |lag| per clip, so the mean row averages |lag| (signed clips would cancel out).
    mean = {m: _mean([abs(r[m]) if m == "lag_ms" and r.get(m) is not None else r.get(m) for r in rows])
            for m in METRICS}
    signed_lag = _mean([r.get("lag_ms") for r in rows])
    if rows:
        print(format_table(rows, mean, args.with_text))
        if signed_lag is not None:
            print(f"mean lag_ms is the mean of |lag|; signed mean {signed_lag:+.1f} ms (+: the mouth is late)")
    for r in skipped:
        print(f"skipped {r['clip']}: {r['skipped']}")
    misses = [m for m in METRICS if meets_target(m, mean[m], args.with_text) is False]
    if rows:
        print(f"{MISS} mean misses the {setting} target: {', '.join(misses)}" if misses
              else f"all means meet the {setting} targets")

    if args.json is not None:
        targets = TARGETS["text" if args.with_text else "audio"]
        doc = {
            "folder": str(folder),
            "settings": {"with_text": args.with_text, "emotion": args.emotion or "neutral", "fps": args.fps,
                         "use_model": use_model, "recognize": args.recognize},
            "targets": {m: {"op": op, "value": v} for m, (op, v) in targets.items()},
            "mean": {**mean, "lag_ms_signed": signed_lag},
            "misses": misses,
            "clips": rows,
            "skipped": skipped,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")
        print(f"wrote {args.json}")
    if not rows:
        print("no clip could be evaluated")
        return 1
    return 0
