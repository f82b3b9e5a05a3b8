"""`emobridge stream AUDIO --server HOST:PORT`: stream a file to a sidecar in 20 ms chunks and record the frames.

The output is Animation JSON (frames, head rotation, emotion) plus, per frame, the receive time in seconds
after the first chunk was sent (``meta.receive_times``) and the header and end of the stream.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from emobridge.cli import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stream", help="stream an audio file to a running sidecar and record the frames")
    p.add_argument("audio", type=Path, help="audio file (wav, flac, ogg, mp3)")
    p.add_argument("--server", default="localhost:50051", help="sidecar address HOST:PORT (default localhost:50051)")
    p.add_argument("--realtime", action="store_true", help="send each 20 ms chunk at its audio time (as a live mic)")
    p.add_argument("--emotion", help='initial emotion, e.g. "happy=0.7,surprise=0.2"')
    p.add_argument("--fps", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds (default 600)")
    p.add_argument("-o", "--output", type=Path, required=True, help="where to write the frames (JSON)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import grpc

    from emobridge.animation import Animation
    from emobridge.audio import load_audio
    from emobridge.client import EmoBridgeClient, chunks_of
    from emobridge.emotion.space import parse_emotion_string

    audio = load_audio(args.audio)
    emotion = parse_emotion_string(args.emotion) if args.emotion else None
    frames, receive = [], []
    with EmoBridgeClient(args.server, timeout=args.timeout) as client:
        start = time.monotonic()
        stream = client.stream(chunks_of(audio), fps=args.fps, emotion=emotion, seed=args.seed, realtime=args.realtime)
        try:
            for frame in stream:
                receive.append(round(time.monotonic() - start, 4))
                frames.append(frame)
        except grpc.RpcError as err:
            raise CliError(f"stream to {args.server} failed: {err.code().name}: {err.details()}") from None
    if not frames:
        raise CliError("the server sent no frames")
    header, end = stream.header, stream.end
    anim = Animation(
        fps=header.fps,
        frames=np.array([f.weights for f in frames], np.float32),
        head_rotation=np.array([[f.head.yaw, f.head.pitch, f.head.roll] for f in frames], np.float32),
        emotion=np.array([f.emotion for f in frames], np.float32),
        meta={"source": "stream", "server": args.server, "audio": args.audio.name, "realtime": args.realtime,
              "stream_id": header.stream_id, "model": header.model_name, "lookahead_ms": header.lookahead_ms,
              "frames_sent": end.frames_sent if end else None, "audio_seconds": end.audio_seconds if end else None,
              "receive_times": receive},
    )
    anim.save(args.output)
    lag = [r - f.time_seconds for r, f in zip(receive, frames, strict=True)]
    print(json.dumps({"frames": len(frames), "output": str(args.output),
                      "median_receive_minus_frame_time_s": round(float(np.median(lag)), 4)}))
    return 0
