import logging
import shutil
import subprocess

import numpy as np
import pytest

from emobridge.audio import AudioError
from emobridge.bake import bake, phones_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def spoken(tmp_path):
    """A short English sentence from flite, with its text (no ../shared needed)."""
    if not shutil.which("flite"):
        pytest.skip("flite is not installed (./setup.sh installs it)")
    text = "Bob made a map of the big barn."
    path = tmp_path / "spoken.wav"
    subprocess.run(["flite", "-t", text, "-o", str(path)], check=True)
    return path, text


def test_text_aware_bake_closes_lips_on_bilabials(spoken):
    path, text = spoken
    anim = bake(path, text=text, fps=60)
    assert anim.meta["route"] == "transcript"
    phones, _ = phones_for(__import__("emobridge.audio", fromlist=["load_audio"]).load_audio(path), text)
    close, jaw = anim.frames[:, 17], anim.frames[:, 16]  # mouthClose, jawOpen
    for p in [p for p in phones if p.label in {"P", "B", "M"}]:
        window = slice(int(p.start * 60), int(np.ceil(p.end * 60)) + 1)
        assert np.any(close[window] >= 0.85 * jaw[window]), p


def test_empty_transcript_falls_back_to_audio_with_a_warning(spoken, caplog):
    path, _ = spoken
    with caplog.at_level(logging.WARNING):
        anim = bake(path, text="   ", use_model=False)
    assert anim.meta["route"] == "phones"
    assert "transcript is empty" in caplog.text


def test_unalignable_transcript_falls_back_to_audio(spoken, caplog):
    path, _ = spoken
    with caplog.at_level(logging.WARNING):
        anim = bake(path, text="zzqx vvbrk", use_model=False)
    assert anim.meta["route"] == "phones"
    assert "animating from the audio alone" in caplog.text


def test_silent_clip_bakes_a_rest_pose(caplog):
    with caplog.at_level(logging.WARNING):
        anim = bake(np.zeros(32000, np.float32), text="hello")
    assert anim.meta["route"] == "silence" and "silent" in caplog.text
    assert anim.frames[:, 24].max() < 0.05  # jawOpen stays at rest
    assert len(anim.frames) == 120


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(AudioError, match="not found"):
        bake(tmp_path / "nope.wav")


def test_recognizing_words_on_the_model_route_records_them(spoken):
    path, _text = spoken
    anim = bake(path, fps=60, recognize=True)
    assert anim.meta["route"] == "model" and len(anim.meta["recognized"].split()) >= 3
    assert "recognized" not in bake(path, fps=60).meta   # off by default: the fast bake


def test_recognizing_words_without_the_model_animates_their_phones(spoken):
    from emobridge.audio import load_audio
    from emobridge.phonetics import recognize_words

    path, _text = spoken
    anim = bake(path, fps=60, use_model=False, recognize=True)
    phones, words = recognize_words(load_audio(path))
    assert anim.meta["route"] == "phones" and anim.meta["recognized"] == words
    close, jaw = anim.frames[:, 17], anim.frames[:, 16]  # mouthClose, jawOpen
    sealed = [p for p in phones if p.label in {"P", "B", "M"}]
    assert len(sealed) >= 3  # the words' p/b/m, which the phone loop misses on real voices
    for p in sealed:
        window = slice(int(p.start * 60), int(np.ceil(p.end * 60)) + 1)
        assert np.any(close[window] >= 0.85 * jaw[window]), p
    assert "recognized" not in bake(path, fps=60, use_model=False).meta   # the phone loop by default


def test_recognizing_words_in_noise_without_words_falls_back_to_the_phone_loop():
    noise = np.random.default_rng(0).normal(0, 0.05, 32000).astype(np.float32)
    phones, meta = phones_for(noise, None, recognize=True)
    assert meta == {"route": "phones"} and phones  # no words recognised: the phone loop's phones


@pytest.mark.parametrize("seconds", [0.01, 0.1, 0.2])
def test_very_short_clips_bake_without_errors(seconds):
    n = int(seconds * 16000)
    for audio in (np.zeros(n, np.float32), np.random.default_rng(0).normal(0, 0.1, n).astype(np.float32)):
        for options in ({"use_model": False}, {"use_model": False, "recognize": True}, {}, {"recognize": True}):
            anim = bake(audio, fps=60, **options)
            assert len(anim.frames) == max(1, round(seconds * 60)) and np.isfinite(anim.frames).all(), options
