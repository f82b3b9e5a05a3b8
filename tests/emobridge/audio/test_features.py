"""emobridge.audio.features: causal log-mel, offline and streaming (chunked pushes must match exactly)."""

from __future__ import annotations

import numpy as np
import pytest

from emobridge.audio.decode import AudioError
from emobridge.audio.features import HOP, LOG_FLOOR, N_MELS, WIN, StreamingLogMel, _mel_filterbank, log_mel


def _speechy(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    voiced = 0.3 * np.sin(2 * np.pi * 140 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return voiced + 0.02 * rng.standard_normal(n)


def _stream(x: np.ndarray, rng: np.random.Generator, max_chunk: int) -> np.ndarray:
    s = StreamingLogMel()
    out, i = [], 0
    while i < len(x):
        k = int(rng.integers(0, max_chunk + 1))  # zero-length chunks included
        out.append(s.push(x[i : i + k]))
        i += k
    out.append(s.flush())
    for block in out:
        assert block.ndim == 2 and block.shape[1] == N_MELS and block.dtype == np.float32
    return np.concatenate(out)


@pytest.mark.parametrize("n", [0, 1, HOP - 1, HOP, WIN, 16000, 16000 + 77, 3 * 16000 + HOP])
def test_log_mel_shape(n: int) -> None:
    feats = log_mel(_speechy(n))
    assert feats.shape == (-(-n // HOP), N_MELS)
    assert feats.dtype == np.float32
    assert np.all(np.isfinite(feats))


@pytest.mark.parametrize(("seed", "n", "max_chunk"), [(0, 32077, 700), (1, 16000, 37), (2, 8160, 5000), (3, 12345, 161)])
def test_streaming_matches_offline(seed: int, n: int, max_chunk: int) -> None:
    x = _speechy(n, seed)
    expected = log_mel(x)
    got = _stream(x, np.random.default_rng(seed), max_chunk)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_streaming_emits_each_frame_when_its_hop_completes() -> None:
    s = StreamingLogMel()
    assert s.push(np.zeros(HOP - 1)).shape == (0, N_MELS)
    assert s.push(np.zeros(1)).shape == (1, N_MELS)
    assert s.push(np.zeros(3 * HOP + 5)).shape == (3, N_MELS)
    assert s.flush().shape == (1, N_MELS)  # the 5 leftover samples, zero-padded
    assert s.flush().shape == (0, N_MELS)  # nothing pending after a flush


def test_flush_resets_for_next_utterance() -> None:
    first, second = _speechy(5000, 1), _speechy(7000, 2)
    s = StreamingLogMel()
    s.push(first)
    s.flush()
    got = np.concatenate([s.push(second), s.flush()])
    np.testing.assert_allclose(got, log_mel(second), rtol=0, atol=1e-5)


def test_log_mel_is_causal() -> None:
    """Frame i only sees samples up to the end of hop i: truncating the signal keeps earlier frames."""
    x = _speechy(16000)
    full = log_mel(x)
    head = log_mel(x[: 40 * HOP])
    np.testing.assert_array_equal(head, full[:40])


def test_silence_is_log_floor() -> None:
    np.testing.assert_allclose(log_mel(np.zeros(1600)), np.log(LOG_FLOOR), rtol=1e-6)


def test_tone_peaks_in_band_of_its_frequency() -> None:
    t = np.arange(16000) / 16000
    fb = _mel_filterbank()
    bins = np.linspace(0, 8000, fb.shape[1])
    centres = bins[np.argmax(fb, axis=1)]
    peaks = []
    for freq in (300.0, 1000.0, 3000.0, 6000.0):
        feats = log_mel(0.5 * np.sin(2 * np.pi * freq * t))
        band = int(np.argmax(feats[10:-10].mean(axis=0)))
        peaks.append(band)
        assert abs(centres[band] - freq) < 0.1 * freq + 50, (freq, centres[band])
    assert peaks == sorted(peaks) and len(set(peaks)) == 4


def test_louder_signal_has_higher_log_mel() -> None:
    x = _speechy(8000)
    diff = log_mel(x * 2.0) - log_mel(x)
    assert np.median(diff) == pytest.approx(np.log(4.0), abs=0.05)  # power scales by 4


def test_rejects_multichannel() -> None:
    with pytest.raises(AudioError, match="1-D"):
        log_mel(np.zeros((100, 2)))
    with pytest.raises(AudioError, match="1-D"):
        StreamingLogMel().push(np.zeros((100, 2)))
