"""`emobridge render IN.json -o sheet.png` / `emobridge render --pose jawOpen=1 -o pose.png`: preview renders."""

from __future__ import annotations

import argparse
from pathlib import Path

from emobridge.cli import CliError

POSE_HELP = (
    "a pose to render instead of an animation: comma-separated ARKit weights such as "
    "jawOpen=1,mouthSmileLeft=0.5 (any common spelling; a bare name means 1), optionally prefixed by "
    "'LABEL:'; 'neutral' is all zeros. Repeat for a labelled sheet of poses"
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="render an animation's key frames (or a pose) on the ICT-FaceKit head to PNG",
        description="Preview renders: a labelled contact sheet of key frames of an animation JSON, or front "
        "views of hand-made ARKit poses, drawn with a small CPU software renderer on the ICT-FaceKit head. "
        "The head (ict_facekit_expressions.npz) is found via --mesh, $EMOBRIDGE_ICT_MESH, or "
        "shared/data/mesh/ict_facekit/ in a parent folder (the ../shared checkout next to the repo).",
        epilog="examples: emobridge render line.json -o line.png --frames 12 | "
        "emobridge render line.json --times 0.5,1.2 -o two.png | "
        "emobridge render --pose jawOpen=1,mouthSmileLeft=0.5 -o pose.png",
    )
    p.add_argument("animation", nargs="?", type=Path, help="animation JSON (omit with --pose)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output image (.png, .jpg, .webp, ...)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--frames", type=int, default=None, metavar="N",
                       help="number of evenly spaced key frames, first to last (default 8)")
    which.add_argument("--times", metavar="T1,T2,...", help="explicit key frames as times in seconds")
    p.add_argument("--pose", action="append", metavar="SPEC", help=POSE_HELP)
    p.add_argument("--size", type=int, default=None,
                   help="tile size in pixels (default 256 in a sheet, 384 for a single pose)")
    p.add_argument("--columns", type=int, default=None, help="tiles per row (default: by tile count)")
    p.add_argument("--title", default=None, help="sheet title (default: a summary of the animation; '' for none)")
    p.add_argument("--no-labels", dest="labels", action="store_false", help="no captions under the tiles")
    p.add_argument("--mesh", type=Path, default=None,
                   help="ICT-FaceKit ict_facekit_expressions.npz (default: $EMOBRIDGE_ICT_MESH or ../shared)")
    p.set_defaults(run=run)


def parse_times(text: str) -> list[float]:
    times = []
    for token in text.split(","):
        token = token.strip()
        if not token:
            continue
        try:
            times.append(float(token.rstrip("s")))
        except ValueError:
            raise CliError(f"--times: {token!r} is not a time in seconds (e.g. --times 0.5,1.2)") from None
    if not times:
        raise CliError("--times needs at least one time in seconds, e.g. --times 0.5,1.2")
    return times


def parse_pose(spec: str) -> tuple[str, dict[str, float]]:
    """``[LABEL:]name=value,...`` -> (label, {canonical ARKit name: weight}); the label defaults to the spec."""
    from emobridge.rig import UnknownBlendshapeError, canonical_name

    label, sep, body = spec.partition(":")
    if not sep:
        label, body = "", spec
    label, body = label.strip(), body.strip()
    pose: dict[str, float] = {}
    if body.lower() not in ("", "neutral"):
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            name, eq, value = item.partition("=")
            try:
                canonical = canonical_name(name.strip())
            except UnknownBlendshapeError as err:
                raise CliError(f"--pose {spec!r}: {err}") from None
            try:
                weight = float(value) if eq else 1.0
            except ValueError:
                raise CliError(f"--pose {spec!r}: weight of {name.strip()} must be a number, got {value!r}") from None
            if not 0.0 <= weight <= 1.0:
                raise CliError(f"--pose {spec!r}: weight of {canonical} must be between 0 and 1, got {weight:g}")
            pose[canonical] = weight
    elif not label:
        label = "neutral"
    return label or body, pose


def _check_output(path: Path) -> None:
    from PIL import Image

    if path.suffix.lower() not in Image.registered_extensions():
        raise CliError(f"cannot tell the image format of {path}: use an extension such as .png or .jpg")


def _load_mesh(path: Path | None):
    from emobridge.render import FaceMesh

    try:
        return FaceMesh.default(path)
    except FileNotFoundError as err:
        raise CliError(str(err)) from None


def run(args: argparse.Namespace) -> int:
    from emobridge.animation import Animation

    if args.pose and args.animation is not None:
        raise CliError("give either an animation JSON or --pose, not both")
    if not args.pose and args.animation is None:
        raise CliError("nothing to render: give an animation JSON (emobridge render IN.json -o OUT.png) "
                       "or a pose (--pose jawOpen=1)")
    if args.size is not None and not 32 <= args.size <= 2048:
        raise CliError(f"--size must be between 32 and 2048 pixels, got {args.size}")
    if args.frames is not None and args.frames < 1:
        raise CliError(f"--frames must be at least 1, got {args.frames}")
    if args.columns is not None and args.columns < 1:
        raise CliError(f"--columns must be at least 1, got {args.columns}")
    _check_output(args.output)

    if args.pose:
        if args.frames is not None or args.times is not None:
            raise CliError("--frames and --times apply to an animation, not to --pose")
        poses = [parse_pose(spec) for spec in args.pose]
        mesh = _load_mesh(args.mesh)
        image = _render_poses(poses, mesh, args)
        what = f"{len(poses)} pose{'s' if len(poses) > 1 else ''}"
    else:
        anim = Animation.load(args.animation)
        times = parse_times(args.times) if args.times is not None else None
        mesh = _load_mesh(args.mesh)
        from emobridge.render import contact_sheet

        title = args.title
        if title is None:
            title = (f"{args.animation.name}: {len(anim.frames)} frames at {anim.fps:g} fps "
                     f"({anim.duration:.2f} s)")
        try:
            image = contact_sheet(anim, args.frames or 8, frames=times, size=args.size or 256,
                                  labels=args.labels, columns=args.columns, title=title, mesh=mesh)
        except ValueError as err:
            raise CliError(f"{args.animation}: {err}") from None
        what = f"{len(times) if times is not None else min(args.frames or 8, len(anim.frames))} frames"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.output)
    print(f"{args.output}: {image.width}x{image.height}, {what}")
    return 0


def _render_poses(poses: list[tuple[str, dict[str, float]]], mesh, args: argparse.Namespace):
    from emobridge.render import render_face
    from emobridge.render.sheet import pose_sheet, pose_weights

    if len(poses) == 1 and not args.title:
        return render_face(pose_weights(poses[0][1]), mesh, args.size or 384)
    table: dict[str, dict[str, float]] = {}
    for label, pose in poses:
        key, k = label, 2
        while key in table:           # repeated labels stay distinct tiles
            key, k = f"{label} ({k})", k + 1
        table[key] = pose
    return pose_sheet(table, size=args.size or 256, labels=args.labels, columns=args.columns,
                      title=args.title or None, mesh=mesh)
