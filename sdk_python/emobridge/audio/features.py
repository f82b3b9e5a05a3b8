"""Log-mel features (80 bands, 10 ms hop, 25 ms window) with a causal framing, offline and streaming.

Frame i uses samples [i*HOP - (WIN - HOP), (i + 1)*HOP): its window ENDS where hop i ends, with zeros
before the start of the signal. Because no frame looks past its own hop, ``StreamingLogMel`` can emit
frame i as soon as hop i has arrived and still match ``log_mel`` on the whole signal exactly.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from emobridge.audio.decode import SAMPLE_RATE, AudioError

N_MELS = 80
HOP = 160  # 10 ms at 16 kHz
WIN = 400  # 25 ms at 16 kHz
N_FFT = 512
F_MIN = 20.0
F_MAX = 7600.0
LOG_FLOOR = 1e-5
_HISTORY = WIN - HOP  # samples of the previous hops each frame also sees


def log_mel(x: np.ndarray) -> np.ndarray:
    """Log-mel spectrogram [ceil(len(x) / HOP), N_MELS] float32 of a 16 kHz mono signal."""
    x = _as_signal(x)
    n_frames = -(-x.size // HOP)
    padded = np.zeros(_HISTORY + n_frames * HOP)
    padded[_HISTORY : _HISTORY + x.size] = x
    return _frames_to_log_mel(padded)


class StreamingLogMel:
    """Causal log-mel: push audio in any chunk sizes, get each frame as soon as its hop is complete.

    All pushes followed by ``flush()`` concatenate to ``log_mel`` of the whole signal.
    """

    def __init__(self) -> None:
        self._pending = np.zeros(_HISTORY)  # zeros stand in for audio before the start

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add samples; return the frames [k, N_MELS] completed by them (k may be 0)."""
        self._pending = np.concatenate([self._pending, _as_signal(samples)])
        return self._emit()

    def flush(self) -> np.ndarray:
        """Emit the last partial hop zero-padded (if any) and reset for a new utterance."""
        partial = self._pending.size - _HISTORY
        if partial > 0:
            self._pending = np.concatenate([self._pending, np.zeros(HOP - partial)])
        frames = self._emit()
        self._pending = np.zeros(_HISTORY)
        return frames

    def _emit(self) -> np.ndarray:
        n_frames = (self._pending.size - _HISTORY) // HOP
        if n_frames <= 0:
            return np.zeros((0, N_MELS), dtype=np.float32)
        used = _HISTORY + n_frames * HOP
        frames = _frames_to_log_mel(self._pending[:used])
        self._pending = self._pending[n_frames * HOP :]
        return frames


def _frames_to_log_mel(padded: np.ndarray) -> np.ndarray:
    """Log-mel of every WIN-long window at HOP steps in ``padded`` (history already prepended)."""
    if padded.size < WIN:  # empty signal: history only, no frame
        return np.zeros((0, N_MELS), dtype=np.float32)
    frames = sliding_window_view(padded, WIN)[::HOP] * _window()
    spectrum = np.fft.rfft(frames, n=N_FFT, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    return np.log(power @ _mel_filterbank().T + LOG_FLOOR).astype(np.float32)


def _as_signal(x: np.ndarray) -> np.ndarray:
    """Float64 1-D view of the input: the features are computed in double and returned as float32."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise AudioError(f"log-mel: expected 1-D mono audio, got shape {x.shape}; downmix with load_audio first")
    return x


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    """Periodic Hann window (the usual STFT choice: overlapping windows sum to a constant)."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / WIN)


def mel_centres_hz(n_mels: int = N_MELS) -> np.ndarray:
    """Centre frequency of each mel band in Hz (the peaks of ``_mel_filterbank``'s triangles)."""
    return _mel_edges_hz(n_mels)[1:-1]


def _mel_edges_hz(n_mels: int = N_MELS) -> np.ndarray:
    """The n_mels + 2 corner frequencies of the triangular filters, evenly spaced on the mel scale."""
    return _mel_to_hz(np.linspace(_hz_to_mel(F_MIN), _hz_to_mel(F_MAX), n_mels + 2))


@lru_cache(maxsize=1)
def _mel_filterbank() -> np.ndarray:
    """Slaney-style triangular filters [N_MELS, N_FFT // 2 + 1], area-normalised (same as librosa's default)."""
    edges = _mel_edges_hz()
    bins = np.linspace(0.0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= 2.0 / (upper - lower)  # equal area per filter, so wide high bands are not louder
    weights.setflags(write=False)
    return weights


# Slaney mel scale: linear below 1 kHz, logarithmic above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    log_part = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return np.where(hz >= _MIN_LOG_HZ, log_part, hz / _F_SP)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    log_part = _MIN_LOG_HZ * np.exp(_LOG_STEP * (mel - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, log_part, mel * _F_SP)
