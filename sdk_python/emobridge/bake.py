"""Offline bake: an audio clip (+ optional transcript, emotion) -> an Animation.

The one place that decides which route a clip takes (recorded as ``meta["route"]``):
    transcript    the transcript aligns: procedural animator on forced-aligned phones (most exact)
    model         no usable transcript: the learned audio-to-face model; with ``recognize=True`` also word
                  recognition, whose p/b/m add the lip seals the model misses (``meta["recognized"]`` has
                  the words; slower: about 8x real time per core instead of hundreds)
    phones        no usable transcript and no model (or ``use_model=False``): phone recognition (with
                  ``recognize=True``, the phones of recognised words) + the procedural animator
    silence       a silent clip: rest pose with blinks and idle motion
An empty or unalignable transcript is a warning and falls back to the audio, never a crash.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emobridge.animate import DEFAULT_FPS, DEFAULT_MOUTH_PRESERVATION, Style, animate
from emobridge.animation import Animation
from emobridge.audio import SAMPLE_RATE, is_silent, load_audio
from emobridge.audio.prosody import analyze_prosody
from emobridge.emotion import EmotionTrack
from emobridge.phonetics import AlignmentError, Phone, align_transcript, recognize_phones, recognize_words

log = logging.getLogger(__name__)
PROGRESS_MIN_S = 20.0  # show a progress bar for clips at least this long


@lru_cache(maxsize=4)
def _audio_animator(model_dir: str | None, device: str, threads: int = 0):
    from emobridge.model import AudioAnimator, FaceModel

    return AudioAnimator(FaceModel(model_dir, device=device, threads=threads))


def model_available(model_dir: str | os.PathLike[str] | None = None) -> bool:
    from emobridge.model import DEFAULT_MODEL_DIR

    return (Path(model_dir) if model_dir else DEFAULT_MODEL_DIR).joinpath("model.json").is_file()


def transcript_phones(audio16k: np.ndarray, text: str | None) -> tuple[list[Phone], dict[str, object]] | None:
    """Forced-aligned phones and meta, or None (with a warning) when the transcript cannot be used."""
    if text is None:
        return None
    if not text.strip():
        log.warning("the transcript is empty; animating from the audio alone")
        return None
    try:
        phones, unknown = align_transcript(audio16k, text)
    except AlignmentError as err:
        log.warning("transcript not used (%s); animating from the audio alone", err)
        return None
    if unknown:
        log.warning("words not in the pronouncing dictionary were skipped: %s", " ".join(unknown[:10]))
    return phones, {"route": "transcript", "unknown_words": unknown}


def phones_for(audio16k: np.ndarray, text: str | None, recognize: bool = False) -> tuple[list[Phone], dict[str, object]]:
    """Phones for the procedural animator: aligned transcript, else recognised words (``recognize``), else
    phone recognition, else silence."""
    if is_silent(audio16k):
        log.warning("the audio is silent; baking a rest pose with blinks and idle motion")
        return [Phone("SIL", 0.0, len(audio16k) / SAMPLE_RATE)], {"route": "silence"}
    aligned = transcript_phones(audio16k, text)
    if aligned:
        return aligned
    if recognize:
        phones, words = recognize_words(audio16k)
        if phones:  # no words (e.g. only noise): the phone loop still finds sounds to move the mouth to
            return phones, {"route": "phones", "recognized": words}
    return recognize_phones(audio16k), {"route": "phones"}


def bake(
    audio: str | os.PathLike[str] | np.ndarray,
    text: str | None = None,
    emotion: EmotionTrack | np.ndarray | None = None,
    mouth_preservation: float = DEFAULT_MOUTH_PRESERVATION,
    fps: float = DEFAULT_FPS,
    seed: int = 0,
    progress: bool | None = None,
    style: Style | None = None,
    use_model: bool = True,
    model_dir: str | os.PathLike[str] | None = None,
    device: str = "auto",
    threads: int = 0,
    audio_name: str | None = None,
    recognize: bool = False,
) -> Animation:
    """Bake one clip. ``audio`` is a file path or float mono samples at 16 kHz.

    ``threads``: ONNX Runtime intra-op threads of the (per-process cached) model; 0 = all cores. Batch workers
    pass 1 so that N processes share N cores instead of fighting over them. ``audio_name``: the file name
    ``meta["audio"]`` records when ``audio`` is samples already decoded from that file. ``recognize``: on the
    model route, also recognise the words and seal the lips on their p/b/m; on the phones route, animate the
    recognised words' phones instead of the phone loop's (offline quality over speed).
    """
    audio16k = load_audio(audio) if isinstance(audio, (str, os.PathLike)) else np.asarray(audio, np.float32)
    duration = len(audio16k) / SAMPLE_RATE
    show = progress if progress is not None else duration >= PROGRESS_MIN_S
    steps = tqdm(total=2, desc=f"bake {duration:.0f} s", unit="step", disable=not show, leave=False)
    steps.set_postfix_str("phones")
    silent = is_silent(audio16k)
    aligned = None if silent else transcript_phones(audio16k, text)
    steps.update()
    steps.set_postfix_str("animate")
    if aligned is None and not silent and use_model and model_available(model_dir):
        animator = _audio_animator(str(model_dir) if model_dir else None, device, threads)
        source: dict[str, object] = {"route": "model"}
        recognized: list[Phone] = []
        if recognize:
            recognized, source["recognized"] = recognize_words(audio16k)
        anim = animator.animate(audio16k, fps, emotion, mouth_preservation, seed, style, recognized_phones=recognized)
    else:
        phones, source = aligned or phones_for(audio16k, None, recognize)
        prosody = analyze_prosody(audio16k)
        anim = animate(phones, duration, fps, emotion, mouth_preservation, prosody, seed, style)
    steps.update()
    steps.close()
    anim.meta.update(source)
    if isinstance(audio, (str, os.PathLike)):
        audio_name = Path(audio).name
    if audio_name:
        anim.meta["audio"] = audio_name
    anim.meta["duration_s"] = round(duration, 3)
    return anim
