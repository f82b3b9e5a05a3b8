"""PocketSphinx forced alignment (with a transcript), word recognition and phone-loop recognition
(audio only).

All run on 16 kHz mono float audio and return contiguous ``Phone`` lists covering the clip. Each thread
keeps one decoder of each kind: loading PocketSphinx's models (~0.3 s) costs more than aligning a line.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

from emobridge.audio.levels import is_silent
from emobridge.phonetics.phones import Phone, clean_label, normalize_transcript

log = logging.getLogger(__name__)
FRAME_S = 0.01  # PocketSphinx frames are 10 ms


class AlignmentError(RuntimeError):
    """The transcript could not be aligned to the audio (callers fall back to audio only)."""


def _pcm16(audio16k: np.ndarray) -> bytes:
    return (np.clip(audio16k, -1.0, 1.0) * 32767).astype("<i2").tobytes()


_decoders = threading.local()


def _decoder_options(kind: str) -> dict:
    if kind == "align":
        return {"bestpath": False}
    if kind == "phones":  # phone-loop settings from the PocketSphinx docs
        return {"allphone": os.path.join(_model_dir(), "en-us-phone.lm.bin"), "lw": 2.0, "pip": 0.3,
                "beam": 1e-20, "pbeam": 1e-20}
    # "words": the bundled English language model. Capping the active HMMs per frame (default 30000) and
    # skipping the second, flat-lexicon pass doubles the decoding speed and finds as many p/b/m (session 11:
    # 140 of the acceptance clips' 163 reference p/b/m against 138, 10.9x real time against 5.4x).
    return {"maxhmmpf": 3000, "fwdflat": False}


@contextmanager
def _decoder(kind: str) -> Iterator:
    """This thread's decoder of one kind ("align", "words" or "phones"), built on first use and kept even when
    the caller raises: ``_decode`` always ends its utterance, so the decoder is ready for the next clip."""
    from pocketsphinx import Decoder

    decoder = _decoders.__dict__.pop(kind, None) or Decoder(samprate=16000, loglevel="FATAL", **_decoder_options(kind))
    try:
        yield decoder
    finally:
        _decoders.__dict__[kind] = decoder


def _decode(decoder, pcm: bytes) -> None:
    """Decode one whole utterance from a clean slate. PocketSphinx carries its noise statistics over from the
    utterances before unless the stream is reset, which made a reused decoder's words depend on the clips it
    had decoded (and a batch's output on its line order); version 5 calls that reset deprecated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        decoder.start_stream()
    decoder.start_utt()
    try:
        decoder.process_raw(pcm, full_utt=True)
    finally:
        decoder.end_utt()


@lru_cache(maxsize=1)
def _model_dir() -> str:
    from pocketsphinx import get_model_path

    return os.path.join(get_model_path(), "en-us")


def align_transcript(audio16k: np.ndarray, text: str) -> tuple[list[Phone], list[str]]:
    """Force-align ``text`` to the audio. Returns (phones, words left out as unknown to the dictionary).

    Raises AlignmentError when the text is empty, has no known words, or the decoder finds no path.
    """
    words = normalize_transcript(text)
    if not words:
        raise AlignmentError("the transcript is empty (no words after removing tags and punctuation)")
    with _decoder("align") as decoder:
        return _align(decoder, audio16k, words)


def _align(decoder, audio16k: np.ndarray, words: list[str]) -> tuple[list[Phone], list[str]]:
    known = [w for w in words if decoder.lookup_word(w)]
    unknown = [w for w in words if not decoder.lookup_word(w)]
    if not known:
        raise AlignmentError(f"none of the transcript's words are in the pronouncing dictionary: {' '.join(words[:8])}")
    if len(audio16k) == 0:  # PocketSphinx fails with an IndexError on no samples
        raise AlignmentError("the audio is empty (no samples to align the transcript to)")
    if is_silent(audio16k):
        raise AlignmentError("the audio is silent (nothing above -55 dBFS to align the transcript to)")
    pcm = _pcm16(audio16k)
    try:
        decoder.set_align_text(" ".join(known))
        for _ in range(2):  # first pass: word alignment; second: phone alignment within it
            _decode(decoder, pcm)
            if _ == 0:
                decoder.set_alignment()
        alignment = decoder.get_alignment()
        phones = [
            Phone(clean_label(p.name), p.start * FRAME_S, (p.start + p.duration) * FRAME_S)
            for word in alignment
            for p in word
        ]
    except RuntimeError as err:
        raise AlignmentError(f"the decoder could not align the transcript to this audio ({err})") from None
    if not any(p.label != "SIL" for p in phones):
        raise AlignmentError("the decoder found no speech matching the transcript")
    return _cover(phones, len(audio16k) / 16000), unknown


def recognize_words(audio16k: np.ndarray) -> tuple[list[Phone], str]:
    """Audio-only phone timings from word recognition: PocketSphinx's bundled English language model
    decodes the words, then they are force-aligned like a transcript. Returns (phones, the recognised
    words); no speech or no words gives ([], "").

    Far more accurate than the phone loop, since words constrain the phones (real speech, session 10:
    136 of 160 p/b/m found against 88), but whole-utterance: for offline bakes, not for the live path.
    """
    if len(audio16k) == 0 or is_silent(audio16k):
        return [], ""
    with _decoder("words") as decoder:
        _decode(decoder, _pcm16(audio16k))
        hypothesis = decoder.hyp()
        words = hypothesis.hypstr if hypothesis is not None else ""
    if not words.strip():
        return [], ""
    try:
        phones, _unknown = align_transcript(audio16k, words)  # recognised words are all in the dictionary
    except AlignmentError as err:
        log.warning("recognised words %r did not align (%s); no recognised phones", words[:60], err)
        return [], words
    return phones, words


def recognize_phones(audio16k: np.ndarray) -> list[Phone]:
    """Audio-only phone timings from a phone-loop decode (no transcript needed)."""
    duration = len(audio16k) / 16000
    if len(audio16k) == 0:  # PocketSphinx fails with an IndexError on no samples
        return []
    if is_silent(audio16k):  # the phone loop hallucinates phones (e.g. one long S) in digital silence
        return [Phone("SIL", 0.0, duration)]
    with _decoder("phones") as decoder:
        _decode(decoder, _pcm16(audio16k))
        phones = [Phone(clean_label(s.word), s.start_frame * FRAME_S, (s.end_frame + 1) * FRAME_S)
                  for s in decoder.seg() or []]  # None when the clip is too short to decode (< ~0.05 s)
    return _cover(phones, duration)


def _cover(phones: list[Phone], duration: float) -> list[Phone]:
    """Sort, merge adjacent silences and fill gaps with SIL so phones tile [0, duration]."""
    out: list[Phone] = []
    t = 0.0
    for p in sorted(phones, key=lambda p: p.start):
        start, end = max(p.start, t), min(p.end, duration)
        if end <= start:
            continue
        if start > t + 1e-6:
            out.append(Phone("SIL", t, start))
        out.append(Phone(p.label, start, end))
        t = end
    if t < duration - 1e-6:
        out.append(Phone("SIL", t, duration))
    merged: list[Phone] = []
    for p in out:
        if merged and p.label == "SIL" and merged[-1].label == "SIL":
            merged[-1] = Phone("SIL", merged[-1].start, p.end)
        else:
            merged.append(p)
    return merged
