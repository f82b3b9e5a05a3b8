"""Unity .anim export: read back with PyYAML, bindings hashed as Unity does, reduction checked by evaluating
the clip the way Unity does (cubic Hermite between keys with their slopes) at every baked frame."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from emobridge.animation import Animation, AnimationFormatError
from emobridge.rig import ARKIT_NAMES, arkit_raw_name
from emobridge.rig.profile import load_profile
from emobridge_export import ExportError, exporter
from emobridge_export.unity_anim import export_unity_anim, reduce_keys, unity_hash

REPO = Path(__file__).resolve().parents[2]
HEADER = ["%YAML 1.1", "%TAG !u! tag:unity3d.com,2011:", "--- !u!74 &7400000"]


def read_clip(path: Path) -> dict:
    """The AnimationClip mapping, after checking Unity's three header lines (PyYAML cannot resolve !u! tags)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[:3] == HEADER
    return yaml.safe_load("\n".join(lines[3:]))["AnimationClip"]


def unity_evaluate(keys: list[dict], t: np.ndarray) -> np.ndarray:
    """A Unity AnimationCurve at times t: cubic Hermite on (value, outSlope, inSlope) per segment, clamped."""
    kt = np.array([k["time"] for k in keys], float)
    kv = np.array([k["value"] for k in keys], float)
    if len(keys) == 1:
        return np.full(len(t), kv[0])
    out_slope = np.array([k["outSlope"] for k in keys], float)
    in_slope = np.array([k["inSlope"] for k in keys], float)
    t = np.clip(t, kt[0], kt[-1])
    i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, len(kt) - 2)
    dt = kt[i + 1] - kt[i]
    s = (t - kt[i]) / dt
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * kv[i] + h10 * out_slope[i] * dt + h01 * kv[i + 1] + h11 * in_slope[i + 1] * dt


def smooth_animation(frames: int = 300, fps: float = 60.0, seed: int = 0) -> Animation:
    """Smooth random curves in 0..1 (sums of slow sines), a stand-in for baked speech."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] / fps
    waves = sum(rng.uniform(0, 1, 52) * np.sin(2 * np.pi * rng.uniform(0.1, 1.5, 52) * t + rng.uniform(0, 6, 52))
                for _ in range(3))
    weights = (waves - waves.min(0)) / (np.ptp(waves, 0) + 1e-9) * rng.uniform(0, 1, 52)
    weights[:, 5] = 0.25  # one constant channel
    return Animation(fps=fps, frames=weights.astype(np.float32))


@pytest.fixture(scope="module")
def baked() -> Animation:
    from emobridge.bake import bake

    text = (REPO / "examples" / "hello.txt").read_text(encoding="utf-8")
    return bake(REPO / "examples" / "hello.wav", text=text, use_model=False)


def crc32_bitwise(data: bytes) -> int:
    """CRC-32 (IEEE, reflected 0xEDB88320) written out, independent of zlib."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_unity_hash_is_crc32_of_utf8():
    assert unity_hash("") == 0                               # root path binds as 0
    assert unity_hash("123456789") == 0xCBF43926             # the CRC-32 check value
    assert unity_hash("blendShape.eyeBlinkLeft") == 312818877
    assert unity_hash("Face") == 2770785369
    for text in ("Face", "Armature/Head/Face", "blendShape.jawOpen", "blendShape.eyeBlink_L", "Gesicht/Mund ü"):
        assert unity_hash(text) == zlib.crc32(text.encode("utf-8")) == crc32_bitwise(text.encode("utf-8"))


def test_exporter_is_registered():
    assert exporter("unity-anim") is export_unity_anim


def test_clip_has_unity_layout_and_bindings(tmp_path):
    anim = smooth_animation(frames=300, fps=30.0)
    out = export_unity_anim(anim, tmp_path / "talk.anim")
    assert out == tmp_path / "talk.anim"
    clip = read_clip(out)
    assert clip["m_Name"] == "talk" and clip["serializedVersion"] == 7
    assert (clip["m_Legacy"], clip["m_Compressed"], clip["m_UseHighQualityCurve"]) == (0, 0, 1)
    for empty in ("m_RotationCurves", "m_CompressedRotationCurves", "m_EulerCurves", "m_PositionCurves",
                  "m_ScaleCurves", "m_PPtrCurves", "m_EulerEditorCurves", "m_Events"):
        assert clip[empty] == [], empty
    assert clip["m_SampleRate"] == 30 and clip["m_WrapMode"] == 0
    settings = clip["m_AnimationClipSettings"]
    assert settings["m_StartTime"] == 0 and settings["m_LoopTime"] == 0
    assert settings["m_StopTime"] == pytest.approx(anim.duration, abs=1e-6) == pytest.approx(10.0)

    curves = clip["m_FloatCurves"]
    assert len(curves) == 52
    assert [c["attribute"] for c in curves] == [f"blendShape.{n}" for n in ARKIT_NAMES]
    assert clip["m_EditorCurves"] == curves
    for c in curves:
        assert (c["path"], c["classID"], c["script"], c["flags"]) == ("Face", 137, {"fileID": 0}, 0)
        body = c["curve"]
        assert (body["serializedVersion"], body["m_PreInfinity"], body["m_PostInfinity"], body["m_RotationOrder"]) == (2, 2, 2, 4)
        keys = body["m_Curve"]
        assert keys[0]["time"] == 0 and keys[-1]["time"] == pytest.approx(299 / 30, abs=1e-6)
        for k in keys:
            assert (k["serializedVersion"], k["tangentMode"], k["weightedMode"]) == (3, 69, 0)
            assert k["inWeight"] == k["outWeight"] == 0.33333334
            assert 0 <= k["value"] <= 100
    constant = curves[5]["curve"]["m_Curve"]
    assert len(constant) == 2 and {k["value"] for k in constant} == {25}

    binding = clip["m_ClipBindingConstant"]
    assert binding["pptrCurveMapping"] == []
    assert len(binding["genericBindings"]) == len(curves)
    for b, c in zip(binding["genericBindings"], curves, strict=True):
        assert b["path"] == zlib.crc32(c["path"].encode()) == 2770785369
        assert b["attribute"] == zlib.crc32(c["attribute"].encode())
        assert (b["serializedVersion"], b["script"], b["typeID"], b["customType"]) == (2, {"fileID": 0}, 137, 20)
        assert (b["isPPtrCurve"], b["isIntCurve"], b["isSerializeReferenceCurve"]) == (0, 0, 0)
    assert binding["genericBindings"][ARKIT_NAMES.index("eyeBlinkLeft")]["attribute"] == 312818877


def test_reduced_clip_stays_within_tolerance_of_baked_speech(tmp_path, baked):
    clip = read_clip(export_unity_anim(baked, tmp_path / "hello.anim"))
    times = np.arange(len(baked.frames)) / baked.fps
    target = baked.frames.astype(np.float64) * 100
    errors = [np.abs(unity_evaluate(c["curve"]["m_Curve"], times) - target[:, j]).max()
              for j, c in enumerate(clip["m_FloatCurves"])]
    assert max(errors) <= 0.5
    kept = sum(len(c["curve"]["m_Curve"]) for c in clip["m_FloatCurves"])
    assert kept < 0.25 * target.size, (kept, target.size)  # measured ~12% on this clip

    tight = read_clip(export_unity_anim(baked, tmp_path / "tight.anim", tolerance=0.05))
    assert sum(len(c["curve"]["m_Curve"]) for c in tight["m_FloatCurves"]) > kept
    for j, c in enumerate(tight["m_FloatCurves"]):
        assert np.abs(unity_evaluate(c["curve"]["m_Curve"], times) - target[:, j]).max() <= 0.05


def test_smooth_random_curves_reduce_within_tolerance(tmp_path):
    anim = smooth_animation(frames=600, fps=60.0, seed=3)
    clip = read_clip(export_unity_anim(anim, tmp_path / "smooth.anim", tolerance=0.5))
    times = np.arange(600) / 60.0
    kept = 0
    for j, c in enumerate(clip["m_FloatCurves"]):
        keys = c["curve"]["m_Curve"]
        kept += len(keys)
        assert np.abs(unity_evaluate(keys, times) - anim.frames[:, j] * 100.0).max() <= 0.5
    assert kept < 0.25 * anim.frames.size  # measured ~15%


def test_reduce_keys_cases():
    t = np.arange(100) / 60.0
    assert reduce_keys(t, np.full(100, 42.0), 0.5).tolist() == [0, 99]          # constant: ends only
    assert reduce_keys(t, np.linspace(0, 100, 100), 0.5).tolist() == [0, 99]    # a straight ramp
    assert reduce_keys(t[:1], np.array([7.0]), 0.5).tolist() == [0]             # one frame
    step = np.where(np.arange(100) < 50, 0.0, 100.0)
    assert reduce_keys(t, step, 0.5).tolist() == [0, 49, 50, 99]                # a jump keeps both sides
    wiggle = 10 * np.sin(np.arange(100) / 5.0)
    assert reduce_keys(t, wiggle, -1.0).tolist() == list(range(100))            # no budget: every key
    kept = reduce_keys(t, wiggle, 0.5)
    assert kept[0] == 0 and kept[-1] == 99 and np.all(np.diff(kept) > 0)
    assert np.abs(np.interp(t, t[kept], wiggle[kept]) - wiggle).max() <= 0.5


def test_rig_profile_names_the_curves(tmp_path, baked):
    profile = load_profile("ict_facekit")
    clip = read_clip(export_unity_anim(baked, tmp_path / "ict.anim", rig=profile, renderer_path="Armature/Head/Face"))
    curves = clip["m_FloatCurves"]
    assert len(curves) == len(profile.shape_names) == 53
    assert [c["attribute"] for c in curves] == [f"blendShape.{n}" for n in profile.shape_names]
    assert "blendShape.eyeBlink_L" in [c["attribute"] for c in curves]
    bindings = clip["m_ClipBindingConstant"]["genericBindings"]
    assert [b["attribute"] for b in bindings] == [zlib.crc32(f"blendShape.{n}".encode()) for n in profile.shape_names]
    assert {b["path"] for b in bindings} == {zlib.crc32(b"Armature/Head/Face")}
    times = np.arange(len(baked.frames)) / baked.fps
    target = profile.apply(baked.frames).astype(np.float64) * 100
    for j, c in enumerate(curves):
        assert np.abs(unity_evaluate(c["curve"]["m_Curve"], times) - target[:, j]).max() <= 0.5
    # A profile by name works the same as the loaded profile.
    assert read_clip(export_unity_anim(baked, tmp_path / "ict2.anim", rig="ict_facekit",
                                       renderer_path="Armature/Head/Face"))["m_FloatCurves"] == curves


def test_empty_renderer_path_binds_to_the_root(tmp_path):
    clip = read_clip(export_unity_anim(smooth_animation(30), tmp_path / "root.anim", renderer_path=""))
    assert {c["path"] for c in clip["m_FloatCurves"]} == {None}  # `path: ` with nothing after it
    assert {b["path"] for b in clip["m_ClipBindingConstant"]["genericBindings"]} == {0}


def test_names_that_need_quoting_read_back_exactly(tmp_path):
    clip = read_clip(export_unity_anim(smooth_animation(30), tmp_path / "q.anim", renderer_path="Rig: #1/Face's mesh",
                                       clip_name="Hello: world"))
    assert clip["m_Name"] == "Hello: world"
    assert {c["path"] for c in clip["m_FloatCurves"]} == {"Rig: #1/Face's mesh"}
    assert {b["path"] for b in clip["m_ClipBindingConstant"]["genericBindings"]} == {zlib.crc32(b"Rig: #1/Face's mesh")}


def test_blendshape_names_in_another_order_and_spelling_are_reordered(tmp_path):
    anim = smooth_animation(60)
    perm = np.random.default_rng(1).permutation(52)
    shuffled = Animation(fps=anim.fps, frames=anim.frames[:, perm],
                         blendshape_names=tuple(arkit_raw_name(ARKIT_NAMES[i]) for i in perm))
    a = export_unity_anim(anim, tmp_path / "a.anim", clip_name="same")
    b = export_unity_anim(shuffled, tmp_path / "b.anim", clip_name="same")
    assert a.read_text() == b.read_text()


def test_single_frame_clip(tmp_path):
    anim = Animation(fps=24.0, frames=np.full((1, 52), 0.5, np.float32))
    clip = read_clip(export_unity_anim(anim, tmp_path / "pose.anim"))
    assert clip["m_AnimationClipSettings"]["m_StopTime"] == pytest.approx(1 / 24)
    assert all(c["curve"]["m_Curve"] == [dict(c["curve"]["m_Curve"][0], time=0, value=50)] for c in clip["m_FloatCurves"])


@pytest.mark.parametrize("tolerance", [0, -0.5, float("nan"), float("inf"), "0.5", True])
def test_non_positive_or_non_numeric_tolerance_is_refused(tmp_path, tolerance):
    with pytest.raises(ExportError, match="tolerance must be a positive number"):
        export_unity_anim(smooth_animation(10), tmp_path / "x.anim", tolerance=tolerance)
    assert not (tmp_path / "x.anim").exists()


def test_bad_input_is_refused_with_the_problem_named(tmp_path):
    out = tmp_path / "x.anim"
    nan = np.zeros((10, 52), np.float32)
    nan[3, 7] = np.nan
    with pytest.raises(ExportError, match="NaN"):
        export_unity_anim(Animation(fps=60.0, frames=nan), out)
    with pytest.raises(ExportError, match=r"\[T >= 1, 52\].*\(10, 51\)"):
        export_unity_anim(Animation(fps=60.0, frames=np.zeros((10, 51), np.float32)), out)
    with pytest.raises(ExportError, match="fps"):
        export_unity_anim(Animation(fps=0.0, frames=np.zeros((10, 52), np.float32)), out)
    with pytest.raises(ExportError, match="renderer_path"):
        export_unity_anim(smooth_animation(10), out, renderer_path="Face\nm_Name: evil")
    with pytest.raises(ExportError, match="renderer_path must be a string"):
        export_unity_anim(smooth_animation(10), out, renderer_path=None)
    with pytest.raises(ExportError, match="clip_name"):
        export_unity_anim(smooth_animation(10), out, clip_name="a\tb")
    with pytest.raises(ExportError, match="no_such_rig"):
        export_unity_anim(smooth_animation(10), out, rig="no_such_rig")
    names = list(ARKIT_NAMES)
    names[1] = names[0]
    with pytest.raises(ExportError, match="exactly once"):
        export_unity_anim(Animation(fps=60.0, frames=np.zeros((10, 52), np.float32), blendshape_names=tuple(names)), out)
    assert not out.exists()


def test_animation_load_names_the_bad_field(tmp_path):
    good = {"fps": 60, "blendshape_names": list(ARKIT_NAMES), "frames": [[0.0] * 52] * 3}
    path = tmp_path / "a.json"
    path.write_text(json.dumps({k: v for k, v in good.items() if k != "fps"}))
    with pytest.raises(AnimationFormatError, match="'fps'"):
        Animation.load(path)
    # Python's json reads a bare NaN; the contract does not.
    path.write_text(json.dumps(good).replace("0.0", "NaN", 1))
    with pytest.raises(AnimationFormatError, match="'frames' contains NaN"):
        Animation.load(path)
    path.write_text(json.dumps(dict(good, frames=[[0.0] * 51] * 3)))
    with pytest.raises(AnimationFormatError, match="'frames'"):
        Animation.load(path)


def test_write_is_atomic_and_overwrites(tmp_path):
    out = tmp_path / "clips" / "talk.anim"
    export_unity_anim(smooth_animation(30), out)
    out.write_text("stale")
    export_unity_anim(smooth_animation(30), out)
    assert read_clip(out)["m_Name"] == "talk"
    assert sorted(p.name for p in out.parent.iterdir()) == ["talk.anim"]  # no temp file left behind
    target_is_a_folder = tmp_path / "folder.anim"
    target_is_a_folder.mkdir()
    with pytest.raises(ExportError, match="cannot write"):
        export_unity_anim(smooth_animation(30), target_is_a_folder)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
