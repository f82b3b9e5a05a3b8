"""The network's output layout and its conversion to ARKit weights.

The network predicts ARKit-52 in canonical order except one slot: where ARKit has ``mouthClose``
the network predicts the bilabial closure (0..1, "the lips are sealed now"). On a real rig mouthClose
only seals the lips when it matches jawOpen (ARKit: lips together while the jaw is open), so a slightly
blurred mouthClose regressed straight from audio never closes and a slightly high one never opens.
Predicting closure and composing mouthClose = seal_ratio * seal * jawOpen here gives p/b/m that close and
vowels that open on any rig (the procedural animator's own rule, see animate/expression.py).

The jaw also rises halfway toward closed while the lips seal (JAW_YIELD), as a speaker's does for p/b/m.
An emotion that holds the jaw open (surprise) otherwise had to seal a wide jaw with mouthClose alone, so
a short closure jumped mouthClose by up to 0.15 in one 60 fps frame more than in the neutral take (the
transition limit is 0.1); halving the jaw under a seal splits that change between jawOpen and mouthClose.
0.5 is the most yield under which mouthClose still grows monotonically with the seal.
Only here, not in the procedural animator's rule: its closures ramp over whole phones, so they never seal
within a frame (its worst surprise transition jump is 0.063), and its curves are the training targets.

The lip-parting channels are left as the network predicts them: its targets already let them yield to a
seal over the animator's slow emotion ramp. Multiplying them by (1 - seal) here as well made an emotion's
sneer or raised lip flicker at every p/b/m (per-frame jumps up to 0.47 on a 0.3 s transition) for about
1 to 6 points of bilabial closure (measured on the real clips).
"""

from __future__ import annotations

import numpy as np

from emobridge.animate.coarticulation import tuning
from emobridge.rig import ARKIT_INDEX

CLOSURE_SLOT = ARKIT_INDEX["mouthClose"]
JAW = ARKIT_INDEX["jawOpen"]
# Closure estimates from audio are soft; below LOW the lips stay apart, above HIGH they seal fully.
CLOSURE_LOW, CLOSURE_HIGH = 0.25, 0.6
JAW_YIELD = 0.5  # share of the jaw opening that closes under a full seal


def to_network_layout(arkit, closure):
    """Training targets: ARKit frames [..., 52] with the mouthClose slot replaced by closure [...]."""
    out = arkit.clone() if hasattr(arkit, "clone") else np.array(arkit, copy=True)
    out[..., CLOSURE_SLOT] = closure
    return out


def to_arkit(raw: np.ndarray) -> np.ndarray:
    """Network output [T, 52] -> ARKit weights [T, 52] in 0..1."""
    face = np.clip(np.asarray(raw, dtype=np.float64), 0.0, 1.0)
    x = np.clip((face[:, CLOSURE_SLOT] - CLOSURE_LOW) / (CLOSURE_HIGH - CLOSURE_LOW), 0.0, 1.0)
    seal = x * x * (3 - 2 * x)  # smoothstep: a continuous, monotonic sharpening
    face[:, JAW] *= 1.0 - JAW_YIELD * seal
    face[:, CLOSURE_SLOT] = tuning()["closure"]["seal_ratio"] * seal * face[:, JAW]
    return face.astype(np.float32)
