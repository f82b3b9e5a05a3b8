from __future__ import annotations

import difflib

import numpy as np
import pytest

from emobridge.phonetics.phones import ARPABET, Phone
from emobridge.train import tts
from emobridge.train.text import sentence_phones

TEXT = "Did Pam buy 3 big maps, Bob? Well... maybe not!"
LABELS = ARPABET | {"SIL"}
ONE_PER_ENGINE = ["flite/slt", "flite/kal16", "festival/slt_hts", "festival/kal_diphone", "espeak/en-us+klatt"]


def need(voice: str) -> None:
    if not tts.voice_available(voice):
        pytest.skip(f"{voice}: engine or voice not installed")


def check_phones(phones: list[Phone], duration: float) -> None:
    assert phones[0].start == 0.0
    assert phones[-1].end == pytest.approx(duration, abs=1e-6)
    for a, b in zip(phones, phones[1:], strict=False):
        assert a.end == pytest.approx(b.start, abs=1e-9)
        assert not (a.label == "SIL" and b.label == "SIL")
    assert all(p.end > p.start for p in phones)
    assert {p.label for p in phones} <= LABELS


# ------------------------------------------------------------------------------ no engine needed


def test_phone_tables_map_only_to_arpabet_or_sil():
    tables = tts.phone_tables()
    assert {"radio", "espeak", "espeak_nonrhotic"} <= set(tables)
    for name, table in tables.items():
        for symbol, labels in table.items():
            assert labels and set(labels) <= LABELS, (name, symbol, labels)
    assert tables["radio"]["pau"] == ("SIL",) and tables["radio"]["ax"] == ("AH",)
    assert tables["espeak"]["A@"] == ("AA", "R") and tables["espeak_nonrhotic"]["A@"] == ("AA",)
    assert {v.phone_set for v in tts.VOICES.values()} <= set(tables)


def test_finish_splits_merges_and_pads():
    voice = tts.Voice("test/x", "espeak", "x", phone_set="espeak")
    raw = [("_", 0.10), ("_:", 0.20), ("b", 0.25), ("A@", 0.45), ("_", 0.50)]
    phones = tts._finish(raw, 0.51, voice)
    assert [p.label for p in phones] == ["SIL", "B", "AA", "R", "SIL"]
    assert phones[0] == Phone("SIL", 0.0, 0.20)               # two pauses merged
    assert phones[2].start == pytest.approx(0.25) and phones[2].end == pytest.approx(0.35)  # A@ split evenly
    check_phones(phones, 0.51)                                 # trailing silence padded to the audio


def test_finish_rejects_timings_that_do_not_fit_the_audio():
    voice = tts.Voice("test/x", "flite", "x")
    with pytest.raises(tts.TTSError, match="test/x"):
        tts._finish([("pau", 0.1), ("b", 0.9), ("pau", 1.0)], 0.5, voice)    # speech past the audio
    with pytest.raises(tts.TTSError, match="test/x"):
        tts._finish([("pau", 0.1), ("b", 0.2), ("pau", 0.3)], 0.5, voice)    # audio much longer
    with pytest.raises(tts.TTSError, match="no ARPAbet mapping"):
        tts._finish([("pau", 0.1), ("qq", 0.2)], 0.2, voice)
    cut = tts.Voice("test/d", "flite", "x", trailing_pause_cut=True)           # diphone: half the last pause lost
    phones = tts._finish([("pau", 0.1), ("b", 0.2), ("pau", 0.4)], 0.3, cut)
    check_phones(phones, 0.3)


def test_merge_uses_hook_positions_and_splits_the_glide_after_liquids():
    events = [(100, "a"), (900, "p"), (1500, "l"), (2600, "a"), (3000, "m"), (3400, "i")]
    symbols = [(100, "a", 2), (700, "p", 4), (700, "p", 4), (1500, "l", 3), (2000, "a", 2),
               (3000, "m", 8), (3100, "i", 2)]
    starts = tts._merge(events, symbols)
    assert starts == [(100, "a"), (700, "p"), (1500, "l"), (2300, "a"), (3000, "m"), (3100, "i")]
    assert tts._merge(events, []) == events  # no hook: the events as they are


def test_merge_starts_a_vowel_after_a_nasal_no_earlier_than_its_onset_before_the_event():
    # espeak's default wave generator hooks the vowel at the nasal's own start (3000): the event decides
    events = [(3000, "m"), (3800, "o@"), (5000, "m"), (5600, "a")]
    symbols = [(3000, "m", 8), (3000, "o@", 2), (5000, "m", 8), (5300, "a", 2)]
    starts = tts._merge(events, symbols, nasal_onset=400)
    assert starts == [(3000, "m"), (3400, "o@"), (5000, "m"), (5300, "a")]  # a sound hook is kept


def test_unknown_voice_and_missing_engine_raise_tts_error_naming_the_voice(monkeypatch):
    with pytest.raises(tts.TTSError, match="no-such-voice"):
        tts.synthesize("hello", "no-such-voice")
    monkeypatch.setattr(tts, "_flite_voices", lambda: frozenset())
    with pytest.raises(tts.TTSError, match="flite/slt.*not installed"):
        tts.synthesize("hello", "flite/slt")
    with pytest.raises(tts.TTSError, match="empty"):
        tts.synthesize("  ", "espeak/en")


def test_voice_list_covers_three_engines():
    engines = {v.engine for v in tts.VOICES.values()}
    assert engines == set(tts.ENGINES)
    assert {"flite/kal", "flite/kal16", "flite/awb", "flite/rms", "flite/slt"} <= set(tts.VOICES)
    assert sum(v.engine == "espeak" for v in tts.VOICES.values()) >= 5


# ---------------------------------------------------------------------------------- with engines


@pytest.mark.parametrize("voice", ONE_PER_ENGINE)
def test_synthesis_returns_16k_audio_and_engine_phones_that_span_it(voice):
    need(voice)
    audio, phones = tts.synthesize(TEXT, voice, seed=1)
    assert audio.dtype == np.float32 and audio.ndim == 1
    duration = len(audio) / tts.SAMPLE_RATE
    assert 1.5 < duration < 8 and 0.01 < float(np.abs(audio).max()) <= 1.0
    check_phones(phones, duration)
    # the engine's phones are close to the dictionary's reading of the text
    spoken = [p.label for p in phones if p.label != "SIL"]
    assert difflib.SequenceMatcher(a=spoken, b=sentence_phones(TEXT), autojunk=False).ratio() > 0.7
    assert {"P", "B", "M"} <= set(spoken)


@pytest.mark.parametrize("voice", ["flite/slt", "flite/kal16", "festival/slt_hts"])
def test_engine_timings_sum_to_the_audio_length(voice):
    need(voice)
    assert abs(tts.timing_error(TEXT, voice)) < tts.TIMING_TOLERANCE_S


def test_rate_scale_and_seed():
    need("flite/slt")
    slow, _ = tts.synthesize("The big brown bear ate my apple pie.", "flite/slt", rate_scale=0.7)
    fast, _ = tts.synthesize("The big brown bear ate my apple pie.", "flite/slt", rate_scale=1.4)
    assert 1.6 < len(slow) / len(fast) < 2.4
    a, pa = tts.synthesize("Bob", "flite/slt", seed=4)
    b, pb = tts.synthesize("Bob", "flite/slt", seed=4)
    assert np.array_equal(a, b) and pa == pb


@pytest.mark.parametrize("voice", ["espeak/en", "espeak/en-us+klatt"])
def test_espeak_speaks_the_same_whatever_it_spoke_before(voice):
    # espeak-ng keeps state between utterances; each is spoken from the same state (corpus builds must not
    # depend on which clips a worker happened to synthesize first)
    need(voice)
    takes = []
    for before in ("espeak/en+m3", "espeak/en-us+f5", voice):
        tts.synthesize("Something else entirely, said quickly?", before, rate_scale=1.2, seed=3)
        takes.append(tts.synthesize(TEXT, voice, rate_scale=0.9, seed=7))
    for audio, phones in takes[1:]:
        assert np.array_equal(audio, takes[0][0]) and phones == takes[0][1]


def test_an_espeak_error_in_the_synthesis_process_reaches_the_caller():
    need("espeak/en")
    with pytest.raises(tts.TTSError, match="no voice"):
        tts._Espeak.instance().synth("Hello.", tts.Voice("espeak/zz", "espeak", "no-such-voice"), 1.0, None)


def spoken_and_aligned(text: str, voice: str) -> tuple[list[Phone], list[tuple[str, float]]]:
    """The engine's phones of ``text`` (pauses left out) and, for each phone whose predecessor forced
    alignment also found in the same place of the sequence, (predecessor label, engine start - aligned start)."""
    from emobridge.phonetics.align import align_transcript

    audio, phones = tts.synthesize(text, voice)
    spoken = [p for p in phones if p.label != "SIL"]
    ref = [p for p in align_transcript(audio, text)[0] if p.label != "SIL"]
    blocks = difflib.SequenceMatcher(a=[p.label for p in spoken], b=[p.label for p in ref], autojunk=False)
    diffs = [(spoken[m.a + k - 1].label, spoken[m.a + k].start - ref[m.b + k].start)
             for m in blocks.get_matching_blocks() for k in range(1, m.size)]
    return spoken, diffs


@pytest.mark.parametrize("voice", ["espeak/en+f3", "espeak/en-us+klatt"])
def test_every_m_before_a_vowel_is_spoken_long_enough_and_where_the_aligner_hears_it(voice):
    need(voice)
    text = "Many more men moved from Miami to Maine, and my mother made lemon jam."
    spoken, diffs = spoken_and_aligned(text, voice)
    ms = [p for p in spoken if p.label == "M"]
    # "from Miami" shares one closure between two /m/s
    assert len(ms) == text.lower().count("m") and min(p.end - p.start for p in ms) > 0.015
    after_m = [d for before, d in diffs if before == "M"]
    assert len(after_m) >= 6 and float(np.median(np.abs(after_m))) < 0.025


@pytest.mark.parametrize("voice", ["flite/slt", "espeak/en-us+klatt", "espeak/en+f3"])
def test_engine_boundaries_agree_with_forced_alignment(voice):
    need(voice)
    _spoken, diffs = spoken_and_aligned("Maybe Bob will buy a big map in Boston tomorrow.", voice)
    assert len(diffs) > 15
    assert float(np.median(np.abs([d for _before, d in diffs]))) < 0.025


def test_the_held_out_voice_is_no_corpus_voice_and_speaks_with_engine_timings():
    held_out = tts.HELD_OUT_VOICE
    assert held_out.name not in tts.VOICES and held_out.name not in tts.available_voices()
    assert held_out.engine_voice not in {v.engine_voice for v in tts.VOICES.values()}
    need(held_out)
    audio, phones = tts.synthesize("Bob made a map.", held_out, seed=0)
    assert [p.label for p in phones if p.label in ("P", "B", "M")] == ["B", "B", "M", "M", "P"]
    assert phones[-1].end == pytest.approx(len(audio) / 16000, abs=0.02)
