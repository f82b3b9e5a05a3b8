"""`emobridge bake-batch MANIFEST -o OUTDIR`: bake a dialogue manifest locally or on a Ray cluster (docs/batch.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from emobridge.cli import CliError

MAX_LISTED = 20  # failed lines printed; the report has them all


def register(sub: argparse._SubParsersAction) -> None:
    from emobridge.batch.run import FORMATS
    from emobridge.cli.bake import RECOGNIZE_HELP

    p = sub.add_parser(
        "bake-batch",
        help="bake a manifest of voice lines (CSV or JSONL) to animation JSON and engine assets",
        description="Bake every line of a manifest (CSV with a header, or JSONL; fields: id, audio, text or "
        "text_file, rig, emotion or emotion_track, fps, seed, mouth_preservation; paths relative to the manifest). "
        "Resumable: lines whose outputs are complete are skipped. Writes OUTDIR/<format>/<id>.<ext> and "
        "OUTDIR/report.csv + report.json. A bad line is reported and never stops the batch.",
        epilog="examples: emobridge bake-batch lines.csv -o baked --formats json,unity-anim --workers 8 | "
        "emobridge bake-batch lines.jsonl -o baked --ray auto",
    )
    p.add_argument("manifest", type=Path, help="manifest: .csv (with a header) or .jsonl")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    p.add_argument("--formats", default="json",
                   help=f"comma-separated, from {','.join(FORMATS)} (default json)")
    p.add_argument("--workers", type=int, help="worker processes (local; default: all cores) or concurrent Ray "
                   "tasks (default: the cluster's CPUs)")
    p.add_argument("--ray", metavar="ADDRESS", help="run as Ray tasks: 'auto' (the cluster `ray start` made here), "
                   "'ray://HOST:10001', or 'local' (start a one-machine Ray)")
    p.add_argument("--gltf-mesh", help="gltf head: 'placeholder' (small files) or an ICT-format .npz "
                   "(default: the ICT head when found, about 6 MB a line)")
    p.add_argument("--model", type=Path, help="model folder for audio-only lines (default: the bundled model)")
    p.add_argument("--recognize", action="store_true", help=RECOGNIZE_HELP)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from emobridge.batch import run_batch
    from emobridge.batch.outdir import OutputDirBusy

    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers must be at least 1, got {args.workers}")
    if args.model is not None and not (args.model / "model.json").is_file():
        raise CliError(f"--model {args.model}: no model.json there; pass a folder written by `emobridge train export`")
    try:
        summary = run_batch(args.manifest, args.output, formats, workers=args.workers, ray_address=args.ray,
                            gltf_mesh=args.gltf_mesh, model_dir=args.model, progress=not args.no_progress,
                            recognize=args.recognize)
    except (OutputDirBusy, RuntimeError) as err:
        raise CliError(str(err)) from None
    print(f"{summary.lines} lines in {summary.seconds:.1f} s: {summary.ok} baked, {summary.skipped} already done, "
          f"{summary.failed} failed; report: {summary.report_csv}")
    failed = [row for row in summary.rows if row["status"] == "failed"]
    for row in failed[:MAX_LISTED]:
        print(f"  failed {row['id']}: {row['error']}")
    if len(failed) > MAX_LISTED:
        print(f"  ... and {len(failed) - MAX_LISTED} more (see the report)")
    return 1 if summary.failed else 0
