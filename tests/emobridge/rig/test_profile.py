"""emobridge.rig.profile: shipped profiles, rename / gain / offset / clamp / combine / split, clear errors."""

import json

import numpy as np
import pytest

from emobridge.rig import ARKIT_INDEX, ARKIT_NAMES
from emobridge.rig.profile import RigProfile, RigProfileError, builtin_profiles, load_profile


def _frames(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (20, 52)).astype(np.float32)


def test_shipped_profiles_load_and_arkit_is_the_identity():
    assert {"arkit", "ict_facekit", "vrm_perfect_sync", "metahuman_arkit"} <= set(builtin_profiles())
    for name in builtin_profiles():
        assert load_profile(name).shapes
    frames = _frames()
    identity = load_profile("arkit")
    assert identity.shape_names == ARKIT_NAMES and np.array_equal(identity.apply(frames), frames)


def test_ict_splits_brows_and_cheeks_and_has_no_tongue():
    ict = load_profile("ict_facekit")
    names, frames = ict.shape_names, _frames()
    assert len(names) == 53 and "tongueOut" not in names
    out = ict.apply(frames)
    for half in ("browInnerUp_L", "browInnerUp_R"):
        assert np.array_equal(out[:, names.index(half)], frames[:, ARKIT_INDEX["browInnerUp"]])
    assert np.array_equal(out[:, names.index("eyeBlink_L")], frames[:, ARKIT_INDEX["eyeBlinkLeft"]])
    assert np.array_equal(out[:, names.index("jawLeft")], frames[:, ARKIT_INDEX["jawLeft"]])  # a name, not a side


def test_gain_offset_clamp_and_combine():
    profile = RigProfile.from_dict({"shapes": {
        "Jaw": {"from": "JawOpen", "gain": 2.0, "offset": -0.1, "max": 0.9},
        "Smile": {"from": ["mouthSmile_L", "mouthSmileRight"], "combine": "max"},
        "Both": {"from": ["eyeBlinkLeft", "eyeBlinkRight"], "combine": "sum"}}})
    frames = np.zeros((3, 52), np.float32)
    frames[:, ARKIT_INDEX["jawOpen"]] = [0.0, 0.3, 0.8]
    frames[:, ARKIT_INDEX["mouthSmileLeft"]] = [0.2, 0.5, 0.1]
    frames[:, ARKIT_INDEX["mouthSmileRight"]] = [0.4, 0.1, 0.1]
    frames[:, ARKIT_INDEX["eyeBlinkLeft"]] = frames[:, ARKIT_INDEX["eyeBlinkRight"]] = [0.2, 0.4, 0.7]
    out = profile.apply(frames)
    assert np.allclose(out[:, 0], [0.0, 0.5, 0.9])
    assert np.allclose(out[:, 1], [0.4, 0.5, 0.1])
    assert np.allclose(out[:, 2], [0.4, 0.8, 1.0])


@pytest.mark.parametrize("shapes, words", [
    ({}, "non-empty 'shapes'"),
    ({"A": "notAShape"}, "'A'"),
    ({"A": {"gain": 2}}, "'from'"),
    ({"A": {"from": "jawOpen", "gian": 2}}, "unknown keys"),
    ({"A": {"from": "jawOpen", "combine": "median"}}, "'combine'"),
    ({"A": {"from": "jawOpen", "gain": "x"}}, "'gain'"),
    ({"A": {"from": "jawOpen", "min": 0.8, "max": 0.2}}, "'min'"),
])
def test_bad_profiles_name_the_problem(shapes, words):
    with pytest.raises(RigProfileError, match=words):
        RigProfile.from_dict({"shapes": shapes})


def test_user_profile_file_and_missing_profile(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"name": "Mine", "shapes": {"Blink_L": "eyeBlinkLeft"}}))
    assert load_profile(path).shape_names == ("Blink_L",)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(RigProfileError, match="not valid JSON"):
        load_profile(tmp_path / "broken.json")
    with pytest.raises(RigProfileError, match="neither a file nor a built-in"):
        load_profile("no_such_rig")
    with pytest.raises(ValueError, match="ARKit frames"):
        load_profile("arkit").apply(np.zeros((3, 51)))
