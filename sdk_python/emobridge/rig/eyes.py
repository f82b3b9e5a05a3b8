"""Eye rotations from the ARKit eyeLook* weights, for rigs that turn eye bones and for Live Link's eye curves.

The face's gaze lives in its blendshapes (eyeLookIn/Out/Up/Down per eye); a rig with eye bones needs the
same gaze as rotations. The angle at a weight of 1 is ``eye_look_degrees`` in face_tables.json. Rotations
follow the wire's convention (proto Rotation): yaw positive towards the face's own left, pitch positive
looking down, no roll. The left eye turns to the face's left when it looks out, the right eye when it
looks in (at the nose).
"""

from __future__ import annotations

import math

import numpy as np

from emobridge.rig import ARKIT_INDEX, NUM_BLENDSHAPES, face_tables


def _eye_matrix() -> np.ndarray:
    """[52, 6]: weights @ matrix = left (yaw, pitch, roll), right (yaw, pitch, roll)."""
    degrees = face_tables()["eye_look_degrees"]
    yaw, pitch = math.radians(degrees["horizontal"]), math.radians(degrees["vertical"])
    m = np.zeros((NUM_BLENDSHAPES, 6), np.float32)
    for column, side, towards_left, towards_right in ((0, "Left", "Out", "In"), (3, "Right", "In", "Out")):
        m[ARKIT_INDEX[f"eyeLook{towards_left}{side}"], column] = yaw
        m[ARKIT_INDEX[f"eyeLook{towards_right}{side}"], column] = -yaw
        m[ARKIT_INDEX[f"eyeLookDown{side}"], column + 1] = pitch
        m[ARKIT_INDEX[f"eyeLookUp{side}"], column + 1] = -pitch
    return m


EYE_MATRIX = _eye_matrix()


def eye_rotations(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ARKit weights [..., 52] -> (left eye, right eye), each [..., 3] yaw, pitch, roll in radians."""
    w = np.asarray(weights, np.float32)
    if w.shape[-1] != NUM_BLENDSHAPES:
        raise ValueError(f"eye rotations need the {NUM_BLENDSHAPES} ARKit weights per frame, got {w.shape[-1]}")
    both = w @ EYE_MATRIX
    return both[..., :3], both[..., 3:]
