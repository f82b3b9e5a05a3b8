import numpy as np

from emobridge.animate.coarticulation import articulate
from emobridge.phonetics import Phone
from emobridge.rig import ARKIT_INDEX

FPS = 60
JAW = ARKIT_INDEX["jawOpen"]


def _phones(*spec: tuple[str, float]) -> list[Phone]:
    out, t = [], 0.0
    for label, dur in spec:
        out.append(Phone(label, t, t + dur))
        t += dur
    return out


def _times(phones: list[Phone]) -> np.ndarray:
    return np.arange(int(phones[-1].end * FPS)) / FPS


def _at(phone: Phone, curve: np.ndarray) -> np.ndarray:
    return curve[int(phone.start * FPS):int(np.ceil(phone.end * FPS))]


def test_open_vowel_opens_more_than_close_vowel_and_pause_rests():
    phones = _phones(("SIL", 0.5), ("AA", 0.15), ("SIL", 0.5), ("IY", 0.15), ("SIL", 0.5))
    art = articulate(phones, _times(phones))
    jaw = art.weights[:, JAW]
    assert _at(phones[1], jaw).max() > 0.3
    assert _at(phones[1], jaw).max() > 2 * _at(phones[3], jaw).max()
    assert jaw[:10].max() < 0.02 and jaw[-10:].max() < 0.02


def test_curves_are_smooth_not_steps():
    phones = _phones(("SIL", 0.3), ("AA", 0.1), ("T", 0.06), ("IY", 0.1), ("SIL", 0.3))
    art = articulate(phones, _times(phones))
    assert np.abs(np.diff(art.weights, axis=0)).max() < 0.2


def test_bilabial_closure_envelope_covers_the_phone_and_ramps():
    phones = _phones(("SIL", 0.3), ("AA", 0.12), ("M", 0.07), ("AA", 0.12), ("SIL", 0.3))
    art = articulate(phones, _times(phones))
    assert _at(phones[2], art.closure).max() == 1.0
    assert _at(phones[0], art.closure)[:5].max() == 0.0
    assert np.abs(np.diff(art.closure)).max() < 0.5


def test_lookahead_rounds_lips_before_a_rounded_vowel():
    """Coarticulation: the pucker of UW starts during the preceding consonant."""
    phones = _phones(("SIL", 0.3), ("S", 0.1), ("UW", 0.15), ("SIL", 0.3))
    art = articulate(phones, _times(phones))
    pucker = art.weights[:, ARKIT_INDEX["mouthPucker"]]
    assert _at(phones[1], pucker)[-2:].mean() > 0.15


def test_activity_is_zero_in_long_pauses_and_one_in_speech():
    phones = _phones(("SIL", 1.0), ("AA", 0.3), ("SIL", 1.0))
    art = articulate(phones, _times(phones))
    assert art.activity[:20].max() == 0.0 and art.activity[75] == 1.0


def test_empty_phone_list_gives_rest():
    art = articulate([], np.arange(10) / FPS)
    assert not art.weights.any() and not art.closure.any()
