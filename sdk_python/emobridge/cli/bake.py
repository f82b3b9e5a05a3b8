"""`emobridge bake AUDIO -o OUT.json`: offline bake of one clip to the animation JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from emobridge.animate import DEFAULT_FPS, DEFAULT_MOUTH_PRESERVATION, Style
from emobridge.animation import Animation
from emobridge.cli import CliError
from emobridge.emotion import EmotionTrack, parse_emotion_string

RECOGNIZE_HELP = ("audio-only bakes also recognise the words: the model seals the lips on their p/b/m, and without "
                  "the model the procedural animator follows their phones instead of the phone loop's (better lip "
                  "closure on real voices; about 8x real time per process instead of hundreds)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bake",
        help="bake an audio clip to ARKit-52 animation JSON",
        description="Bake an audio clip (wav/flac/ogg/mp3, any rate) to ARKit-52 animation JSON. "
        "With a transcript, phones come from forced alignment (most exact lip sync); without one, the "
        "bundled audio-to-face model animates the clip (--no-model: audio-only phone recognition).",
        epilog="example: emobridge bake line.wav --text 'Put the map back.' --emotion happy=0.7,surprise=0.2 "
        "-o line.json",
    )
    p.add_argument("audio", type=Path, help="audio file")
    text = p.add_mutually_exclusive_group()
    text.add_argument("--text", help="transcript of the clip")
    text.add_argument("--text-file", type=Path, help="file holding the transcript")
    emotion = p.add_mutually_exclusive_group()
    emotion.add_argument("--emotion", help="constant emotion, e.g. happy=0.7,surprise=0.2 (names: happy sad angry "
                         "fear disgust surprise contempt, or aliases such as joy; also valence=..,arousal=..)")
    emotion.add_argument("--emotion-track", type=Path, help="JSON keyframe track (see docs/emotion.md)")
    p.add_argument("--mouth-preservation", type=float, default=DEFAULT_MOUTH_PRESERVATION,
                   help=f"0..1: how much the speaking mouth is protected from emotion (default "
                   f"{DEFAULT_MOUTH_PRESERVATION})")
    p.add_argument("--fps", type=float, default=DEFAULT_FPS, help=f"frame rate (default {DEFAULT_FPS:g})")
    p.add_argument("--seed", type=int, default=0, help="seed of blinks, gaze and head motion (default 0)")
    p.add_argument("--style", help="speaking style, each -1..1: energy=0.5,smoothness=-0.3 (default 0,0)")
    p.add_argument("--model", type=Path, help="model folder for audio-only bakes (default: the bundled model)")
    p.add_argument("--no-model", action="store_true",
                   help="audio-only bakes use phone recognition + the procedural animator instead of the model")
    p.add_argument("--recognize", action="store_true", help=RECOGNIZE_HELP)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="model device (default auto)")
    p.add_argument("--server", metavar="HOST:PORT",
                   help="bake on a running sidecar through its Bake call instead of in this process (its model and device)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output animation JSON")
    p.set_defaults(run=run)


def parse_style(text: str | None) -> Style:
    """``energy=0.5,smoothness=-0.3`` -> Style; unknown keys and non-numbers are clear errors."""
    values: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, _, value = part.partition("=")
        if key.strip() not in ("energy", "smoothness"):
            raise CliError(f"--style: unknown key {key.strip()!r}; use energy and smoothness")
        try:
            values[key.strip()] = float(value)
        except ValueError:
            raise CliError(f"--style {key.strip()}: {value!r} is not a number") from None
    return Style(**values)


def run(args: argparse.Namespace) -> int:
    from emobridge.bake import bake

    text = args.text
    if args.text_file is not None:
        try:
            text = args.text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise CliError(f"cannot read --text-file {args.text_file}: {err}") from None
    emotion = EmotionTrack.load(args.emotion_track) if args.emotion_track else parse_emotion_string(args.emotion)
    if not 0 < args.fps <= 240:
        raise CliError(f"--fps must be between 0 and 240, got {args.fps:g}")
    if args.model is not None and not (args.model / "model.json").is_file():
        raise CliError(f"--model {args.model}: no model.json there; pass a folder written by `emobridge train export`")
    if args.server:
        anim = _bake_on_server(args, text, emotion)
    else:
        anim = bake(args.audio, text=text, emotion=emotion, mouth_preservation=args.mouth_preservation,
                    fps=args.fps, seed=args.seed, style=parse_style(args.style), use_model=not args.no_model,
                    model_dir=args.model, device=args.device, recognize=args.recognize)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    anim.save(args.output)
    print(f"{args.output}: {len(anim.frames)} frames at {anim.fps:g} fps ({anim.duration:.2f} s), "
          f"route: {anim.meta['route']}")
    return 0


def _bake_on_server(args: argparse.Namespace, text: str | None, emotion) -> Animation:
    """The same bake through the sidecar's Bake call (engine editors bake against the sidecar they stream from)."""
    import grpc

    from emobridge.client import EmoBridgeClient

    if args.style or args.model or args.no_model:
        raise CliError("--style, --model and --no-model apply to local bakes; the sidecar bakes with its own model")
    keyframes = ([(k.time, k.emotion, k.transition) for k in emotion.keyframes] if isinstance(emotion, EmotionTrack)
                 else emotion)
    try:
        with EmoBridgeClient(args.server) as client:
            return client.bake(args.audio, emotion=keyframes, fps=args.fps, seed=args.seed, transcript=text or "",
                               mouth_preservation=args.mouth_preservation, recognize_words=args.recognize)
    except grpc.RpcError as err:
        raise CliError(f"the sidecar at {args.server} could not bake {args.audio}: {err.code().name}: {err.details()}") from None
