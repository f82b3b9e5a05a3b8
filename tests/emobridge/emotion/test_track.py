"""emobridge.emotion.track: keyframe tracks from JSON, sampled per frame with the damped follower."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from emobridge.emotion.space import EMOTIONS, EmotionError, emotion_from_valence_arousal
from emobridge.emotion.track import DEFAULT_TRANSITION_S, EmotionKeyframe, EmotionTrack

HAPPY, SAD = EMOTIONS.index("happy"), EMOTIONS.index("sad")


def _unit(name: str, value: float = 1.0) -> np.ndarray:
    v = np.zeros(len(EMOTIONS), dtype=np.float32)
    v[EMOTIONS.index(name)] = value
    return v


def test_constant_track() -> None:
    emotion = _unit("angry", 0.7)
    out = EmotionTrack.constant(emotion).sample(90, 30.0)
    assert out.shape == (90, 7) and out.dtype == np.float32
    np.testing.assert_allclose(out, np.tile(emotion, (90, 1)), atol=1e-7)


def test_keyframes_are_honoured() -> None:
    fps = 30.0
    track = EmotionTrack.from_json(
        {"keyframes": [
            {"time": 0.0, "emotion": {}},
            {"time": 1.0, "emotion": {"happy": 0.8}, "transition": 0.5},
            {"time": 3.0, "emotion": {"sad": 0.6}, "transition": 0.0},
        ]}
    )
    out = track.sample(120, fps)
    np.testing.assert_allclose(out[:30], 0.0, atol=1e-7)              # neutral until the 1.0 s keyframe
    assert out[30, HAPPY] == 0.0                                       # the transition starts at 1.0 s ...
    assert 0 < out[31, HAPPY] < 0.1                                    # ... and moves smoothly from there
    n = round(0.5 * fps)
    assert out[30 + n, HAPPY] >= 0.9 * 0.8 - 1e-5                      # 90% within the transition time
    assert out[30 + n - 2, HAPPY] < 0.9 * 0.8
    assert np.all(np.diff(out[:90, HAPPY]) >= -1e-7)                   # monotone, no overshoot
    assert out[89, HAPPY] <= 0.8 + 1e-6
    np.testing.assert_allclose(out[90:], np.tile(_unit("sad", 0.6), (30, 1)), atol=1e-7)  # a cut at 3.0 s


def test_first_keyframe_holds_from_time_zero() -> None:
    track = EmotionTrack([EmotionKeyframe(2.0, _unit("fear", 0.5), 1.0)])
    np.testing.assert_allclose(track.sample(10, 60.0), np.tile(_unit("fear", 0.5), (10, 1)), atol=1e-7)


def test_keyframes_are_sorted_by_time() -> None:
    a = EmotionKeyframe(0.0, _unit("sad", 0.5), 0.0)
    b = EmotionKeyframe(0.5, _unit("happy", 0.5), 0.2)
    assert EmotionTrack([b, a]).keyframes == [a, b]
    np.testing.assert_array_equal(EmotionTrack([b, a]).sample(60, 60.0), EmotionTrack([a, b]).sample(60, 60.0))


def test_same_curve_at_any_fps() -> None:
    """The follower runs in continuous time, so every frame rate agrees on shared frame times."""
    track = EmotionTrack([EmotionKeyframe(0.0, _unit("sad", 0.0), 0.0), EmotionKeyframe(0.5, _unit("sad", 1.0), 0.4)])
    np.testing.assert_allclose(track.sample(60, 60.0)[::2], track.sample(30, 30.0), atol=1e-5)
    np.testing.assert_allclose(track.sample(240, 240.0)[::8], track.sample(30, 30.0), atol=1e-5)
    # Keyframes between frames act at their own time too (1.23 s is on neither the 24 nor the 120 fps grid).
    off_grid = EmotionTrack(track.keyframes + [EmotionKeyframe(1.23, _unit("happy", 0.7), 0.3)])
    np.testing.assert_allclose(off_grid.sample(240, 120.0)[::5], off_grid.sample(48, 24.0), atol=1e-5)


def test_from_json_list_and_defaults_and_valence_arousal() -> None:
    track = EmotionTrack.from_json([
        {"time": 0, "valence": 0.6, "arousal": 0.3},
        {"time": 1.5, "emotion": {"joy": 0.4, "amazement": 0.2}},
    ])
    assert [k.time for k in track.keyframes] == [0.0, 1.5]
    assert track.keyframes[1].transition == DEFAULT_TRANSITION_S
    np.testing.assert_allclose(track.keyframes[0].emotion, emotion_from_valence_arousal(0.6, 0.3), atol=1e-6)
    np.testing.assert_allclose(track.keyframes[1].emotion, _unit("happy", 0.4) + _unit("surprise", 0.2), atol=1e-6)


def test_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "track.json"
    doc = {"keyframes": [{"time": 0.0, "emotion": {"happy": 0.6}, "transition": 0.3},
                         {"time": 2.5, "valence": -0.5, "arousal": 0.6, "transition": 0.8}]}
    path.write_text(json.dumps(doc))
    out = EmotionTrack.load(path).sample(360, 60.0)
    np.testing.assert_allclose(out[0], _unit("happy", 0.6), atol=1e-7)
    np.testing.assert_allclose(out[-1], emotion_from_valence_arousal(-0.5, 0.6), atol=0.02)


@pytest.mark.parametrize(
    ("doc", "fragments"),
    [
        ({}, ["'keyframes'"]),
        ({"keyframes": []}, ["non-empty", "'keyframes'"]),
        ({"keyframes": "happy"}, ["'keyframes'"]),
        ("happy", ["'keyframes'"]),
        ([{"emotion": {"happy": 1}}], ["keyframes[0]", "'time'"]),
        ([1.0], ["keyframes[0]", "'time'"]),
        ([{"time": 0}, {"time": -1}], ["keyframes[1]", "'time'", "-1"]),
        ([{"time": "0"}], ["keyframes[0]", "'time'"]),
        ([{"time": True}], ["keyframes[0]", "'time'"]),
        ([{"time": math.nan}], ["keyframes[0]", "'time'"]),
        ([{"time": 0, "transition": "slow"}], ["keyframes[0]", "'transition'", "slow"]),
        ([{"time": 0, "transition": -0.5}], ["keyframes[0]", "'transition'"]),
        ([{"time": 0}, {"time": 1, "emotion": {"joyful": 0.5}}], ["keyframes[1]", "unknown emotion 'joyful'", "happy"]),
        ([{"time": 0, "emotion": {"happy": 2}}], ["keyframes[0]", "'happy'", "0..1"]),
        ([{"time": 0, "valence": 0.5}], ["keyframes[0]", "together"]),
        ([{"time": 0, "valence": 3, "arousal": 0}], ["keyframes[0]", "valence"]),
        ([{"time": 0, "emotion": "happy"}], ["keyframes[0]", "'emotion'"]),
        ([{"time": 0, "emotion": [["happy", 0.5]]}], ["keyframes[0]", "'emotion'"]),
    ],
)
def test_from_json_errors_name_the_field(doc: object, fragments: list[str]) -> None:
    with pytest.raises(EmotionError) as info:
        EmotionTrack.from_json(doc, source="shot12.json")
    message = str(info.value)
    assert message.startswith("shot12.json"), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("fps", [0, -30, float("nan"), float("inf"), "60"])
def test_sample_rejects_bad_fps(fps: object) -> None:
    with pytest.raises(EmotionError, match="fps"):
        EmotionTrack.constant(_unit("happy")).sample(10, fps)  # type: ignore[arg-type]


def test_sample_zero_frames() -> None:
    assert EmotionTrack.constant(_unit("happy")).sample(0, 30.0).shape == (0, 7)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EmotionError, match="not found"):
        EmotionTrack.load(tmp_path / "missing.json")


@pytest.mark.parametrize("content", [b"{\"keyframes\": [", b"\xff\xfe not utf-8 \xff"])
def test_load_invalid_json_names_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(EmotionError, match="not valid JSON") as info:
        EmotionTrack.load(path)
    assert str(path) in str(info.value)


def test_load_directory(tmp_path: Path) -> None:
    with pytest.raises(EmotionError) as info:
        EmotionTrack.load(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_load_errors_are_prefixed_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"keyframes": [{"time": 0, "emotion": {"glee": 1}}]}))
    with pytest.raises(EmotionError) as info:
        EmotionTrack.load(path)
    assert str(info.value).startswith(f"{path}: keyframes[0]")
