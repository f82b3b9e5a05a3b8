"""Seeded generator of phonetically rich, readable English sentences for the synthetic speech corpus.

Sentences come from a small grammar (statements, questions, exclamations, lists, numbers, names, pauses
marked by commas, ellipses and em-dashes) over the word lists in ``text_words.json``. Pronunciations come
from the PocketSphinx dictionary at run time (only words it knows are used, so every sentence can also be
force-aligned). Word choice is weighted towards words with bilabials (P, B, M) and open vowels, the phones
that matter most for the lips and jaw.

Sentences are grammatical but often odd ("I am annoying me with the cabbage, Leo... so the nasty backs
bounce."), which is fine for speech. The same seed gives the same sentences (``random.Random``).
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from emobridge.phonetics.phones import ARPABET, VOWELS, normalize_transcript, number_words

WORDS_PATH = Path(__file__).with_name("text_words.json")
MIN_WORDS, MAX_WORDS = 2, 25
BILABIALS = frozenset({"P", "B", "M"})
OPEN_VOWELS = frozenset({"AA", "AE", "AO", "AW", "AY"})

_PRONOUNS = {  # subject -> (object, third person singular, plural)
    "I": ("me", False, False), "you": ("you", False, False), "he": ("him", True, False),
    "she": ("her", True, False), "we": ("us", False, True), "they": ("them", False, True),
}
_POSSESSIVES = ["my", "your", "his", "her", "our", "their"]
_MODALS = ["will", "can", "could", "should", "might", "must", "would"]
_PREPOSITIONS = ["in", "at", "near", "behind", "beside", "by", "past", "above", "below", "under", "inside",
                 "around", "outside", "upon", "beyond", "from", "to"]
_WITH_PREPS = ["with", "without", "for", "about", "like"]
_CONJUNCTIONS = ["and", "but", "so", "because", "while", "until", "before", "after", "although", "when"]
_INTROS = ["well", "so", "honestly", "maybe", "anyway", "actually", "oh", "besides", "meanwhile", "luckily",
           "basically", "perhaps", "obviously", "ah", "hmm", "okay"]
_TITLES = ["Doctor", "Captain", "Miss", "Mister", "Professor", "Madam", "Uncle", "Aunt", "Grandma", "Grandpa"]


@lru_cache(maxsize=1)
def pronunciations() -> dict[str, tuple[str, ...]]:
    """Lowercase word -> ARPAbet phones (first pronunciation, stress removed) from the PocketSphinx dictionary."""
    from pocketsphinx import get_model_path

    path = os.path.join(get_model_path(), "en-us", "cmudict-en-us.dict")
    lexicon: dict[str, tuple[str, ...]] = {}
    no_stress = str.maketrans("", "", "0123456789")
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            word, _, pron = line.partition(" ")
            if "(" in word or word in lexicon:
                continue
            phones = tuple(pron.translate(no_stress).split())
            if phones and ARPABET.issuperset(phones):
                lexicon[word.lower()] = phones
    return lexicon


def word_phones(word: str) -> tuple[str, ...] | None:
    """ARPAbet phones of one word (None when the dictionary does not know it)."""
    return pronunciations().get(word.lower().strip("'"))


def sentence_phones(sentence: str) -> list[str]:
    """ARPAbet phones of a sentence as the dictionary reads it (numbers spelled out; unknown words skipped)."""
    return [p for w in normalize_transcript(sentence) for p in (word_phones(w) or ())]


def phone_counts(sentences: Iterable[str]) -> Counter:
    """How often each ARPAbet phone occurs in the sentences (dictionary pronunciations)."""
    counts: Counter = Counter()
    for sentence in sentences:
        counts.update(sentence_phones(sentence))
    return counts


# --------------------------------------------------------------------------------------------- word lists


def _weight(*words: str) -> float:
    """Sampling weight: favour words with bilabials and open vowels."""
    phones = {p for w in words for p in (word_phones(w) or ())}
    return 1.0 + 1.5 * bool(phones & BILABIALS) + 0.75 * bool(phones & OPEN_VOWELS)


class _Pool:
    """A weighted list of items (a word, or a tuple of word forms)."""

    def __init__(self, items: list):
        self.items = items
        weights = [_weight(*(item if isinstance(item, tuple) else item.split())) for item in items]
        total, self.cumulative = 0.0, []
        for w in weights:
            total += w
            self.cumulative.append(total)

    def pick(self, rng: random.Random):
        return rng.choices(self.items, cum_weights=self.cumulative, k=1)[0]


def _known(word: str) -> bool:
    return all(word_phones(w) is not None for w in word.split())


def _first_known(*candidates: str) -> str | None:
    return next((c for c in candidates if c and _known(c)), None)


def _sibilant_s(word: str) -> str:
    """Plural / third-person spelling by the usual rules."""
    if re.search(r"(s|x|z|ch|sh|o)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def _doubles(word: str) -> bool:
    return bool(re.search(r"(^|[^aeiou])[aeiou][bdgklmnprt]$", word))


def _past(word: str) -> str | None:
    if word.endswith("e"):
        return _first_known(word + "d")
    if re.search(r"[^aeiou]y$", word):
        return _first_known(word[:-1] + "ied")
    doubled = word + word[-1] + "ed"
    if _doubles(word) and len(word) <= 4:
        return _first_known(doubled, word + "ed")
    return _first_known(word + "ed", doubled if _doubles(word) else "")


def _ing(word: str) -> str | None:
    if word.endswith("ie"):
        return _first_known(word[:-2] + "ying")
    if re.search(r"[^eoy]e$", word):
        return _first_known(word[:-1] + "ing", word + "ing")
    doubled = word + word[-1] + "ing"
    if _doubles(word) and len(word) <= 4:
        return _first_known(doubled, word + "ing")
    return _first_known(word + "ing", doubled if _doubles(word) else "")


class Vocabulary:
    """The word lists with inflected forms, keeping only words the pronouncing dictionary knows."""

    def __init__(self, path: Path = WORDS_PATH):
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        plurals = data["irregular_plurals"]
        irregular = data["irregular_verbs"]
        nouns = []
        for noun in dict.fromkeys(data["nouns"]):
            plural = plurals.get(noun) or _first_known(_sibilant_s(noun), noun + "s")
            if _known(noun) and plural:
                nouns.append((noun, plural))
        self.nouns = _Pool(nouns)
        self.mass_nouns = _Pool([w for w in data["mass_nouns"] if _known(w)])
        self.places = _Pool([w for w in data["places_common"] if _known(w)])
        self.transitive = _Pool(self._verbs(data["verbs_transitive"], irregular))
        self.intransitive = _Pool(self._verbs(data["verbs_intransitive"], irregular))
        self.adjectives = _Pool([w for w in dict.fromkeys(data["adjectives"]) if _known(w)])
        self.adverbs = _Pool([w for w in data["adverbs"] if _known(w)])
        self.first_names = _Pool([w for w in data["first_names"] if _known(w)])
        self.surnames = _Pool([w for w in data["surnames"] if _known(w)])
        self.cities = _Pool([w for w in data["places"] if _known(w)])
        self.interjections = _Pool([w for w in data["interjections"] if _known(w)])
        self.times = [t for t in data["time_phrases"] if _known(t)]

    @staticmethod
    def _verbs(words: list[str], irregular: dict) -> list[tuple[str, str, str, str, str]]:
        """-> (base, third person, past, participle, -ing) for every verb whose forms are all known."""
        out = []
        for verb in dict.fromkeys(words):
            past, participle = irregular.get(verb) or (_past(verb),) * 2
            forms = (verb, _first_known(_sibilant_s(verb), verb + "s"), past, participle, _ing(verb))
            if all(forms) and all(_known(f) for f in forms):
                out.append(forms)
        return out

    def all_words(self) -> set[str]:
        pools = [self.nouns, self.mass_nouns, self.places, self.transitive, self.intransitive, self.adjectives,
                 self.adverbs, self.first_names, self.surnames, self.cities, self.interjections]
        words = {w.lower() for pool in pools for item in pool.items
                 for w in (item if isinstance(item, tuple) else (item,))}
        return words | {w.lower() for t in self.times for w in t.split()}


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return Vocabulary()


# ---------------------------------------------------------------------------------------------- grammar


class _Phrase:
    """Tokens (words and punctuation) plus agreement facts about the phrase when used as a subject."""

    def __init__(self, tokens: list[str], third_singular: bool = True, plural: bool = False):
        self.tokens, self.third_singular, self.plural = tokens, third_singular, plural


class _Grammar:
    def __init__(self, rng: random.Random, vocab: Vocabulary):
        self.rng, self.v = rng, vocab

    # -- small pieces
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def number(self, low: int = 2) -> tuple[list[str], int]:
        """A count, written as digits or spelled out."""
        r = self.rng.random()
        value = (self.rng.randint(low, 12) if r < 0.45 else self.rng.randint(13, 99) if r < 0.8
                 else self.rng.randint(100, 999) if r < 0.95 else self.rng.choice([1000, 1500, 2000, 5000, 10000]))
        spelled = value >= 1000 or self.chance(0.4)
        return (number_words(value).split() if spelled else [str(value)]), value

    def article(self, next_word: str) -> str:
        phones = word_phones(next_word) or ("K",)
        return "an" if phones[0] in VOWELS else "a"

    def name(self) -> list[str]:
        r = self.rng.random()
        if r < 0.65:
            return [self.v.first_names.pick(self.rng)]
        if r < 0.85:
            return [self.v.first_names.pick(self.rng), self.v.surnames.pick(self.rng)]
        return [self.rng.choice(_TITLES), self.v.surnames.pick(self.rng)]

    def adjectives(self, most: int = 2) -> list[str]:
        count = self.rng.choice([0, 0, 1, 1, 1, 2][: 2 + 2 * most])
        words: list[str] = []
        while len(words) < count:
            adj = self.v.adjectives.pick(self.rng)
            if adj not in words:
                words.append(adj)
        if count == 1 and self.chance(0.15):
            words.insert(0, self.rng.choice(["very", "really", "quite", "pretty", "rather"]))
        return words

    def noun_phrase(self, plural: bool | None = None, allow_name: bool = True) -> _Phrase:
        """Object-like noun phrase: a name, a determiner + adjectives + noun, or a counted plural."""
        if allow_name and self.chance(0.2):
            return _Phrase(self.name())
        singular, plural_form = self.v.nouns.pick(self.rng)
        plural = self.chance(0.35) if plural is None else plural
        adjs = self.adjectives()
        if self.chance(0.08):
            mass = self.v.mass_nouns.pick(self.rng)
            return _Phrase([self.rng.choice(["some", "the", "more", "no"]), *adjs, mass], True, False)
        if plural:
            r = self.rng.random()
            if r < 0.35:
                number, _ = self.number()
                det = number
            else:
                det = [self.rng.choice(["the", "some", "these", "those", "many", "a few", "all the", "two",
                                        *_POSSESSIVES])]
                det = [w for d in det for w in d.split()]
            return _Phrase([*det, *adjs, plural_form], False, True)
        first = (adjs or [singular])[0]
        r = self.rng.random()
        det = self.article(first) if r < 0.4 else "the" if r < 0.75 else self.rng.choice(
            [*_POSSESSIVES, "this", "that", "one", "every"])
        return _Phrase([det, *adjs, singular], True, False)

    def subject(self) -> _Phrase:
        r = self.rng.random()
        if r < 0.3:
            pronoun = self.rng.choice(list(_PRONOUNS))
            _, third, plural = _PRONOUNS[pronoun]
            return _Phrase([pronoun], third, plural)
        if r < 0.55:
            name = self.name()
            if self.chance(0.15):
                return _Phrase([*name, "and", *self.name()], False, True)
            return _Phrase(name)
        return self.noun_phrase(allow_name=False)

    def object_phrase(self) -> list[str]:
        if self.chance(0.15):
            pronoun = self.rng.choice(list(_PRONOUNS))
            return [_PRONOUNS[pronoun][0]]
        return self.noun_phrase().tokens

    def place(self) -> list[str]:
        """A prepositional phrase of place, time, company or purpose."""
        r = self.rng.random()
        if r < 0.4:
            adjs = self.adjectives(most=1)
            return [self.rng.choice(_PREPOSITIONS), "the", *adjs, self.v.places.pick(self.rng)]
        if r < 0.55:
            return [self.rng.choice(["in", "to", "from", "near", "outside"]), self.v.cities.pick(self.rng)]
        if r < 0.75:
            return self.rng.choice(self.v.times).split()
        return [self.rng.choice(_WITH_PREPS), *self.noun_phrase().tokens]

    # -- clauses
    def verb_phrase(self, subject: _Phrase, tense: str) -> list[str]:
        """Predicate agreeing with the subject, in the past, present or a modal / aspect form."""
        rng = self.rng
        is_i = subject.tokens == ["I"]
        kind = rng.random()
        if kind < 0.15:  # copula + adjective
            if tense == "past":
                be = ["was" if subject.third_singular or is_i else "were"]
            elif tense == "present":
                be = ["am" if is_i else "is" if subject.third_singular else "are"]
            else:
                be = [rng.choice(_MODALS), "be"]
            adjs = [self.v.adjectives.pick(rng)]
            if self.chance(0.3):
                adjs += ["and", self.v.adjectives.pick(rng)]
            return [*be, *(["so"] if self.chance(0.2) else []), *adjs]
        transitive = kind < 0.75
        forms = (self.v.transitive if transitive else self.v.intransitive).pick(rng)
        base, third, past, participle, ing = forms
        if tense == "past":
            aspect = rng.random()
            if aspect < 0.75:
                verb = [past]
            elif aspect < 0.9:
                verb = ["was" if subject.third_singular or is_i else "were", ing]
            else:
                verb = ["had", participle]
        elif tense == "present":
            aspect = rng.random()
            if aspect < 0.65:
                verb = [third if subject.third_singular and not is_i else base]
            elif aspect < 0.85:
                verb = ["am" if is_i else "is" if subject.third_singular else "are", ing]
            else:
                verb = ["has" if subject.third_singular and not is_i else "have", participle]
        else:
            verb = [rng.choice(_MODALS), *(["not"] if self.chance(0.15) else []), base]
        if self.chance(0.1):  # "was slowly eating", "never ate"
            if len(verb) > 1:
                verb.insert(len(verb) - 1, self.v.adverbs.pick(rng))
            else:
                verb.insert(0, rng.choice(["never", "always", "often", "really", "almost"]))
        tokens = [*verb, *(self.object_phrase() if transitive else [])]
        if not transitive and self.chance(0.4):
            tokens.append(self.v.adverbs.pick(rng))
        return tokens

    def clause(self, tense: str | None = None) -> list[str]:
        tense = tense or self.rng.choice(["past", "past", "present", "modal"])
        subject = self.subject()
        return [*subject.tokens, *self.verb_phrase(subject, tense)]

    def question(self) -> list[str]:
        rng = self.rng
        r = rng.random()
        subject = self.subject()
        forms = self.v.transitive.pick(rng)
        if r < 0.25:
            aux = rng.choice(["did", "will", "can", "should", "could", "would"])
            return [aux, *subject.tokens, forms[0], *self.object_phrase()]
        if r < 0.4:
            be = "am" if subject.tokens == ["I"] else "is" if subject.third_singular else "are"
            return [be, *subject.tokens, *(["really"] if self.chance(0.2) else []), self.v.adjectives.pick(rng)]
        if r < 0.55:
            wh = rng.choice(["where", "why", "when", "how"])
            return [wh, "did", *subject.tokens, forms[0], *self.object_phrase()]
        if r < 0.67:
            _, plural = self.v.nouns.pick(rng)
            return ["how", "many", plural, "did", *subject.tokens, forms[0]]
        if r < 0.77:
            return ["who", forms[2], *self.object_phrase()]
        if r < 0.87:
            return ["what", "did", *subject.tokens, forms[0]]
        if r < 0.93:
            return [*self.name(), ",", "have", "you", "ever", forms[3], *self.object_phrase()]
        return [*self.clause("past"), ",", rng.choice(["right", "really", "okay", "remember"])]

    def exclamation(self) -> list[str]:
        rng = self.rng
        r = rng.random()
        if r < 0.2:
            noun, _ = self.v.nouns.pick(rng)
            adj = self.v.adjectives.pick(rng)
            return ["what", self.article(adj), adj, noun]
        if r < 0.35:
            return [self.v.interjections.pick(rng), ",", *self.name()]
        if r < 0.5:
            return ["look", "at", *self.noun_phrase().tokens]
        if r < 0.65:
            base = self.v.transitive.pick(rng)[0]
            tail = [",", *self.name()] if self.chance(0.4) else []
            return [base, *self.object_phrase(), *tail]
        if r < 0.75:
            return ["that", "is", "so", self.v.adjectives.pick(rng)]
        if r < 0.85:
            return ["how", self.v.adjectives.pick(rng)]
        return self.clause()

    def listing(self) -> list[str]:
        """A list of three to five items separated by commas."""
        rng = self.rng
        items = []
        for _ in range(rng.randint(3, 5)):
            r = rng.random()
            if r < 0.3:
                number, value = self.number(low=1)
                singular, plural = self.v.nouns.pick(rng)
                items.append([*number, singular if value == 1 else plural])
            elif r < 0.5:
                items.append(self.name())
            else:
                items.append(self.noun_phrase(allow_name=False).tokens)
        tokens: list[str] = []
        for i, item in enumerate(items):
            if i == len(items) - 1:
                tokens += ([","] if self.chance(0.5) else []) + [rng.choice(["and", "and", "or"])]
            elif i:
                tokens.append(",")
            tokens += item
        r = rng.random()
        if r < 0.4:
            subject = self.subject()
            verb = self.v.transitive.pick(rng)
            return [*subject.tokens, verb[2], *tokens]
        if r < 0.6:
            return [rng.choice(["we", "they", "you", "I"]), rng.choice(["need", "want", "like", "have"]), *tokens]
        if r < 0.8:
            return ["did", "you", "see", *tokens]
        return ["bring", *tokens]

    def short(self, target: int) -> list[str]:
        """Two to four spoken words."""
        rng = self.rng
        name = self.v.first_names.pick(rng)
        r = rng.random()
        if r < 0.2:
            tokens = [name, self.v.intransitive.pick(rng)[2], self.v.adverbs.pick(rng)]
        elif r < 0.35:
            tokens = [self.v.interjections.pick(rng), ",", name, self.v.surnames.pick(rng)]
        elif r < 0.5 and target == 2:
            tokens = [rng.choice(["really", "maybe", "why", "okay", "please"]), ",", name, "?"]
        elif r < 0.5:
            tokens = [*(["are", "you"] if target == 3 else ["is", name, "really"]), self.v.adjectives.pick(rng), "?"]
        elif r < 0.65:
            adjs = [self.v.adjectives.pick(rng) for _ in range(target - 2)]
            tokens = ["the", *adjs, self.v.nouns.pick(rng)[1], "!"]
        elif r < 0.8:
            tokens = [rng.choice(["we", "they", "you", "I"]), self.v.intransitive.pick(rng)[2],
                      self.v.adverbs.pick(rng)]
        else:
            number, value = self.number(low=2)
            tokens = [*number, self.v.nouns.pick(rng)[1], self.v.adverbs.pick(rng)]
        if _count(tokens) < target:
            at = len(tokens) - (tokens[-1] in "?!")
            tokens.insert(at, rng.choice(["today", "again", "tonight", "now", "too", "yesterday", "already"]))
        while _count(tokens) > target and len(tokens) > 2:  # drop trailing words to fit
            tokens.pop(-2 if tokens[-1] in "?!" else -1)
            if tokens[-1] == ",":
                tokens.pop()
        return tokens

    # -- whole sentences
    def sentence(self, target: int) -> list[str]:
        rng = self.rng
        if target <= 4:
            tokens = self.short(target)
            return tokens if tokens[-1] in "?!" else [*tokens, rng.choice([".", ".", "!", "?"])]
        r = rng.random()
        if r < 0.2:
            tokens, end = self.question(), "?"
        elif r < 0.32:
            tokens, end = self.exclamation(), "!"
        elif r < 0.5:
            tokens, end = self.listing(), "."
            if tokens[0] == "did":
                end = "?"
            elif tokens[0] == "bring":
                end = "!"
        else:
            tokens, end = self.clause(), rng.choice([".", ".", ".", "!"])
        if self.chance(0.2) and _count(tokens) + 1 < target:
            tokens = [rng.choice([*_INTROS, *self.name()[:1]]), ",", *tokens]
        vocative = False
        while _count(tokens) < target:
            r = rng.random()
            if r < 0.35:
                extra = self.place()
                tokens = [*tokens, *([","] if self.chance(0.15) else []), *extra]
            elif r < 0.75:
                joiner = rng.choice([[","], [",", "and"], ["..."], ["\u2014"], [","]])
                conj = [] if joiner[-1] in ("and",) else [rng.choice(_CONJUNCTIONS)] if self.chance(0.6) else []
                tokens = [*tokens, *joiner, *conj, *self.clause()]
            elif r < 0.85:
                tokens = [*tokens, self.v.adverbs.pick(rng)]
            elif not vocative:
                tokens, vocative = [*tokens, ",", *self.name()], True
        return [*tokens, end]


def _count(tokens: list[str]) -> int:
    """Spoken words (numbers written as digits count as their spelled-out words)."""
    return sum(len(number_words(int(t)).split()) if t.isdigit() else any(c.isalnum() for c in t) for t in tokens)


def _render(tokens: list[str]) -> str:
    if tokens and tokens[0].isdigit():  # a sentence does not start with digits
        tokens = [*number_words(int(tokens[0])).split(), *tokens[1:]]
    text = ""
    for tok in tokens:
        if tok in (",", ".", "?", "!", "..."):
            text = text.rstrip() + tok + " "
        elif tok == "\u2014":
            text = text.rstrip() + " \u2014 "
        else:
            text += tok + " "
    text = re.sub(r"([,.?!\u2014]\s*)[,\u2014]\s*", r"\1", text).strip()
    text = re.sub(r"\bi\b", "I", text)
    return text[0].upper() + text[1:]


def _target_length(rng: random.Random) -> int:
    """Sentence length in words: every length from 2 to 25 occurs, most sentences have 5-14 words."""
    r = rng.random()
    if r < 0.12:
        return rng.randint(MIN_WORDS, 4)
    if r < 0.8:
        return rng.randint(5, 14)
    return rng.randint(15, MAX_WORDS)


def generate_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` readable, phonetically rich English sentences; the same seed gives the same sentences.

    Each sentence has 2-25 words and ends with ``.``, ``?`` or ``!``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = random.Random(seed)
    grammar = _Grammar(rng, vocabulary())
    sentences = []
    while len(sentences) < n:
        target = _target_length(rng)
        for _ in range(20):
            tokens = grammar.sentence(target)
            if MIN_WORDS <= _count(tokens) <= min(MAX_WORDS, target + 5):
                break
        else:
            continue
        sentences.append(_render(tokens))
    return sentences
