import numpy as np

from emobridge.animate.idle import _pitch_accents, accent_brows, idle_motion
from emobridge.audio.prosody import Prosody
from emobridge.rig import ARKIT_INDEX

FPS = 60
TIMES = np.arange(60 * FPS) / FPS


def _blink_count(curve: np.ndarray) -> int:
    closed = curve > 0.9
    return int(np.count_nonzero(closed[1:] & ~closed[:-1]))


def test_blink_rate_is_natural():
    idle = idle_motion(TIMES, FPS, None, seed=3)
    blinks = _blink_count(idle.weights[:, ARKIT_INDEX["eyeBlinkLeft"]])
    assert 10 <= blinks <= 25  # about 17 a minute


def test_seeded_and_reproducible():
    a, b = idle_motion(TIMES, FPS, None, seed=7), idle_motion(TIMES, FPS, None, seed=7)
    c = idle_motion(TIMES, FPS, None, seed=8)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.head_rotation, b.head_rotation)
    assert not np.array_equal(a.weights, c.weights)


def test_head_motion_is_small_and_smooth():
    head = idle_motion(TIMES, FPS, None, seed=1).head_rotation
    assert np.abs(head).max() < np.radians(6)
    assert np.abs(np.diff(head, axis=0)).max() < np.radians(0.5)
    assert head.std(axis=0).min() > np.radians(0.2)


def test_brows_rise_on_pitch_accents_only():
    n = 300
    f0 = np.full(n, 120.0)
    f0[150:160] = 160.0  # a ~5 semitone accent at 1.5 s
    prosody = Prosody(np.full(n, -20.0, np.float32), f0.astype(np.float32))
    assert _pitch_accents(prosody) == [1.5]
    times = np.arange(3 * FPS) / FPS
    brow = accent_brows(times, prosody)[:, ARKIT_INDEX["browInnerUp"]]
    assert brow[int(1.5 * FPS)] > 0.2 and brow[: FPS].max() == 0.0
    flat = Prosody(np.full(n, -20.0, np.float32), np.full(n, 120.0, np.float32))
    assert _pitch_accents(flat) == []


def test_a_frame_does_not_depend_on_clip_length():
    """Live streams and offline bakes of the same seed must agree frame by frame."""
    short, long = idle_motion(TIMES[:600], FPS, None, seed=4), idle_motion(TIMES, FPS, None, seed=4)
    np.testing.assert_array_equal(short.weights, long.weights[:600])
    np.testing.assert_array_equal(short.head_rotation, long.head_rotation[:600])


def test_clips_shorter_than_the_nod_kernel_still_nod():
    """A 0.1 s line (6 frames at 60 fps) is shorter than the 0.25 s smoothing kernel of the nod."""
    prosody = Prosody(np.full(10, -20.0, np.float32), np.full(10, 120.0, np.float32))
    for n in (1, 6, 14, 15, 16, 40):
        idle = idle_motion(TIMES[:n], FPS, prosody, seed=2)
        assert idle.head_rotation.shape == (n, 3) and np.isfinite(idle.head_rotation).all()
    long = idle_motion(TIMES[:40], FPS, prosody, seed=2).head_rotation
    np.testing.assert_allclose(idle_motion(TIMES[:40], FPS, None, seed=2).head_rotation[:, 0], long[:, 0])
