import numpy as np

from emobridge.model.output import CLOSURE_SLOT, JAW, JAW_YIELD, to_arkit, to_network_layout
from emobridge.rig import ARKIT_INDEX


def _raw(closure: float, jaw: float = 0.4) -> np.ndarray:
    raw = np.zeros((1, 52), np.float32)
    raw[0, JAW], raw[0, CLOSURE_SLOT] = jaw, closure
    raw[0, ARKIT_INDEX["mouthUpperUpLeft"]] = 0.3
    return raw


def test_confident_closure_seals_and_leaves_other_channels_as_predicted():
    face = to_arkit(_raw(0.9))
    assert face[0, CLOSURE_SLOT] >= 0.85 * face[0, JAW]
    # The network's own lip-parting channels already yield to the seal; gating them again made emotions flicker.
    assert np.isclose(face[0, ARKIT_INDEX["mouthUpperUpLeft"]], 0.3)


def test_the_jaw_rises_halfway_while_the_lips_seal():
    assert np.isclose(to_arkit(_raw(0.9, jaw=0.4))[0, JAW], 0.4 * (1 - JAW_YIELD))
    assert np.isclose(to_arkit(_raw(0.1, jaw=0.4))[0, JAW], 0.4)


def test_a_short_seal_under_an_open_jaw_emotion_changes_no_channel_by_more_than_a_tenth_a_frame():
    # Surprise holds the jaw ~0.2 wider than neutral speech; a one-frame p/b/m must not make the emotional
    # take jump away from the neutral one by more than the continuity limit (quality.md: 0.1 per frame).
    closure = [0.0, 0.9, 0.0]
    neutral = np.concatenate([to_arkit(_raw(c, jaw=0.05)) for c in closure])
    surprised = np.concatenate([to_arkit(_raw(c, jaw=0.25)) for c in closure])
    assert np.abs(np.diff(surprised - neutral, axis=0)).max() <= 0.1


def test_low_closure_leaves_the_mouth_open():
    face = to_arkit(_raw(0.1))
    assert face[0, CLOSURE_SLOT] == 0 and face[0, ARKIT_INDEX["mouthUpperUpLeft"]] > 0.29


def test_sharpening_is_monotonic_and_continuous():
    seals = [to_arkit(_raw(c))[0, CLOSURE_SLOT] for c in np.linspace(0, 1, 101)]
    assert np.all(np.diff(seals) >= 0) and np.abs(np.diff(seals)).max() < 0.05


def test_network_layout_swaps_in_closure():
    arkit = np.full((3, 52), 0.2, np.float32)
    out = to_network_layout(arkit, np.array([0, 0.5, 1]))
    assert list(out[:, CLOSURE_SLOT]) == [0, 0.5, 1] and arkit[0, CLOSURE_SLOT] == np.float32(0.2)
