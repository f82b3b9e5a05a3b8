"""emobridge.emotion.transition: critically damped following (90% in T, no overshoot, no pops)."""

from __future__ import annotations

import numpy as np
import pytest

from emobridge.emotion.space import EMOTIONS, EmotionError
from emobridge.emotion.transition import DampedEmotion

FPS = 60
DT = 1.0 / FPS


def _unit(name: str, value: float = 1.0) -> np.ndarray:
    v = np.zeros(len(EMOTIONS))
    v[EMOTIONS.index(name)] = value
    return v


def _run(d: DampedEmotion, n: int, dt: float = DT) -> np.ndarray:
    return np.array([d.step(dt) for _ in range(n)])


@pytest.mark.parametrize("transition", [0.1, 0.3, 0.8, 2.0])
def test_reaches_ninety_percent_in_transition_time(transition: float) -> None:
    d = DampedEmotion()
    d.set_target(_unit("happy"), transition)
    n = round(transition * FPS)
    curve = _run(d, 3 * n)[:, EMOTIONS.index("happy")]
    assert curve[n - 1] >= 0.9 - 1e-6  # after exactly `transition` seconds
    assert curve[n - 2] < 0.9          # ... and not much earlier: T is the 90% time, not a loose bound
    assert curve[-1] > 0.99  # settled after 3 T


def test_ninety_percent_is_exact_in_one_step() -> None:
    d = DampedEmotion()
    d.set_target(_unit("sad", 0.5), 0.4)
    assert d.step(0.4)[EMOTIONS.index("sad")] == pytest.approx(0.45, abs=1e-6)


@pytest.mark.parametrize(("start", "end"), [(0.0, 1.0), (1.0, 0.0), (0.2, 0.7), (0.9, 0.3)])
def test_never_overshoots(start: float, end: float) -> None:
    d = DampedEmotion(_unit("angry", start))
    d.set_target(_unit("angry", end), 0.3)
    for _ in range(5 * FPS):
        d.step(DT)
        x = d.value[EMOTIONS.index("angry")]  # the unclipped state, so clipping cannot hide overshoot
        assert min(start, end) - 1e-12 <= x <= max(start, end) + 1e-12
    # ... and it moves monotonically
    d = DampedEmotion(_unit("angry", start))
    d.set_target(_unit("angry", end), 0.3)
    curve = _run(d, 2 * FPS)[:, EMOTIONS.index("angry")]
    steps = np.diff(np.concatenate([[start], curve]))
    assert np.all(steps * np.sign(end - start) >= -1e-7)


def test_max_per_frame_change_at_60fps() -> None:
    d = DampedEmotion()
    d.set_target(_unit("surprise"), 0.3)
    curve = _run(d, FPS)[:, EMOTIONS.index("surprise")]
    steps = np.abs(np.diff(np.concatenate([[0.0], curve])))
    assert steps.max() <= 0.1
    assert steps[0] < 0.03  # starts from rest: no pop on the first frame


def test_retarget_mid_transition_is_continuous() -> None:
    i = EMOTIONS.index("happy")
    d = DampedEmotion()
    d.set_target(_unit("happy"), 0.3)
    before = _run(d, 9)[:, i]  # 0.15 s in, moving fast
    velocity_before = d.velocity[i]
    assert 0.2 < before[-1] < 0.8 and velocity_before > 1.0
    d.set_target(_unit("happy", 0.0), 0.3)
    assert d.velocity[i] == velocity_before  # a new target bends the motion, it does not reset it
    after = _run(d, 2 * FPS)[:, i]
    curve = np.concatenate([[0.0], before, after])
    steps = np.diff(curve)
    assert np.abs(steps).max() <= 0.1
    # No pop: the first frame after the retarget continues in the old direction with a similar step.
    assert steps[9] > 0 and abs(steps[9] - steps[8]) < 0.03
    # Velocity is continuous, so only the acceleration may jump, by at most omega^2 dt^2 |target change|
    # (0.047 per frame^2 here); a reset or restart would show up as a jump several times larger.
    omega = 3.889720169867429 / 0.3
    assert np.abs(np.diff(steps)).max() <= omega**2 * DT**2 * 1.0 + 1e-6
    assert curve[-1] < 0.01  # and it settles on the new target


def test_zero_transition_is_immediate() -> None:
    d = DampedEmotion(_unit("fear", 0.2))
    target = _unit("fear", 0.9) + _unit("sad", 0.4)
    d.set_target(target, 0.0)
    np.testing.assert_allclose(d.value, target)
    np.testing.assert_allclose(d.step(DT), target.astype(np.float32))
    np.testing.assert_allclose(d.step(0.0), target.astype(np.float32))
    assert not np.any(d.velocity)


def test_zero_transition_cut_while_moving_stops_motion() -> None:
    d = DampedEmotion()
    d.set_target(_unit("happy"), 0.5)
    _run(d, 10)
    d.set_target(_unit("sad", 0.5), 0.0)
    curve = _run(d, 5)
    np.testing.assert_allclose(curve, np.tile(_unit("sad", 0.5), (5, 1)), atol=1e-7)


def test_frame_rate_independent() -> None:
    """Steps are closed-form: one 0.3 s step equals eighteen 1/60 s steps equals uneven chunks."""
    results = []
    for dts in ([0.3], [DT] * 18, [0.05, 0.1, 0.01, 0.14]):
        d = DampedEmotion()
        d.set_target(_unit("disgust", 0.8), 0.5)
        for dt in dts:
            out = d.step(dt)
        results.append(out)
    np.testing.assert_allclose(results[0], results[1], atol=1e-6)
    np.testing.assert_allclose(results[0], results[2], atol=1e-6)


def test_output_is_float32_and_clipped() -> None:
    d = DampedEmotion(np.full(len(EMOTIONS), 1.5))  # out-of-range state (e.g. from a bad caller)
    out = d.step(DT)
    assert out.dtype == np.float32 and out.shape == (7,)
    assert np.all(out <= 1.0)


def test_initial_state_holds_without_target() -> None:
    start = _unit("contempt", 0.4)
    d = DampedEmotion(start)
    np.testing.assert_allclose(_run(d, 10), np.tile(start, (10, 1)), atol=1e-7)
    start[0] = 1.0  # the follower copied its initial value
    assert d.value[0] == 0.0


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_bad_transition_time(bad: float) -> None:
    d = DampedEmotion()
    with pytest.raises(EmotionError, match="transition"):
        d.set_target(_unit("happy"), bad)
