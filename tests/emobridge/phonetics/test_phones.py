"""emobridge.phonetics.phones: transcript normalisation, number spelling and label cleaning."""

from __future__ import annotations

import numpy as np
import pytest

from emobridge.phonetics.phones import ARPABET, VOWELS, Phone, clean_label, normalize_transcript, number_words


def test_phone_record() -> None:
    p = Phone("AA", 0.25, 0.4)
    assert p.duration == pytest.approx(0.15)
    assert p == ("AA", 0.25, 0.4)


def test_phone_sets() -> None:
    assert len(ARPABET) == 39
    assert VOWELS < ARPABET and len(VOWELS) == 15
    assert "SIL" not in ARPABET


@pytest.mark.parametrize(
    ("raw", "label"),
    [("AA1", "AA"), ("ah0", "AH"), (" IY2 ", "IY"), ("ZH", "ZH"), ("SIL", "SIL"), ("sil", "SIL"), ("+NSN+", "SIL"),
     ("+SPN+", "SIL"), ("<sil>", "SIL"), ("", "SIL"), ("spn", "SIL"), ("XX", "SIL"), ("A", "SIL")],
)
def test_clean_label(raw: str, label: str) -> None:
    assert clean_label(raw) == label


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"), (7, "seven"), (13, "thirteen"), (19, "nineteen"), (20, "twenty"), (42, "forty two"),
        (90, "ninety"), (100, "one hundred"), (101, "one hundred one"), (999, "nine hundred ninety nine"),
        (1000, "one thousand"), (1955, "one thousand nine hundred fifty five"), (20000, "twenty thousand"),
        (1_000_001, "one million one"), (3_000_000_000, "three billion"),
        (np.int64(12), "twelve"),
    ],
)
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize("bad", [-1, -19, 2.5, "3", True])
def test_number_words_rejects_non_natural_numbers(bad: object) -> None:
    with pytest.raises(ValueError):
        number_words(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("in being comparatively modern.", ["in", "being", "comparatively", "modern"]),
        ('the "lower-case" being', ["the", "lower", "case", "being"]),
        ("i.e. the letter", ["i", "e", "the", "letter"]),
        ("Don't stop; it's fine", ["don't", "stop", "it's", "fine"]),
        ("Don\u2019t stop", ["don't", "stop"]),
        ("i hardly know 'er", ["i", "hardly", "know", "er"]),
        ("'quoted' words", ["quoted", "words"]),
        ("montreal <hes-forced> aligner", ["montreal", "aligner"]),
        ("<cutoff-montreal> uh [laughter] montreal {noise} forced <unk> aligner", ["uh", "montreal", "forced", "aligner"]),
        ("I have 3 cats and 42 dogs", ["i", "have", "three", "cats", "and", "forty", "two", "dogs"]),
        ("room101", ["room", "one", "hundred", "one"]),
        ("1,000 people", ["one", "thousand", "people"]),
        ("R&B", ["r", "and", "b"]),
        ("12345678901 digits", ["digits"]),  # implausibly long numbers are dropped, not spelled
        ("", []),
        ("  ...!?  ", []),
        ("[laughter]", []),
    ],
)
def test_normalize_transcript(text: str, words: list[str]) -> None:
    assert normalize_transcript(text) == words


def test_normalize_transcript_output_alphabet() -> None:
    words = normalize_transcript("Printing, in the only sense (with 2 #tags & \"quotes\") -- différent!")
    assert all(w and w == w.lower() and set(w) <= set("abcdefghijklmnopqrstuvwxyz'") for w in words)
    assert not any(w.startswith("'") or w.endswith("'") for w in words)
