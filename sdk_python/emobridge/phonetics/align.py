"""PocketSphinx forced alignment (with a transcript), word recognition and phone-loop recognition
(audio only).

Both run on 16 kHz mono float audio and return contiguous ``Phone`` lists covering the clip.
"""

from __future__ import annotations

import logging
import os
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


@lru_cache(maxsize=1)
def _model_dir() -> str:
    from pocketsphinx import get_model_path

    return os.path.join(get_model_path(), "en-us")


def align_transcript(audio16k: np.ndarray, text: str) -> tuple[list[Phone], list[str]]:
    """Force-align ``text`` to the audio. Returns (phones, words left out as unknown to the dictionary).

    Raises AlignmentError when the text is empty, has no known words, or the decoder finds no path.
    """
    from pocketsphinx import Decoder

    words = normalize_transcript(text)
    if not words:
        raise AlignmentError("the transcript is empty (no words after removing tags and punctuation)")
    decoder = Decoder(samprate=16000, bestpath=False, loglevel="FATAL")
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
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
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
    from pocketsphinx import Decoder

    if len(audio16k) == 0 or is_silent(audio16k):
        return [], ""
    decoder = Decoder(samprate=16000, loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw(_pcm16(audio16k), full_utt=True)
    decoder.end_utt()
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
    from pocketsphinx import Decoder

    duration = len(audio16k) / 16000
    if len(audio16k) == 0:  # PocketSphinx fails with an IndexError on no samples
        return []
    if is_silent(audio16k):  # the phone loop hallucinates phones (e.g. one long S) in digital silence
        return [Phone("SIL", 0.0, duration)]

    decoder = Decoder(
        samprate=16000,
        allphone=os.path.join(_model_dir(), "en-us-phone.lm.bin"),
        lw=2.0, pip=0.3, beam=1e-20, pbeam=1e-20,  # phone-loop settings from the PocketSphinx docs
        loglevel="FATAL",
    )
    decoder.start_utt()
    decoder.process_raw(_pcm16(audio16k), full_utt=True)
    decoder.end_utt()
    phones = [Phone(clean_label(s.word), s.start_frame * FRAME_S, (s.end_frame + 1) * FRAME_S) for s in decoder.seg()]
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
