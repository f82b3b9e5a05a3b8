"""Continuous emotion space: named intensities over a fixed basis, blending and transitions.

Neutral is the zero vector. Any blend and intensity is allowed (after EditEmoTalk's continuous
editing): the face moves smoothly between any two points. Owns:
    space       EmotionVector parsing, aliases (Audio2Face names too), valence/arousal, validation
    transition  critically damped following of a target vector (streaming and offline)
    track       keyframe tracks for offline bakes, sampled per frame
    facs        the FACS rule check: does a take show the emotion asked for
"""

from emobridge.emotion.facs import facs_rule_holds
from emobridge.emotion.space import (
    EMOTIONS,
    EmotionError,
    emotion_from_valence_arousal,
    parse_emotion,
    parse_emotion_string,
)
from emobridge.emotion.track import EmotionKeyframe, EmotionTrack
from emobridge.emotion.transition import DampedEmotion

__all__ = [
    "EMOTIONS",
    "DampedEmotion",
    "EmotionError",
    "EmotionKeyframe",
    "EmotionTrack",
    "emotion_from_valence_arousal",
    "facs_rule_holds",
    "parse_emotion",
    "parse_emotion_string",
]
