"""`emobridge export FORMAT IN -o OUT [--rig PROFILE]`: animation JSON -> engine assets; FLAME <-> ARKit.

A thin command line over the export tools package (``export_tools/``, module ``emobridge_export``), which
./setup.sh installs next to emobridge.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emobridge.cli import CliError

FORMAT_HELP = {
    "unity-anim": "Unity AnimationClip (.anim) animating blendShape.<name> on a SkinnedMeshRenderer",
    "gltf": "glTF 2.0 (.glb / .gltf) head with morph targets and a weights animation",
    "livelink-csv": "Live Link Face CSV take (Timecode, BlendshapeCount, 61 curves)",
    "unreal-curves": "Unreal curve table CSV (one row per curve)",
    "visemes": "the 15 Oculus visemes per frame (.csv, or .json)",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="convert an animation JSON to engine assets, or FLAME <-> ARKit",
                       description="Convert baked animation into what an engine imports. Rig profiles "
                       "(--rig) rename and rescale the ARKit channels for a rig: a built-in name "
                       "(arkit, ict_facekit, vrm_perfect_sync, metahuman_arkit) or your own JSON file "
                       "(see docs/export.md).",
                       epilog="examples: emobridge export unity-anim line.json -o line.anim --rig ict_facekit | "
                       "emobridge export gltf line.json -o line.glb | emobridge export livelink-csv line.json")
    formats = p.add_subparsers(dest="format", metavar="FORMAT")
    for name, help_text in FORMAT_HELP.items():
        f = formats.add_parser(name, help=help_text, description=help_text)
        f.add_argument("animation", type=Path, help="animation JSON (from emobridge bake)")
        f.add_argument("-o", "--output", type=Path, help="output file (default: the input with the format's suffix)")
        if name not in ("livelink-csv", "visemes"):
            f.add_argument("--rig", help="rig profile: built-in name or a profile JSON file (default: the 52 ARKit names)")
        if name == "unity-anim":
            f.add_argument("--renderer-path", default="Face",
                           help="path of the SkinnedMeshRenderer's GameObject below the Animator (default Face; '' = root)")
            f.add_argument("--tolerance", type=float, default=0.5,
                           help="key reduction tolerance in Unity weight units 0-100 (default 0.5)")
        if name == "gltf":
            f.add_argument("--mesh", help="'ict' (the ICT-FaceKit head, found in ../shared or $EMOBRIDGE_ICT_MESH), "
                           "'placeholder', or an ict_facekit_expressions.npz path (default: ict when found)")
        f.set_defaults(run=run_format)

    f2a = formats.add_parser("flame-to-arkit", help="FLAME expression + jaw animation -> ARKit animation JSON")
    f2a.add_argument("flame_animation", type=Path, help="FLAME animation .npz (expression [T,n], jaw_pose [T,3])")
    f2a.add_argument("--flame-model", type=Path, required=True, help="your FLAME model pickle (generic_model.pkl)")
    f2a.add_argument("--arkit-basis", type=Path, required=True, help="ARKit shapes in FLAME topology (.npz: names, deltas)")
    f2a.add_argument("--temporal", type=float, default=None,
                     help="temporal regularisation, relative to the shapes' size (default 1e-5; 1e-3..1e-1 damps noisy input)")
    f2a.add_argument("--fps", type=float, help="frame rate of the FLAME take (default: the npz's fps, else 25)")
    f2a.add_argument("-o", "--output", type=Path, required=True, help="animation JSON")
    f2a.set_defaults(run=run_flame_to_arkit)

    a2f = formats.add_parser("arkit-to-flame", help="ARKit animation JSON -> FLAME expression + jaw .npz")
    a2f.add_argument("animation", type=Path, help="animation JSON")
    a2f.add_argument("--flame-model", type=Path, required=True, help="your FLAME model pickle (generic_model.pkl)")
    a2f.add_argument("--arkit-basis", type=Path, required=True, help="ARKit shapes in FLAME topology (.npz: names, deltas)")
    a2f.add_argument("--n-expression", type=int, help="FLAME expression coefficients to fit (default: all the model has)")
    a2f.add_argument("-o", "--output", type=Path, required=True, help="FLAME animation .npz")
    a2f.set_defaults(run=run_arkit_to_flame)
    p.set_defaults(run=lambda args: p.print_help() or 2)


def _tools():
    try:
        import emobridge_export
    except ImportError:
        raise CliError("the export tools are not installed: pip install -e export_tools (./setup.sh does)") from None
    return emobridge_export


def run_format(args: argparse.Namespace) -> int:
    from emobridge.animation import Animation
    from emobridge.rig.profile import load_profile

    tools = _tools()
    animation = Animation.load(args.animation)
    options = {}
    if getattr(args, "rig", None):
        options["rig"] = load_profile(args.rig)
    if args.format == "unity-anim":
        if not args.tolerance > 0:
            raise CliError(f"--tolerance must be positive, got {args.tolerance}")
        options.update(renderer_path=args.renderer_path, tolerance=args.tolerance)
    if args.format == "gltf" and args.mesh:
        options["mesh"] = None if args.mesh == "ict" else args.mesh
    out = args.output or args.animation.with_suffix(tools.EXPORTERS[args.format][2])
    written = tools.exporter(args.format)(animation, out, **options)
    print(f"{written}: {args.format}, {len(animation.frames)} frames at {animation.fps:g} fps")
    return 0


def _flame_rig(args: argparse.Namespace):
    """(the flame module, the user's FLAME model, the ARKit basis in its topology)."""
    _tools()
    from emobridge_export import flame

    model = flame.load_flame_model(args.flame_model)
    return flame, model, flame.load_arkit_basis(args.arkit_basis, model)


def run_flame_to_arkit(args: argparse.Namespace) -> int:
    flame, model, basis = _flame_rig(args)
    anim = flame.load_flame_animation(args.flame_animation)
    if args.fps is not None:
        if not args.fps > 0:
            raise CliError(f"--fps must be positive, got {args.fps}")
        anim.fps = args.fps
    options = {} if args.temporal is None else {"temporal": args.temporal}
    animation, residual = flame.flame_to_arkit(model, basis, anim, **options)
    animation.save(args.output)
    print(f"{args.output}: {len(animation.frames)} frames at {animation.fps:g} fps; "
          f"residual RMS mean {residual.mean() * 1000:.3g} mm, max {residual.max() * 1000:.3g} mm")
    return 0


def run_arkit_to_flame(args: argparse.Namespace) -> int:
    from emobridge.animation import Animation

    flame, model, basis = _flame_rig(args)
    animation = Animation.load(args.animation)
    options = {} if args.n_expression is None else {"n_expression": args.n_expression}
    result = flame.arkit_to_flame(model, basis, animation, **options)
    flame.save_flame_animation(args.output, result)
    print(f"{args.output}: FLAME expression + jaw for {len(animation.frames)} frames")
    return 0
