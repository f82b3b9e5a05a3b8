"""Critically damped following of an emotion target: smooth, never overshoots, never pops.

A critically damped second-order system settles fastest without overshoot, and its velocity is
continuous, so a new target mid-transition bends the motion instead of restarting it. The
transition time T is the time to cover 90% of a step (omega = 3.89 / T). Steps are exact
(closed-form), so the result does not depend on the frame rate or chunking of a stream.
"""

from __future__ import annotations

import math

import numpy as np

from emobridge.emotion.space import EMOTIONS, EmotionError

_NINETY_PERCENT = 3.889720169867429  # (1 + x) e^-x = 0.1 at x = 3.88972 (3.8897 fell short of 90%)


class DampedEmotion:
    """The emotion in effect, following its target with a critically damped response."""

    def __init__(self, initial: np.ndarray | None = None) -> None:
        self.value = np.zeros(len(EMOTIONS)) if initial is None else np.asarray(initial, dtype=np.float64).copy()
        self.velocity = np.zeros_like(self.value)
        self.target = self.value.copy()
        self.omega = math.inf

    def set_target(self, target: np.ndarray, transition_s: float) -> None:
        """New target; ``transition_s`` <= 0 snaps immediately (a cut, e.g. a new shot)."""
        if not math.isfinite(transition_s) or transition_s < 0:
            raise EmotionError(f"transition time must be a finite number >= 0 seconds, got {transition_s}")
        self.target = np.asarray(target, dtype=np.float64).copy()
        if transition_s <= 0:
            self.value, self.velocity, self.omega = self.target.copy(), np.zeros_like(self.target), math.inf
        else:
            self.omega = _NINETY_PERCENT / transition_s

    def step(self, dt: float) -> np.ndarray:
        """Advance by ``dt`` seconds and return the emotion in effect (clipped to 0..1)."""
        if math.isinf(self.omega):
            self.value = self.target.copy()
        else:
            w = self.omega
            err = self.value - self.target
            decay = math.exp(-w * dt)
            tmp = (self.velocity + w * err) * dt
            self.value = self.target + (err + tmp) * decay
            self.velocity = (self.velocity - w * tmp) * decay
        return np.clip(self.value, 0.0, 1.0).astype(np.float32)
