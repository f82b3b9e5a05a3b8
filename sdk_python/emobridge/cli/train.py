"""`emobridge train corpus|fit|export`: build the synthetic corpus, train the model, export it to ONNX."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from emobridge.cli import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="build the synthetic corpus, train and export the face model",
                       description="Train the audio-to-face model from our own synthetic corpus. Needs the train "
                       "extra (./setup.sh installs it).")
    steps = p.add_subparsers(dest="train_step", metavar="STEP")

    c = steps.add_parser("corpus", help="synthesize TTS speech and cache features + target curves")
    c.add_argument("--hours", type=float, default=3.0,
                   help="about this many hours of speech (default 3; one clip per 8 s asked for); the "
                        "manifest's hours also count the silence padding around clips, 5-10%% more")
    c.add_argument("--out", type=Path, default=Path(".cache/corpus"), help="corpus folder (default .cache/corpus)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    c.add_argument("--no-augment", action="store_true", help="clean TTS audio only")
    c.set_defaults(run=run_corpus)

    f = steps.add_parser("fit", help="train (resumes from OUT/checkpoint.pt when present)")
    f.add_argument("--corpus", type=Path, default=Path(".cache/corpus"))
    f.add_argument("--out", type=Path, default=Path(".cache/train"), help="checkpoints, curve.csv, learning_curve.png")
    f.add_argument("--steps", type=int, default=6000)
    f.add_argument("--batch", type=int, default=32)
    f.add_argument("--crop", type=int, default=400, help="frames (10 ms) per example (default 400)")
    f.add_argument("--lr", type=float, default=2e-3)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    f.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    f.add_argument("--no-channel-augment", action="store_true",
                   help="train on the corpus features as stored (no random spectral colouring or band masks)")
    f.add_argument("--channels", type=int, default=None,
                   help="width of every network block (default: the shipped network's, model/network.py NetConfig); "
                        "step cost grows with its square; a resumed run keeps its checkpoint's network")
    f.add_argument("--closure-hidden", type=int, default=0,
                   help="hidden channels of the lip-closure head (default 0: a linear head); a resumed run keeps "
                        "its checkpoint's network")
    f.add_argument("--ignore-below-hz", type=float, default=0.0,
                   help="hold the mel bands centred below this frequency at the corpus mean, in training and in the "
                        "exported model (default 0: every band); a resumed run keeps its checkpoint's network")
    f.add_argument("--loss-weight", action="append", default=[], metavar="NAME=W",
                   help="change one loss weight (rec, velocity, closure, emotion, mouth); repeatable")
    f.set_defaults(run=run_fit)

    e = steps.add_parser("export", help="checkpoint -> ONNX model folder")
    e.add_argument("--checkpoint", type=Path, default=Path(".cache/train/checkpoint.pt"))
    e.add_argument("-o", "--out", type=Path, required=True, help="model folder, e.g. sdk_python/emobridge/model/default")
    e.set_defaults(run=run_export)
    p.set_defaults(run=lambda args: p.print_help() or 2)


def _need_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise CliError("training needs PyTorch: pip install -e 'sdk_python[train]' (./setup.sh does)") from None


def run_corpus(args: argparse.Namespace) -> int:
    from emobridge.train.corpus import build_corpus

    if args.hours <= 0:
        raise CliError(f"--hours must be positive, got {args.hours}")
    manifest = build_corpus(args.out, args.hours, args.seed, args.workers, augment=not args.no_augment)
    print(f"{args.out}: {manifest['clips']} clips, {manifest['hours']} h, {manifest['failed_count']} failed")
    return 0


def _loss_weights(pairs: list[str]) -> dict[str, float]:
    from emobridge.train.fit import LOSS_WEIGHTS

    weights = dict(LOSS_WEIGHTS)
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            if name not in weights:
                raise ValueError
            weights[name] = float(value)
        except ValueError:
            raise CliError(f"--loss-weight takes NAME=W with NAME one of {', '.join(LOSS_WEIGHTS)}, got {pair!r}") from None
    return weights


def run_fit(args: argparse.Namespace) -> int:
    _need_torch()
    from emobridge.train.fit import FitConfig, fit

    if not args.corpus.is_dir():
        raise CliError(f"corpus folder not found: {args.corpus}; run `emobridge train corpus` first")
    from emobridge.model.network import NetConfig

    if args.closure_hidden < 0:
        raise CliError("--closure-hidden must be 0 (a linear head) or a positive channel count")
    if args.channels is not None and args.channels < 8:
        raise CliError(f"--channels must be at least 8, got {args.channels}")
    if not 0.0 <= args.ignore_below_hz < 4000.0:
        raise CliError(f"--ignore-below-hz must be in 0..4000, got {args.ignore_below_hz}")
    width = {} if args.channels is None else {"channels": args.channels}
    ckpt = fit(FitConfig(corpus=str(args.corpus), out=str(args.out), steps=args.steps, batch=args.batch,
                         crop=args.crop, lr=args.lr, seed=args.seed, device=args.device, threads=args.threads,
                         augment=not args.no_channel_augment, loss_weights=_loss_weights(args.loss_weight)),
               NetConfig(closure_hidden=args.closure_hidden, ignore_below_hz=args.ignore_below_hz, **width))
    summary = json.loads((args.out / "fit.json").read_text())
    print(f"{ckpt}: {summary['steps']} steps in {summary['wall_s']} s on {summary['device']}; "
          f"curve in {args.out / 'learning_curve.png'}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    _need_torch()
    from emobridge.model.export import export

    if not args.checkpoint.exists():
        raise CliError(f"checkpoint not found: {args.checkpoint}")
    fit_json = args.checkpoint.parent / "fit.json"
    summary = json.loads(fit_json.read_text()) if fit_json.exists() else {}
    corpus_manifest = Path(summary.get("corpus", "")) / "manifest.json"
    if corpus_manifest.is_file():
        summary["corpus_manifest"] = json.loads(corpus_manifest.read_text())
    out = export(args.checkpoint, args.out, summary)
    size = sum(f.stat().st_size for f in out.glob("*.onnx")) / 1e6
    print(f"{out}: face_offline.onnx + face_step.onnx ({size:.1f} MB together), model.json")
    return 0
