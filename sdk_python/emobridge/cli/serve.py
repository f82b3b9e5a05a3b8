"""`emobridge serve`: run the gRPC sidecar (Animate, Bake, GetInfo, health, reflection, metrics)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from pathlib import Path

from emobridge.cli import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the gRPC sidecar that animates many characters at once")
    p.add_argument("--port", type=int, default=50051, help="gRPC port (default 50051; 0 = any free port)")
    p.add_argument("--host", default="[::]", help="address to listen on (default all interfaces)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    p.add_argument("--threads", type=int, default=1,
                   help="ONNX Runtime intra-op threads (default 1: batched steps are small, and the server's event "
                        "loop needs the other cores; 0 = all cores)")
    p.add_argument("--max-streams", type=int, default=64,
                   help="concurrent Animate streams (default 64), per worker with --workers")
    p.add_argument("--max-bakes", type=int, default=4,
                   help="Bake calls run at once (default 4); more wait their turn")
    p.add_argument("--max-stream-seconds", type=float, default=3600.0, help="audio per stream (default 3600)")
    p.add_argument("--livelink", metavar="HOST:PORT", help="also send every stream as Live Link Face packets here")
    p.add_argument("--subject", default="emobridge", help="Live Link subject name (default emobridge)")
    p.add_argument("--allow-stream-livelink", action="store_true",
                   help="let clients name their own Live Link target in StreamConfig.livelink")
    p.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this HTTP port (/metrics)")
    p.add_argument("--tick-ms", type=float, default=5.0,
                   help="shortest scheduler tick: steps that became ready within it share one model call, at up to "
                        "that much latency (default 5: at 32 streams a third less CPU than stepping each stream as "
                        "its audio lands; 0 = no wait)")
    p.add_argument("--grace", type=float, default=5.0, help="seconds live streams get to end on shutdown")
    p.add_argument("--workers", type=int, default=1,
                   help="server processes sharing the port (default 1). One process serves about a hundred 60 fps "
                        "streams whatever the device; each worker batches the streams of its own client connections "
                        "(and on CUDA holds its own copy of the model), so clients spread streams over connections")
    p.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # a worker of --workers
    p.set_defaults(run=run)


def _worker_argv(args: argparse.Namespace, port: int) -> list[str]:
    """The `serve` arguments of one of --workers: this command's, on a fixed shared port."""
    argv = ["--port", str(port), "--host", args.host, "--device", args.device, "--threads", str(args.threads),
            "--max-streams", str(args.max_streams), "--max-bakes", str(args.max_bakes),
            "--max-stream-seconds", str(args.max_stream_seconds), "--subject", args.subject,
            "--tick-ms", str(args.tick_ms), "--grace", str(args.grace), "--reuse-port"]
    if args.model:
        argv += ["--model", str(args.model)]
    if args.livelink:
        argv += ["--livelink", args.livelink]
    if args.allow_stream_livelink:
        argv.append("--allow-stream-livelink")
    if args.metrics_port is not None:
        argv += ["--metrics-port", "0"]  # the supervisor serves their sum on --metrics-port
    return argv


def _livelink(value: str | None, subject: str):
    from emobridge.server import LiveLinkDefault

    if not value:
        return None
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CliError(f"--livelink must be HOST:PORT (e.g. 192.168.1.20:11111), got {value!r}")
    return LiveLinkDefault(host.strip("[]"), int(port), subject)


def run(args: argparse.Namespace) -> int:
    from emobridge.model import ModelError
    from emobridge.server import Limits, start_server

    if args.max_streams < 1:
        raise CliError("--max-streams must be at least 1")
    if args.max_bakes < 1:
        raise CliError("--max-bakes must be at least 1")
    if args.workers < 1:
        raise CliError(f"--workers must be at least 1, got {args.workers}")
    livelink = _livelink(args.livelink, args.subject)
    if args.workers > 1:
        from emobridge.server.workers import WorkerError, free_port, supervise

        port = args.port or free_port(args.host)
        try:
            return supervise(_worker_argv(args, port), args.workers, port, args.metrics_port, args.grace)
        except WorkerError as err:
            raise CliError(str(err)) from None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    events = logging.getLogger("emobridge.server.events")
    events.addHandler(handler)
    events.setLevel(logging.INFO)
    events.propagate = False
    limits = Limits(max_streams=args.max_streams, max_stream_seconds=args.max_stream_seconds,
                    max_concurrent_bakes=args.max_bakes)

    async def main() -> None:
        try:
            server = await start_server(args.model, port=args.port, host=args.host, device=args.device, limits=limits,
                                        metrics_port=args.metrics_port, livelink=livelink,
                                        allow_stream_livelink=args.allow_stream_livelink, threads=args.threads,
                                        min_tick_s=args.tick_ms / 1000, reuse_port=args.reuse_port)
        except (ModelError, OSError) as err:
            raise CliError(str(err)) from None
        # The model, stubs and modules are ~80k long-lived objects; a full garbage collection walking them
        # stalls the event loop for tens of milliseconds. Frozen, they are never walked again.
        gc.freeze()
        # gRPC's completion-queue thread needs the GIL to hand each finished read and write to the event loop;
        # with the loop busy it waits out the whole switch interval (5 ms by default) each time, which is the
        # larger part of the p99 frame latency at 32 streams on 2 cores. 0.5 ms: p99 28-42 ms against 41-66.
        sys.setswitchinterval(0.0005)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"emobridge: serving on port {server.port}"
              + (f", metrics on http://localhost:{server.metrics_port}/metrics" if server.metrics_port else ""),
              file=sys.stderr, flush=True)
        await stop.wait()
        await server.stop(args.grace)

    asyncio.run(main())
    return 0
