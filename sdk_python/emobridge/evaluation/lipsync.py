"""Rig-true lip-sync metrics: the inner-lip gap of the ICT-FaceKit head against forced-aligned phones.

Definitions (``shared/design/quality.md``), all on the per-frame gap ``g`` in cm between the inner upper
and lower lip centres (ICT-FaceKit landmarks 62 and 66) with the animation's weights applied:

    bilabial_closure  share of P/B/M phones lasting >= 30 ms whose frames (one frame of slack each side)
                      bring the lips to g <= 0.3 cm
    open_vowel        share of AA/AE/AO/AW/AY phones lasting >= 50 ms whose frames open g >= 0.6 cm
    lag_ms            the shift of g against a phone-derived opening curve (within +-200 ms) that
                      correlates best; positive means the mouth moves after the phones
    corr              Pearson correlation of g with that curve without any shift
    hf_ratio          share of the spectral energy of g above 10 Hz (frame-to-frame jitter)
    silence_ratio     mean of max(g, 0) over speech frames / (mean over pauses + 0.05 cm), where pauses
                      are silences of >= 300 ms less 100 ms at each end

The opening curve is a plain reference: 1.0 on open vowels, 0.6 on other vowels, 0.3 on consonants other
than P/B/M, 0 on P/B/M and silence, blurred by a Gaussian of sigma 30 ms (a 25-frame window).

Frame arithmetic deliberately follows the acceptance evaluator (``shared/tools/lipsync_eval.py``) to the
last float: a time t falls in frame ``int(t * fps)``, durations are compared as plain float differences,
and phone times are first rounded to the microsecond so that the aligner's ``k * 0.01`` and the
evaluator's ``k / 100`` are the same number. Given the same phones, the metrics then match it exactly.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from emobridge.animation import Animation
from emobridge.phonetics.phones import VOWELS, clean_label
from emobridge.rig import ARKIT_NAMES

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
INNER_LIP_VERTICES = (5533, 5517)  # ICT-FaceKit upper / lower inner-lip centre (68-point landmarks 62, 66)
CLOSED_CM = 0.30
OPEN_CM = 0.60
BILABIALS = frozenset({"P", "B", "M"})
OPEN_VOWELS = frozenset({"AA", "AE", "AO", "AW", "AY"})
MIN_BILABIAL_S = 0.03
MIN_OPEN_VOWEL_S = 0.05
MIN_PAUSE_S = 0.30
PAUSE_TRIM_S = 0.10       # left out at each end of a pause: the mouth may still be closing / already opening
PAUSE_FLOOR_CM = 0.05     # added to the pause mean so a perfectly shut mouth does not divide by zero
HF_CUTOFF_HZ = 10.0
MAX_LAG_MS = 200.0
CURVE_SIGMA_S = 0.03
CURVE_RADIUS = 12         # frames each side of the Gaussian window
TIME_DECIMALS = 6         # phone times are rounded to the microsecond before they become frame numbers

# Table order of the metrics and their targets per quality.md, for audio-only bakes and bakes with a transcript.
METRICS = ("bilabial_closure", "open_vowel", "lag_ms", "corr", "hf_ratio", "silence_ratio")
TARGETS: dict[str, dict[str, tuple[str, float]]] = {
    "audio": {"bilabial_closure": (">=", 0.90), "open_vowel": (">=", 0.90), "lag_ms": ("abs<=", 20.0),
              "corr": (">=", 0.65), "hf_ratio": ("<=", 0.05), "silence_ratio": (">=", 3.0)},
    "text": {"bilabial_closure": (">=", 0.97), "open_vowel": (">=", 0.95), "lag_ms": ("abs<=", 20.0),
             "corr": (">=", 0.75), "hf_ratio": ("<=", 0.05), "silence_ratio": (">=", 3.0)},
}

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")
TRANSCRIPT_EXTENSIONS = (".txt", ".lab")
TRANSCRIPTS_TSV = "transcripts.tsv"
_TSV_HEADER_IDS = {"id", "clip", "file", "name", "utterance", "audio"}


def meets_target(metric: str, value: float | None, with_text: bool = False) -> bool | None:
    """Whether ``value`` meets the quality.md target of ``metric`` (None: no value or no target)."""
    target = TARGETS["text" if with_text else "audio"].get(metric)
    if target is None or value is None or not math.isfinite(value):
        return None
    op, bound = target
    if op == ">=":
        return value >= bound
    if op == "<=":
        return value <= bound
    return abs(value) <= bound


# -- the lip gap -------------------------------------------------------------------------------------------

def _arkit_columns(names: Sequence[str]) -> np.ndarray:
    """For each animation channel its index in ARKIT_NAMES, or -1 when it is no ARKit shape (ignored)."""
    index = {n.lower(): i for i, n in enumerate(ARKIT_NAMES)}
    return np.array([index.get(str(n).lower(), -1) for n in names], np.int64)


def _inner_lip_rows(mesh) -> tuple[int, int]:
    """Rows of the inner-lip vertices in ``mesh`` (FaceMesh keeps a subset of the ICT vertices)."""
    kept = np.asarray(mesh.source_indices)
    rows = np.searchsorted(kept, INNER_LIP_VERTICES)
    if (rows >= len(kept)).any() or not np.array_equal(kept[np.minimum(rows, len(kept) - 1)], INNER_LIP_VERTICES):
        raise ValueError(f"{mesh.path}: the inner-lip vertices {INNER_LIP_VERTICES} are not part of this head")
    return int(rows[0]), int(rows[1])


def lip_gap(anim_frames: np.ndarray, names: Sequence[str], mesh=None) -> np.ndarray:
    """[T] vertical inner-lip gap in cm on the ICT-FaceKit head (negative: the lips press into each other).

    ``anim_frames`` [T, len(names)] weights (clipped to 0..1); channels that are not ARKit shapes, or that
    ICT-FaceKit has no shape for (tongueOut), do not move the lips. ``mesh`` is a ``FaceMesh`` (default:
    the shared head found by ``resolve_mesh_path``).
    """
    if mesh is None:
        from emobridge.render import FaceMesh

        mesh = FaceMesh.default()
    frames = np.asarray(anim_frames, np.float64)
    if frames.ndim != 2 or frames.shape[1] != len(names):
        raise ValueError(f"lip_gap: expected frames of shape [T, {len(names)}], got {list(frames.shape)}")
    upper, lower = _inner_lip_rows(mesh)
    rest = float(mesh.neutral[upper, 1]) - float(mesh.neutral[lower, 1])
    per_shape = mesh.deltas[:, upper, 1].astype(np.float64) - mesh.deltas[:, lower, 1]   # [52] cm per unit weight
    columns = _arkit_columns(names)
    opening = np.where(columns >= 0, per_shape[np.maximum(columns, 0)], 0.0)
    return rest + np.clip(frames, 0.0, 1.0) @ opening


# -- phone-derived references --------------------------------------------------------------------------------

def _phone_list(phones: Iterable) -> list[tuple[str, float, float]]:
    """(label, start, end) with ARPAbet labels without stress; anything else (noise, sp, sil) is SIL."""
    return [(clean_label(str(p[0])), round(float(p[1]), TIME_DECIMALS), round(float(p[2]), TIME_DECIMALS))
            for p in phones]


def _frame(t: float, fps: float) -> int:
    """The frame a (non-negative) time falls in."""
    return int(t * fps)


def _opening_level(label: str) -> float:
    if label in OPEN_VOWELS:
        return 1.0
    if label in VOWELS:
        return 0.6
    if label in BILABIALS or label == "SIL":
        return 0.0
    return 0.3


def opening_curve(phones: Iterable, fps: float, n: int) -> np.ndarray:
    """[n] phone-derived mouth-opening reference (0..1), the curve ``lag_ms`` and ``corr`` compare against."""
    levels = np.zeros(n)
    for label, start, end in _phone_list(phones):
        a = _frame(start, fps)
        levels[a:max(a + 1, _frame(end, fps))] = _opening_level(label)
    kernel = np.exp(-0.5 * (np.arange(-CURVE_RADIUS, CURVE_RADIUS + 1) / (CURVE_SIGMA_S * fps)) ** 2)
    smoothed = np.convolve(levels, kernel / kernel.sum(), mode="full")   # "full", then centre: any n works
    return smoothed[CURVE_RADIUS:CURVE_RADIUS + n]


def _standardise(x: np.ndarray) -> np.ndarray | None:
    sd = float(x.std())
    return None if sd < 1e-9 else (x - x.mean()) / sd


def _lag_and_corr(gap: np.ndarray, reference: np.ndarray, fps: float) -> tuple[float | None, float]:
    """(best lag in ms, Pearson r at no shift). Lag L pairs gap[t + L] with reference[t]."""
    g, r = _standardise(gap), _standardise(reference)
    if g is None or r is None:          # a frozen mouth (or a reference without speech) has no timing
        return None, 0.0
    n = len(g)
    best_score, best_lag = -math.inf, 0
    max_lag = int(MAX_LAG_MS * fps / 1000.0)
    for lag in sorted(range(-max_lag, max_lag + 1), key=abs):   # on a tie the smaller shift wins
        overlap = n - abs(lag)
        if overlap <= 10:
            continue
        score = float(np.dot(g[lag:], r[:overlap]) if lag >= 0 else np.dot(g[:lag], r[-lag:])) / overlap
        if score > best_score:
            best_score, best_lag = score, lag
    return best_lag * 1000.0 / fps, float(np.dot(g, r) / n)


# -- the metrics ---------------------------------------------------------------------------------------------

def lipsync_metrics(anim: Animation, audio16k: np.ndarray, phones: Iterable, mesh=None) -> dict[str, float | int | None]:
    """Lip-sync metrics of ``anim`` against ``phones`` (label, start s, end s) aligned to ``audio16k``.

    Returns the six quality.md metrics (None where the clip has nothing to measure: no P/B/M, no open
    vowel, no pause of >= 300 ms, a motionless mouth) plus ``bilabials`` / ``open_vowels`` (how many phones
    were scored), ``frames`` and ``duration_s`` (of the audio).
    """
    fps = float(anim.fps)
    gap = lip_gap(anim.frames, anim.blendshape_names, mesh)
    n = len(gap)
    plist = _phone_list(phones)
    result: dict[str, float | int | None] = {"frames": n, "duration_s": round(len(audio16k) / SAMPLE_RATE, 3)}

    def window(start: float, end: float) -> np.ndarray:
        a = max(0, _frame(start, fps) - 1)
        b = min(n, math.ceil(end * fps) + 1)
        return gap[a:b]

    closed = [bool(w.min() <= CLOSED_CM) for lab, s, e in plist
              if lab in BILABIALS and e - s >= MIN_BILABIAL_S and (w := window(s, e)).size]
    opened = [bool(w.max() >= OPEN_CM) for lab, s, e in plist
              if lab in OPEN_VOWELS and e - s >= MIN_OPEN_VOWEL_S and (w := window(s, e)).size]
    result["bilabial_closure"] = float(np.mean(closed)) if closed else None
    result["bilabials"] = len(closed)
    result["open_vowel"] = float(np.mean(opened)) if opened else None
    result["open_vowels"] = len(opened)

    lag, corr = _lag_and_corr(gap, opening_curve(plist, fps, n), fps) if n else (None, 0.0)
    result["lag_ms"] = lag
    result["corr"] = corr

    if n:
        power = np.abs(np.fft.rfft(gap - gap.mean())) ** 2
        freqs = np.fft.rfftfreq(n, 1.0 / fps)
        result["hf_ratio"] = float(power[freqs > HF_CUTOFF_HZ].sum() / (power.sum() + 1e-12))
    else:
        result["hf_ratio"] = None

    speech = np.zeros(n, bool)
    pause = np.zeros(n, bool)
    trim = _frame(PAUSE_TRIM_S, fps)
    for lab, s, e in plist:
        a, b = _frame(s, fps), _frame(e, fps)
        if lab != "SIL":
            speech[a:b] = True
        elif e - s >= MIN_PAUSE_S:
            pause[a + trim:max(a + trim, b - trim)] = True
    if speech.any() and pause.any():
        opening = np.clip(gap, 0.0, None)
        result["silence_ratio"] = float(opening[speech].mean() / (opening[pause].mean() + PAUSE_FLOOR_CM))
    else:
        result["silence_ratio"] = None
    return result


# -- clip folders --------------------------------------------------------------------------------------------

def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def _audio_for_id(folder: Path, clip_id: str) -> Path | None:
    for base in (folder, folder / "audio"):
        direct = base / clip_id
        if direct.suffix.lower() in AUDIO_EXTENSIONS and direct.is_file():
            return direct
        for ext in AUDIO_EXTENSIONS:
            for candidate in (base / f"{clip_id}{ext}", base / f"{clip_id}{ext.upper()}"):
                if candidate.is_file():
                    return candidate
    return None


def _read_text(path: Path) -> str:
    return " ".join(path.read_text(encoding="utf-8-sig", errors="replace").split())


def _sidecar_text(audio: Path, folder: Path) -> str | None:
    """The transcript next to the audio (clip.txt / clip.lab), or in DIR/lab or DIR/txt (MFA layout)."""
    for base in (audio.parent, folder / "lab", folder / "txt"):
        for ext in TRANSCRIPT_EXTENSIONS:
            candidate = base / f"{audio.stem}{ext}"
            if candidate.is_file():
                return _read_text(candidate)
    return None


def find_clips(folder: str | os.PathLike[str]) -> list[tuple[Path, str]]:
    """(audio path, transcript) of every clip in ``folder`` that has both.

    Transcripts come from ``folder/transcripts.tsv`` (``id<TAB>text`` per line; the audio is
    ``id.{wav,flac,ogg,mp3}`` in the folder or its ``audio/`` subfolder) and, for audio the TSV does not
    list, from sidecar ``.txt`` / ``.lab`` files beside the audio (or in ``lab/`` / ``txt/``). Audio of
    the folder and ``audio/`` without any transcript is left out (logged). Raises ``FileNotFoundError``
    when ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    clips: dict[Path, tuple[Path, str]] = {}   # resolved path -> (path as found, transcript)
    tsv = folder / TRANSCRIPTS_TSV
    if tsv.is_file():
        for number, line in enumerate(tsv.read_text(encoding="utf-8-sig", errors="replace").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            clip_id, sep, text = line.partition("\t")
            if not sep:   # tolerate "id text" with spaces
                clip_id, _, text = line.strip().partition(" ")
            clip_id = clip_id.strip()
            audio = _audio_for_id(folder, clip_id)
            if audio is None:
                if not (number == 1 and clip_id.lower() in _TSV_HEADER_IDS):
                    log.warning("%s line %d: no audio for %r (looked for %s in %s and %s/audio)", tsv.name, number,
                                clip_id, "/".join(e[1:] for e in AUDIO_EXTENSIONS), folder, folder)
                continue
            clips.setdefault(audio.resolve(), (audio, " ".join(text.split())))
    untranscribed = []
    for base in (folder, folder / "audio"):
        if not base.is_dir():
            continue
        for audio in _audio_files(base):
            if audio.resolve() in clips:
                continue
            text = _sidecar_text(audio, folder)
            if text is None:
                untranscribed.append(audio.name)
            else:
                clips[audio.resolve()] = (audio, text)
    if untranscribed:
        log.info("%d audio file(s) without a transcript left out: %s", len(untranscribed), " ".join(untranscribed[:8]))
    return list(clips.values())
