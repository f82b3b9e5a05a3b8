"""Phonetics: phone timings for a clip, from its transcript (forced alignment) or from audio alone
(word recognition, or a phone loop), all with PocketSphinx and its bundled English model; phone -> viseme.

A phone is ``Phone(label, start, end)`` with an ARPAbet label (no stress digits) or ``SIL``.
"""

from emobridge.phonetics.align import AlignmentError, align_transcript, recognize_phones, recognize_words
from emobridge.phonetics.phones import Phone, normalize_transcript
from emobridge.rig import viseme_for_phone

__all__ = ["AlignmentError", "Phone", "align_transcript", "normalize_transcript", "recognize_phones", "recognize_words",
           "viseme_for_phone"]
