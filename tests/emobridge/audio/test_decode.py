"""emobridge.audio.decode: containers, rates, channels, raw network chunks and worded errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emobridge.audio.decode import SAMPLE_RATE, AudioError, decode_pcm, load_audio, resample

RATES = (8000, 22050, 44100, 48000)
SUBTYPES = {"wav": "PCM_16", "flac": "PCM_16", "ogg": "VORBIS", "mp3": "MPEG_LAYER_III"}


def _sine(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Frequency of the strongest FFT bin (zero-padded to 0.25 Hz resolution)."""
    n = 4 * rate
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=n))
    return float(np.argmax(spectrum) * rate / n)


def _mp3_writable_by_soundfile() -> bool:
    return "MP3" in sf.available_formats()


def _write(path: Path, data: np.ndarray, rate: int, fmt: str) -> Path:
    if fmt != "mp3" or _mp3_writable_by_soundfile():
        sf.write(path, data, rate, format=fmt.upper(), subtype=SUBTYPES[fmt])
        return path
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("cannot write mp3: libsndfile lacks MP3 and ffmpeg is not installed")
    wav = path.with_suffix(".src.wav")
    sf.write(wav, data, rate, subtype="PCM_16")
    subprocess.run([ffmpeg, "-loglevel", "error", "-y", "-i", str(wav), str(path)], check=True)
    return path


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_load_audio_formats_and_rates(tmp_path: Path, fmt: str, rate: int) -> None:
    path = _write(tmp_path / f"tone.{fmt}", _sine(440.0, rate, 0.5), rate, fmt)
    y = load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    expected_len = SAMPLE_RATE // 2
    if fmt in ("wav", "flac"):
        assert len(y) == expected_len
    else:  # lossy codecs may pad or trim a few ms of codec delay
        assert abs(len(y) - expected_len) <= 0.03 * expected_len
    assert _peak_hz(y) == pytest.approx(440.0, abs=1.0)
    middle = y[len(y) // 4 : 3 * len(y) // 4]
    assert np.max(np.abs(middle)) == pytest.approx(0.5, rel=0.1)


@pytest.mark.parametrize("rate", RATES)
def test_resampled_length_and_frequency_preserved(tmp_path: Path, rate: int) -> None:
    path = tmp_path / "long.wav"
    sf.write(path, _sine(440.0, rate, 1.0, amp=0.3), rate, subtype="FLOAT")
    y = load_audio(path)
    assert len(y) == SAMPLE_RATE
    assert _peak_hz(y) == pytest.approx(440.0, abs=0.5)
    # Away from the edges the resampled signal is the same sine sampled at 16 kHz.
    ref = _sine(440.0, SAMPLE_RATE, 1.0, amp=0.3)
    assert np.max(np.abs(y[1000:-1000] - ref[1000:-1000])) < 5e-3


def test_stereo_8k_is_averaged_to_mono(tmp_path: Path) -> None:
    rate = 8000
    left, right = _sine(440.0, rate, 0.5, amp=0.6), _sine(440.0, rate, 0.5, amp=0.2)
    path = tmp_path / "stereo8k.wav"
    sf.write(path, np.stack([left, right], axis=1), rate, subtype="FLOAT")
    y = load_audio(path)
    assert y.ndim == 1 and len(y) == SAMPLE_RATE // 2
    assert _peak_hz(y) == pytest.approx(440.0, abs=1.0)
    assert np.max(np.abs(y[2000:-2000])) == pytest.approx(0.4, rel=0.02)  # mean of 0.6 and 0.2, not one side


def test_stereo_8k_opposite_channels_cancel(tmp_path: Path) -> None:
    x = _sine(440.0, 8000, 0.25)
    path = tmp_path / "antiphase.wav"
    sf.write(path, np.stack([x, -x], axis=1), 8000, subtype="FLOAT")
    assert np.max(np.abs(load_audio(path))) < 1e-6


def test_stereo_identical_channels_equal_mono_file(tone_wav) -> None:
    stereo = load_audio(tone_wav(rate=8000, channels=2, name="st.wav"))
    mono = load_audio(tone_wav(rate=8000, channels=1, name="mono.wav"))
    np.testing.assert_allclose(stereo, mono, atol=1e-6)


def _assert_audio_error(path: Path, *fragments: str) -> str:
    with pytest.raises(AudioError) as info:
        load_audio(path)
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message.lower(), message
    return message


def test_missing_file(tmp_path: Path) -> None:
    _assert_audio_error(tmp_path / "nope.wav", "not found")


def test_directory(tmp_path: Path) -> None:
    _assert_audio_error(tmp_path, "directory")


def test_zero_length_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    _assert_audio_error(path, "no audio", "zero-length")


def test_header_only_wav(tmp_path: Path) -> None:
    path = tmp_path / "header_only.wav"
    sf.write(path, np.zeros((0, 1), dtype=np.float32), 16000)
    assert path.stat().st_size > 0
    _assert_audio_error(path, "no audio")


def test_corrupt_file_with_wav_name(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.wav"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    message = _assert_audio_error(path, "cannot decode")
    assert "wav" in message and "flac" in message  # tells the user what is supported


def test_truncated_wav_header(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    sf.write(good, _sine(440.0, 16000, 0.1), 16000)
    path = tmp_path / "truncated.wav"
    path.write_bytes(good.read_bytes()[:30])
    _assert_audio_error(path, "cannot decode")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_in_float_wav(tmp_path: Path, bad: float) -> None:
    x = _sine(440.0, 16000, 0.1)
    x[[10, 500, 900]] = bad
    path = tmp_path / "nan.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    message = _assert_audio_error(path, "nan")
    assert "3 samples" in message


def test_silence_is_valid_audio(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(8000, dtype=np.float32), 8000)
    y = load_audio(path)
    assert len(y) == SAMPLE_RATE and not np.any(y)


# --- decode_pcm -----------------------------------------------------------------------------------


def test_decode_pcm_s16le_scaling() -> None:
    data = np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes()
    y = decode_pcm(data, "pcm_s16le", 16000)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [0.0, 0.5, -1.0, 32767 / 32768], atol=1e-7)


def test_decode_pcm_f32le_exact() -> None:
    x = np.array([0.25, -0.75, 1.0, 0.0], dtype="<f4")
    np.testing.assert_array_equal(decode_pcm(x.tobytes(), "f32le", 16000), x)


def test_decode_pcm_stereo_is_averaged() -> None:
    frames = np.array([[1000, 3000], [-2000, 2000], [32767, -32767]], dtype="<i2")
    y = decode_pcm(frames.tobytes(), "pcm_s16le", 16000, channels=2)
    np.testing.assert_allclose(y, frames.astype(np.float64).mean(axis=1) / 32768, atol=1e-7)


@pytest.mark.parametrize("rate", [8000, 48000])
def test_decode_pcm_resamples_to_16k(rate: int) -> None:
    x = _sine(440.0, rate, 0.5)
    y = decode_pcm((x * 32767).astype("<i2").tobytes(), "pcm_s16le", rate)
    assert len(y) == SAMPLE_RATE // 2
    assert _peak_hz(y) == pytest.approx(440.0, abs=1.0)


def test_decode_pcm_empty_chunk() -> None:
    y = decode_pcm(b"", "pcm_s16le", 16000)
    assert y.shape == (0,) and y.dtype == np.float32


@pytest.mark.parametrize(
    ("nbytes", "encoding", "channels"),
    [(3, "pcm_s16le", 1), (6, "pcm_s16le", 2), (6, "f32le", 1), (12, "f32le", 2)],
)
def test_decode_pcm_partial_frames(nbytes: int, encoding: str, channels: int) -> None:
    with pytest.raises(AudioError, match="whole") as info:
        decode_pcm(bytes(nbytes), encoding, 16000, channels=channels)
    assert str(nbytes) in str(info.value) and encoding in str(info.value)


def test_decode_pcm_unknown_encoding_lists_valid_ones() -> None:
    with pytest.raises(AudioError) as info:
        decode_pcm(bytes(4), "mp3", 16000)
    assert "pcm_s16le" in str(info.value) and "f32le" in str(info.value)


@pytest.mark.parametrize("channels", [0, -1, 1.5, "2"])
def test_decode_pcm_bad_channels(channels: object) -> None:
    with pytest.raises(AudioError, match="channels"):
        decode_pcm(bytes(8), "pcm_s16le", 16000, channels=channels)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [0, -16000, 44100.5, float("nan"), float("inf"), True, "16000", None])
def test_decode_pcm_bad_rate(rate: object) -> None:
    with pytest.raises(AudioError, match="sample_rate"):
        decode_pcm(bytes(8), "pcm_s16le", rate)  # type: ignore[arg-type]


def test_decode_pcm_nan_f32() -> None:
    x = np.array([0.1, np.nan, 0.2, np.inf], dtype="<f4")
    with pytest.raises(AudioError, match="2 f32le samples are NaN"):
        decode_pcm(x.tobytes(), "f32le", 16000)


# --- resample -------------------------------------------------------------------------------------


def test_resample_identity_is_a_copy() -> None:
    x = np.arange(10, dtype=np.float32)
    y = resample(x, 16000, 16000)
    np.testing.assert_array_equal(x, y)
    y[0] = 99
    assert x[0] == 0


def test_resample_rejects_2d() -> None:
    with pytest.raises(AudioError, match="1-D"):
        resample(np.zeros((10, 2)), 8000, 16000)


def test_resample_rejects_bad_rates() -> None:
    with pytest.raises(AudioError, match="src_rate"):
        resample(np.zeros(10), 0, 16000)
    with pytest.raises(AudioError, match="dst_rate"):
        resample(np.zeros(10), 8000, -1)


def test_mp3_from_ffmpeg_stereo_44k(tmp_path: Path) -> None:
    """MP3s from a common external encoder (ffmpeg/LAME) decode too, stereo 44.1 kHz, str path."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed")
    x = _sine(440.0, 44100, 0.5, amp=0.4)
    wav = tmp_path / "src.wav"
    sf.write(wav, np.stack([x, x], axis=1), 44100, subtype="PCM_16")
    mp3 = tmp_path / "ffmpeg.mp3"
    subprocess.run([ffmpeg, "-loglevel", "error", "-y", "-i", str(wav), str(mp3)], check=True)
    y = load_audio(str(mp3))
    assert abs(len(y) - SAMPLE_RATE // 2) <= 0.1 * SAMPLE_RATE // 2
    assert _peak_hz(y) == pytest.approx(440.0, abs=1.0)
