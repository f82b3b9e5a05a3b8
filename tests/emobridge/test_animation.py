"""emobridge.animation: the Animation JSON contract (round trip and field-naming validation)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from emobridge.animation import Animation, AnimationFormatError
from emobridge.rig import ARKIT_NAMES


def _animation(n: int = 12, with_optional: bool = True) -> Animation:
    rng = np.random.default_rng(0)
    return Animation(
        fps=60.0,
        frames=rng.random((n, 52)).astype(np.float32),
        head_rotation=(rng.random((n, 3)) - 0.5) * 0.3 if with_optional else None,
        emotion=rng.random((n, 7)).astype(np.float32) if with_optional else None,
        meta={"source": "clip.wav", "model": "procedural"},
    )


def _doc(n: int = 4) -> dict:
    return _animation(n).to_dict()


def test_round_trip_save_load(tmp_path: Path) -> None:
    anim = _animation()
    path = tmp_path / "out.anim.json"
    anim.save(path)
    assert not (tmp_path / "out.anim.json.tmp").exists()  # temp file renamed over the target
    back = Animation.load(path)
    assert back.fps == 60.0
    assert back.blendshape_names == ARKIT_NAMES
    assert back.frames.dtype == np.float32 and back.frames.shape == (12, 52)
    np.testing.assert_allclose(back.frames, anim.frames, atol=1e-5)
    np.testing.assert_allclose(back.head_rotation, anim.head_rotation, atol=1e-5)
    np.testing.assert_allclose(back.emotion, anim.emotion, atol=1e-4)
    assert back.meta == anim.meta
    assert back.duration == pytest.approx(12 / 60)


def test_round_trip_without_optional_fields(tmp_path: Path) -> None:
    anim = _animation(with_optional=False)
    doc = anim.to_dict()
    assert "head_rotation" not in doc and "emotion" not in doc
    path = tmp_path / "plain.json"
    anim.save(path)
    back = Animation.load(path)
    assert back.head_rotation is None and back.emotion is None
    np.testing.assert_allclose(back.frames, anim.frames, atol=1e-5)


def test_saved_file_is_the_documented_json(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    _animation(3).save(path)
    doc = json.loads(path.read_text())
    assert set(doc) == {"fps", "blendshape_names", "frames", "head_rotation", "emotion", "meta"}
    assert doc["blendshape_names"] == list(ARKIT_NAMES)
    assert len(doc["frames"]) == 3 and all(len(row) == 52 for row in doc["frames"])
    assert all(len(row) == 3 for row in doc["head_rotation"]) and all(len(row) == 7 for row in doc["emotion"])


def test_save_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    _animation(3).save(path)
    _animation(5).save(path)
    assert len(Animation.load(path).frames) == 5


def test_meta_defaults_to_empty() -> None:
    doc = _doc()
    del doc["meta"]
    assert Animation.from_dict(doc).meta == {}


def _expect_error(doc: object, *fragments: str) -> str:
    with pytest.raises(AnimationFormatError) as info:
        Animation.from_dict(doc)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


@pytest.mark.parametrize("key", ["fps", "blendshape_names", "frames"])
def test_missing_required_key(key: str) -> None:
    doc = _doc()
    del doc[key]
    _expect_error(doc, "missing", repr(key))


def test_not_an_object() -> None:
    _expect_error([1, 2, 3], "object")


@pytest.mark.parametrize("fps", [0, -30, "60", None, True, math.nan, math.inf])
def test_bad_fps(fps: object) -> None:
    doc = _doc()
    doc["fps"] = fps
    _expect_error(doc, "'fps'")


@pytest.mark.parametrize("names", [[], "eyeBlinkLeft", [1, 2], None])
def test_bad_blendshape_names(names: object) -> None:
    doc = _doc()
    doc["blendshape_names"] = names
    _expect_error(doc, "'blendshape_names'")


@pytest.mark.parametrize(
    ("frames", "fragment"),
    [
        ([], "non-empty"),
        ([[0.5] * 51], "52 values"),
        ([[0.5] * 52, [0.5] * 51], "'frames'"),          # ragged
        ([0.5] * 52, "non-empty list of number lists"),  # 1-D
        ([[["x"]] * 52], "'frames'"),
        ([["a"] * 52], "'frames'"),
        ([[0.5] * 51 + [math.nan]], "NaN"),
        ([[0.5] * 51 + [math.inf]], "NaN or infinite"),
        ([[0.5] * 51 + [1.5]], "outside 0..1"),
        ([[-0.2] + [0.5] * 51], "outside 0..1"),
        ("frames", "'frames'"),
    ],
)
def test_bad_frames(frames: object, fragment: str) -> None:
    doc = _doc()
    doc["frames"] = frames
    message = _expect_error(doc, "'frames'", fragment)
    assert "head_rotation" not in message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ([[0.0, 0.0]] * 4, "3 values"),
        ([[0.0, 0.0, 0.0]] * 3, "3 rows but 'frames' has 4"),
        ([[0.0, 0.0, math.nan]] * 4, "NaN"),
        ([[0.0, 0.0, "a"]] * 4, "number lists"),
        ([], "non-empty"),
    ],
)
def test_bad_head_rotation(value: object, fragment: str) -> None:
    doc = _doc()
    doc["head_rotation"] = value
    _expect_error(doc, "'head_rotation'", fragment)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [([[0.1] * 7] * 5, "5 rows but 'frames' has 4"), ([[0.1] * 6 + [math.nan]] * 4, "NaN"), ([0.1] * 7, "number lists")],
)
def test_bad_emotion(value: object, fragment: str) -> None:
    doc = _doc()
    doc["emotion"] = value
    _expect_error(doc, "'emotion'", fragment)


def test_nan_in_json_text_is_rejected(tmp_path: Path) -> None:
    """Python's json writes/reads NaN; a document carrying it must still fail validation on load."""
    doc = _doc()
    doc["frames"][1][7] = float("nan")
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(doc))
    assert "NaN" in path.read_text()
    with pytest.raises(AnimationFormatError, match="'frames' contains NaN"):
        Animation.load(path)


def test_bad_meta() -> None:
    doc = _doc()
    doc["meta"] = ["not", "an", "object"]
    _expect_error(doc, "'meta'")


def test_custom_rig_names_set_the_width() -> None:
    doc = {"fps": 30, "blendshape_names": ["jawOpen", "mouthClose"], "frames": [[0.2, 0.1], [0.3, 0.0]]}
    anim = Animation.from_dict(doc)
    assert anim.blendshape_names == ("jawOpen", "mouthClose") and anim.frames.shape == (2, 2)
    doc["frames"] = [[0.2, 0.1, 0.0]]
    _expect_error(doc, "'frames'", "2 values")


def test_load_missing_and_invalid(tmp_path: Path) -> None:
    with pytest.raises(AnimationFormatError, match="not found"):
        Animation.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{\"fps\": 60, \"frames\": [")
    with pytest.raises(AnimationFormatError, match="not valid JSON") as info:
        Animation.load(bad)
    assert str(bad) in str(info.value)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(AnimationFormatError, match="not valid JSON"):
        Animation.load(binary)


def test_load_directory(tmp_path: Path) -> None:
    with pytest.raises(AnimationFormatError) as info:
        Animation.load(tmp_path)
    assert str(tmp_path) in str(info.value)
