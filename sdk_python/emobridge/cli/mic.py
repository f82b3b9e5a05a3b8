"""`emobridge mic --server HOST:PORT`: stream the microphone to a sidecar and print live latency.

Each second prints the frames received and the latency beyond the model lookahead (receive time minus the
time the 20 ms chunk completing the frame's audio left), p50 and p95 over that second.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from emobridge.cli import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mic", help="stream the microphone to a running sidecar and print live latency")
    p.add_argument("--server", default="localhost:50051", help="sidecar address HOST:PORT (default localhost:50051)")
    p.add_argument("--device", help="input device name or index (default: the system default)")
    p.add_argument("--seconds", type=float, help="stop after this much audio (default: until Ctrl-C)")
    p.add_argument("--emotion", help='initial emotion, e.g. "happy=0.7"')
    p.add_argument("--fps", type=float, default=60.0)
    p.add_argument("-o", "--output", type=Path, help="also write the frames (Animation JSON with receive times)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import grpc

    from emobridge.animation import Animation
    from emobridge.audio.mic import MicChunks
    from emobridge.client import EmoBridgeClient
    from emobridge.emotion.space import parse_emotion_string

    device = int(args.device) if args.device and args.device.isdigit() else args.device
    emotion = parse_emotion_string(args.emotion) if args.emotion else None
    mic = MicChunks(device, args.seconds)
    frames, latencies, window = [], [], []
    with EmoBridgeClient(args.server) as client:
        lookahead_s = client.info().lookahead_ms / 1000
        mic.start()
        stream = client.stream(mic, fps=args.fps, emotion=emotion)
        last_print = time.monotonic()
        try:
            for frame in stream:
                now = time.monotonic()
                frames.append(frame)
                j = math.ceil(frame.time_seconds * 100 - 1e-9)
                need = math.ceil((j + 1) / 100 / 0.02 + lookahead_s / 0.02 - 1e-9) - 1
                if need < len(mic.sent_times):
                    window.append(now - mic.sent_times[need])
                if now - last_print >= 1.0 and window:
                    ms = np.array(window) * 1000
                    print(f"t={frame.time_seconds:6.1f} s  frames {len(frames):6d}  latency beyond lookahead "
                          f"p50 {np.percentile(ms, 50):5.1f} ms  p95 {np.percentile(ms, 95):5.1f} ms"
                          + (f"  dropped blocks {mic.dropped}" if mic.dropped else ""), flush=True)
                    latencies += window
                    window, last_print = [], now
        except KeyboardInterrupt:
            mic.stop()
        except grpc.RpcError as err:
            raise CliError(f"stream to {args.server} failed: {err.code().name}: {err.details()}") from None
        finally:
            mic.close()
    latencies += window
    if latencies:
        ms = np.array(latencies) * 1000
        print(f"{len(frames)} frames; latency beyond lookahead p50 {np.percentile(ms, 50):.1f} ms, "
              f"p95 {np.percentile(ms, 95):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms "
              f"(lookahead itself {lookahead_s * 1000:.0f} ms)")
    if args.output and frames:
        Animation(fps=stream.header.fps, frames=np.array([f.weights for f in frames], np.float32),
                  head_rotation=np.array([[f.head.yaw, f.head.pitch, f.head.roll] for f in frames], np.float32),
                  emotion=np.array([f.emotion for f in frames], np.float32),
                  meta={"source": "mic", "server": args.server, "latency_s": [round(x, 4) for x in latencies]}
                  ).save(args.output)
    return 0
