"""The per-line lip-sync self-check: a cheap sanity test that the baked mouth follows the audio.

No transcript, mesh or aligner is needed (the rig-true metrics of ``emobridge.evaluation`` need the ICT head
and phone timings and cost far more than a bake). On the animation's own frame grid:

    envelope    RMS of the audio in each frame, lightly smoothed (Gaussian, sigma 30 ms)
    speech      frames within 30 dB of the loudest frame
    rest        frames more than 45 dB below it and at least 100 ms away from any speech frame
    jaw_corr    Pearson correlation of jawOpen with the envelope (does the jaw move with the syllables)
    open_speech mean jawOpen over speech frames; open_rest the same over rest frames

It passes when jaw_corr >= 0.3, open_speech >= 0.08 and open_rest <= open_speech / 2 (or there is no rest).
On TTS lines both routes give jaw_corr 0.42-0.68, open_speech 0.20-0.26 and open_rest 0.00-0.04; a broken
bake (frozen, shifted by a second, another clip's animation) fails. A silent clip has no speech to check: ``None``.
Strong surprise or fear can hold the jaw open in pauses and fail ``open_rest``; that is a flag to look, not
an error.
"""

from __future__ import annotations

import numpy as np

from emobridge.animation import Animation
from emobridge.audio import SAMPLE_RATE
from emobridge.rig import ARKIT_INDEX

SPEECH_DB = 30.0
REST_DB = 45.0
REST_MARGIN_S = 0.10
SMOOTH_S = 0.03
MIN_CORR = 0.3
MIN_OPEN = 0.08
MAX_REST_SHARE = 0.5


def lipsync_selfcheck(anim: Animation, audio16k: np.ndarray) -> dict[str, float | bool | None]:
    """``{"lipsync_ok", "jaw_corr", "open_speech", "open_rest"}``; all None when the clip has no speech."""
    from scipy.ndimage import binary_dilation, gaussian_filter1d

    jaw = np.asarray(anim.frames[:, ARKIT_INDEX["jawOpen"]], np.float64)  # bake writes canonical ARKit order
    n = len(jaw)
    # Frame j covers samples [j, j + 1) / fps; a running sum gives every frame's mean power at once.
    bounds = np.minimum((np.arange(n + 1) * SAMPLE_RATE / anim.fps).astype(np.int64), len(audio16k))
    energy = np.concatenate([[0.0], np.cumsum(np.asarray(audio16k, np.float64) ** 2)])
    rms = np.sqrt(np.maximum(energy[bounds[1:]] - energy[bounds[:-1]], 0.0) / np.maximum(np.diff(bounds), 1))
    db = 20 * np.log10(rms + 1e-9)
    empty = {"lipsync_ok": None, "jaw_corr": None, "open_speech": None, "open_rest": None}
    if n < 3 or len(audio16k) == 0 or db.max() < -55.0:
        return empty
    speech = db > db.max() - SPEECH_DB
    margin = max(1, round(REST_MARGIN_S * anim.fps))
    rest = (db < db.max() - REST_DB) & ~binary_dilation(speech, iterations=margin)
    envelope = gaussian_filter1d(rms, SMOOTH_S * anim.fps)
    corr = float(np.corrcoef(jaw, envelope)[0, 1]) if jaw.std() > 1e-6 and envelope.std() > 0 else 0.0
    open_speech = float(jaw[speech].mean())
    open_rest = float(jaw[rest].mean()) if rest.any() else None
    ok = corr >= MIN_CORR and open_speech >= MIN_OPEN and (open_rest is None or open_rest <= MAX_REST_SHARE * open_speech)
    return {"lipsync_ok": bool(ok), "jaw_corr": round(corr, 3), "open_speech": round(open_speech, 3),
            "open_rest": None if open_rest is None else round(open_rest, 3)}
