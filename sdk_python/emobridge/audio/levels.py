"""Signal levels in dBFS (0 dB = full scale of float audio, |x| = 1)."""

from __future__ import annotations

import numpy as np


def peak_dbfs(x: np.ndarray) -> float:
    """True peak level; -inf for an empty or all-zero signal."""
    x = np.asarray(x)
    if x.size == 0:
        return float("-inf")
    return _to_db(float(np.max(np.abs(x))))


def is_silent(x: np.ndarray, threshold_dbfs: float = -55.0) -> bool:
    """Whether the signal holds nothing louder than ``threshold_dbfs``.

    Uses the 99.9th percentile of |x| rather than the peak, so a lone click or DC-step
    (a handful of samples) does not make an otherwise silent clip count as speech.
    """
    x = np.asarray(x)
    if x.size == 0:
        return True
    return _to_db(float(np.percentile(np.abs(x), 99.9))) < threshold_dbfs


def _to_db(amplitude: float) -> float:
    return 20.0 * float(np.log10(amplitude)) if amplitude > 0 else float("-inf")
