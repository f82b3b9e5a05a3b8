"""Decode audio files and raw network chunks to float32 mono at 16 kHz."""

from __future__ import annotations

import os
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

SAMPLE_RATE = 16000
SUPPORTED_FORMATS = "wav, flac, ogg, mp3"
PCM_ENCODINGS = ("pcm_s16le", "f32le")


class AudioError(ValueError):
    """Audio that cannot be used; the message names the file or chunk, the problem and the fix."""


def load_audio(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode wav/flac/ogg/mp3 at any rate and channel count to float32 mono at ``SAMPLE_RATE``.

    Silence is valid input (a character may pause); only unusable audio raises ``AudioError``.
    """
    path = Path(path)
    frames, rate = _read(path)
    if frames.shape[0] == 0:
        raise AudioError(f"{path}: no audio samples (the file has a header but no audio); re-export the clip")
    bad = int(np.count_nonzero(~np.isfinite(frames)))
    if bad:
        raise AudioError(f"{path}: {bad} samples are NaN or infinite; re-export the clip as 16-bit PCM")
    return resample(frames.mean(axis=1, dtype=np.float32), rate, SAMPLE_RATE)


def _read(path: Path) -> tuple[np.ndarray, int]:
    """Raw decoded frames [n, channels] and their rate, with errors worded for the user."""
    if not path.exists():
        raise AudioError(f"file not found: {path}; check the path")
    if path.is_dir():
        raise AudioError(f"{path}: is a directory; pass an audio file ({SUPPORTED_FORMATS})")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: no audio samples (zero-length file)")
    try:
        frames, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(f"{path}: cannot decode: {exc}; supported: {SUPPORTED_FORMATS}") from exc
    return frames, int(rate)


def decode_pcm(data: bytes, encoding: str, sample_rate: int, channels: int = 1) -> np.ndarray:
    """Decode one headerless network chunk to float32 mono at ``SAMPLE_RATE``.

    Each chunk is resampled on its own, so senders should stream at 16 kHz to avoid seams.
    """
    if encoding not in PCM_ENCODINGS:
        raise AudioError(f"decode_pcm: unknown encoding {encoding!r}; use one of {', '.join(PCM_ENCODINGS)}")
    if not isinstance(channels, int) or channels < 1:
        raise AudioError(f"decode_pcm: channels must be a positive integer, got {channels!r}")
    _check_rate("sample_rate", sample_rate)
    width = 2 if encoding == "pcm_s16le" else 4
    if len(data) % (width * channels):
        raise AudioError(
            f"decode_pcm: {len(data)} bytes is not a whole number of {encoding} frames "
            f"({width} bytes x {channels} channel(s)); send whole frames per chunk"
        )
    if encoding == "pcm_s16le":
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    else:
        samples = np.frombuffer(data, dtype="<f4").astype(np.float32)
        bad = int(np.count_nonzero(~np.isfinite(samples)))
        if bad:
            raise AudioError(f"decode_pcm: {bad} f32le samples are NaN or infinite; check the sender's audio source")
    mono = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return resample(mono, sample_rate, SAMPLE_RATE)


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Polyphase resampling of a 1-D signal; exact rational ratio, float32 out."""
    src = _check_rate("src_rate", src_rate)
    dst = _check_rate("dst_rate", dst_rate)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise AudioError(f"resample: expected a 1-D signal, got shape {x.shape}; downmix channels first")
    if src == dst or x.size == 0:
        return x.copy()
    g = gcd(src, dst)
    return resample_poly(x, dst // g, src // g).astype(np.float32)


def _check_rate(name: str, rate: int) -> int:
    """Rates are positive integers; reject anything else before it turns into a silent wrong ratio."""
    if (
        isinstance(rate, bool)
        or not isinstance(rate, (int, np.integer, float, np.floating))
        or not np.isfinite(rate)  # NaN/inf would crash int() below instead of reporting the bad rate
        or rate <= 0
        or rate != int(rate)
    ):
        raise AudioError(f"{name} must be a positive whole number of Hz, got {rate!r}")
    return int(rate)
