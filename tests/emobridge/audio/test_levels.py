"""emobridge.audio.levels: peak level and the silence test that ignores lone clicks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emobridge.audio.decode import load_audio
from emobridge.audio.levels import is_silent, peak_dbfs


def test_peak_dbfs_values() -> None:
    assert peak_dbfs(np.array([0.0, -1.0, 0.5])) == pytest.approx(0.0)
    assert peak_dbfs(np.array([0.25, -0.5])) == pytest.approx(-6.0206, abs=1e-3)
    assert peak_dbfs(np.full(10, 0.001)) == pytest.approx(-60.0)
    assert peak_dbfs(np.zeros(100)) == -math.inf
    assert peak_dbfs(np.array([])) == -math.inf


def test_digital_silence_and_empty_are_silent() -> None:
    assert is_silent(np.zeros(16000))
    assert is_silent(np.array([]))


def test_lone_click_in_silence_is_still_silent() -> None:
    x = np.zeros(16000)
    x[8000:8004] = [0.9, -1.0, 0.7, -0.3]
    assert peak_dbfs(x) == pytest.approx(0.0)
    assert is_silent(x)


def test_quiet_noise_vs_threshold() -> None:
    rng = np.random.default_rng(0)
    hiss = 1e-4 * rng.standard_normal(16000)           # about -70 dBFS at the 99.9th percentile
    assert is_silent(hiss)
    assert not is_silent(hiss, threshold_dbfs=-90.0)
    assert not is_silent(100 * hiss)                     # about -30 dBFS


def test_speech_like_signal_is_not_silent(tone_wav) -> None:
    assert not is_silent(load_audio(tone_wav()))


def test_short_burst_of_speech_counts() -> None:
    """Half a second of voice in three seconds of silence is far more than the 0.1% percentile cut."""
    x = np.zeros(48000)
    t = np.arange(8000) / 16000
    x[20000:28000] = 0.1 * np.sin(2 * np.pi * 200 * t)
    assert not is_silent(x)
