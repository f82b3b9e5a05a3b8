"""Offline bake: an audio clip (+ optional transcript, emotion) -> an Animation.

The one place that decides where phone timings come from: forced alignment of the transcript when
there is one; audio-only phone recognition when there is none or it cannot be aligned (with a
warning, never a crash); a rest pose with idle motion for silent clips.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emobridge.animate import DEFAULT_FPS, DEFAULT_MOUTH_PRESERVATION, animate
from emobridge.animation import Animation
from emobridge.audio import SAMPLE_RATE, is_silent, load_audio
from emobridge.audio.prosody import analyze_prosody
from emobridge.emotion import EmotionTrack
from emobridge.phonetics import AlignmentError, Phone, align_transcript, recognize_phones

log = logging.getLogger(__name__)
PROGRESS_MIN_S = 20.0  # show a progress bar for clips at least this long


def phones_for(audio16k: np.ndarray, text: str | None) -> tuple[list[Phone], dict[str, object]]:
    """Phone timings and a note of where they came from (goes into the animation's meta)."""
    duration = len(audio16k) / SAMPLE_RATE
    if is_silent(audio16k):
        log.warning("the audio is silent; baking a rest pose with blinks and idle motion")
        return [Phone("SIL", 0.0, duration)], {"phones_from": "silence"}
    if text is not None and text.strip():
        try:
            phones, unknown = align_transcript(audio16k, text)
            if unknown:
                log.warning("words not in the pronouncing dictionary were skipped: %s", " ".join(unknown[:10]))
            return phones, {"phones_from": "transcript", "unknown_words": unknown}
        except AlignmentError as err:
            log.warning("transcript not used (%s); falling back to audio-only phone recognition", err)
    elif text is not None:
        log.warning("the transcript is empty; falling back to audio-only phone recognition")
    return recognize_phones(audio16k), {"phones_from": "audio"}


def bake(
    audio: str | os.PathLike[str] | np.ndarray,
    text: str | None = None,
    emotion: EmotionTrack | np.ndarray | None = None,
    mouth_preservation: float = DEFAULT_MOUTH_PRESERVATION,
    fps: float = DEFAULT_FPS,
    seed: int = 0,
    progress: bool | None = None,
) -> Animation:
    """Bake one clip. ``audio`` is a file path or float mono samples at 16 kHz."""
    audio16k = load_audio(audio) if isinstance(audio, (str, os.PathLike)) else np.asarray(audio, np.float32)
    duration = len(audio16k) / SAMPLE_RATE
    show = progress if progress is not None else duration >= PROGRESS_MIN_S
    steps = tqdm(total=3, desc=f"bake {duration:.0f} s", unit="step", disable=not show, leave=False)
    steps.set_postfix_str("phones")
    phones, source = phones_for(audio16k, text)
    steps.update()
    steps.set_postfix_str("prosody")
    prosody = analyze_prosody(audio16k)
    steps.update()
    steps.set_postfix_str("animate")
    anim = animate(phones, duration, fps, emotion, mouth_preservation, prosody, seed)
    steps.update()
    steps.close()
    anim.meta.update(source)
    if isinstance(audio, (str, os.PathLike)):
        anim.meta["audio"] = Path(audio).name
    anim.meta["duration_s"] = round(duration, 3)
    return anim
