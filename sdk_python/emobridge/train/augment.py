"""Seeded audio augmentation for the synthetic speech corpus (16 kHz mono float32 in and out).

``augment(audio, rng, config)`` runs a fixed chain of steps. Each step runs with its own probability
``config[step]["p"]``, and its parameters are drawn from the ranges in the config:

    voice     speed, pitch shift and formant shift in one WORLD (pyworld) analysis / resynthesis
    reverb    convolution with a synthetic exponential-decay room response (direct path at t=0)
    noise     white, pink or babble (a mix of other synthetic speech) at a random SNR
    gain      loudness change in dB
    telephone band-limiting through 8 kHz (300-3400 Hz), zero phase
    codec     a low-bitrate round trip through ffmpeg (mp3 / opus), or G.711 mu-law when ffmpeg is absent

Only the speed step changes timing. The result's ``time_scale`` is the factor to multiply phone times
by (``scale_phones``), and the audio's length is the input's length times that factor. Every other step
keeps samples in place: filters are zero-phase, reverb keeps the direct path at t=0, and codec delay is
measured and removed.

    >>> rng = np.random.default_rng(7)
    >>> out = augment(audio, rng)                       # doctest: +SKIP
    >>> phones = scale_phones(phones, out.time_scale)   # doctest: +SKIP
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tempfile
import warnings
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from emobridge.phonetics.phones import Phone

SAMPLE_RATE = 16000

DEFAULT_AUGMENT: dict = {
    "speed": {"p": 0.4, "factor": [0.85, 1.2]},          # > 1 speaks faster; phone times scale by 1/factor
    "pitch_shift": {"p": 0.5, "semitones": [-4.0, 4.0]},
    "formant_shift": {"p": 0.3, "ratio": [0.88, 1.14]},   # spectral-envelope warp (vocal tract length)
    "reverb": {"p": 0.3, "rt60_s": [0.15, 0.9], "wet": [0.1, 0.5]},
    "noise": {"p": 0.5, "snr_db": [5.0, 35.0], "kinds": {"white": 1.0, "pink": 2.0, "babble": 2.0},
              "babble_talkers": [3, 6]},
    "gain": {"p": 0.8, "db": [-18.0, 6.0]},
    "telephone": {"p": 0.15, "band_hz": [300.0, 3400.0]},
    "codec": {"p": 0.2, "formats": {"mp3": 1.0, "opus": 1.0, "mulaw": 0.5},
              "mp3_kbps": [8, 32], "opus_kbps": [6, 24]},
}
STEPS = ("speed", "pitch_shift", "formant_shift", "reverb", "noise", "gain", "telephone", "codec")


class Augmented(NamedTuple):
    audio: np.ndarray       # float32, 16 kHz mono
    time_scale: float       # multiply phone times by this (1.0 unless the speed step ran)


class AugmentError(RuntimeError):
    """A step could not run (e.g. a codec round trip failed)."""


def scale_phones(phones: list[Phone], time_scale: float) -> list[Phone]:
    """Phone timings after an augmentation with this ``time_scale``."""
    return [Phone(p.label, p.start * time_scale, p.end * time_scale) for p in phones]


def augment(audio16k: np.ndarray, rng: np.random.Generator | int | None = None, config: dict | None = None,
            babble: list[np.ndarray] | None = None, log: dict | None = None) -> Augmented:
    """Apply the augmentation chain; returns (audio, time_scale). The same rng state, config and input
    give the same output.

    ``config`` maps step -> {"p": probability, ...ranges}; steps left out do not run. ``babble`` is a
    list of other speech clips (16 kHz) to build babble noise from. By default it is a pool of synthetic
    sentences made once per process (``babble_pool``). Pass ``[]`` to use pink noise instead. ``log``,
    if given, is filled with the steps that ran and the parameters drawn for them.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    config = DEFAULT_AUGMENT if config is None else config
    unknown = set(config) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown augmentation steps {sorted(unknown)}; known: {', '.join(STEPS)}")
    x = np.asarray(audio16k, dtype=np.float64).reshape(-1)
    # Each step draws from its own generator, so changing one step's settings leaves the others' draws alone.
    seeds = rng.integers(0, 2**63 - 1, size=len(STEPS))
    rngs = {step: np.random.default_rng(int(seed)) for step, seed in zip(STEPS, seeds, strict=True)}
    chosen = {step: rngs[step].random() < float(config[step].get("p", 0.0)) for step in STEPS if step in config}
    applied = log if log is not None else {}
    applied.clear()
    time_scale = 1.0

    speed = _uniform(rngs["speed"], config["speed"]["factor"]) if chosen.get("speed") else 1.0
    semitones = _uniform(rngs["pitch_shift"], config["pitch_shift"]["semitones"]) if chosen.get("pitch_shift") else 0.0
    ratio = _uniform(rngs["formant_shift"], config["formant_shift"]["ratio"]) if chosen.get("formant_shift") else 1.0
    if chosen.get("speed"):
        applied["speed"] = {"factor": speed}
    if chosen.get("pitch_shift"):
        applied["pitch_shift"] = {"semitones": semitones}
    if chosen.get("formant_shift"):
        applied["formant_shift"] = {"ratio": ratio}
    if speed != 1.0 or semitones != 0.0 or ratio != 1.0:
        x = world_transform(x, time_scale=1.0 / speed, semitones=semitones, formant_ratio=ratio)
        time_scale = 1.0 / speed

    if chosen.get("reverb"):
        c = config["reverb"]
        r = rngs["reverb"]
        rt60, wet = _uniform(r, c["rt60_s"]), _uniform(r, c["wet"])
        x = reverb(x, rt60, wet, r)
        applied["reverb"] = {"rt60_s": rt60, "wet": wet}

    if chosen.get("noise"):
        c, r = config["noise"], rngs["noise"]
        kind = _pick(r, c.get("kinds", {"white": 1.0}))
        snr = _uniform(r, c["snr_db"])
        if kind == "babble" and babble is None:
            babble = babble_pool()
        if kind == "babble" and not babble:
            kind = "pink"
        if kind == "babble":
            talkers = int(r.integers(*_int_range(c.get("babble_talkers", [3, 6]))))
            noise = babble_noise(len(x), babble, r, talkers=talkers)
        else:
            noise = white_noise(len(x), r) if kind == "white" else pink_noise(len(x), r)
        x = add_noise(x, noise, snr)
        applied["noise"] = {"kind": kind, "snr_db": snr}

    if chosen.get("gain"):
        db = _uniform(rngs["gain"], config["gain"]["db"])
        x = x * 10 ** (db / 20)
        applied["gain"] = {"db": db}

    if chosen.get("telephone"):
        low, high = config["telephone"].get("band_hz", [300.0, 3400.0])
        x = telephone(x, low, high)
        applied["telephone"] = {"band_hz": [low, high]}

    x = _protect(x)
    if chosen.get("codec"):
        c, r = config["codec"], rngs["codec"]
        fmt = _pick(r, c.get("formats", {"mulaw": 1.0}))
        kbps = int(r.integers(*_int_range(c.get(f"{fmt}_kbps", [16, 16])))) if fmt != "mulaw" else 0
        if fmt != "mulaw" and not ffmpeg_available():
            fmt, kbps = "mulaw", 0
        x = mulaw(x) if fmt == "mulaw" else codec_round_trip(x, fmt, kbps)
        applied["codec"] = {"format": fmt, "kbps": kbps}

    return Augmented(_protect(x).astype(np.float32), time_scale)


# ------------------------------------------------------------------------------------------- helpers


def _uniform(rng: np.random.Generator, bounds) -> float:
    low, high = bounds
    return float(rng.uniform(low, high))


def _int_range(bounds) -> tuple[int, int]:
    low, high = bounds
    return int(low), int(high) + 1


def _pick(rng: np.random.Generator, weights: dict) -> str:
    names = sorted(weights)
    p = np.array([float(weights[n]) for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _protect(x: np.ndarray) -> np.ndarray:
    """Scale down (never up) so the peak stays below full scale."""
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    return x * (0.98 / peak) if peak > 0.98 else x


def speech_level(x: np.ndarray, frame: int = 320) -> float:
    """Active speech power: mean power of the 20 ms frames within 30 dB of the loudest frame."""
    n = len(x) // frame
    if n == 0:
        return float(np.mean(x**2)) if len(x) else 0.0
    power = np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)
    active = power[power >= power.max() * 1e-3]
    return float(active.mean()) if len(active) else 0.0


# --------------------------------------------------------------------------------------------- steps


def _pyworld():
    with warnings.catch_warnings():  # pyworld imports pkg_resources (hence setuptools<81)
        warnings.simplefilter("ignore")
        try:
            import pyworld
        except ImportError:
            raise AugmentError("speed / pitch / formant augmentation needs pyworld: "
                               "pip install 'setuptools<81' pyworld (the 'train' extra)") from None
    return pyworld


def world_transform(x: np.ndarray, time_scale: float = 1.0, semitones: float = 0.0,
                    formant_ratio: float = 1.0, frame_period_ms: float = 5.0) -> np.ndarray:
    """WORLD analysis / resynthesis: stretch time by ``time_scale``, shift F0 and formants.

    Analysis frame i (at i * frame_period) is resynthesised at i * frame_period * time_scale, so
    every time t maps to t * time_scale. The output has round(len(x) * time_scale) samples.
    """
    pw = _pyworld()
    x = np.ascontiguousarray(x, dtype=np.float64)
    if not len(x):
        return x
    f0, t = pw.dio(x, SAMPLE_RATE, frame_period=frame_period_ms)
    f0 = pw.stonemask(x, f0, t, SAMPLE_RATE)
    sp = pw.cheaptrick(x, f0, t, SAMPLE_RATE)
    ap = pw.d4c(x, f0, t, SAMPLE_RATE)
    f0 = f0 * 2 ** (semitones / 12)
    if formant_ratio != 1.0:
        sp, ap = _warp_frequency(sp, formant_ratio), _warp_frequency(ap, formant_ratio)
    y = pw.synthesize(np.ascontiguousarray(f0), np.ascontiguousarray(sp), np.ascontiguousarray(ap),
                      SAMPLE_RATE, frame_period=frame_period_ms * time_scale)
    n = int(round(len(x) * time_scale))
    return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))


def _warp_frequency(envelope: np.ndarray, ratio: float) -> np.ndarray:
    """Move spectral features up (ratio > 1) or down along the frequency axis."""
    bins = envelope.shape[1]
    source = np.arange(bins) / ratio
    lo = np.clip(np.floor(source).astype(int), 0, bins - 1)
    hi = np.clip(lo + 1, 0, bins - 1)
    frac = np.clip(source - lo, 0.0, 1.0)
    warped = envelope[:, lo] * (1 - frac) + envelope[:, hi] * frac
    return np.ascontiguousarray(np.maximum(warped, 1e-16))


def reverb(x: np.ndarray, rt60_s: float, wet: float, rng: np.random.Generator) -> np.ndarray:
    """Convolve with a synthetic room: unit direct path at t=0 plus an exponentially decaying noise tail.

    ``wet`` is the tail's energy relative to the direct path's. The output keeps the input's length.
    """
    from scipy.signal import fftconvolve

    n = max(int(rt60_s * SAMPLE_RATE), 1)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60_s)  # -60 dB at rt60
    predelay = int(0.003 * SAMPLE_RATE)
    tail[:predelay] = 0.0
    tail *= np.sqrt(wet / max(float(np.sum(tail**2)), 1e-12))
    ir = tail
    ir[0] = 1.0
    return fftconvolve(x, ir)[: len(x)]


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise: white noise shaped in the frequency domain."""
    if n == 0:
        return np.zeros(0)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    return np.fft.irfft(spectrum / np.sqrt(f), n)


def babble_noise(n: int, sources: list[np.ndarray], rng: np.random.Generator, talkers: int = 4) -> np.ndarray:
    """Several talkers at once: random stretches of the source clips (looped to length), level-matched."""
    if not sources:
        raise ValueError("babble needs at least one source clip")
    out = np.zeros(n)
    for _ in range(max(talkers, 1)):
        clip = np.asarray(sources[int(rng.integers(len(sources)))], dtype=np.float64)
        if not len(clip):
            continue
        reps = int(np.ceil((n + len(clip)) / len(clip)))
        looped = np.tile(clip, reps)
        start = int(rng.integers(len(clip)))
        piece = looped[start: start + n]
        level = speech_level(piece)
        if level > 0:
            out += piece / np.sqrt(level) * rng.uniform(0.6, 1.0)
    return out


@lru_cache(maxsize=1)
def _babble_pool(count: int, seed: int) -> tuple[np.ndarray, ...]:
    from emobridge.train.text import generate_sentences
    from emobridge.train.tts import TTSError, available_voices, synthesize

    voices = [v for v in available_voices() if not v.startswith("festival/")] or available_voices()
    clips = []
    for i, sentence in enumerate(generate_sentences(count, seed)):
        try:
            clips.append(synthesize(sentence, voices[i % len(voices)], seed=seed + i)[0])
        except TTSError:
            continue
    return tuple(clips)


def babble_pool(count: int = 12, seed: int = 90210) -> list[np.ndarray]:
    """Synthetic sentences from several voices, made once per process, for babble noise ([] without TTS)."""
    return list(_babble_pool(count, seed))


def add_noise(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Mix noise in at ``snr_db`` relative to the active speech level."""
    signal, noise_power = speech_level(x), float(np.mean(noise**2)) if len(noise) else 0.0
    if signal <= 0 or noise_power <= 0:
        return x
    return x + noise * np.sqrt(signal / (noise_power * 10 ** (snr_db / 10)))


def telephone(x: np.ndarray, low_hz: float = 300.0, high_hz: float = 3400.0) -> np.ndarray:
    """Through an 8 kHz channel: resample down and up, then a zero-phase band-pass."""
    from scipy.signal import butter, resample_poly, sosfiltfilt

    if len(x) < 64:
        return x
    y = resample_poly(resample_poly(x, 1, 2), 2, 1)[: len(x)]
    sos = butter(4, [low_hz, min(high_hz, 3900.0)], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    return sosfiltfilt(sos, y)


def mulaw(x: np.ndarray, mu: int = 255) -> np.ndarray:
    """G.711-style 8-bit mu-law quantisation round trip."""
    x = np.clip(x, -1.0, 1.0)
    encoded = np.round((np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu) + 1) / 2 * mu)
    y = encoded / mu * 2 - 1
    return np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


_CODECS = {"mp3": ("libmp3lame", "mp3"), "opus": ("libopus", "ogg")}


def codec_round_trip(x: np.ndarray, fmt: str, kbps: int) -> np.ndarray:
    """Encode with ffmpeg at ``kbps`` and decode back; codec delay is measured and removed."""
    import soundfile as sf

    if fmt not in _CODECS:
        raise ValueError(f"unknown codec {fmt!r}; known: {', '.join(_CODECS)}, mulaw")
    if not ffmpeg_available():
        raise AugmentError("codec round trips need ffmpeg (Debian: apt-get install ffmpeg)")
    encoder, container = _CODECS[fmt]
    with tempfile.TemporaryDirectory(prefix="emobridge-aug-") as tmp:
        src, enc, dst = (os.path.join(tmp, name) for name in ("in.wav", f"enc.{container}", "out.wav"))
        sf.write(src, np.clip(x, -1, 1).astype(np.float32), SAMPLE_RATE, subtype="FLOAT")
        for cmd in (
            ["ffmpeg", "-v", "error", "-y", "-i", src, "-c:a", encoder, "-b:a", f"{kbps}k", enc],
            ["ffmpeg", "-v", "error", "-y", "-i", enc, "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_f32le", dst],
        ):
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if proc.returncode != 0:
                raise AugmentError(f"ffmpeg {fmt} round trip failed: {proc.stderr.strip()[-300:]}")
        y, _ = sf.read(dst, dtype="float64", always_2d=False)
    return _realign(x, y)


def _realign(reference: np.ndarray, y: np.ndarray, max_lag_s: float = 0.1) -> np.ndarray:
    """Shift ``y`` so it lines up with ``reference`` (cross-correlation), same length as the reference."""
    from scipy.signal import correlate

    n, max_lag = len(reference), int(max_lag_s * SAMPLE_RATE)
    if len(y) == 0 or n == 0:
        return np.zeros(n)
    m = min(n, len(y))
    corr = correlate(y[: m + max_lag], reference[:m], mode="full", method="fft")
    lags = np.arange(-m + 1, len(y[: m + max_lag]))
    window = (lags >= -max_lag) & (lags <= max_lag)
    lag = int(lags[window][np.argmax(corr[window])])
    y = y[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag), y])
    return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))


def config_with(**overrides: dict) -> dict:
    """A deep copy of DEFAULT_AUGMENT with some steps' settings replaced or merged, e.g.
    ``config_with(noise={"p": 1.0})`` or ``config_with(codec=None)`` to drop a step."""
    config = copy.deepcopy(DEFAULT_AUGMENT)
    for step, value in overrides.items():
        if step not in STEPS:
            raise ValueError(f"unknown augmentation step {step!r}; known: {', '.join(STEPS)}")
        if value is None:
            config.pop(step, None)
        else:
            config[step] = {**config.get(step, {}), **value}
    return config
