"""Keyframe tracks: time-coded emotion targets for offline bakes.

A keyframe says "from time t, head for this emotion over this transition". Sampling a track runs
the same critically damped follower the live stream uses, so a bake and a stream that receive the
same updates at the same times produce the same emotion curve.

Track JSON: ``{"keyframes": [{"time": 0.0, "emotion": {"happy": 0.6}, "transition": 0.3},
{"time": 2.5, "valence": -0.5, "arousal": 0.6, "transition": 0.8}]}`` (a bare list works too).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emobridge.emotion.space import EmotionError, parse_emotion
from emobridge.emotion.transition import DampedEmotion

DEFAULT_TRANSITION_S = 0.3


@dataclass(frozen=True)
class EmotionKeyframe:
    time: float
    emotion: np.ndarray
    transition: float = DEFAULT_TRANSITION_S


class EmotionTrack:
    """Ordered keyframes; the first keyframe's emotion holds from time 0 (no ramp-in)."""

    def __init__(self, keyframes: list[EmotionKeyframe]) -> None:
        self.keyframes = sorted(keyframes, key=lambda k: k.time)

    @classmethod
    def constant(cls, emotion: np.ndarray) -> EmotionTrack:
        return cls([EmotionKeyframe(0.0, np.asarray(emotion, dtype=np.float32), 0.0)])

    @classmethod
    def from_json(cls, doc: Any, source: str = "emotion track") -> EmotionTrack:
        items = doc.get("keyframes") if isinstance(doc, dict) else doc
        if not isinstance(items, list) or not items:
            raise EmotionError(f"{source}: expected a non-empty 'keyframes' list")
        keyframes = []
        for i, item in enumerate(items):
            where = f"{source}: keyframes[{i}]"
            if not isinstance(item, dict) or "time" not in item:
                raise EmotionError(f"{where}: each keyframe needs a 'time' (seconds)")
            time, transition = item["time"], item.get("transition", DEFAULT_TRANSITION_S)
            for key, value in (("time", time), ("transition", transition)):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                    raise EmotionError(f"{where}: {key!r} must be a number >= 0, got {value!r}")
            emotion = item.get("emotion") or {}
            if not isinstance(emotion, dict):
                raise EmotionError(f"{where}: 'emotion' must be an object of name: intensity, got {emotion!r}")
            spec = dict(emotion)
            for key in ("valence", "arousal"):
                if key in item:
                    spec[key] = item[key]
            try:
                vec = parse_emotion(spec)
            except EmotionError as err:
                raise EmotionError(f"{where}: {err}") from None
            keyframes.append(EmotionKeyframe(float(time), vec, float(transition)))
        return cls(keyframes)

    @classmethod
    def load(cls, path: str | Path) -> EmotionTrack:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise EmotionError(f"emotion track not found: {path}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise EmotionError(f"{path}: not valid JSON ({err})") from None
        except OSError as err:
            raise EmotionError(f"{path}: cannot read the emotion track ({err.strerror or err})") from None
        return cls.from_json(doc, str(path))

    def sample(self, n_frames: int, fps: float) -> np.ndarray:
        """Emotion in effect at each frame [n_frames, 7].

        The follower runs in continuous time: each keyframe starts its transition at its own time (a cut
        shows from the first frame at or after it), so the curve at a given time does not depend on fps.
        """
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
            raise EmotionError(f"emotion track: fps must be a positive number, got {fps!r}")
        follower = DampedEmotion(self.keyframes[0].emotion)
        out = np.zeros((n_frames, len(follower.value)), dtype=np.float32)
        pending = list(self.keyframes[1:])
        now = 0.0  # time the follower's state refers to
        for i in range(n_frames):
            t = i / fps
            while pending and pending[0].time <= t + 1e-9:
                key = pending.pop(0)
                if key.time > now:  # run up to the keyframe, then retarget (not a frame early)
                    follower.step(key.time - now)
                    now = key.time
                follower.set_target(key.emotion, key.transition)
            out[i] = follower.step(max(0.0, t - now))
            now = max(now, t)
        return out
