"""Prosody analysis for expressive motion: loudness and pitch per 10 ms frame.

Deliberately simple (normalised autocorrelation over 40 ms windows): it only has to find pitch
accents and loudness swings for brows and head nods, not to be a research-grade pitch tracker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_S = 0.01


@dataclass
class Prosody:
    loudness_db: np.ndarray   # [N] RMS level in dBFS per 10 ms frame
    f0_hz: np.ndarray         # [N] fundamental frequency, 0 where unvoiced

    @property
    def frame_s(self) -> float:
        return FRAME_S


def analyze_prosody(audio16k: np.ndarray, fmin: float = 70.0, fmax: float = 400.0) -> Prosody:
    rate, hop, win = 16000, 160, 640
    n = max(1, int(np.ceil(len(audio16k) / hop)))
    padded = np.pad(audio16k.astype(np.float64), (win // 2, win + n * hop - len(audio16k)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:n]
    frames = frames - frames.mean(axis=1, keepdims=True)
    rms = np.sqrt(np.mean(frames**2, axis=1) + 1e-12)
    loudness = 20 * np.log10(rms + 1e-9)
    # Autocorrelation by FFT, normalised by lag-0 energy; the best peak in the pitch range is f0.
    spec = np.fft.rfft(frames * np.hanning(win), n=2 * win, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :win]
    ac /= ac[:, :1] + 1e-12
    lo, hi = int(rate / fmax), int(rate / fmin)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    strength = ac[np.arange(n), lag]
    voiced = (strength > 0.45) & (loudness > loudness.max() - 40)
    f0 = np.where(voiced, rate / lag, 0.0)
    return Prosody(loudness.astype(np.float32), f0.astype(np.float32))
