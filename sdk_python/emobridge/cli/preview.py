"""`emobridge preview IN.json --audio A.wav -o out.mp4`: look at an animation on the ICT-FaceKit head."""

from __future__ import annotations

import argparse
from pathlib import Path

from emobridge.cli.export import _tools


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preview", help="render an animation to a video with its audio (or a PNG strip)",
                       description="Render an animation JSON on the ICT-FaceKit head (found via --mesh, "
                       "$EMOBRIDGE_ICT_MESH or ../shared) with the CPU software renderer. Video needs ffmpeg; "
                       "without it, or for a .png output, a strip of key frames is written.",
                       epilog="example: emobridge preview hello.json --audio examples/hello.wav -o hello.mp4")
    p.add_argument("animation", type=Path, help="animation JSON")
    p.add_argument("-o", "--output", type=Path, required=True, help="out.mp4 (.mov, .mkv, .webm) or out.png")
    p.add_argument("--audio", type=Path, help="audio to mux into the video")
    p.add_argument("--fps", type=float, default=30.0, help="video frame rate (default 30)")
    p.add_argument("--size", type=int, default=320, help="frame size in pixels (default 320)")
    p.add_argument("--mesh", type=Path, help="ict_facekit_expressions.npz (default: $EMOBRIDGE_ICT_MESH or ../shared)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    _tools()
    from emobridge.animation import Animation
    from emobridge_export.preview import preview

    written = preview(Animation.load(args.animation), args.output, args.audio, args.fps, args.size, args.mesh)
    print(f"{written}")
    return 0
