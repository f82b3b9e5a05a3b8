"""Why the learned model misses lip closures on real speech: a probe of its bilabial closure output.

Runs a model (audio only, neutral) over the acceptance clips of ``lipsync_acceptance.py``, aligns them with
the shared evaluator, and prints:
  * bilabial closure per phone (P, B, M) and by position (after a pause / inside speech),
  * the raw closure output's maximum over each p/b/m, for the closures the evaluator saw and those it missed
    (a miss with a high raw value would be a decoding problem, a low one a detection problem),
  * with ``--transforms``: the same metrics after fixed changes to the input audio (level, spectral tilt,
    low cut, tempo), i.e. how much the detector leans on properties a microphone or a speaker changes,
  * with several ``--model`` folders: every model side by side, and their averaged output (an ensemble),
  * with ``--held-out-voice``: the same transcripts spoken by a TTS voice the corpus never uses
    (``train/tts.py: HELD_OUT_VOICE``), clean and under fixed degradations (reverb, noise, a low-rate mp3,
    pitch and formant shifts, WORLD resynthesis): closure on a voice the model has not heard, which needs
    no real recordings (it separates "an unheard voice" from "real speech" as the cause of misses).

    .venv/bin/python benchmarks/closure_probe.py [--model DIR ...] [--transforms] [--held-out-voice]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lipsync_acceptance import METRICS, SHARED, clips, evaluator  # noqa: E402

FPS = 60.0                 # the animation rate the acceptance benchmark scores
MODEL_FPS = 100.0          # the network's own output rate (one face frame per 10 ms mel frame)


def _transforms() -> dict:
    """name -> (change to a 16 kHz clip, tempo of the changed clip relative to the original)."""
    from scipy.signal import butter, lfilter, sosfilt

    from emobridge.train.augment import world_transform

    return {
        "level -10 dB": (lambda x: x * 0.316, 1.0),
        "level +10 dB": (lambda x: np.clip(x * 3.16, -1.0, 1.0), 1.0),
        "tilt up (pre-emphasis 0.9)": (lambda x: lfilter([1.0, -0.9], [1.0], x), 1.0),
        "tilt down (de-emphasis 0.7)": (lambda x: lfilter([1.0], [1.0, -0.7], x) * 0.4, 1.0),
        "low cut 300 Hz": (lambda x: sosfilt(butter(4, 300.0, "highpass", fs=16000, output="sos"), x), 1.0),
        "low pass 4 kHz": (lambda x: sosfilt(butter(6, 4000.0, fs=16000, output="sos"), x), 1.0),
        "tempo x0.85 (slower)": (lambda x: world_transform(x, time_scale=1 / 0.85), 0.85),
    }


def _degradations() -> dict:
    """name -> change to a 16 kHz clip that keeps its timing (each seeded, so every model hears the same)."""
    from emobridge.train import augment as aug

    return {
        "clean": lambda x, i: x,
        "reverb rt60 0.5 s, wet 0.4": lambda x, i: aug.reverb(x, 0.5, 0.4, np.random.default_rng(i)),
        "pink noise 15 dB SNR": lambda x, i: aug.add_noise(x, aug.pink_noise(len(x), np.random.default_rng(i)), 15.0),
        "mp3 16 kbps": lambda x, i: aug.codec_round_trip(x, "mp3", 16),
        "pitch +4 semitones": lambda x, i: aug.world_transform(x, semitones=4.0),
        "formants x1.12": lambda x, i: aug.world_transform(x, formant_ratio=1.12),
        "WORLD resynthesis only": lambda x, i: aug.world_transform(x),
    }


def raw_outputs(model_dir: str | None, audios: list[np.ndarray], tempo: float = 1.0) -> list[np.ndarray]:
    """The network's raw output [T, 52] at 100 fps per clip (neutral, default conditioning), on each
    clip's own clock (a tempo-changed input is mapped back)."""
    from emobridge.animate import DEFAULT_MOUTH_PRESERVATION, Style, emotion_frames
    from emobridge.audio import log_mel
    from emobridge.model import FaceModel
    from emobridge.model.audio_animator import conditioning

    model = FaceModel(model_dir, device="cpu", threads=1)
    if model.frame_rate != MODEL_FPS:
        raise SystemExit(f"{model_dir}: this probe reads {MODEL_FPS:g} fps output, the model gives {model.frame_rate:g}")
    out = []
    for audio in audios:
        mel = log_mel(audio.astype(np.float32))
        raw = model.infer(mel, conditioning(emotion_frames(None, len(mel), model.frame_rate),
                                            DEFAULT_MOUTH_PRESERVATION, Style()))
        if tempo != 1.0:
            keep = np.clip(np.round(np.arange(int(len(raw) * tempo)) / tempo).astype(int), 0, len(raw) - 1)
            raw = raw[keep]
        out.append(raw)
    return out


def score(raws: list[np.ndarray], clips_: list[dict], ev) -> dict:
    """Evaluator metrics (means over clips) plus the per-phone closure breakdown (``ev.align`` caches, see
    ``main``)."""
    from emobridge.animate import frame_count
    from emobridge.model.audio_animator import resample_frames
    from emobridge.model.output import CLOSURE_SLOT, to_arkit
    from emobridge.rig import ARKIT_NAMES

    rows, counts, raw_max = [], Counter(), {True: [], False: []}
    for raw, clip in zip(raws, clips_, strict=True):
        frames = np.clip(resample_frames(to_arkit(raw), MODEL_FPS, frame_count(clip["seconds"], FPS), FPS), 0, 1)
        rows.append(ev.evaluate({"fps": FPS, "blendshape_names": list(ARKIT_NAMES), "frames": frames},
                                clip["path"], text=clip["text"]))
        gap, n = ev.lip_gap(list(ARKIT_NAMES), frames), len(frames)
        phones = clip["phones"]
        for k, (p, a, b) in enumerate(phones):
            window = gap[max(0, int(a * FPS) - 1):min(n, int(np.ceil(b * FPS)) + 1)]  # the evaluator's window
            if p not in ev.BILABIAL or b - a < 0.03 or not window.size:
                continue
            closed = bool(window.min() <= ev.CLOSED_CM)
            where = "after a pause" if k == 0 or phones[k - 1][0] == "SIL" else "inside speech"
            counts[(p, closed)] += 1
            counts[(where, closed)] += 1
            span = raw[max(0, int(a * MODEL_FPS) - 2):int(np.ceil(b * MODEL_FPS)) + 2, CLOSURE_SLOT]
            raw_max[closed].append(float(span.max()))
    means = {m: float(np.mean([r[m] for r in rows if r.get(m) is not None])) for m in METRICS}
    return {"means": means, "counts": counts, "raw_max": raw_max}


def print_score(name: str, s: dict, detail: bool) -> None:
    print(f"{name:<30}" + "  ".join(f"{m} {s['means'][m]:.3f}" for m in ("bilabial_closure", "corr", "lag_ms",
                                                                           "silence_ratio")))
    if not detail:
        return
    c = s["counts"]
    for key in ("P", "B", "M", "after a pause", "inside speech"):
        hit, miss = c[(key, True)], c[(key, False)]
        print(f"    {key:<14} closed {hit:>3} of {hit + miss:>3} ({hit / max(1, hit + miss):.2f})")
    for closed in (True, False):
        q = np.percentile(s["raw_max"][closed], [10, 25, 50, 75, 90])
        print(f"    raw closure max over the phone, {'closed' if closed else 'missed'}: "
              f"p10/25/50/75/90 {' '.join(f'{v:.2f}' for v in q)}")


def _cache_alignments(ev) -> None:
    """Make ``ev.align`` align each clip once (PocketSphinx is the slow part) and answer from then on."""
    align, cache = ev.align, {}

    def cached(audio_path: str, text: str):
        if audio_path not in cache:
            cache[audio_path] = align(audio_path, text)
        return cache[audio_path]

    cached.oov = 0
    ev.align = cached


def held_out_voice(models: list, ev) -> None:
    """Closure of every model on the acceptance transcripts spoken by HELD_OUT_VOICE, clean and degraded."""
    import tempfile

    import soundfile as sf

    from emobridge.audio import SAMPLE_RATE
    from emobridge.train import tts

    if not tts.voice_available(tts.HELD_OUT_VOICE):
        print(f"held-out voice {tts.HELD_OUT_VOICE.name}: not installed (Debian: festvox-kdlpc16k); skipped")
        return
    degradations = _degradations()
    with tempfile.TemporaryDirectory() as tmp:
        todo, audios = [], []
        for path, text in clips():
            audio, _phones = tts.synthesize(text, tts.HELD_OUT_VOICE, seed=0)
            wav = Path(tmp) / (path.stem + ".wav")
            sf.write(wav, audio, SAMPLE_RATE)
            try:  # the evaluator's own alignment, as for the real clips
                phones = ev.align(str(wav), text)
            except RuntimeError:
                continue
            todo.append({"path": str(wav), "text": text, "phones": phones, "seconds": len(audio) / SAMPLE_RATE})
            audios.append(audio.astype(np.float64))
        print(f"held-out voice {tts.HELD_OUT_VOICE.name}: {len(todo)} transcripts; closed of its p/b/m")
        print(f"  {'':<28}" + "".join(f"{str(m or 'bundled')[-14:]:>16}" for m in models))
        closed, spoken = Counter(), Counter()
        for name, change in degradations.items():
            changed = [np.asarray(change(a, i), np.float64)[: len(a)] for i, a in enumerate(audios)]
            cells = []
            for m in models:
                c = score(raw_outputs(m, changed), todo, ev)["counts"]
                hit = sum(c[(p, True)] for p in "PBM")
                total = hit + sum(c[(p, False)] for p in "PBM")
                closed[m] += hit
                spoken[m] += total
                cells.append(f"{hit:>4}/{total} {hit / total:.3f}")
            print(f"  {name:<28}" + "".join(f"{cell:>16}" for cell in cells))
        print(f"  {'all':<28}" + "".join(f"{closed[m]:>5}/{spoken[m]:<10}" for m in models))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", help="model folder (repeatable; default: the bundled model)")
    parser.add_argument("--transforms", action="store_true", help="also score fixed changes to the input audio")
    parser.add_argument("--held-out-voice", action="store_true",
                        help="also score the transcripts spoken by a TTS voice the corpus never uses")
    args = parser.parse_args()
    if not (SHARED / "tools" / "lipsync_eval.py").exists():
        print(f"needs {SHARED}/tools/lipsync_eval.py", file=sys.stderr)
        return 2
    from emobridge.audio import SAMPLE_RATE, load_audio

    ev = evaluator()
    _cache_alignments(ev)
    todo, audios = [], []
    for path, text in clips():
        try:
            phones = ev.align(str(path), text)
        except RuntimeError:  # the evaluator's aligner gives up on a few odd clips; the acceptance skips them
            continue
        audio = load_audio(path)
        todo.append({"path": str(path), "text": text, "phones": phones, "seconds": len(audio) / SAMPLE_RATE})
        audios.append(audio.astype(np.float64))
    print(f"{len(todo)} clips aligned; audio only, neutral")
    models = args.model or [None]
    outputs = {m: raw_outputs(m, audios) for m in models}
    for m in models:
        print_score(m or "bundled model", score(outputs[m], todo, ev), detail=True)
    if len(models) > 1:
        mean = [np.mean([outputs[m][i] for m in models], axis=0) for i in range(len(todo))]
        print_score("ensemble (mean output)", score(mean, todo, ev), detail=False)
    if args.transforms:
        print("input audio changed (first model):")
        for name, (change, tempo) in _transforms().items():
            print_score("  " + name, score(raw_outputs(models[0], [change(a) for a in audios], tempo), todo, ev),
                        detail=False)
    if args.held_out_voice:
        held_out_voice(models, ev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
