"""Lip-sync metrics on a synthetic two-vertex head, the real ICT head, clip folders, and agreement with
the shared acceptance evaluator (the last two need ../shared)."""

import importlib.util
import logging
from types import SimpleNamespace

import numpy as np
import pytest

from emobridge.animation import Animation
from emobridge.evaluation import TARGETS, find_clips, lip_gap, lipsync_metrics, meets_target, opening_curve
from emobridge.evaluation.lipsync import INNER_LIP_VERTICES
from emobridge.phonetics import Phone
from emobridge.rig import ARKIT_INDEX, ARKIT_NAMES, NUM_BLENDSHAPES

FPS = 60.0
# "pa ... ma ... pa" with pauses: bilabial, open vowel, bilabial, open vowel.
PHONES = [Phone("SIL", 0.0, 0.5), Phone("P", 0.5, 0.6), Phone("AA", 0.6, 0.9), Phone("SIL", 0.9, 1.5),
          Phone("M", 1.5, 1.6), Phone("AE", 1.6, 1.9), Phone("S", 1.9, 2.0), Phone("SIL", 2.0, 2.6)]


def toy_mesh():
    """Two vertices: the upper and lower inner lip, 0.1 cm apart; jawOpen drops the lower lip by 2 cm."""
    deltas = np.zeros((NUM_BLENDSHAPES, 2, 3), np.float32)
    deltas[ARKIT_INDEX["jawOpen"], 0, 1] = -2.0          # row 0 is vertex 5517, the lower lip
    deltas[ARKIT_INDEX["mouthClose"], 0, 1] = 2.0
    neutral = np.array([[0, -0.05, 0], [0, 0.05, 0]], np.float32)
    return SimpleNamespace(source_indices=np.array(sorted(INNER_LIP_VERTICES)), neutral=neutral, deltas=deltas,
                           path="toy")


def speaking(shift_frames: int = 0, n: int = int(2.6 * FPS)) -> Animation:
    """jawOpen following the phone-derived opening curve, optionally late by ``shift_frames``."""
    frames = np.zeros((n, NUM_BLENDSHAPES), np.float32)
    curve = opening_curve(PHONES, FPS, n)
    frames[:, ARKIT_INDEX["jawOpen"]] = 0.6 * np.roll(curve, shift_frames)
    return Animation(FPS, frames)


def test_targets_follow_quality_md():
    assert meets_target("bilabial_closure", 0.9) and not meets_target("bilabial_closure", 0.9, with_text=True)
    assert meets_target("lag_ms", -20.0) and not meets_target("lag_ms", 20.5)
    assert meets_target("hf_ratio", 0.05) and not meets_target("hf_ratio", 0.06)
    assert meets_target("corr", None) is None and meets_target("frames", 3) is None
    assert set(TARGETS["audio"]) == set(TARGETS["text"])


def test_opening_curve_levels_and_short_clips():
    curve = opening_curve(PHONES, FPS, int(2.6 * FPS))
    assert curve.shape == (156,)
    assert curve[int(0.75 * FPS)] == pytest.approx(1.0, abs=1e-3)    # middle of AA
    assert curve[int(1.2 * FPS)] == pytest.approx(0.0, abs=1e-3)     # middle of a pause
    assert opening_curve([("AA", 0.0, 0.05)], 30.0, 2).shape == (2,)  # shorter than the blur kernel


def test_lip_gap_maps_names_and_clips_weights():
    mesh = toy_mesh()
    frames = np.array([[0.0, 0.0], [0.5, 0.0], [2.0, 0.0], [0.0, 1.0]])
    # channel order of the file, case-insensitive names; an unknown channel moves nothing
    gap = lip_gap(frames, ["JawOpen", "notAShape"], mesh)
    np.testing.assert_allclose(gap, [0.1, 1.1, 2.1, 0.1], atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        lip_gap(frames, ["jawOpen"], mesh)


def test_metrics_of_a_mouth_that_follows_the_phones():
    audio = np.zeros(int(2.6 * 16000), np.float32)
    m = lipsync_metrics(speaking(), audio, PHONES, toy_mesh())
    assert m["bilabials"] == 2 and m["bilabial_closure"] == 1.0
    assert m["open_vowels"] == 2 and m["open_vowel"] == 1.0
    assert m["lag_ms"] == 0.0 and m["corr"] > 0.99
    assert m["hf_ratio"] < 0.01
    assert m["silence_ratio"] > 3
    assert m["frames"] == 156 and m["duration_s"] == 2.6
    for metric in ("bilabial_closure", "open_vowel", "lag_ms", "corr", "hf_ratio", "silence_ratio"):
        assert meets_target(metric, m[metric], with_text=True), metric


def test_metrics_catch_lag_jitter_and_a_frozen_mouth():
    audio = np.zeros(int(2.6 * 16000), np.float32)
    late = lipsync_metrics(speaking(shift_frames=6), audio, PHONES, toy_mesh())
    assert late["lag_ms"] == pytest.approx(100.0) and late["corr"] < 0.9

    jitter = speaking()
    jitter.frames[::2, ARKIT_INDEX["jawOpen"]] += 0.2     # a 30 Hz buzz
    assert lipsync_metrics(jitter, audio, PHONES, toy_mesh())["hf_ratio"] > 0.2

    frozen = Animation(FPS, np.full((156, NUM_BLENDSHAPES), 0.0, np.float32))
    frozen.frames[:, ARKIT_INDEX["jawOpen"]] = 0.3        # open the whole time: no closure, no timing
    m = lipsync_metrics(frozen, audio, PHONES, toy_mesh())
    assert m["bilabial_closure"] == 0.0 and m["open_vowel"] == 1.0
    assert m["lag_ms"] is None and m["corr"] == 0.0 and m["silence_ratio"] < 1.1


def test_metrics_without_scorable_phones():
    m = lipsync_metrics(speaking(n=60), np.zeros(16000, np.float32), [("SIL", 0.0, 0.2), ("S", 0.2, 1.0)], toy_mesh())
    assert m["bilabial_closure"] is None and m["bilabials"] == 0
    assert m["open_vowel"] is None and m["silence_ratio"] is None


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_find_clips_reads_a_tsv_and_sidecars(tmp_path, caplog):
    _touch(tmp_path / "audio" / "a.flac")
    _touch(tmp_path / "b.wav")
    _touch(tmp_path / "c.mp3")
    _touch(tmp_path / "d.ogg")
    _touch(tmp_path / "e.wav")                               # no transcript anywhere: left out
    (tmp_path / "transcripts.tsv").write_text("id\ttext\na\tFirst  line.\nb.wav\tsecond line\nghost\tno audio\n")
    (tmp_path / "c.txt").write_text("third\nline\n")
    _touch(tmp_path / "lab" / "d.lab", b"fourth line")
    with caplog.at_level(logging.INFO, logger="emobridge.evaluation.lipsync"):
        clips = find_clips(tmp_path)
    assert [(p.relative_to(tmp_path).as_posix(), t) for p, t in clips] == [
        ("audio/a.flac", "First line."), ("b.wav", "second line"), ("c.mp3", "third line"), ("d.ogg", "fourth line")]
    assert "'ghost'" in caplog.text and "'id'" not in caplog.text and "e.wav" in caplog.text
    assert find_clips(tmp_path / "lab") == []
    with pytest.raises(FileNotFoundError, match="no such folder"):
        find_clips(tmp_path / "missing")


# -- the real head and real speech (../shared) -------------------------------------------------------------

@pytest.mark.shared
def test_lip_gap_on_the_ict_head(shared_dir):
    from emobridge.render import FaceMesh

    mesh = FaceMesh.default(shared_dir / "data/mesh/ict_facekit/ict_facekit_expressions.npz")
    frames = np.zeros((3, NUM_BLENDSHAPES))
    frames[1, ARKIT_INDEX["jawOpen"]] = 1.0
    frames[2, ARKIT_INDEX["mouthClose"]] = 0.5
    frames[2, ARKIT_INDEX["jawOpen"]] = 0.5
    gap = lip_gap(frames, ARKIT_NAMES, mesh)
    assert 0.0 < gap[0] < 0.2            # the neutral mouth is barely parted
    assert gap[1] > 3.0                  # jaw fully open: about 3.3 cm
    assert gap[2] < gap[0]               # mouthClose against an open jaw shuts the lips


def _shared_evaluator(shared_dir):
    spec = importlib.util.spec_from_file_location("shared_lipsync_eval", shared_dir / "tools" / "lipsync_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.shared
def test_agrees_with_the_shared_evaluator(shared_dir):
    pytest.importorskip("pocketsphinx")
    from emobridge.audio import load_audio
    from emobridge.bake import bake
    from emobridge.phonetics import align_transcript

    evaluator = _shared_evaluator(shared_dir)
    path = shared_dir / "data/speech/mfa/audio/mfa_puddy.flac"
    text = "m f a is like puddy"
    audio16k = load_audio(path)
    anim = bake(path, emotion=None, use_model=False, progress=False)   # audio only: the hard case
    theirs = evaluator.evaluate(anim.to_dict(), str(path), text)
    ours = lipsync_metrics(anim, audio16k, align_transcript(audio16k, text)[0])
    assert ours["bilabials"] == theirs["bilabials"] > 0 and ours["open_vowels"] == theirs["open_vowels"] > 0
    assert ours["bilabial_closure"] == pytest.approx(theirs["bilabial_closure"], abs=1e-3)
    assert ours["open_vowel"] == pytest.approx(theirs["open_vowel"], abs=1e-3)
    assert ours["corr"] == pytest.approx(theirs["corr"], abs=0.05)
    assert ours["lag_ms"] == pytest.approx(theirs["lag_ms"], abs=1000 / anim.fps + 0.1)
    assert ours["hf_ratio"] == pytest.approx(theirs["hf_ratio"], abs=1e-3)
    # Given the evaluator's own phone timings, every metric matches to its rounding.
    same_phones = lipsync_metrics(anim, audio16k, evaluator.align(str(path), text))
    for metric, tol in (("bilabial_closure", 1e-3), ("open_vowel", 1e-3), ("lag_ms", 0.1), ("corr", 1e-3),
                        ("hf_ratio", 1e-4), ("silence_ratio", 0.01)):
        assert same_phones[metric] == pytest.approx(theirs[metric], abs=tol), metric
