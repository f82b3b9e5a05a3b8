"""`emobridge bench bake|step`: model speed as ratios measured in one run (absolute times only mean much on
the GPU machine). ``bake``: offline audio-only bake, x real time per process. ``step``: the streaming step
at several batch sizes, with the number of 100 Hz streams one process could keep up with."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from emobridge.cli import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure model speed (offline bake, streaming steps)")
    kinds = p.add_subparsers(dest="bench_kind", metavar="KIND")
    b = kinds.add_parser("bake", help="offline audio-only bake throughput, x real time")
    b.add_argument("--audio", type=Path, help="clip to bake (default: examples/hello.wav tiled)")
    b.add_argument("--seconds", type=float, default=120.0, help="audio length to bake (default 120)")
    b.add_argument("--repeat", type=int, default=3)
    b.add_argument("--batch", type=int, default=1, help="clips per inference call (GPU throughput)")
    _common(b)
    b.set_defaults(run=run_bake)
    s = kinds.add_parser("step", help="streaming step cost per batch size, and real-time streams it sustains")
    s.add_argument("--batches", default="1,8,32,128,512", help="batch sizes (default 1,8,32,128,512)")
    s.add_argument("--steps", type=int, default=200)
    _common(s)
    s.set_defaults(run=run_step)
    p.set_defaults(run=lambda args: p.print_help() or 2)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (default: all cores)")


def _model(args):
    from emobridge.model import FaceModel

    return FaceModel(args.model, device=args.device, threads=args.threads)


def _audio(args) -> np.ndarray:
    from emobridge.audio import SAMPLE_RATE, load_audio

    path = args.audio or Path(__file__).resolve().parents[3] / "examples" / "hello.wav"
    if not path.exists():
        raise CliError(f"no audio to bake: {path} not found; pass --audio")
    clip = load_audio(path)
    n = int(args.seconds * SAMPLE_RATE)
    return np.tile(clip, -(-n // len(clip)))[:n]


def run_bake(args: argparse.Namespace) -> int:
    from emobridge.audio import SAMPLE_RATE, log_mel
    from emobridge.model import AudioAnimator

    model = _model(args)
    animator = AudioAnimator(model)
    audio = _audio(args)
    animator.animate(audio[: SAMPLE_RATE * 2])  # warm-up
    seconds = len(audio) / SAMPLE_RATE
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        if args.batch == 1:
            animator.animate(audio)
        else:
            mel = log_mel(audio)
            cond = np.zeros((args.batch, len(mel), model.cond_size), np.float32)
            model.infer_batch(np.repeat(mel[None], args.batch, axis=0), cond)
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"device {model.device}: baked {seconds * args.batch:.0f} s of audio (batch {args.batch}) in "
          f"{best:.3f} s (best of {args.repeat}) -> {seconds * args.batch / best:.0f}x real time per process")
    if args.batch > 1:
        print("  (batch > 1 times log-mel once and the model on every clip; idle motion not included)")
    return 0


def run_step(args: argparse.Namespace) -> int:
    model = _model(args)
    rng = np.random.default_rng(0)
    step_s = model.stride / model.frame_rate
    print(f"device {model.device}; one step = {step_s * 1e3:.0f} ms of audio for every stream in the batch")
    print(f"{'batch':>6} {'ms/step':>9} {'us/stream-step':>15} {'real-time streams':>18}")
    for batch in (int(b) for b in args.batches.split(",")):
        mel = rng.standard_normal((batch, model.stride, 80)).astype(np.float32)
        cond = np.zeros((batch, model.cond_size), np.float32)
        state = model.new_state(batch)
        for _ in range(5):
            _, state = model.step(mel, cond, state)
        t0 = time.perf_counter()
        for _ in range(args.steps):
            _, state = model.step(mel, cond, state)
        per_step = (time.perf_counter() - t0) / args.steps
        print(f"{batch:>6} {per_step * 1e3:>9.3f} {per_step / batch * 1e6:>15.1f} {batch * step_s / per_step:>18.0f}")
    return 0
