from __future__ import annotations

import numpy as np
import pytest

from emobridge.phonetics.phones import Phone
from emobridge.train import augment as A

SR = A.SAMPLE_RATE
ONLY = {step: {"p": 0.0} for step in A.STEPS}


def only(**steps) -> dict:
    """DEFAULT_AUGMENT with every step off except the given ones (forced on, settings merged)."""
    config = A.config_with(**ONLY)
    for step, settings in steps.items():
        config[step] = {**config[step], "p": 1.0, **settings}
    return config


def speechlike(seconds: float = 1.6, f0: float = 120.0, seed: int = 0) -> np.ndarray:
    """Pulse train through two formant resonators, in syllable bursts separated by silence."""
    from scipy.signal import lfilter

    n = int(seconds * SR)
    x = np.zeros(n)
    x[:: int(SR / f0)] = 1.0
    for freq, bw in ((700.0, 110.0), (1200.0, 130.0)):
        r = np.exp(-np.pi * bw / SR)
        x = lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * freq / SR), r * r], x)
    t = np.arange(n) / SR
    bursts = ((t % 0.4) > 0.1) & ((t % 0.4) < 0.3)   # on 0.1-0.3 s of every 0.4 s
    x = x * bursts + 1e-4 * np.random.default_rng(seed).standard_normal(n)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def onsets(x: np.ndarray, hop: int = 80) -> np.ndarray:
    n = len(x) // hop
    env = np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1))
    on = env > 0.1 * env.max()
    return (np.flatnonzero(on[1:] & ~on[:-1]) + 1) * hop / SR


def test_same_seed_same_audio_and_seeds_differ():
    x = speechlike()
    config = A.config_with(speed={"p": 0.0}, pitch_shift={"p": 0.0}, formant_shift={"p": 0.0}, codec={"p": 0.0})
    a, b = A.augment(x, 5, config, babble=[]), A.augment(x, 5, config, babble=[])
    assert np.array_equal(a.audio, b.audio) and a.time_scale == b.time_scale
    outs = [A.augment(x, seed, config, babble=[]).audio for seed in range(4)]
    assert not all(np.array_equal(outs[0], o) for o in outs[1:])


def test_default_chain_keeps_length_times_scale_and_range():
    pytest.importorskip("pyworld")
    x = speechlike()
    log: dict = {}
    for seed in range(6):
        audio, scale = A.augment(x, seed, babble=[x], log=log)
        assert audio.dtype == np.float32 and np.all(np.isfinite(audio))
        assert len(audio) == round(len(x) * scale)
        assert float(np.abs(audio).max()) <= 1.0
        assert set(log) <= set(A.STEPS)
        assert (scale != 1.0) == ("speed" in log)


def test_speed_moves_timings_by_the_returned_scale():
    pytest.importorskip("pyworld")
    x = speechlike()
    out = A.augment(x, 0, only(speed={"factor": [1.25, 1.25]}))
    assert out.time_scale == pytest.approx(0.8)
    assert len(out.audio) == round(len(x) * 0.8)
    expected, got = onsets(x) * out.time_scale, onsets(out.audio)
    assert len(got) == len(expected) and np.max(np.abs(got - expected)) <= 0.011
    phones = A.scale_phones([Phone("B", 0.1, 0.3), Phone("AA", 0.3, 0.5)], out.time_scale)
    assert phones == [Phone("B", pytest.approx(0.08), pytest.approx(0.24)), Phone("AA", pytest.approx(0.24), 0.4)]


def test_pitch_and_formant_shift():
    pw = pytest.importorskip("pyworld")
    x = speechlike(f0=120.0).astype(np.float64)
    up = A.world_transform(x, semitones=4.0)
    assert len(up) == len(x)

    def median_f0(y):
        f0, _ = pw.dio(np.ascontiguousarray(y, dtype=np.float64), SR)
        return float(np.median(f0[f0 > 0]))

    assert median_f0(up) / median_f0(x) == pytest.approx(2 ** (4 / 12), rel=0.05)

    def centroid(y):
        spec = np.abs(np.fft.rfft(y)) ** 2
        return float(np.sum(np.fft.rfftfreq(len(y), 1 / SR) * spec) / np.sum(spec))

    assert centroid(A.world_transform(x, formant_ratio=1.15)) > 1.05 * centroid(x)
    assert onsets(up).tolist() == pytest.approx(onsets(x).tolist(), abs=0.011)  # timing unchanged


def test_noise_lands_at_the_requested_snr():
    rng = np.random.default_rng(0)
    x = speechlike().astype(np.float64)
    for noise in (A.white_noise(len(x), rng), A.pink_noise(len(x), rng), A.babble_noise(len(x), [x, x[::-1]], rng)):
        y = A.add_noise(x, noise, 10.0)
        snr = 10 * np.log10(A.speech_level(x) / np.mean((y - x) ** 2))
        assert snr == pytest.approx(10.0, abs=0.1)
    pink = np.abs(np.fft.rfft(A.pink_noise(SR * 4, rng))) ** 2
    f = np.fft.rfftfreq(SR * 4, 1 / SR)
    low, high = pink[(f > 100) & (f < 200)].mean(), pink[(f > 3200) & (f < 6400)].mean()
    assert 10 < low / high < 60  # 1/f: about 24x more power per Hz at a 24x lower frequency


def test_babble_without_sources_falls_back_to_pink():
    x = speechlike()
    log: dict = {}
    A.augment(x, 1, only(noise={"kinds": {"babble": 1.0}}), babble=[], log=log)
    assert log["noise"]["kind"] == "pink"
    A.augment(x, 1, only(noise={"kinds": {"babble": 1.0}}), babble=[speechlike(seed=3)], log=log)
    assert log["noise"]["kind"] == "babble"


def test_reverb_keeps_the_direct_path_in_place():
    x = speechlike().astype(np.float64)
    y = A.reverb(x, rt60_s=0.6, wet=0.5, rng=np.random.default_rng(0))
    assert len(y) == len(x)
    corr = np.correlate(y[:4000], x[:4000], "full")
    assert np.argmax(corr) - 3999 == 0
    gaps = (np.arange(len(x)) / SR % 0.4) < 0.08
    assert np.mean(y[gaps] ** 2) > 20 * np.mean(x[gaps] ** 2)  # the tail fills the silences


def test_telephone_removes_the_top_band_without_delay():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SR)
    y = A.telephone(x)
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / SR)
    assert spec[f > 4500].mean() < 1e-4 * spec[(f > 800) & (f < 2500)].mean()
    assert spec[f < 100].mean() < 1e-2 * spec[(f > 800) & (f < 2500)].mean()
    corr = np.correlate(y[1000:3000], x[1000:3000], "full")  # zero phase: lines up with the input
    assert np.argmax(corr) - 1999 == 0


def test_mulaw_round_trip_is_close():
    x = speechlike().astype(np.float64)
    y = A.mulaw(x)
    assert y.shape == x.shape and np.max(np.abs(y - x)) < 0.02 and np.mean((y - x) ** 2) < 1e-4


@pytest.mark.parametrize("fmt, kbps", [("mp3", 16), ("opus", 12)])
def test_codec_round_trip_keeps_length_and_alignment(fmt, kbps):
    if not A.ffmpeg_available():
        pytest.skip("ffmpeg not installed")
    x = speechlike().astype(np.float64)
    y = A.codec_round_trip(x, fmt, kbps)
    assert len(y) == len(x)
    corr = np.correlate(y[3000:9000], x[3000:9000], "full")
    assert abs(np.argmax(corr) - 5999) <= 1
    assert np.corrcoef(x, y)[0, 1] > 0.8


def test_config_checks():
    with pytest.raises(ValueError, match="unknown"):
        A.augment(speechlike(), 0, {"echo": {"p": 1.0}})
    with pytest.raises(ValueError, match="unknown"):
        A.config_with(echo={"p": 1.0})
    assert "codec" not in A.config_with(codec=None)
    assert A.config_with(noise={"p": 1.0})["noise"]["snr_db"] == A.DEFAULT_AUGMENT["noise"]["snr_db"]
    assert set(A.DEFAULT_AUGMENT) == set(A.STEPS) and all("p" in s for s in A.DEFAULT_AUGMENT.values())
