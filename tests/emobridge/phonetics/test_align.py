"""emobridge.phonetics.align: PocketSphinx forced alignment and phone-loop recognition on real speech.

Real clips come from ../shared (skipped without it); flite-generated speech (skipped without flite)
gives a check that needs neither.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from emobridge.audio.decode import SAMPLE_RATE, load_audio
from emobridge.phonetics import align as align_module
from emobridge.phonetics.align import AlignmentError, _cover, align_transcript, recognize_phones, recognize_words
from emobridge.phonetics.phones import ARPABET, Phone, clean_label, normalize_transcript
from emobridge.rig import viseme_for_phone

CLIP = "LJ001-0008"  # "has never been surpassed." (1.8 s)
FLITE_TEXT = "the cat sat on the mat"


@cache
def _dictionary_phones(word: str) -> tuple[str, ...]:
    pron = _decoder().lookup_word(word)
    assert pron, f"{word!r} is not in the dictionary"
    return tuple(clean_label(p) for p in pron.split())


@lru_cache(maxsize=1)
def _decoder():
    from pocketsphinx import Decoder

    return Decoder(samprate=16000, loglevel="FATAL")


def _expected_phones(text: str) -> list[str]:
    return [p for w in normalize_transcript(text) for p in _dictionary_phones(w)]


def _assert_tiles(phones: list[Phone], duration: float) -> None:
    """Contiguous, non-empty, known labels, exactly covering [0, duration], no two SILs in a row."""
    assert phones, "no phones"
    assert phones[0].start == 0.0
    assert phones[-1].end == pytest.approx(duration, abs=1e-9)
    for a, b in pairwise(phones):
        assert a.end == pytest.approx(b.start, abs=1e-9), (a, b)
        assert not (a.label == "SIL" and b.label == "SIL")
    for p in phones:
        assert p.duration > 0, p
        assert p.label in ARPABET or p.label == "SIL", p


def _energy_span(audio: np.ndarray, below_peak_db: float = 35.0) -> tuple[float, float]:
    """First and last 10 ms frame within ``below_peak_db`` of the loudest frame."""
    hop = 160
    n = len(audio) // hop
    rms = np.sqrt(np.mean(audio[: n * hop].reshape(n, hop) ** 2, axis=1))
    db = 20 * np.log10(rms + 1e-9)
    active = np.flatnonzero(db > db.max() - below_peak_db)
    return active[0] * 0.01, (active[-1] + 1) * 0.01


def _label_at(phones: list[Phone], t: float) -> str:
    return next(p.label for p in phones if p.start <= t < p.end)


# --- real speech from ../shared -------------------------------------------------------------------


@pytest.fixture(scope="module")
def lj_clip(shared_dir: Path) -> tuple[np.ndarray, str]:
    folder = shared_dir / "data" / "speech" / "ljspeech"
    with open(folder / "transcripts.tsv", encoding="utf-8", newline="") as f:
        texts = {row[0]: row[1] for row in csv.reader(f, delimiter="\t") if row}
    return load_audio(folder / f"{CLIP}.wav"), texts[CLIP]


@pytest.fixture(scope="module")
def lj_alignment(lj_clip: tuple[np.ndarray, str]) -> tuple[list[Phone], list[str]]:
    audio, text = lj_clip
    return align_transcript(audio, text)


@pytest.mark.shared
def test_align_real_clip_tiles_the_clip(lj_clip, lj_alignment) -> None:
    audio, _ = lj_clip
    phones, unknown = lj_alignment
    assert unknown == []
    _assert_tiles(phones, len(audio) / SAMPLE_RATE)


@pytest.mark.shared
def test_align_real_clip_follows_the_words(lj_clip, lj_alignment) -> None:
    _, text = lj_clip
    phones, _ = lj_alignment
    assert text.lower().startswith("has never been surpassed")
    # The aligned phones are the dictionary pronunciations of the transcript's words, in order.
    assert [p.label for p in phones if p.label != "SIL"] == _expected_phones(text)
    for p in phones:
        if p.label != "SIL":
            assert 0.01 <= p.duration <= 0.5, p  # plausible phone lengths for read speech


@pytest.mark.shared
def test_align_real_clip_timing_matches_the_audio(lj_clip, lj_alignment) -> None:
    audio, _ = lj_clip
    phones, _ = lj_alignment
    onset, offset = _energy_span(audio)
    speech = [p for p in phones if p.label != "SIL"]
    assert abs(speech[0].start - onset) < 0.1
    assert abs(speech[-1].end - offset) < 0.15
    # "surpassed" is the last word: its stressed vowel AE lies in the second half of the clip.
    last_ae = [p for p in speech if p.label == "AE"][-1]
    assert last_ae.start > 0.5 * len(audio) / SAMPLE_RATE


@pytest.mark.shared
def test_align_reports_unknown_words(lj_clip, lj_alignment) -> None:
    audio, text = lj_clip
    phones, unknown = align_transcript(audio, text + " blorftyx zzqxv")
    assert unknown == ["blorftyx", "zzqxv"]
    assert [p.label for p in phones if p.label != "SIL"] == [p.label for p in lj_alignment[0] if p.label != "SIL"]


@pytest.mark.shared
@pytest.mark.parametrize("text", ["", "   ", "[laughter] <cutoff-x> {noise}", "?!"])
def test_align_empty_text(lj_clip, text: str) -> None:
    with pytest.raises(AlignmentError, match="empty"):
        align_transcript(lj_clip[0], text)


@pytest.mark.shared
def test_align_only_gibberish(lj_clip) -> None:
    with pytest.raises(AlignmentError, match="dictionary") as info:
        align_transcript(lj_clip[0], "blorftyx zzqxv")
    assert "blorftyx" in str(info.value)


@pytest.mark.shared
def test_recognize_phones_on_real_clip(lj_clip, lj_alignment) -> None:
    audio, _ = lj_clip
    duration = len(audio) / SAMPLE_RATE
    phones = recognize_phones(audio)
    _assert_tiles(phones, duration)
    speech = [p for p in phones if p.label != "SIL"]
    assert len(speech) >= 8  # about 16 phones are spoken
    # Without the transcript it should still mostly agree with the alignment on the mouth shape.
    times = np.arange(0.0, duration, 0.01)
    agree = np.mean([viseme_for_phone(_label_at(phones, t)) == viseme_for_phone(_label_at(lj_alignment[0], t))
                     for t in times])
    assert agree > 0.5


# --- synthetic speech (flite) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def flite_speech(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    flite = shutil.which("flite")
    if flite is None:
        pytest.skip("flite is not installed")
    path = tmp_path_factory.mktemp("flite") / "speech.wav"
    subprocess.run([flite, "-t", FLITE_TEXT, "-o", str(path)], check=True, capture_output=True)
    return load_audio(path)


def test_align_flite_speech(flite_speech: np.ndarray) -> None:
    duration = len(flite_speech) / SAMPLE_RATE
    phones, unknown = align_transcript(flite_speech, FLITE_TEXT.capitalize() + ".")
    assert unknown == []
    _assert_tiles(phones, duration)
    assert [p.label for p in phones if p.label != "SIL"] == _expected_phones(FLITE_TEXT)
    onset, offset = _energy_span(flite_speech)
    speech = [p for p in phones if p.label != "SIL"]
    assert abs(speech[0].start - onset) < 0.1
    assert abs(speech[-1].end - offset) < 0.15
    # The closing M of "mat" (lips shut) comes just before its AE, in the last third of the utterance.
    m = max(i for i, p in enumerate(phones) if p.label == "M")
    assert phones[m + 1].label == "AE" and phones[m].start > onset + 0.6 * (offset - onset)


def test_recognize_words_flite_speech(flite_speech: np.ndarray) -> None:
    phones, words = recognize_words(flite_speech)
    _assert_tiles(phones, len(flite_speech) / SAMPLE_RATE)
    assert len(words.split()) >= 3
    # The words' own phones, force-aligned: the recognised text and the phones agree.
    assert [p.label for p in phones if p.label != "SIL"] == _expected_phones(words)


def test_recognize_phones_flite_speech(flite_speech: np.ndarray) -> None:
    phones = recognize_phones(flite_speech)
    _assert_tiles(phones, len(flite_speech) / SAMPLE_RATE)
    assert sum(p.label != "SIL" for p in phones) >= 6


def test_a_reused_decoder_decodes_as_a_fresh_one_does(flite_speech: np.ndarray) -> None:
    """Each thread keeps its decoders. What they find must not depend on the clips decoded before, or a batch's
    output would depend on its line order (PocketSphinx carries noise statistics over unless reset)."""
    noisy = flite_speech + (0.01 * np.random.default_rng(1).standard_normal(len(flite_speech))).astype(np.float32)

    def decode_all(audio: np.ndarray) -> tuple:
        return align_transcript(audio, FLITE_TEXT), recognize_words(audio), recognize_phones(audio)

    align_module._decoders.__dict__.clear()
    fresh = decode_all(flite_speech)
    decode_all(noisy)
    assert decode_all(flite_speech) == fresh
    assert len(align_module._decoders.__dict__) == 3  # kept: one decoder of each kind
    kept = align_module._decoders.__dict__["align"]
    with pytest.raises(AlignmentError):
        align_transcript(flite_speech[:1600], FLITE_TEXT)  # 0.1 s: too short for these words
    assert align_module._decoders.__dict__["align"] is kept  # a refused clip does not cost a new decoder
    assert align_transcript(flite_speech, FLITE_TEXT) == fresh[0]


# --- edge cases that need no recording ------------------------------------------------------------


def test_recognize_phones_silence_is_all_sil() -> None:
    assert recognize_phones(np.zeros(SAMPLE_RATE, dtype=np.float32)) == [Phone("SIL", 0.0, 1.0)]


@pytest.mark.parametrize("n", [0, SAMPLE_RATE])
def test_recognize_words_in_silence_finds_nothing(n: int) -> None:
    assert recognize_words(np.zeros(n, dtype=np.float32)) == ([], "")


def test_recognize_phones_empty_audio() -> None:
    assert recognize_phones(np.zeros(0, dtype=np.float32)) == []


@pytest.mark.parametrize(("n", "match"), [(0, "empty"), (SAMPLE_RATE, "silent")])
def test_align_silent_or_empty_audio(n: int, match: str) -> None:
    with pytest.raises(AlignmentError, match=match):
        align_transcript(np.zeros(n, dtype=np.float32), "hello world")


def test_align_noise_raises_alignment_error() -> None:
    noise = (0.05 * np.random.default_rng(0).standard_normal(SAMPLE_RATE)).astype(np.float32)
    with pytest.raises(AlignmentError):
        align_transcript(noise, "hello world")


def test_cover_fills_gaps_trims_overlaps_and_merges_silence() -> None:
    raw = [Phone("AA", 0.5, 0.8), Phone("B", 0.2, 0.55), Phone("SIL", 0.8, 0.9), Phone("T", 1.2, 3.0)]
    assert _cover(raw, 2.0) == [
        Phone("SIL", 0.0, 0.2),
        Phone("B", 0.2, 0.55),
        Phone("AA", 0.55, 0.8),   # overlap trimmed to start where B ends
        Phone("SIL", 0.8, 1.2),   # the SIL and the gap merged
        Phone("T", 1.2, 2.0),     # clipped to the clip
    ]
    assert _cover([], 1.5) == [Phone("SIL", 0.0, 1.5)]
    assert _cover([Phone("AA", 2.0, 3.0)], 1.0) == [Phone("SIL", 0.0, 1.0)]
