"""`emobridge bench bake|step|serve|batch`: model speed as ratios measured in one run (absolute times only mean
much on the GPU machine). ``bake``: offline audio-only bake, x real time per process. ``step``: the streaming
step at several batch sizes, with the number of 100 Hz streams one process could keep up with. ``batch``:
`bake-batch` throughput of N workers against one process, as scaling efficiency."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from emobridge.cli import CliError

REPO = Path(__file__).resolve().parents[3]
HELLO_WAV = REPO / "examples" / "hello.wav"  # the clip every benchmark stream and default bake uses


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure model speed (offline bake, streaming steps)")
    kinds = p.add_subparsers(dest="bench_kind", metavar="KIND")
    b = kinds.add_parser("bake", help="offline audio-only bake throughput, x real time")
    b.add_argument("--audio", type=Path, help="clip to bake (default: examples/hello.wav tiled)")
    b.add_argument("--seconds", type=float, default=120.0, help="audio length to bake (default 120)")
    b.add_argument("--repeat", type=int, default=3)
    b.add_argument("--batch", type=int, default=1, help="clips per inference call (GPU throughput)")
    b.add_argument("--recognize", action="store_true",
                   help="also recognise the words and seal their p/b/m, as `emobridge bake --recognize` does")
    _common(b)
    b.set_defaults(run=run_bake)
    s = kinds.add_parser("step", help="streaming step cost per batch size, and real-time streams it sustains")
    s.add_argument("--batches", default="1,8,32,128,512", help="batch sizes (default 1,8,32,128,512)")
    s.add_argument("--steps", type=int, default=200)
    _common(s)
    s.set_defaults(run=run_step)
    v = kinds.add_parser("serve", help="start the sidecar and drive N real-time streams from another process")
    v.add_argument("--streams", type=int, default=32, help="concurrent real-time streams (default 32)")
    v.add_argument("--fps", type=float, default=60.0, help="frame rate each stream asks for (default 60)")
    v.add_argument("--duration", type=float, default=10.0, help="seconds of audio per stream (default 10)")
    v.add_argument("--tick-ms", type=float, help="the server's shortest scheduler tick (default: serve's)")
    v.add_argument("--client", choices=("python", "native"), default="python",
                   help="who drives the streams: python = the asyncio client library (default); native = "
                        "libemobridge, as the Unity and Unreal plugins do (build/ from cmake first)")
    v.add_argument("--workers", type=int, default=1, help="server processes (serve --workers; default 1)")
    v.add_argument("--connections", type=int,
                   help="client connections the streams are spread over (default: 1, or one per stream with "
                        "--workers > 1, so the kernel shares them out evenly)")
    v.add_argument("--server-cpus", type=_cpu_list, metavar="LIST",
                   help="pin the server (and its workers) to these cores, e.g. 0-11 (default: no pinning)")
    v.add_argument("--driver-cpus", type=_cpu_list, metavar="LIST",
                   help="pin the stream driver to these cores, e.g. 12-15, so it does not take the server's")
    v.add_argument("--json", type=Path, help="also write the numbers here")
    _common(v)
    v.set_defaults(run=run_serve, threads=1)  # the serve default
    t = kinds.add_parser("batch", help="bake-batch throughput: N workers against one process (scaling efficiency)")
    t.add_argument("--lines", type=int, default=1000, help="voice lines to generate and bake (default 1000)")
    t.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    t.add_argument("--baseline-lines", type=int, help="lines the single process bakes (default: a quarter, >= 40)")
    t.add_argument("--formats", default="json,unity-anim,livelink-csv", help="(default json,unity-anim,livelink-csv)")
    t.add_argument("--keep", type=Path, help="generate and bake in this folder and keep it (default: a temp folder)")
    t.set_defaults(run=run_batch)
    p.set_defaults(run=lambda args: p.print_help() or 2)


def _cpu_list(text: str) -> set[int]:
    """"0-3,8" -> {0, 1, 2, 3, 8}, for os.sched_setaffinity."""
    cpus: set[int] = set()
    try:
        for part in text.split(","):
            first, _, last = part.partition("-")
            cpus.update(range(int(first), int(last or first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"cores must look like 0-11 or 0,2,4, got {text!r}") from None
    if not cpus or not cpus <= set(range(os.cpu_count() or 1)):
        raise argparse.ArgumentTypeError(f"{text!r} names no cores, or cores this machine lacks "
                                         f"(it has 0-{(os.cpu_count() or 1) - 1})")
    return cpus


def _cpu_text(cpus: set[int] | None) -> str:
    return ",".join(map(str, sorted(cpus))) if cpus else "any core"


def _pinned(cpus: set[int] | None):
    """A preexec_fn that pins the child process to ``cpus`` (None: no pinning)."""
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (default: all cores)")


def _model(args):
    from emobridge.model import FaceModel

    return FaceModel(args.model, device=args.device, threads=args.threads)


def _audio(args) -> np.ndarray:
    from emobridge.audio import SAMPLE_RATE, load_audio

    path = args.audio or HELLO_WAV
    if not path.exists():
        raise CliError(f"no audio to bake: {path} not found; pass --audio")
    clip = load_audio(path)
    n = int(args.seconds * SAMPLE_RATE)
    return np.tile(clip, -(-n // len(clip)))[:n]


def run_bake(args: argparse.Namespace) -> int:
    from emobridge.audio import SAMPLE_RATE, log_mel
    from emobridge.model import AudioAnimator
    from emobridge.phonetics import recognize_words

    if args.recognize and args.batch != 1:
        raise CliError("--recognize times one clip at a time; leave --batch at 1")
    model = _model(args)
    animator = AudioAnimator(model)
    audio = _audio(args)

    def bake_once(clip: np.ndarray) -> None:
        animator.animate(clip, recognized_phones=recognize_words(clip)[0] if args.recognize else None)

    bake_once(audio[: SAMPLE_RATE * 2])  # warm-up (and this thread's decoders, as a batch worker keeps them)
    seconds = len(audio) / SAMPLE_RATE
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        if args.batch == 1:
            bake_once(audio)
        else:
            mel = log_mel(audio)
            cond = np.zeros((args.batch, len(mel), model.cond_size), np.float32)
            model.infer_batch(np.repeat(mel[None], args.batch, axis=0), cond)
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"device {model.device}: baked {seconds * args.batch:.0f} s of audio (batch {args.batch}) in "
          f"{best:.3f} s (best of {args.repeat}) -> {seconds * args.batch / best:.0f}x real time per process"
          f"{' with recognised words' if args.recognize else ''}")
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


def _children_cpu() -> float:
    """CPU seconds of this process's finished (waited-for) child processes."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _proc_usage(pid: int) -> tuple[float, int]:
    """(CPU seconds used, resident bytes) of a process and its child processes (serve --workers), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(int(line.split()[1]) * 1024 for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        child_cpu, child_rss = _proc_usage(int(child))
        cpu, rss = cpu + child_cpu, rss + child_rss
    return cpu, rss


def run_serve(args: argparse.Namespace) -> int:
    import json
    import re
    import subprocess
    import sys

    if args.streams < 1 or args.duration <= 0 or not args.fps > 0:
        raise CliError("--streams, --duration and --fps must be positive")
    if not 1 <= args.workers <= args.streams:
        raise CliError("--workers must be between 1 and --streams")
    args.connections = args.connections or (1 if args.workers == 1 else args.streams)
    if not 1 <= args.connections <= args.streams:
        raise CliError("--connections must be between 1 and --streams")
    cmd = [sys.executable, "-m", "emobridge", "serve", "--port", "0", "--host", "127.0.0.1", "--device", args.device,
           "--max-streams", str(args.streams), "--threads", str(args.threads), "--metrics-port", "0",
           "--workers", str(args.workers)]
    if args.tick_ms is not None:
        cmd += ["--tick-ms", str(args.tick_ms)]
    if args.model:
        cmd += ["--model", str(args.model)]
    server = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, preexec_fn=_pinned(args.server_cpus))
    try:
        port = metrics_port = None
        for line in server.stderr:
            match = re.search(r"serving on port (\d+), metrics on http://localhost:(\d+)", line)
            if match:
                port, metrics_port = int(match.group(1)), int(match.group(2))
                break
        if port is None:
            raise CliError("the server did not start: " + (server.stderr.read() or "no output")[-2000:])
        import threading

        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()  # drain its logs
        cpu0, _ = _proc_usage(server.pid)
        driver_cpu0 = _children_cpu()
        driver = _drive(args, f"127.0.0.1:{port}")
        driver_cpu = _children_cpu() - driver_cpu0  # the server is still running: only the driver was reaped
        cpu1, rss = _proc_usage(server.pid)
        import urllib.request

        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
        batch_sum, model_calls = _histogram_totals(text, "emobridge_batch_size")
        step_sum, _ = _histogram_totals(text, "emobridge_step_seconds")
        compute_sum, _ = _histogram_totals(text, "emobridge_step_compute_seconds")
        resume_sum, _ = _histogram_totals(text, "emobridge_step_resume_seconds")
        lag_sum, lag_count = _histogram_totals(text, "emobridge_loop_lag_seconds")
        if driver.returncode != 0:
            raise CliError("the stream driver failed: " + driver.stderr[-2000:])
        result = json.loads(driver.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    wall = result.pop("wall_s")
    result.update({"server_cpu_percent": round(100 * (cpu1 - cpu0) / wall, 1), "server_rss_mb": round(rss / 2**20, 1),
                   # On one machine the driver competes with the server for the cores: read the two together.
                   "driver_cpu_percent": round(100 * driver_cpu / wall, 1),
                   "device": args.device, "target_fps": args.fps, "client": args.client,
                   "workers": args.workers, "connections": args.connections,
                   "server_cpus": sorted(args.server_cpus or []), "driver_cpus": sorted(args.driver_cpus or []),
                   "mean_batch": round(batch_sum / max(1.0, model_calls), 1),
                   "model_calls": int(model_calls),
                   # Wall time of one batched call as the scheduler sees it (a device call includes its thread hand-off).
                   "model_call_ms_mean": round(1000 * step_sum / max(1.0, model_calls), 2),
                   # ... split: the model alone, and its end until the scheduler resumed (the loop's wake-up).
                   "model_compute_ms_mean": round(1000 * compute_sum / max(1.0, model_calls), 2),
                   "model_resume_ms_mean": round(1000 * resume_sum / max(1.0, model_calls), 2),
                   # How late the loop ran the scheduler's pause between ticks: a busy loop delays everything.
                   "loop_lag_ms_mean": round(1000 * lag_sum / max(1.0, lag_count), 2),
                   "loop_lag_p99_ms_at_most": _histogram_quantile_ms(
                       _histogram_buckets(text, "emobridge_loop_lag_seconds"), 0.99),
                   # The server's own histogram: audio arrival to frame computed, before its send queue and transport.
                   "server_p99_ms_at_most": _histogram_quantile_ms(
                       _histogram_buckets(text, "emobridge_frame_latency_seconds"), 0.99)})
    print(f"{args.streams} streams x {args.duration:g} s at {args.fps:g} fps ({args.device}, {args.workers} "
          f"worker{'s' if args.workers > 1 else ''}, {args.client} client, {args.connections} connections): "
          f"achieved {result['fps_mean']:.1f} fps per stream (min {result['fps_min']:.1f}), "
          f"{result['errors']} errors")
    print(f"frame latency beyond lookahead: p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
          f"p99 {result['p99_ms']:.1f} ms (max {result['max_ms']:.1f} ms)")
    print(f"server: {result['server_cpu_percent']:.0f}% CPU (100% = one core), {result['server_rss_mb']:.0f} MB resident, "
          f"{result['model_calls']} batched model calls ({result['model_call_ms_mean']:.2f} ms each on average: "
          f"{result['model_compute_ms_mean']:.2f} ms the model, {result['model_resume_ms_mean']:.2f} ms until the loop "
          f"resumed), mean batch {result['mean_batch']:.1f} streams; event loop late by "
          f"{result['loop_lag_ms_mean']:.2f} ms on average, at most {result['loop_lag_p99_ms_at_most']:g} ms for 99%; "
          f"computed within {result['server_p99_ms_at_most']:g} ms of the audio for 99% of frames (server side)")
    pins = "" if not (args.server_cpus or args.driver_cpus) else (
        f"; pinned: server {_cpu_text(args.server_cpus)}, driver {_cpu_text(args.driver_cpus)}")
    print(f"stream driver: {result['driver_cpu_percent']:.0f}% CPU on the same machine ({os.cpu_count()} cores{pins})")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


NATIVE_DRIVER = REPO / "build" / "engine_plugins" / "native" / "eb_bench_streams"


def _bench_audio(duration: float) -> np.ndarray:
    """``duration`` seconds of examples/hello.wav, tiled: what every benchmark stream sends."""
    from emobridge.audio import SAMPLE_RATE, load_audio

    clip = load_audio(HELLO_WAV)
    n = int(duration * SAMPLE_RATE)
    return np.tile(clip, -(-n // len(clip)))[:n]


def _drive(args: argparse.Namespace, address: str):
    """Run the stream driver (a separate process) against ``address``; its stdout ends with a JSON line."""
    import json
    import subprocess
    import sys
    import tempfile

    timeout = args.duration * 3 + 120
    if args.client == "python":
        return subprocess.run(
            [sys.executable, "-c", "import sys, json; from emobridge.cli.bench import drive_streams; "
             "print(json.dumps(drive_streams(*json.loads(sys.argv[1]))))",
             json.dumps([address, args.streams, args.fps, args.duration, args.connections])],
            capture_output=True, text=True, timeout=timeout, preexec_fn=_pinned(args.driver_cpus))
    if not NATIVE_DRIVER.is_file():
        raise CliError(f"--client native needs {NATIVE_DRIVER}: build it with "
                       "`cmake -S . -B build && cmake --build build` (./test.sh does)")
    from emobridge.client import EmoBridgeClient, pcm16

    with EmoBridgeClient(address) as client:
        lookahead_ms = client.info().lookahead_ms
    with tempfile.NamedTemporaryFile(suffix=".s16") as raw:
        raw.write(pcm16(_bench_audio(args.duration)))
        raw.flush()
        return subprocess.run([str(NATIVE_DRIVER), address, str(args.streams), f"{args.fps:g}", f"{lookahead_ms:g}",
                               raw.name, str(args.connections)], capture_output=True, text=True, timeout=timeout,
                              preexec_fn=_pinned(args.driver_cpus))


def _histogram_totals(text: str, name: str) -> tuple[float, float]:
    """(sum, count) of the Prometheus histogram ``name`` in a metrics page; zeros when it is absent."""
    import re

    found = dict(re.findall(rf"^{name}_(sum|count) (\S+)$", text, re.M))
    return float(found.get("sum", 0)), float(found.get("count", 0))


def _histogram_buckets(text: str, name: str) -> list[tuple[float, float]]:
    """The cumulative (le, count) buckets of the Prometheus histogram ``name`` in a metrics page."""
    import re

    return [(float(le), float(n)) for le, n in re.findall(rf'^{name}_bucket\{{le="([^"]+)"\}} (\S+)$', text, re.M)]


def _histogram_quantile_ms(buckets: list[tuple[float, float]], q: float) -> float:
    """The upper bound (ms) of the Prometheus bucket holding quantile q; cumulative (le, count) pairs."""
    total = buckets[-1][1] if buckets else 0.0
    return next((round(le * 1000, 1) for le, n in buckets if n >= q * total), float("inf")) if total else 0.0


def drive_streams(address: str, streams: int, fps: float, duration: float, connections: int = 1) -> dict:
    """N concurrent real-time streams on one event loop (stream i on connection i % connections); latency of
    each frame beyond the model lookahead.

    A frame's latency is its receive time minus the send time of the 20 ms chunk that completed the audio
    the model needs for it (the frame's own time plus the lookahead), so the algorithmic lookahead is
    excluded and what remains is queueing, batching, compute and transport.
    """
    import asyncio
    import math

    from emobridge.audio import SAMPLE_RATE
    from emobridge.client import AsyncEmoBridgeClient, pcm16

    audio = _bench_audio(duration)
    n = len(audio)
    chunk = SAMPLE_RATE // 50
    chunks = [pcm16(audio[i:i + chunk]) for i in range(0, n, chunk)]

    async def one(client, lookahead_s: float, offset: float, out: dict) -> None:
        await asyncio.sleep(offset)
        sent: list[float] = []

        async def items():
            start = time.monotonic()
            for c, data in enumerate(chunks):
                wait = start + c * 0.02 - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                sent.append(time.monotonic())
                yield data

        lat, count, t0 = [], 0, time.monotonic()
        try:
            async for frame in client.stream(items(), fps=fps):
                now = time.monotonic()
                count += 1
                j = math.ceil(frame.time_seconds * 100 - 1e-9)
                need = min(len(chunks) - 1, math.ceil((j + 1) / 100 / 0.02 + lookahead_s / 0.02 - 1e-9) - 1)
                if need < len(sent):
                    lat.append(now - sent[need])
        except Exception as err:  # a failed stream is counted, not fatal to the benchmark
            out.setdefault("errors", []).append(repr(err)[:200])
        out.setdefault("lat", []).extend(lat)
        out.setdefault("fps", []).append(count / max(1e-9, time.monotonic() - t0))

    async def main() -> dict:
        clients = [AsyncEmoBridgeClient(address, timeout=duration * 3 + 60) for _ in range(connections)]
        try:
            info = await clients[0].info()
            out: dict = {}
            t0 = time.monotonic()
            await asyncio.gather(*(one(clients[i % connections], info.lookahead_ms / 1000, 0.02 * i / streams, out)
                                   for i in range(streams)))
            wall = time.monotonic() - t0
        finally:
            for client in clients:
                await client.close()
        lat = np.array(out.get("lat", [0.0])) * 1000
        fps_each = np.array(out["fps"])
        return {"streams": streams, "frames": int(len(lat)), "fps_mean": float(fps_each.mean()),
                "fps_min": float(fps_each.min()), "p50_ms": float(np.percentile(lat, 50)),
                "p95_ms": float(np.percentile(lat, 95)), "p99_ms": float(np.percentile(lat, 99)),
                "max_ms": float(lat.max()), "errors": len(out.get("errors", [])), "wall_s": wall}

    return asyncio.run(main())


# Short game lines for `bench batch` (flite, 1-3 s); every fourth voice line also gets its transcript.
BENCH_SENTENCES = (
    "Put the map back on the table.", "Where were you last night?", "I told you, the bridge is out.",
    "Mama made more bread.", "Stay behind me and keep quiet.", "We leave at dawn, no matter what.",
    "Open the gate!", "Nobody goes in there alone.", "That was my brother's sword.", "Bring me the lantern.",
    "The river is rising fast.", "Did you hear that?", "Keep your voice down.", "I can pay you tomorrow.",
    "Follow the lights to the harbour.", "Hold the line!", "My father built this tower.", "Not one step further.",
    "You owe me a favour.", "The king is dead.", "Check the east wall.", "Give me a moment to think.",
    "We found the missing ship.", "Pack light, we move tonight.",
)
BENCH_VOICES = ("slt", "rms", "awb", "kal16")


def _bench_lines(folder: Path, n: int) -> Path:
    """A manifest of ``n`` voice lines over flite clips (varied voice, emotion, fps, seed); returns its path."""
    import csv
    import shutil
    import subprocess

    if not shutil.which("flite"):
        raise CliError("bench batch generates its voice lines with flite (./setup.sh installs it)")
    clips = folder / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    for i, sentence in enumerate(BENCH_SENTENCES):
        wav = clips / f"clip{i:02d}.wav"
        if not wav.exists():
            subprocess.run(["flite", "-voice", BENCH_VOICES[i % len(BENCH_VOICES)], "-t", sentence, "-o", str(wav)],
                           check=True)
    manifest = folder / "lines.csv"
    with manifest.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "audio", "text", "emotion", "fps", "seed"])
        for i in range(n):
            k = i % len(BENCH_SENTENCES)
            writer.writerow([f"line{i:05d}", f"clips/clip{k:02d}.wav", BENCH_SENTENCES[k] if i % 4 == 0 else "",
                             ("happy=0.6", "angry=0.5,disgust=0.2", "", "sad=0.4", "surprise=0.7")[i % 5],
                             (60, 30)[i % 2], i])
    return manifest


def run_batch(args: argparse.Namespace) -> int:
    import json
    import tempfile

    from emobridge.batch import read_manifest
    from emobridge.batch import run_batch as bake_batch

    if args.lines < 1 or args.workers < 1:
        raise CliError("--lines and --workers must be positive")
    formats = tuple(args.formats.split(","))
    with tempfile.TemporaryDirectory(prefix="emobridge-bench-batch-") as tmp:
        folder = args.keep or Path(tmp)
        manifest = _bench_lines(folder, args.lines)
        baseline_n = min(args.lines, args.baseline_lines or max(40, args.lines // 4))
        subset = folder / "baseline.csv"
        subset.write_text("".join(manifest.read_text().splitlines(keepends=True)[:baseline_n + 1]))
        lines, _ = read_manifest(manifest)
        durations = {path: _duration(path) for path in {line.audio for line in lines}}  # 24 clips, many lines each
        audio_s = sum(durations[line.audio] for line in lines) / len(lines)
        print(f"{args.lines} voice lines ({audio_s:.2f} s mean, every 4th with a transcript), formats "
              f"{','.join(formats)}, {os.cpu_count()} cores", flush=True)
        runs = {}
        for name, path, workers in (("1 process", subset, 1), (f"{args.workers} workers", manifest, args.workers)):
            out = folder / f"out-{workers}"
            cpu0, busy0 = _cpu_seconds(), _machine_busy_seconds()
            summary = bake_batch(path, out, formats, workers=workers, progress=False)
            ours, busy = _cpu_seconds() - cpu0, _machine_busy_seconds() - busy0
            if summary.failed or summary.skipped:
                raise CliError(f"{name}: {summary.failed} lines failed, {summary.skipped} skipped (see {out}/report.csv)")
            runs[workers] = (summary.lines, summary.seconds, out)
            # The machine may be shared: what other processes used in the meantime explains a low efficiency.
            print(f"  {name:>10}: {summary.lines} lines in {summary.seconds:.1f} s -> "
                  f"{summary.lines / summary.seconds:.2f} lines/s; {ours / summary.lines:.3f} CPU s/line (driver + "
                  f"workers); other processes used {max(0.0, busy - ours) / summary.seconds:.2f} cores meanwhile",
                  flush=True)
        (n1, t1, out1), (n_n, t_n, out_n) = runs[1], runs[args.workers]
        efficiency = (n_n / t_n) / (args.workers * n1 / t1)
        same = all(p.read_bytes() == (out_n / p.relative_to(out1)).read_bytes()
                   for fmt in formats for p in (out1 / fmt).iterdir())
        print(f"  scaling efficiency {efficiency:.2f} = {n_n / t_n:.2f} / ({args.workers} x {n1 / t1:.2f}) "
              f"(target >= 0.8); outputs of the {n1} shared lines identical: {'yes' if same else 'NO'}")
        (folder / "bench.json").write_text(json.dumps({"lines": args.lines, "workers": args.workers,
                                                       "cores": os.cpu_count(), "lines_per_s_1": n1 / t1,
                                                       "lines_per_s_n": n_n / t_n, "efficiency": efficiency}))
    return 0 if same else 1


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the batch workers are joined when a run ends)."""
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def _machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used since boot (Linux /proc/stat), 0 elsewhere."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


def _duration(path: Path) -> float:
    import soundfile as sf

    return sf.info(str(path)).duration
