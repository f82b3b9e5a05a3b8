import numpy as np
import pytest

from emobridge.animate.coarticulation import articulate
from emobridge.animate.expression import compose_face, emotion_basis
from emobridge.emotion import EMOTIONS
from emobridge.phonetics import Phone
from emobridge.rig import ARKIT_INDEX, face_tables

FPS = 60
PHONES = [Phone("SIL", 0, 0.3), Phone("AA", 0.3, 0.45), Phone("B", 0.45, 0.52), Phone("AA", 0.52, 0.7),
          Phone("SIL", 0.7, 1.2)]
TIMES = np.arange(72) / FPS


def _face(emotion: np.ndarray, mp: float = 0.5) -> np.ndarray:
    art = articulate(PHONES, TIMES)
    return compose_face(art, np.tile(emotion, (len(TIMES), 1)), mp)


def test_neutral_is_pure_articulation():
    art = articulate(PHONES, TIMES)
    face = compose_face(art, np.zeros((len(TIMES), len(EMOTIONS))), 0.5)
    close = ARKIT_INDEX["mouthClose"]
    others = np.ones(52, bool)
    others[close] = False
    open_ = art.closure == 0
    assert np.allclose(face[open_][:, others], art.weights[open_][:, others])


def test_basis_covers_every_emotion():
    basis = emotion_basis()
    assert basis.shape == (7, 52) and (basis.sum(axis=1) > 0.5).all()


@pytest.mark.parametrize("name", EMOTIONS)
def test_closure_wins_on_the_bilabial_under_full_emotion(name):
    face = _face(np.eye(7)[EMOTIONS.index(name)], mp=0.0)
    b = slice(int(0.47 * FPS), int(0.5 * FPS))
    for channel in face_tables()["lip_opening_channels"]:
        assert face[b, ARKIT_INDEX[channel]].max() < 0.02, channel
    jaw, close = face[b, ARKIT_INDEX["jawOpen"]], face[b, ARKIT_INDEX["mouthClose"]]
    assert np.all(close >= 0.85 * np.clip(jaw, 0, 1))


def test_mouth_preservation_protects_articulation_while_speaking():
    emotion = np.eye(7)[EMOTIONS.index("surprise")]
    speaking = slice(int(0.32 * FPS), int(0.44 * FPS))
    jaw = ARKIT_INDEX["jawOpen"]
    neutral = _face(np.zeros(7), 1.0)[speaking, jaw]
    kept = _face(emotion, 1.0)[speaking, jaw]
    free = _face(emotion, 0.0)[speaking, jaw]
    assert np.allclose(kept, neutral, atol=1e-6)
    assert free.mean() > neutral.mean() + 0.1


def test_upper_face_carries_emotion_regardless_of_preservation():
    emotion = np.eye(7)[EMOTIONS.index("sad")]
    brow = ARKIT_INDEX["browInnerUp"]
    assert _face(emotion, 1.0)[:, brow].min() == pytest.approx(0.75)


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_bad_mouth_preservation_is_a_clear_error(value):
    with pytest.raises(ValueError, match="mouth_preservation"):
        _face(np.zeros(7), value)
