"""emobridge.emotion.space: names, aliases, valence/arousal and validation of emotion specs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emobridge.emotion.space import (
    EMOTIONS,
    EmotionError,
    describe,
    emotion_from_valence_arousal,
    parse_emotion,
    parse_emotion_string,
)
from emobridge.rig import face_tables

ALIASES = face_tables()["emotion_aliases"]


def _vec(**weights: float) -> np.ndarray:
    v = np.zeros(len(EMOTIONS), dtype=np.float32)
    for name, w in weights.items():
        v[EMOTIONS.index(name)] = w
    return v


def test_basis_is_the_seven_emotions() -> None:
    assert EMOTIONS == ("happy", "sad", "angry", "fear", "disgust", "surprise", "contempt")


@pytest.mark.parametrize("name", EMOTIONS)
def test_canonical_names(name: str) -> None:
    vec = parse_emotion({name: 0.6})
    assert vec.dtype == np.float32 and vec.shape == (7,)
    np.testing.assert_allclose(vec, _vec(**{name: 0.6}))


@pytest.mark.parametrize(("alias", "basis"), [("joy", "happy"), ("anger", "angry"), ("grief", "sad"), ("amazement", "surprise")])
def test_single_aliases(alias: str, basis: str) -> None:
    assert ALIASES[alias] == {basis: 1.0}  # the table says so ...
    np.testing.assert_allclose(parse_emotion({alias: 0.5}), _vec(**{basis: 0.5}))  # ... and parsing follows it


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_every_alias_expands_per_table(alias: str) -> None:
    expected = np.clip(_vec(**{k: 0.8 * v for k, v in ALIASES[alias].items()}), 0, 1)
    np.testing.assert_allclose(parse_emotion({alias: 0.8}), expected, atol=1e-6)


@pytest.mark.parametrize("spelling", ["Happy", " HAPPY ", "ha-ppy", "Out of breath", "out_of_breath", "Out-Of-Breath"])
def test_spelling_is_normalised(spelling: str) -> None:
    assert np.any(parse_emotion({spelling: 1.0}))


def test_multi_emotion_alias_and_sum_clipping() -> None:
    np.testing.assert_allclose(parse_emotion({"cheekiness": 1.0}), _vec(happy=0.5, contempt=0.6))
    np.testing.assert_allclose(parse_emotion({"happy": 0.8, "joy": 0.7}), _vec(happy=1.0))  # 1.5 clipped to 1
    np.testing.assert_allclose(parse_emotion({"happy": 0.3, "joy": 0.2}), _vec(happy=0.5), atol=1e-6)


@pytest.mark.parametrize("spec", [None, {}, {"neutral": 1.0}, {"calm": 0.4}, {"none": 0.0}])
def test_neutral_is_zero(spec: dict | None) -> None:
    vec = parse_emotion(spec)
    assert vec.shape == (7,) and not np.any(vec)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(EmotionError) as info:
        parse_emotion({"elated": 0.5})
    message = str(info.value)
    assert "'elated'" in message
    for name in EMOTIONS + ("joy", "amazement", "neutral"):
        assert name in message


@pytest.mark.parametrize("value", [-0.1, 1.01, 2, float("nan"), float("inf"), -float("inf"), "0.5", None, True, [0.5]])
def test_bad_intensity(value: object) -> None:
    with pytest.raises(EmotionError, match="happy") as info:
        parse_emotion({"happy": value})  # type: ignore[dict-item]
    assert "0..1" in str(info.value)


def test_intensity_bounds_are_inclusive() -> None:
    np.testing.assert_allclose(parse_emotion({"sad": 0, "fear": 1, "angry": np.float32(0.25)}), _vec(fear=1.0, angry=0.25))


# --- valence / arousal ----------------------------------------------------------------------------


def test_valence_arousal_points_at_the_nearest_emotions() -> None:
    table = face_tables()["emotion_valence_arousal"]
    for name in ("happy", "sad", "surprise", "contempt"):
        vec = emotion_from_valence_arousal(*table[name])
        assert EMOTIONS[int(np.argmax(vec))] == name, (name, vec)


@pytest.mark.parametrize(("v", "a"), [(0.8, 0.45), (-0.3, 0.2), (0.1, -0.9), (1.0, 1.0), (-1, 0)])
def test_valence_arousal_total_intensity_is_distance(v: float, a: float) -> None:
    vec = emotion_from_valence_arousal(v, a)
    assert np.all(vec >= 0)
    assert vec.sum() == pytest.approx(min(1.0, math.hypot(v, a)), rel=1e-5)


def test_valence_arousal_origin_is_neutral() -> None:
    assert not np.any(emotion_from_valence_arousal(0.0, 0.0))


def test_valence_arousal_in_parse_emotion_adds_to_names() -> None:
    va = emotion_from_valence_arousal(-0.5, 0.6)
    np.testing.assert_allclose(parse_emotion({"valence": -0.5, "arousal": 0.6}), va, atol=1e-6)
    combined = parse_emotion({"valence": -0.5, "arousal": 0.6, "happy": 0.2})
    np.testing.assert_allclose(combined, np.clip(va + _vec(happy=0.2), 0, 1), atol=1e-6)


@pytest.mark.parametrize("spec", [{"valence": 0.5}, {"arousal": 0.5}])
def test_valence_and_arousal_must_come_together(spec: dict) -> None:
    with pytest.raises(EmotionError, match="together"):
        parse_emotion(spec)


@pytest.mark.parametrize(("v", "a", "bad"), [(1.5, 0, "valence"), (0, -1.2, "arousal"), (float("nan"), 0, "valence"),
                                             (0, float("inf"), "arousal"), ("high", 0, "valence"), (0, None, "arousal")])
def test_valence_arousal_out_of_range(v: object, a: object, bad: str) -> None:
    with pytest.raises(EmotionError, match=bad):
        emotion_from_valence_arousal(v, a)  # type: ignore[arg-type]
    with pytest.raises(EmotionError, match=bad):
        parse_emotion({"valence": v, "arousal": a})  # type: ignore[dict-item]


# --- CLI strings ----------------------------------------------------------------------------------


def test_parse_emotion_string_pairs() -> None:
    np.testing.assert_allclose(parse_emotion_string("happy=0.7,surprise=0.2"), _vec(happy=0.7, surprise=0.2))
    np.testing.assert_allclose(parse_emotion_string(" joy = 0.4 , amazement=0.1 ,"), _vec(happy=0.4, surprise=0.1))


def test_parse_emotion_string_bare_name_is_full() -> None:
    np.testing.assert_allclose(parse_emotion_string("angry"), _vec(angry=1.0))
    np.testing.assert_allclose(parse_emotion_string("sad=0.3,fear"), _vec(sad=0.3, fear=1.0))


@pytest.mark.parametrize("text", [None, "", "neutral", " Neutral ", "calm=0.5", ",,"])
def test_parse_emotion_string_neutral(text: str | None) -> None:
    assert not np.any(parse_emotion_string(text))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("happy=lots", "'lots' is not a number"),
        ("happy=0.5=0.2", "is not a number"),
        ("happy=1.5", "0..1"),
        ("happy=-0.2", "0..1"),
        ("happy=nan", "0..1"),
        ("blissful=0.5", "unknown emotion 'blissful'"),
        ("=0.5", "unknown emotion ''"),
        ("happy;sad", "unknown emotion"),
    ],
)
def test_parse_emotion_string_malformed(text: str, fragment: str) -> None:
    with pytest.raises(EmotionError) as info:
        parse_emotion_string(text)
    assert fragment in str(info.value)


def test_describe_lists_non_zero() -> None:
    assert describe(_vec(happy=0.7, fear=0.12345)) == {"happy": 0.7, "fear": 0.123}
    assert describe(np.zeros(7)) == {}
