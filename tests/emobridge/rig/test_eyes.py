"""emobridge.rig.eyes: eye rotations from the eyeLook weights."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emobridge.rig import ARKIT_INDEX, face_tables
from emobridge.rig.eyes import eye_rotations


def _weights(**values: float) -> np.ndarray:
    w = np.zeros(52, np.float32)
    for name, value in values.items():
        w[ARKIT_INDEX[name]] = value
    return w


def test_rest_has_no_eye_rotation():
    left, right = eye_rotations(np.zeros((3, 52)))
    assert left.shape == right.shape == (3, 3) and not left.any() and not right.any()


def test_a_gaze_to_the_faces_left_turns_both_eyes_the_same_way():
    # The face's left: the left eye looks out, the right eye looks in (at the nose); yaw is positive.
    left, right = eye_rotations(_weights(eyeLookOutLeft=1.0, eyeLookInRight=1.0))
    full = math.radians(face_tables()["eye_look_degrees"]["horizontal"])
    np.testing.assert_allclose(left, [full, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(right, [full, 0, 0], rtol=1e-6)
    left, right = eye_rotations(_weights(eyeLookInLeft=0.5, eyeLookOutRight=0.5))
    np.testing.assert_allclose([left[0], right[0]], [-full / 2, -full / 2], rtol=1e-6)


def test_looking_down_is_positive_pitch_and_up_negative():
    full = math.radians(face_tables()["eye_look_degrees"]["vertical"])
    left, right = eye_rotations(_weights(eyeLookDownLeft=1.0, eyeLookUpRight=0.4))
    np.testing.assert_allclose(left, [0, full, 0], rtol=1e-6)
    np.testing.assert_allclose(right, [0, -0.4 * full, 0], rtol=1e-6)


def test_other_shapes_do_not_move_the_eyes_and_a_wrong_width_is_refused():
    others = np.ones(52, np.float32)
    for name in ARKIT_INDEX:
        if name.startswith("eyeLook"):
            others[ARKIT_INDEX[name]] = 0.0
    left, right = eye_rotations(others)
    assert not left.any() and not right.any()
    with pytest.raises(ValueError, match="52 ARKit weights"):
        eye_rotations(np.zeros(51))
