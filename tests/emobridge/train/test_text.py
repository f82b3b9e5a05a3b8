from __future__ import annotations

import re
from collections import Counter

import pytest

from emobridge.phonetics.phones import ARPABET, normalize_transcript
from emobridge.train.text import (
    BILABIALS,
    MAX_WORDS,
    MIN_WORDS,
    OPEN_VOWELS,
    generate_sentences,
    phone_counts,
    vocabulary,
    word_phones,
)


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return generate_sentences(600, seed=3)


def test_same_seed_same_sentences_and_other_seeds_differ():
    assert generate_sentences(25, seed=1) == generate_sentences(25, seed=1)
    assert generate_sentences(25, seed=1) != generate_sentences(25, seed=2)
    assert generate_sentences(0, seed=1) == []
    with pytest.raises(ValueError):
        generate_sentences(-1)


def test_sentences_are_well_formed_and_2_to_25_words(corpus):
    assert len(corpus) == 600
    lengths = Counter(len(normalize_transcript(s)) for s in corpus)
    assert min(lengths) >= MIN_WORDS and max(lengths) <= MAX_WORDS
    assert len(lengths) >= 20  # nearly every length in 2..25 occurs
    assert lengths[2] + lengths[3] > 0 and sum(n for k, n in lengths.items() if k >= 20) > 0
    for s in corpus:
        assert s[0].isupper(), s
        assert s[-1] in ".?!", s
        assert "  " not in s and " ," not in s, s
    assert len(set(corpus)) > 590


def test_every_spoken_word_is_in_the_pronouncing_dictionary(corpus):
    unknown = {w for s in corpus for w in normalize_transcript(s) if word_phones(w) is None}
    assert not unknown


def test_sentence_types_pauses_numbers_and_names_all_occur(corpus):
    def share(pattern: str) -> float:
        return sum(bool(re.search(pattern, s)) for s in corpus) / len(corpus)

    assert share(r"\?$") > 0.1          # questions
    assert share(r"!$") > 0.08          # exclamations
    assert share(r"\w, \w+, ") > 0.05   # lists with commas
    assert share(r"\.\.\.") > 0.03      # ellipses
    assert share("\u2014") > 0.03       # em-dashes
    assert share(r"\d") > 0.05          # numbers as digits ...
    assert share(r"\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand)\b") > 0.03  # ... spelled
    names = set(vocabulary().first_names.items)
    assert share(r"\b(" + "|".join(sorted(names)) + r")\b") > 0.2


def test_all_phones_covered_with_plenty_of_bilabials_and_open_vowels(corpus):
    counts = phone_counts(corpus)
    assert set(counts) == set(ARPABET)
    total = sum(counts.values())
    assert min(counts.values()) >= 10
    assert sum(counts[p] for p in BILABIALS) / total > 0.10   # conversational English is about 7 %
    assert sum(counts[p] for p in OPEN_VOWELS) / total > 0.08


def test_vocabulary_has_a_few_thousand_known_words():
    vocab = vocabulary()
    words = vocab.all_words()
    assert len(words) > 2000
    assert all(word_phones(w) is not None for w in words)
    forms = {f[0]: f for f in vocab.transitive.items}
    assert forms["buy"][2] == "bought" and forms["stop"][2] == "stopped" and forms["carry"][1] == "carries"
