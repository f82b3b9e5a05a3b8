"""The synthetic training corpus: TTS speech with exact phone timings -> augmented audio features and
the procedural animator's target curves under sampled emotion, mouth preservation and style.

One clip = one to three generated sentences spoken by one voice at a random rate and pitch; the
targets come from the engine's own phone timings (not from recognition), so they are exact. Most clips
get long silences at both ends (real lines pause far longer than TTS does). Audio is augmented after
synthesis (pitch/formant, speed, loudness, noise, reverb, telephone band, codecs) so the model meets
voices and rooms unlike the engines'. Features, targets and conditioning are cached as float16 shards:
training never touches a wav.

    shard_00000.npz: mel [F, 80], target [F, 52], cond [F, 10], closure [F], activity [F] (F = frames of
                     all clips in the shard, 100 per second) and offsets [clips + 1] into them
    manifest.json:   counts, hours (silences included), voices, seed, pause padding, the augmentation config
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emobridge.animate import Style, animate, articulate
from emobridge.audio import HOP, SAMPLE_RATE, log_mel
from emobridge.audio.prosody import analyze_prosody
from emobridge.emotion import EMOTIONS, EmotionKeyframe, EmotionTrack
from emobridge.phonetics.phones import Phone

log = logging.getLogger(__name__)
MODEL_FPS = SAMPLE_RATE / HOP  # 100 face frames a second, one per mel frame
CLIPS_PER_SHARD = 200
ENGINE_SHARE = {"flite": 0.35, "espeak": 0.35, "festival": 0.3}
PAUSE_PAD_P = 0.6  # share of clips padded with long silences (pad_with_silence)


@dataclass(frozen=True)
class ClipSpec:
    index: int
    text: str
    voice: str
    rate_scale: float
    seed: int
    augment: bool


def sample_emotion(rng: np.random.Generator, duration: float) -> EmotionTrack:
    """Neutral, one emotion, a blend, or a track that changes mid-clip: the whole space, transitions too."""

    def point() -> np.ndarray:
        e = np.zeros(len(EMOTIONS))
        kind = rng.random()
        if kind < 0.2:
            return e
        if kind < 0.65:
            e[rng.integers(len(EMOTIONS))] = rng.uniform(0.2, 1.0)
            return e
        picks = rng.choice(len(EMOTIONS), size=rng.integers(2, 4), replace=False)
        e[picks] = rng.dirichlet(np.ones(len(picks))) * rng.uniform(0.4, 1.2)
        return np.clip(e, 0, 1)

    keys = [EmotionKeyframe(0.0, point(), 0.0)]
    if rng.random() < 0.3 and duration > 1.5:
        for t in np.sort(rng.uniform(0.3, duration - 0.3, size=rng.integers(1, 3))):
            keys.append(EmotionKeyframe(float(t), point(), float(rng.uniform(0.1, 1.0))))
    return EmotionTrack(keys)


def sample_style(rng: np.random.Generator) -> Style:
    draw = lambda: float(rng.uniform(-1, 1)) if rng.random() < 0.5 else 0.0  # noqa: E731
    return Style(energy=draw(), smoothness=draw())


def build_clip(spec: ClipSpec) -> dict[str, np.ndarray]:
    """Synthesize, augment and label one clip."""
    from emobridge.train.tts import synthesize

    rng = np.random.default_rng(spec.seed)
    clean, phones = synthesize(spec.text, spec.voice, spec.rate_scale, seed=spec.seed)
    clean, phones = pad_with_silence(clean, phones, rng)
    audio, time_scale = clean, 1.0
    if spec.augment:
        from emobridge.train.augment import DEFAULT_AUGMENT, augment

        audio, time_scale = augment(clean, rng, DEFAULT_AUGMENT)
    phones = [Phone(p.label, p.start * time_scale, p.end * time_scale) for p in phones]
    mel = log_mel(audio)
    n = len(mel)
    duration = n / MODEL_FPS
    track = sample_emotion(rng, duration)
    mp = float(rng.uniform(0, 1)) if rng.random() < 0.7 else 0.5
    style = sample_style(rng)
    # Pitch accents (brow raises) are read from the clean speech; augmentation keeps them audible.
    prosody = analyze_prosody(clean)
    if time_scale != 1.0:
        prosody = _stretch_prosody(prosody, time_scale)
    anim = animate(phones, duration, MODEL_FPS, track, mp, prosody, spec.seed, style, idle=False)
    art = articulate(phones, np.arange(n) / MODEL_FPS)
    cond = np.concatenate([anim.emotion, np.full((n, 1), mp), np.tile(style.vector(), (n, 1))], axis=1)
    return {"mel": mel.astype(np.float16), "target": anim.frames.astype(np.float16), "cond": cond.astype(np.float16),
            "closure": art.closure.astype(np.float16), "activity": art.activity.astype(np.float16)}


def pad_with_silence(audio: np.ndarray, phones: list[Phone], rng: np.random.Generator,
                     p: float = PAUSE_PAD_P, longest_s: float = 1.2) -> tuple[np.ndarray, list[Phone]]:
    """Most TTS clips start and end on speech and pause only briefly, while real lines sit in pauses of a
    second or more, where the face must come to rest (silence_ratio). With probability ``p`` each end gets
    0.1-``longest_s`` s of digital silence (augmentation adds the room and noise later), labelled SIL."""
    if rng.random() >= p or not phones:
        return audio, phones
    n_lead, n_trail = (int(rng.uniform(0.1, longest_s) * SAMPLE_RATE) for _ in range(2))
    lead, end = n_lead / SAMPLE_RATE, (n_lead + len(audio) + n_trail) / SAMPLE_RATE
    shifted = [Phone(ph.label, ph.start + lead, ph.end + lead) for ph in phones]
    if shifted[0].label == "SIL":
        shifted[0] = Phone("SIL", 0.0, shifted[0].end)
    else:
        shifted.insert(0, Phone("SIL", 0.0, lead))
    if shifted[-1].label == "SIL":
        shifted[-1] = Phone("SIL", shifted[-1].start, end)
    else:
        shifted.append(Phone("SIL", shifted[-1].end, end))
    padded = np.concatenate([np.zeros(n_lead, audio.dtype), audio, np.zeros(n_trail, audio.dtype)])
    return padded, shifted


def _stretch_prosody(prosody, scale: float):
    from emobridge.audio.prosody import Prosody

    n = max(1, int(round(len(prosody.f0_hz) * scale)))
    src = np.arange(n) / scale
    idx = np.clip(np.round(src).astype(int), 0, len(prosody.f0_hz) - 1)
    return Prosody(prosody.loudness_db[idx], prosody.f0_hz[idx])


def plan_clips(n_clips: int, seed: int, augment: bool = True) -> list[ClipSpec]:
    from emobridge.train.text import generate_sentences
    from emobridge.train.tts import VOICES, voice_available

    rng = random.Random(seed)
    by_engine: dict[str, list[str]] = {}
    for name, voice in VOICES.items():
        if voice_available(name):
            by_engine.setdefault(voice.engine, []).append(name)
    if not by_engine:
        raise RuntimeError("no TTS voice is available; run ./setup.sh (flite, festival, espeak-ng)")
    engines = [e for e in ENGINE_SHARE if e in by_engine]
    weights = [ENGINE_SHARE[e] for e in engines]
    sentences = generate_sentences(n_clips * 2, seed)
    specs, cursor = [], 0
    for i in range(n_clips):
        take = rng.choice([1, 1, 2, 2, 3])
        text = " ".join(sentences[cursor:cursor + take]) or sentences[0]
        cursor = (cursor + take) % len(sentences)
        engine = rng.choices(engines, weights)[0]
        specs.append(ClipSpec(i, text, rng.choice(by_engine[engine]), rng.uniform(0.8, 1.3), seed * 1_000_003 + i,
                              augment and rng.random() < 0.85))
    return specs


def _augment_config() -> dict:
    from emobridge.train.augment import DEFAULT_AUGMENT

    return DEFAULT_AUGMENT


def _safe_build(spec: ClipSpec) -> dict[str, np.ndarray] | str:
    try:
        return build_clip(spec)
    except Exception as err:  # one bad clip (an engine hiccup) must not stop hours of synthesis
        return f"clip {spec.index} ({spec.voice}): {err}"


def _write_shard(path: Path, clips: list[dict[str, np.ndarray]]) -> None:
    lengths = [len(c["mel"]) for c in clips]
    arrays = {key: np.concatenate([c[key] for c in clips]) for key in clips[0]}
    np.savez(path, offsets=np.concatenate([[0], np.cumsum(lengths)]), **arrays)


def build_corpus(out_dir: str | Path, hours: float, seed: int = 0, workers: int = 2, augment: bool = True) -> dict:
    """Synthesize about ``hours`` of speech into ``out_dir``; returns the manifest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_clips = max(1, int(hours * 3600 / 8.0))  # clips average about eight seconds
    specs = plan_clips(n_clips, seed, augment)
    shard, frames, errors, voices, shard_index = [], 0, [], Counter(), 0
    with ProcessPoolExecutor(max(1, workers)) as pool:
        for spec, result in tqdm(zip(specs, pool.map(_safe_build, specs, chunksize=4), strict=True),
                                 total=len(specs), desc="corpus", unit="clip"):
            if isinstance(result, str):
                errors.append(result)
                continue
            shard.append(result)
            frames += len(result["mel"])
            voices[spec.voice] += 1
            if len(shard) == CLIPS_PER_SHARD:
                _write_shard(out / f"shard_{shard_index:05d}.npz", shard)
                shard, shard_index = [], shard_index + 1
    if shard:
        _write_shard(out / f"shard_{shard_index:05d}.npz", shard)
    manifest = {"clips": sum(voices.values()), "hours": round(frames / MODEL_FPS / 3600, 3), "seed": seed,
                "pause_pad_p": PAUSE_PAD_P, "voices": dict(sorted(voices.items())),
                "augment": _augment_config() if augment else None,
                "failed": errors[:50], "failed_count": len(errors)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    if errors:
        log.warning("%d clips failed and were skipped, e.g. %s", len(errors), errors[0])
    return manifest
