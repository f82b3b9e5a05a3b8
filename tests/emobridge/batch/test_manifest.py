"""Manifest reading: CSV and JSONL, defaults, relative paths, and per-line validation errors."""

import json

import pytest

from emobridge.animate import DEFAULT_FPS
from emobridge.batch.manifest import ManifestError, read_manifest
from emobridge.emotion import EMOTIONS


def test_csv_lines_resolve_paths_and_parse_fields(clips):
    (clips / "m.csv").write_text("audio,text_file,emotion,fps,seed,rig,mouth_preservation\n"
                                 'hello.wav,hello.txt,"{""happy"": 0.5}",30,7,vrm_perfect_sync,0.8\n'
                                 "clip1.wav,,angry=0.4,,,,\n")
    lines, errors = read_manifest(clips / "m.csv")
    assert errors == []
    first, second = lines
    assert (first.id, first.audio, first.row) == ("hello", clips.resolve() / "hello.wav", 2)
    assert first.text.startswith("Maybe the map") and first.rig == "vrm_perfect_sync"
    assert first.emotion[EMOTIONS.index("happy")] == pytest.approx(0.5)
    assert (first.fps, first.seed, first.mouth_preservation) == (30.0, 7, 0.8)
    assert (second.id, second.text, second.fps, second.seed) == ("clip1", None, DEFAULT_FPS, 0)
    assert second.emotion[EMOTIONS.index("angry")] == pytest.approx(0.4)


def test_jsonl_with_an_emotion_track(clips):
    (clips / "track.json").write_text(json.dumps({"keyframes": [{"time": 0, "emotion": {"sad": 0.7}}]}))
    (clips / "m.jsonl").write_text(json.dumps({"id": "a", "audio": "clip0.wav", "text": "maybe the map",
                                               "emotion_track": "track.json", "fps": 24}) + "\n\n"
                                   + json.dumps({"audio": str(clips / "clip2.wav"), "emotion": {"joy": 1}}) + "\n")
    (a, b), errors = read_manifest(clips / "m.jsonl")
    assert errors == [] and a.emotion_track == clips.resolve() / "track.json" and a.text == "maybe the map"
    assert b.id == "clip2" and b.emotion[EMOTIONS.index("happy")] == pytest.approx(1.0)


def test_bad_lines_are_errors_naming_line_and_field_and_the_rest_is_kept(clips):
    (clips / "bad.csv").write_text("id,audio,emotion,fps,seed,text,text_file\n"
                                   "ok,clip0.wav,,,,,\n"
                                   "missing,nope.wav,,,,,\n"
                                   "emo,clip0.wav,furious=2,,,,\n"
                                   "fps,clip0.wav,,0,,,\n"
                                   "seed,clip0.wav,,,2.5,,\n"
                                   "ok,clip1.wav,,,,,\n"
                                   "both,clip1.wav,,,,hi,hello.txt\n"
                                   "../evil,clip1.wav,,,,,\n")
    lines, errors = read_manifest(clips / "bad.csv")
    assert [line.id for line in lines] == ["ok"]
    messages = {e.id: e.error for e in errors}
    assert set(messages) == {"missing", "emo", "fps", "seed", "ok", "both", "../evil"}
    assert messages["missing"].startswith("bad.csv line 3, field 'audio': file not found")
    assert "line 4, field 'emotion'" in messages["emo"]
    assert "field 'fps': must be between 0 and 240" in messages["fps"]
    assert "field 'seed'" in messages["seed"]
    assert "line 7, field 'id': duplicate id 'ok'" in messages["ok"]
    assert "field 'text': give text or text_file, not both" in messages["both"]
    assert "field 'id'" in messages["../evil"]


def test_jsonl_syntax_errors_and_unknown_keys_fail_only_their_line(clips):
    (clips / "bad.jsonl").write_text('{"audio": "clip0.wav"}\n{"audio": \n{"audio": "clip1.wav", "emotoin": "sad"}\n[1]\n')
    lines, errors = read_manifest(clips / "bad.jsonl")
    assert [line.id for line in lines] == ["clip0"]
    assert [e.row for e in errors] == [2, 3, 4]
    assert "not valid JSON" in errors[0].error and "unknown key(s) emotoin" in errors[1].error


def test_a_manifest_without_audio_column_or_with_unknown_columns_is_rejected(clips):
    (clips / "noaudio.csv").write_text("id,text\na,hi\n")
    (clips / "typo.csv").write_text("audio,emotoin\nclip0.wav,sad\n")
    with pytest.raises(ManifestError, match="'audio' column"):
        read_manifest(clips / "noaudio.csv")
    with pytest.raises(ManifestError, match="unknown column"):
        read_manifest(clips / "typo.csv")
    with pytest.raises(ManifestError, match="not found"):
        read_manifest(clips / "absent.csv")
