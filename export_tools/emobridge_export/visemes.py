"""The 15 Oculus visemes per frame, for rigs that only have viseme shapes (OVRLipSync-style avatars).

Each viseme is the mouth pose of the phones it stands for (the procedural animator's own phone targets
in ``articulation.json``, grouped by ``phone_to_viseme`` in face_tables.json); PP also carries the lip
seal. How sealed the lips are (mouthClose relative to jawOpen) is PP's weight outright: the jaw often
stays open through an m between vowels, and a seal is the one thing no other viseme shows. The rest of
the mouth (the articulation channels) is written as a non-negative mix of the other poses within what the
seal leaves, and ``sil`` takes what is left, so each row sums to 1.

Limits: ARKit weights carry no tongue, so visemes that differ only inside the mouth (DD, kk, nn, TH)
are told apart only by their jaw and lip shapes and are often confused with one another.
"""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from emobridge.animate.coarticulation import phone_target, tuning
from emobridge.animation import Animation
from emobridge.rig import ARKIT_INDEX, PHONE_TO_VISEME, VISEMES
from emobridge.rig.profile import RigProfile
from emobridge_export import ExportError


@lru_cache(maxsize=1)
def _feature_channels() -> list[int]:
    names: list[str] = []
    for value in tuning()["channels"].values():
        names += [value] if isinstance(value, str) else value
    return [ARKIT_INDEX[n] for n in names]


PP = VISEMES.index("PP")


def lip_seal(frames: np.ndarray) -> np.ndarray:
    """[T, 52] ARKit -> [T] how sealed the lips are (0..1): mouthClose against what the open jaw needs."""
    jaw = frames[:, ARKIT_INDEX["jawOpen"]]
    seal = np.clip(frames[:, ARKIT_INDEX["mouthClose"]] / np.maximum(tuning()["closure"]["seal_ratio"] * jaw, 1e-3), 0, 1)
    return np.where(jaw < 1e-3, 0.0, seal)


@lru_cache(maxsize=1)
def viseme_poses() -> np.ndarray:
    """[15, F] articulation channels of every viseme (``sil`` is the rest pose, all zeros)."""
    rows = [np.zeros(len(_feature_channels()))]
    for viseme in VISEMES[1:]:
        phones = [p for p, v in PHONE_TO_VISEME.items() if v == viseme]
        rows.append(np.mean([phone_target(p) for p in phones], axis=0)[_feature_channels()])
    return np.array(rows)


def visemes_of(frames: np.ndarray) -> np.ndarray:
    """ARKit frames [T, 52] -> viseme weights [T, 15] in VISEMES order, each row summing to 1."""
    frames = np.asarray(frames, np.float64)
    others = [i for i in range(1, len(VISEMES)) if i != PP]
    poses = viseme_poses()[others].T
    seal = lip_seal(frames)
    out = np.zeros((len(frames), len(VISEMES)))
    out[:, PP] = seal
    for t, f in enumerate(frames[:, _feature_channels()]):
        w, _ = nnls(poses, f)
        room = 1.0 - seal[t]
        if w.sum() > room:
            w *= room / w.sum()
        out[t, others] = w
    out[:, 0] = np.clip(1.0 - out[:, 1:].sum(axis=1), 0.0, 1.0)
    return out


def export_visemes(animation: Animation, out: str | Path, rig: RigProfile | None = None) -> Path:
    """CSV (time + 15 viseme columns) or, for a .json path, ``{"fps", "visemes", "frames"}``."""
    if rig is not None:
        raise ExportError("visemes are always the 15 Oculus visemes; --rig does not apply to this format")
    out = Path(out)
    weights = visemes_of(animation.frames)
    tmp = out.with_name(out.name + ".tmp")
    if out.suffix.lower() == ".json":
        tmp.write_text(json.dumps({"fps": animation.fps, "visemes": list(VISEMES),
                                   "frames": np.round(weights, 5).tolist()}), encoding="utf-8")
    else:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["time", *VISEMES])
            for i, row in enumerate(weights):
                writer.writerow([f"{i / animation.fps:.6g}", *(f"{v:.5f}" for v in row)])
    tmp.replace(out)
    return out
