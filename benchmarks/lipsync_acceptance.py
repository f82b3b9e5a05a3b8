"""Lip-sync and emotion acceptance on real speech, for either route of the bake.

Bakes every ljspeech clip and every mfa clip that has a transcript under each emotion given and scores
them with ../shared/tools/lipsync_eval.py (imported, not copied); checks FACS, monotonic sweeps and
transition smoothness of every basis emotion. ``--route text`` is the text-aware procedural bake (the
face-core targets); ``--route model`` is the learned model on audio alone (transcripts are used only by
the evaluator), which also reports the 8 kHz digits (fsdd) and the real performer reference (facegood);
``--route phones`` is the audio-only bake without the model (``--no-model``: phone recognition + the
procedural animator). ``--recognize`` adds the offline bake's word recognition (``bake(..., recognize=True)``)
to either audio-only route.

    .venv/bin/python benchmarks/lipsync_acceptance.py --route text  [--json out.json]
    .venv/bin/python benchmarks/lipsync_acceptance.py --route model [--model DIR] [--recognize]
    .venv/bin/python benchmarks/lipsync_acceptance.py --route phones [--recognize]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EMOBRIDGE_SHARED", REPO.parent / "shared"))
METRICS = ("bilabial_closure", "open_vowel", "lag_ms", "corr", "hf_ratio", "silence_ratio")
TARGETS = {
    "text": {"bilabial_closure": (">=", 0.97), "open_vowel": (">=", 0.95), "lag_ms": ("abs<=", 20.0),
             "corr": (">=", 0.75), "hf_ratio": ("<=", 0.05), "silence_ratio": (">=", 3.0)},
    "model": {"bilabial_closure": (">=", 0.90), "open_vowel": (">=", 0.90), "lag_ms": ("abs<=", 20.0),
              "corr": (">=", 0.65), "hf_ratio": ("<=", 0.05), "silence_ratio": (">=", 3.0)},
}
TARGETS["phones"] = TARGETS["model"]  # audio only, like the model


def evaluator():
    spec = importlib.util.spec_from_file_location("lipsync_eval", SHARED / "tools" / "lipsync_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clips() -> list[tuple[Path, str]]:
    out = []
    for folder, audio_dir in (("ljspeech", ""), ("mfa", "audio")):
        root = SHARED / "data" / "speech" / folder
        for line in (root / "transcripts.tsv").read_text().splitlines():
            if "\t" not in line:
                continue
            name, text = line.split("\t", 1)
            matches = sorted((root / audio_dir).glob(name + ".*"))
            if matches and text.strip():
                out.append((matches[0], text.strip()))
    return out


def _model_take(animator, audio: np.ndarray, with_words: bool):
    """take(emotion) -> Animation of the model route, with the recognised words' lip seals if asked."""
    from emobridge.phonetics import recognize_words

    phones = recognize_words(audio)[0] if with_words else None
    return lambda e: animator.animate(audio, emotion=e, recognized_phones=phones)


def _takes(route: str, path: Path, text: str, model_dir: str | None, with_words: bool = False):
    """(audio, take(emotion) -> Animation, recognize(emotion) -> 7 scores or None) for one clip."""
    from emobridge.animate import animate
    from emobridge.audio import SAMPLE_RATE, load_audio
    from emobridge.audio.prosody import analyze_prosody
    from emobridge.bake import phones_for

    audio = load_audio(path)
    if route == "model":
        from emobridge.model import AudioAnimator, FaceModel

        model = FaceModel(model_dir, device="cpu", threads=1)
        animator = AudioAnimator(model)
        return audio, _model_take(animator, audio, with_words), _recognizer(model, audio)
    phones, _meta = phones_for(audio, text if route == "text" else None, with_words)
    prosody = analyze_prosody(audio)
    return audio, lambda e: animate(phones, len(audio) / SAMPLE_RATE, emotion=e, prosody=prosody), None


def _recognizer(model, audio: np.ndarray):
    """The model's own emotion mapping network applied to its raw output for this clip, if shipped."""
    import onnxruntime as ort

    from emobridge.animate import Style, emotion_frames
    from emobridge.audio import log_mel
    from emobridge.model.audio_animator import conditioning

    path = Path(model.meta.get("folder", "")) / "recognizer.onnx"
    if not path.is_file():
        return None
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    mel = log_mel(audio)

    def recognize(emotion):
        raw = model.infer(mel, conditioning(emotion_frames(emotion, len(mel), model.frame_rate), 0.5, Style()))
        return session.run(None, {"face": raw[None].astype(np.float32)})[0][0]

    return recognize


def score_clip(job: tuple[Path, str, list[str], str, str | None, bool]) -> dict[str, dict[str, float]]:
    from emobridge.emotion import parse_emotion_string

    path, text, conditions, route, model_dir, with_words = job
    _audio, take, recognize = _takes(route, path, text, model_dir, with_words)
    ev = evaluator()
    result = {"emotion_checks": emotion_checks(lambda e: take(e).frames, recognize)}
    for condition in conditions:
        anim = take(parse_emotion_string(None if condition == "neutral" else condition))
        try:
            result[condition] = ev.evaluate(anim.to_dict(), str(path), text=text)
        except RuntimeError as err:  # the evaluator's own aligner gives up on a few odd clips
            result[condition] = {"error": str(err)}
    return result


def extra_sets(model_dir: str | None, with_words: bool = False) -> None:
    """Audio-only extras: fsdd 8 kHz digits (open/close) and the facegood performer reference."""
    from emobridge.audio import load_audio
    from emobridge.model import AudioAnimator, FaceModel
    from emobridge.phonetics.phones import number_words

    ev = evaluator()
    animator = AudioAnimator(FaceModel(model_dir, device="cpu"))
    fsdd = sorted((SHARED / "data" / "speech" / "fsdd").glob("*.wav"))
    rows = []
    for path in fsdd:
        audio = load_audio(path)
        anim = _model_take(animator, audio, with_words)(None)
        try:
            rows.append(ev.evaluate(anim.to_dict(), str(path), text=number_words(int(path.name.split("_")[0]))))
        except (RuntimeError, ValueError):  # the shared evaluator cannot align or lag-scan some short digits
            continue
    for metric in ("open_vowel", "corr"):  # no digit name has a p, b or m: bilabial_closure has nothing to score
        values = [r[metric] for r in rows if r.get(metric) is not None]
        print(f"fsdd 8 kHz digits ({len(rows)} clips): mean {metric} {np.mean(values):.3f} over {len(values)}")
    root = SHARED / "data" / "facemotion" / "facegood"
    for npz in sorted(root.glob("bs_*.npz")):
        wav = root / (npz.stem[3:] + ".wav")
        audio = load_audio(wav)
        res = ev.evaluate(_model_take(animator, audio, with_words)(None).to_dict(), str(wav), reference=str(npz))
        margin = res["ref_r"] - res["ref_r_loudness_baseline"]
        print(f"facegood {wav.name}: ref_r {res['ref_r']:.3f} (lag {res['ref_lag_ms']} ms), loudness baseline "
              f"{res['ref_r_loudness_baseline']:.3f}, margin {margin:+.3f} (target >= +0.10)")


def emotion_checks(take, recognize=None) -> dict[str, dict[str, object]]:
    """Per basis emotion, for ``take(emotion) -> frames [T, 52]`` of one clip: FACS rule at 1.0, monotonic
    0..1 sweep, largest per-frame change caused by a 0.3 s transition from neutral (emotional take minus
    neutral take). ``emotion`` is a 7-vector or an EmotionTrack."""
    from emobridge.emotion import EMOTIONS, EmotionKeyframe, EmotionTrack, facs_rule_holds
    from emobridge.rig import ARKIT_INDEX, face_tables

    zero = np.zeros(len(EMOTIONS))
    neutral = take(zero).astype(np.float64)
    out = {}
    for i, name in enumerate(EMOTIONS):
        one = np.eye(len(EMOTIONS))[i]
        channels = [ARKIT_INDEX[c] for g in face_tables()["facs_rules"][name] for c in g if c != "one_sided"]
        levels = [float(take(one * k)[:, channels].mean()) for k in np.linspace(0, 1, 6)]
        switch = min(1.0, len(neutral) / 120)
        track = EmotionTrack([EmotionKeyframe(0.0, zero, 0.0), EmotionKeyframe(switch, one, 0.3)])
        jump = float(np.abs(np.diff(take(track).astype(np.float64) - neutral, axis=0)).max())
        out[name] = {"facs": facs_rule_holds(name, neutral, take(one)),
                     "monotonic": bool(np.all(np.diff(levels) >= -1e-6)), "max_jump": round(jump, 4)}
        if recognize is not None:  # the project's mapping network: is this emotion the top score?
            out[name]["mapped"] = bool(int(np.argmax(recognize(one))) == i)
    return out


def print_emotion_checks(results: list[dict]) -> bool:
    from emobridge.emotion import EMOTIONS

    ok = True
    print("emotion at 1.0: FACS rule pass rate / monotonic sweep rate / worst per-frame jump of a 0.3 s transition")
    for name in EMOTIONS:
        checks = [r["emotion_checks"][name] for r in results]
        facs = np.mean([c["facs"] for c in checks])
        mono = np.mean([c["monotonic"] for c in checks])
        jump = max(c["max_jump"] for c in checks)
        good = facs >= 0.95 and mono == 1.0 and jump <= 0.1
        mapped = ""
        if "mapped" in checks[0]:
            rate = np.mean([c["mapped"] for c in checks])
            good &= rate >= 0.95
            mapped = f"  mapping network {rate:.3f}"
        ok &= bool(good)
        print(f"  {name:<10} facs {facs:.3f}  monotonic {mono:.3f}  max_jump {jump:.4f}{mapped} {'' if good else '!'}")
    return ok


def passes(metric: str, value: float, route: str) -> bool:
    op, target = TARGETS[route][metric]
    return abs(value) <= target if op == "abs<=" else value >= target if op == ">=" else value <= target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--route", choices=("text", "model", "phones"), default="text")
    parser.add_argument("--model", help="model folder for --route model (default: the bundled model)")
    parser.add_argument("--emotions", default="neutral,happy=1,angry=1,sad=1")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="write per-clip results here")
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips (quick look)")
    parser.add_argument("--no-extras", action="store_true", help="skip fsdd and facegood on the model route")
    parser.add_argument("--recognize", action="store_true",
                        help="audio-only routes: also recognise the words (model: seal the lips on their p/b/m; "
                        "phones: animate their phones)")
    args = parser.parse_args()
    if not (SHARED / "tools" / "lipsync_eval.py").exists():
        print(f"needs {SHARED}/tools/lipsync_eval.py", file=sys.stderr)
        return 2
    conditions = args.emotions.split(",")
    todo = clips()[: args.limit or None]
    if args.recognize and args.route == "text":
        parser.error("--recognize applies to the audio-only routes (model, phones)")
    jobs = [(p, t, conditions, args.route, args.model, args.recognize) for p, t in todo]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(score_clip, jobs))
    per_clip = {str(p.name): r for (p, _t), r in zip(todo, results, strict=True)}
    failed = [name for name, r in per_clip.items() if "error" in r[conditions[0]]]
    results = [r for r in results if "error" not in r[conditions[0]]]
    if failed:
        print(f"the evaluator could not align (not scored): {', '.join(failed)}")
    ok = True
    route = args.route + (" + recognised words" if args.recognize else "")
    print(f"route {route}: {len(results)} clips scored; means (per-clip None values skipped)")
    print(f"{'condition':<12}" + "".join(f"{m:>18}" for m in METRICS))
    for condition in conditions:
        row = f"{condition:<12}"
        for metric in METRICS:
            values = [r[condition][metric] for r in results if r[condition].get(metric) is not None]
            mean = float(np.mean(values)) if values else float("nan")
            good = passes(metric, mean, args.route)
            ok &= good
            row += f"{mean:>16.3f}{' ' if good else '!'} "
        print(row)
    ok &= print_emotion_checks(results)
    worst = sorted(per_clip.items(), key=lambda kv: min(kv[1][c].get("bilabial_closure") or 1 for c in conditions))
    worst = [kv for kv in worst if kv[0] not in failed]
    print("lowest bilabial_closure clips:", [(k, [v[c].get("bilabial_closure") for c in conditions]) for k, v in worst[:5]])
    if args.json:
        args.json.write_text(json.dumps(per_clip, indent=1))
    if args.route == "model" and not args.no_extras:
        extra_sets(args.model, args.recognize)
    print("PASS" if ok else "FAIL (! marks a mean that misses its target)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
