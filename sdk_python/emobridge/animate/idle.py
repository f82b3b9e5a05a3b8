"""Life between the words: blinks, gaze saccades, head motion and brow raises on pitch accents.

All of it is seeded (same seed, same motion) and driven by the clip's prosody where speech gives a
cue: head nods follow loudness, brows rise on pitch accents. Rates follow conversational norms:
about 17 blinks a minute, a gaze shift every second or two, head motion of a few degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emobridge.audio.prosody import Prosody
from emobridge.rig import ARKIT_INDEX, NUM_BLENDSHAPES

BLINKS_PER_MINUTE = 17.0
BLINK_CLOSE_S, BLINK_HOLD_S, BLINK_OPEN_S = 0.08, 0.03, 0.14
GAZE_INTERVAL_S = (0.8, 2.5)
GAZE_RANGE = (0.18, 0.08)          # eyeLook weight range: horizontal, vertical
HEAD_SWAY_RAD = (0.035, 0.02, 0.015)  # yaw, pitch, roll amplitude of the slow sway
NOD_RAD = 0.035                    # extra pitch on loud stretches
ACCENT_SEMITONES = 1.5
BROW_RAISE = {"browInnerUp": 0.25, "browOuterUpLeft": 0.2, "browOuterUpRight": 0.2}


@dataclass
class IdleMotion:
    weights: np.ndarray        # [N, 52] eyes and brows only
    head_rotation: np.ndarray  # [N, 3] yaw, pitch, roll in radians


def _bump(times: np.ndarray, center: float, rise: float, hold: float, fall: float) -> np.ndarray:
    """Asymmetric raised-cosine pulse peaking at ``center``."""
    up = np.clip((times - (center - rise)) / rise, 0, 1)
    down = np.clip(((center + hold + fall) - times) / fall, 0, 1)
    return np.minimum(0.5 - 0.5 * np.cos(np.pi * up), 0.5 - 0.5 * np.cos(np.pi * down))


def _blinks(times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    curve = np.zeros_like(times)
    t = rng.uniform(0.3, 2.5)
    while t < times[-1] + 1:
        curve = np.maximum(curve, _bump(times, t, BLINK_CLOSE_S, BLINK_HOLD_S, BLINK_OPEN_S))
        # Gamma intervals: regular enough to look alive, irregular enough not to look mechanical.
        t += max(1.0, rng.gamma(4.0, 60.0 / BLINKS_PER_MINUTE / 4.0))
    return curve


def _gaze(times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """[N, 2] horizontal (+ = character's left) and vertical (+ = up) gaze, with quick saccades."""
    gaze = np.zeros((len(times), 2))
    t, current = 0.0, np.zeros(2)
    while t < times[-1] + 1:
        target = rng.uniform(-1, 1, 2) * GAZE_RANGE
        # Most saccades return near the listener; a few wander further.
        target *= 0.4 if rng.random() < 0.6 else 1.0
        ramp = np.clip((times - t) / 0.05, 0, 1)[:, None]
        gaze = np.where((times >= t)[:, None], current + (target - current) * ramp, gaze)
        current, t = target, t + rng.uniform(*GAZE_INTERVAL_S)
    return gaze


def _gaze_channels(gaze: np.ndarray) -> np.ndarray:
    w = np.zeros((len(gaze), NUM_BLENDSHAPES))
    left, up = gaze[:, 0], gaze[:, 1]
    w[:, ARKIT_INDEX["eyeLookOutLeft"]] = w[:, ARKIT_INDEX["eyeLookInRight"]] = np.maximum(left, 0)
    w[:, ARKIT_INDEX["eyeLookInLeft"]] = w[:, ARKIT_INDEX["eyeLookOutRight"]] = np.maximum(-left, 0)
    w[:, ARKIT_INDEX["eyeLookUpLeft"]] = w[:, ARKIT_INDEX["eyeLookUpRight"]] = np.maximum(up, 0)
    w[:, ARKIT_INDEX["eyeLookDownLeft"]] = w[:, ARKIT_INDEX["eyeLookDownRight"]] = np.maximum(-up, 0)
    return w


def _on_frames(prosody: Prosody | None, times: np.ndarray, values: np.ndarray | None) -> np.ndarray:
    if prosody is None or values is None or len(values) == 0:
        return np.zeros_like(times)
    return np.interp(times, np.arange(len(values)) * prosody.frame_s, values)


def _pitch_accents(prosody: Prosody | None) -> list[float]:
    """Times of local pitch peaks at least ACCENT_SEMITONES above the speaker's median pitch."""
    if prosody is None:
        return []
    f0 = prosody.f0_hz
    voiced = f0 > 0
    if voiced.sum() < 10:
        return []
    semis = np.where(voiced, 12 * np.log2(np.maximum(f0, 1.0) / np.median(f0[voiced])), -99.0)
    accents: list[float] = []
    for i in range(2, len(semis) - 2):
        window = semis[max(0, i - 15):i + 16]  # a peak within +-150 ms
        if semis[i] >= ACCENT_SEMITONES and semis[i] == window.max():
            t = i * prosody.frame_s
            if not accents or t - accents[-1] > 0.6:
                accents.append(t)
    return accents


def accent_brows(times: np.ndarray, prosody: Prosody | None) -> np.ndarray:
    """[N, 52] brow raises on the clip's pitch accents (heard in the audio, so a model can learn them)."""
    accents = np.zeros(len(times))
    for t in _pitch_accents(prosody):
        accents = np.maximum(accents, _bump(times, t, 0.12, 0.1, 0.3))
    weights = np.zeros((len(times), NUM_BLENDSHAPES))
    for name, value in BROW_RAISE.items():
        weights[:, ARKIT_INDEX[name]] = value * accents
    return weights


def idle_motion(times: np.ndarray, fps: float, prosody: Prosody | None, seed: int) -> IdleMotion:
    """Blinks, gaze and head motion: seeded, not predictable from the audio (nods follow loudness).

    Each part draws from its own generator, so frame i does not depend on how long the clip is: a live
    stream and an offline bake of the same seed move alike.
    """
    n = len(times)
    weights = _gaze_channels(_gaze(times, np.random.default_rng([seed, 0])))
    blink = _blinks(times, np.random.default_rng([seed, 1]))
    weights[:, ARKIT_INDEX["eyeBlinkLeft"]] = weights[:, ARKIT_INDEX["eyeBlinkRight"]] = blink

    head = np.zeros((n, 3))
    rng = np.random.default_rng([seed, 2])
    for axis, amplitude in enumerate(HEAD_SWAY_RAD):
        freqs = rng.uniform(0.08, 0.45, 3)
        phases = rng.uniform(0, 2 * np.pi, 3)
        head[:, axis] = amplitude * np.sin(2 * np.pi * freqs[None, :] * times[:, None] + phases).sum(axis=1) / 1.7
    if prosody is not None:
        loudness = _on_frames(prosody, times, prosody.loudness_db)
        energy = np.clip((loudness - (loudness.max() - 30.0)) / 30.0, 0, 1)
        kernel = np.hanning(max(3, int(0.25 * fps)))
        nod = np.convolve(energy, kernel / kernel.sum(), mode="full")  # "full", then centre: clips shorter
        start = (len(kernel) - 1) // 2                                  # than the kernel work too
        head[:, 1] += NOD_RAD * nod[start:start + n]  # pitch down = nod
    return IdleMotion(weights, head)
