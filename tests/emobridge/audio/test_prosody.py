"""emobridge.audio.prosody: per-10 ms loudness and f0 of simple known signals."""

from __future__ import annotations

import numpy as np
import pytest

from emobridge.audio.prosody import FRAME_S, analyze_prosody

RATE = 16000


def _harmonic(f0: float, seconds: float = 1.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return sum(amp / k * np.sin(2 * np.pi * f0 * k * t) for k in range(1, 6))


@pytest.mark.parametrize("f0", [100.0, 150.0, 220.0])
def test_harmonic_tone_f0(f0: float) -> None:
    p = analyze_prosody(_harmonic(f0))
    assert len(p.f0_hz) == RATE // 160 and len(p.loudness_db) == len(p.f0_hz)
    assert p.frame_s == FRAME_S == 0.01
    assert np.median(p.f0_hz) == pytest.approx(f0, rel=0.02)
    assert np.mean(np.abs(p.f0_hz - f0) < 0.03 * f0) > 0.9


def test_white_noise_is_mostly_unvoiced() -> None:
    noise = 0.1 * np.random.default_rng(0).standard_normal(RATE)
    p = analyze_prosody(noise)
    assert np.mean(p.f0_hz == 0) > 0.9


def test_silence_is_unvoiced() -> None:
    p = analyze_prosody(np.zeros(RATE // 2))
    assert not np.any(p.f0_hz)
    assert np.all(p.loudness_db < -100)


def test_pitch_change_is_tracked() -> None:
    x = np.concatenate([_harmonic(120.0, 0.5), _harmonic(240.0, 0.5)])
    p = analyze_prosody(x)
    assert np.median(p.f0_hz[5:45]) == pytest.approx(120.0, rel=0.03)
    assert np.median(p.f0_hz[55:95]) == pytest.approx(240.0, rel=0.03)


def test_loudness_of_sine() -> None:
    t = np.arange(RATE) / RATE
    p = analyze_prosody(0.5 * np.sin(2 * np.pi * 200 * t))
    # RMS of a 0.5-amplitude sine is 0.5/sqrt(2): -9.03 dBFS.
    np.testing.assert_allclose(p.loudness_db[10:-10], -9.03, atol=0.2)


def test_loudness_follows_level_change() -> None:
    t = np.arange(RATE) / RATE
    x = 0.5 * np.sin(2 * np.pi * 200 * t)
    x[RATE // 2 :] *= 0.1  # -20 dB in the second half
    p = analyze_prosody(x)
    assert p.loudness_db[20:40].mean() - p.loudness_db[60:80].mean() == pytest.approx(20.0, abs=0.5)


def test_frame_count_rounds_up() -> None:
    p = analyze_prosody(_harmonic(150.0, seconds=0.1005))
    assert len(p.f0_hz) == 11 and p.f0_hz.dtype == np.float32 and p.loudness_db.dtype == np.float32
