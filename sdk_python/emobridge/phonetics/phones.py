"""Phone records and transcript normalisation for the aligner."""

from __future__ import annotations

import numbers
import re
from typing import NamedTuple

ARPABET = frozenset(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH".split()
)
VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())


class Phone(NamedTuple):
    label: str     # ARPAbet without stress, or "SIL"
    start: float   # seconds
    end: float     # seconds

    @property
    def duration(self) -> float:
        return self.end - self.start


def clean_label(raw: str) -> str:
    """PocketSphinx / TextGrid label -> ARPAbet or SIL (noise and unknown symbols become SIL)."""
    label = re.sub(r"\d", "", raw.strip().upper())
    return label if label in ARPABET else "SIL"


_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
        "seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> str:
    """Spell a non-negative integer in English words (up to the billions)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"number_words: expected a non-negative integer, got {n!r}")
    n = int(n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for size, word in ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            rest = n % size
            return number_words(n // size) + " " + word + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError("unreachable")


def normalize_transcript(text: str) -> list[str]:
    """Transcript -> lowercase words for the aligner.

    Drops annotation tags (``<cutoff-x>``, ``[laughter]``, ``{noise}``), spells numbers, keeps
    apostrophes inside words.
    """
    text = re.sub(r"<[^>]*>|\[[^\]]*\]|\{[^}]*\}", " ", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")  # typographic (curly) apostrophes -> '
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands separators: 1,000 -> 1000
    text = re.sub(r"\d+", lambda m: " " + number_words(int(m.group())) + " " if len(m.group()) < 10 else " ", text)
    text = re.sub(r"[^a-z' ]", " ", text.lower().replace("&", " and "))
    return [w.strip("'") for w in text.split() if w.strip("'")]
