"""Shared fixtures of the export tests: a realistic baked animation (text route, with emotion)."""

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="session")
def baked():
    from emobridge.bake import bake
    from emobridge.emotion import EmotionTrack
    from emobridge.emotion.space import parse_emotion

    text = (EXAMPLES / "hello.txt").read_text()
    return bake(EXAMPLES / "hello.wav", text=text, emotion=EmotionTrack.constant(parse_emotion({"happy": 0.6})))
