"""glTF export: Khronos validator on .glb/.gltf (placeholder always, ICT head with ../shared), pygltflib round trip,
head rotation, mesh choice and the errors it raises."""

from __future__ import annotations

import base64
import json
import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from emobridge.animation import Animation, AnimationFormatError
from emobridge.rig import ARKIT_INDEX, ARKIT_NAMES
from emobridge.rig.profile import RigProfile, load_profile
from emobridge_export import EXPORTERS, ExportError, exporter
from emobridge_export.gltf import CM, SPARSE_EPS, export_gltf, head_quaternions

pygltflib = pytest.importorskip("pygltflib")

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = REPO / "export_tools" / "node"
VALIDATE_JS = NODE_DIR / "validate_gltf.js"


# -- helpers ---------------------------------------------------------------------------------------------
def make_animation(frames: int = 48, fps: float = 30.0, head: bool = True, seed: int = 0) -> Animation:
    rng = np.random.default_rng(seed)
    weights = rng.random((frames, len(ARKIT_NAMES))).astype(np.float32)
    rotation = (0.4 * np.sin(np.linspace(0, 6, frames))[:, None] * [1.0, 0.5, -0.3]).astype(np.float32) if head else None
    return Animation(fps, weights, head_rotation=rotation, meta={"source": "test"})


def run_validator(path: Path) -> dict:
    """The Khronos glTF-Validator report for one file (skips when node or its modules are missing)."""
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "gltf-validator").is_dir():
        pytest.skip("glTF-Validator not installed (needs node and export_tools/install_node_deps.sh)")
    proc = subprocess.run([node, str(VALIDATE_JS), str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), f"validator failed to run: {proc.stderr}"
    report = json.loads(proc.stdout)
    issues = report["issues"]
    print(f"{path.name}: {path.stat().st_size} bytes, errors={issues['numErrors']} warnings={issues['numWarnings']} "
          f"infos={issues['numInfos']} hints={issues['numHints']}")
    for message in issues["messages"]:
        print("  ", message["code"], message.get("pointer"), message["message"])
    return report


def assert_clean(path: Path) -> dict:
    report = run_validator(path)
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:10]
    assert report["issues"]["numWarnings"] == 0, report["issues"]["messages"][:10]
    assert report["info"]["animationCount"] == 1 and report["info"]["hasMorphTargets"]
    return report


def load(path: Path) -> tuple[pygltflib.GLTF2, bytes]:
    gltf = pygltflib.GLTF2().load(str(path))
    uri = gltf.buffers[0].uri
    blob = base64.b64decode(uri.split(",", 1)[1]) if uri else gltf.binary_blob()
    return gltf, blob


def read_accessor(gltf: pygltflib.GLTF2, blob: bytes, index: int) -> np.ndarray:
    """An accessor as [count, components] floats, sparse substitution included (independent of the exporter)."""
    acc = gltf.accessors[index]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[acc.type]
    dtypes = {5126: np.float32, 5125: np.uint32, 5123: np.uint16, 5121: np.uint8}

    def view_array(view_index: int, offset: int, count: int, dtype) -> np.ndarray:
        view = gltf.bufferViews[view_index]
        start = (view.byteOffset or 0) + (offset or 0)
        return np.frombuffer(blob, dtype, count, start)

    if acc.bufferView is None:
        out = np.zeros(acc.count * width, np.float64)
    else:
        out = view_array(acc.bufferView, acc.byteOffset, acc.count * width, dtypes[acc.componentType]).astype(np.float64)
    out = out.reshape(acc.count, width)
    if acc.sparse is not None:
        sp = acc.sparse
        rows = view_array(sp.indices.bufferView, sp.indices.byteOffset, sp.count, dtypes[sp.indices.componentType])
        values = view_array(sp.values.bufferView, sp.values.byteOffset, sp.count * width, dtypes[acc.componentType])
        out[rows.astype(np.int64)] = values.reshape(sp.count, width)
    return out


def weights_of(gltf: pygltflib.GLTF2, blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(times [T], weights [T, n]) from the animation channel on ``weights``."""
    anim = gltf.animations[0]
    channel = next(c for c in anim.channels if c.target.path == "weights")
    sampler = anim.samplers[channel.sampler]
    assert sampler.interpolation == "LINEAR"
    times = read_accessor(gltf, blob, sampler.input)[:, 0]
    n = len(gltf.meshes[gltf.nodes[channel.target.node].mesh].weights)
    return times, read_accessor(gltf, blob, sampler.output).reshape(len(times), n)


def target_delta(gltf: pygltflib.GLTF2, blob: bytes, name: str) -> np.ndarray:
    mesh = gltf.meshes[0]
    index = mesh.extras["targetNames"].index(name)
    return read_accessor(gltf, blob, mesh.primitives[0].targets[index]["POSITION"])


def quat_matrix(q: np.ndarray) -> np.ndarray:
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


@pytest.fixture
def small_ict(tmp_path: Path) -> Path:
    """A tiny ICT-format npz (a 6x6 grid in cm, seven ICT shapes, one all zero; the rest of ICT's 53 missing)."""
    xs, ys = np.meshgrid(np.linspace(-5, 5, 6), np.linspace(-5, 5, 6))
    neutral = np.stack([xs.ravel(), ys.ravel(), np.full(xs.size, 8.0)], 1).astype(np.float32)
    tris = []
    for r in range(5):
        for c in range(5):
            a, b, d, e = r * 6 + c, r * 6 + c + 1, (r + 1) * 6 + c, (r + 1) * 6 + c + 1
            tris += [(a, b, e), (a, e, d)]
    # cheekPuff_L/_R are there so every ict_facekit profile name is an ICT shape or an ARKit name.
    names = np.array(["jawOpen", "browInnerUp_L", "browInnerUp_R", "eyeBlink_L", "mouthClose", "cheekPuff_L", "cheekPuff_R"])
    rng = np.random.default_rng(1)
    deltas = (rng.uniform(0.01, 0.5, (len(names), len(neutral), 3)) * rng.choice([-1, 1], (len(names), len(neutral), 3)))
    deltas[:, :10] = 0.0                        # untouched vertices: sparse rows
    deltas[4] = 0.0                             # a shape that does nothing
    path = tmp_path / "small_ict.npz"
    np.savez(path, neutral_vertices=neutral, triangles=np.asarray(tris, np.int32), expression_names=names,
             expression_deltas=deltas.astype(np.float32))
    return path


@pytest.fixture
def ict_path(shared_dir: Path) -> Path:
    path = shared_dir / "data/mesh/ict_facekit/ict_facekit_expressions.npz"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


# -- validator ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_placeholder_passes_khronos_validator(tmp_path: Path, suffix: str) -> None:
    path = export_gltf(make_animation(), tmp_path / f"anim{suffix}", mesh="placeholder")
    report = assert_clean(path)
    assert report["info"]["totalVertexCount"] < 1000
    assert report["mimeType"] == ("model/gltf-binary" if suffix == ".glb" else "model/gltf+json")


@pytest.mark.parametrize("rig", [None, "ict_facekit"])
def test_small_ict_npz_passes_khronos_validator(tmp_path: Path, small_ict: Path, rig: str | None) -> None:
    path = export_gltf(make_animation(), tmp_path / "anim.glb", rig=rig, mesh=small_ict)
    assert_clean(path)
    assert load(path)[0].asset.extras["emobridge"]["mesh"] == "ict_facekit"


@pytest.mark.shared
@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_ict_head_passes_khronos_validator(tmp_path: Path, ict_path: Path, suffix: str) -> None:
    path = export_gltf(make_animation(), tmp_path / f"anim{suffix}", mesh=ict_path)
    report = assert_clean(path)
    assert report["info"]["totalVertexCount"] > 20000
    assert path.stat().st_size < 12_000_000       # sparse targets keep the head well under the 16 MB dense size


@pytest.mark.shared
def test_ict_head_with_ict_profile_passes_validator(tmp_path: Path, ict_path: Path) -> None:
    assert_clean(export_gltf(make_animation(), tmp_path / "anim.glb", rig="ict_facekit", mesh=ict_path))


# -- round trip --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_round_trip_reproduces_frames(tmp_path: Path, suffix: str) -> None:
    anim = make_animation(frames=37, fps=24.0)
    gltf, blob = load(export_gltf(anim, tmp_path / f"anim{suffix}", mesh="placeholder"))
    mesh = gltf.meshes[0]
    assert mesh.extras["targetNames"] == list(ARKIT_NAMES)
    assert mesh.weights == [0.0] * 52 and len(mesh.primitives[0].targets) == 52
    times, weights = weights_of(gltf, blob)
    np.testing.assert_allclose(times, np.arange(37) / 24.0, atol=1e-6)
    assert np.abs(weights - anim.frames).max() < 1e-4
    time_acc = gltf.accessors[gltf.animations[0].samplers[0].input]
    assert time_acc.min == [0.0] and time_acc.max[0] == pytest.approx(36 / 24.0)
    for target in mesh.primitives[0].targets:            # POSITION accessors need min/max (spec)
        acc = gltf.accessors[target["POSITION"]]
        assert acc.min is not None and acc.max is not None
    deltas = np.stack([target_delta(gltf, blob, n) for n in ARKIT_NAMES])
    assert np.abs(deltas).max(axis=(1, 2)).min() > 1e-3                        # every bump moves something
    flat = deltas.reshape(52, -1)
    assert np.linalg.matrix_rank(flat) == 52                                   # ... and they all differ


def test_rig_profile_names_and_values(tmp_path: Path) -> None:
    anim = make_animation()
    profile = load_profile("ict_facekit")
    gltf, blob = load(export_gltf(anim, tmp_path / "anim.glb", rig=profile, mesh="placeholder"))
    assert gltf.meshes[0].extras["targetNames"] == list(profile.shape_names)
    _, weights = weights_of(gltf, blob)
    np.testing.assert_allclose(weights, profile.apply(anim.frames), atol=1e-6)
    # The profile may also be given by name.
    gltf2, _ = load(export_gltf(anim, tmp_path / "by_name.gltf", rig="vrm_perfect_sync", mesh="placeholder"))
    assert gltf2.meshes[0].extras["targetNames"][0] == "EyeBlinkLeft"


def test_head_rotation_channel(tmp_path: Path) -> None:
    from emobridge.render.raster import rotation_matrix

    anim = make_animation(frames=40)
    gltf, blob = load(export_gltf(anim, tmp_path / "anim.glb", mesh="placeholder"))
    head = next(i for i, n in enumerate(gltf.nodes) if n.name == "head")
    assert gltf.scenes[gltf.scene].nodes == [head]
    face = gltf.nodes[head].children[0]
    assert gltf.nodes[face].mesh == 0
    channels = gltf.animations[0].channels
    assert [(c.target.node, c.target.path) for c in channels] == [(face, "weights"), (head, "rotation")]
    quats = read_accessor(gltf, blob, gltf.animations[0].samplers[channels[1].sampler].output)
    assert quats.shape == (40, 4)
    np.testing.assert_allclose(np.linalg.norm(quats, axis=1), 1.0, atol=1e-6)
    assert ((quats[1:] * quats[:-1]).sum(axis=1) > 0).all()             # one hemisphere: slerp takes the short way
    for i in (0, 7, 23, 39):
        np.testing.assert_allclose(quat_matrix(quats[i]), rotation_matrix(*anim.head_rotation[i]), atol=1e-5)


def test_head_quaternions_follow_renderer_convention() -> None:
    from emobridge.render.raster import rotation_matrix

    rng = np.random.default_rng(3)
    angles = rng.uniform(-3, 3, (50, 3))
    for q, (yaw, pitch, roll) in zip(head_quaternions(angles), angles, strict=True):
        np.testing.assert_allclose(quat_matrix(q), rotation_matrix(yaw, pitch, roll), atol=1e-9)
    # Pure yaw is a turn about +y (y up), pure pitch about +x, pure roll about +z.
    np.testing.assert_allclose(head_quaternions(np.array([[0.5, 0, 0]]))[0], [0, np.sin(0.25), 0, np.cos(0.25)])
    np.testing.assert_allclose(head_quaternions(np.array([[0, 0.5, 0]]))[0], [np.sin(0.25), 0, 0, np.cos(0.25)])
    np.testing.assert_allclose(head_quaternions(np.array([[0, 0, 0.5]]))[0], [0, 0, np.sin(0.25), np.cos(0.25)])


def test_without_head_rotation_only_weights(tmp_path: Path) -> None:
    gltf, _ = load(export_gltf(make_animation(head=False), tmp_path / "anim.glb", mesh="placeholder"))
    assert [c.target.path for c in gltf.animations[0].channels] == ["weights"]


def test_single_frame_is_valid(tmp_path: Path) -> None:
    anim = Animation(60.0, np.full((1, 52), 0.25, np.float32))
    path = export_gltf(anim, tmp_path / "one.glb", mesh="placeholder")
    gltf, blob = load(path)
    times, weights = weights_of(gltf, blob)
    assert times.tolist() == [0.0] and np.allclose(weights, 0.25)
    assert_clean(path)


# -- mesh choice -------------------------------------------------------------------------------------------
def test_ict_format_npz_targets(tmp_path: Path, small_ict: Path) -> None:
    raw = np.load(small_ict)["expression_deltas"]
    gltf, blob = load(export_gltf(make_animation(), tmp_path / "anim.glb", mesh=small_ict))
    assert gltf.asset.extras["emobridge"]["mesh"] == "ict_facekit"
    assert gltf.meshes[0].extras["targetNames"] == list(ARKIT_NAMES)
    positions = read_accessor(gltf, blob, gltf.meshes[0].primitives[0].attributes.POSITION)
    np.testing.assert_allclose(positions[:, 2], 0.08, atol=1e-7)                 # cm -> metres
    np.testing.assert_allclose(target_delta(gltf, blob, "jawOpen"), raw[0] * CM, atol=1e-7)
    # ARKit browInnerUp drives both ICT halves; shapes the head lacks are all-zero targets.
    np.testing.assert_allclose(target_delta(gltf, blob, "browInnerUp"), (raw[1] + raw[2]) * CM, atol=1e-7)
    assert not target_delta(gltf, blob, "tongueOut").any() and not target_delta(gltf, blob, "mouthClose").any()
    # With the ICT profile each half is its own target.
    gltf, blob = load(export_gltf(make_animation(), tmp_path / "ict.glb", rig="ict_facekit", mesh=small_ict))
    np.testing.assert_allclose(target_delta(gltf, blob, "browInnerUp_L"), raw[1] * CM, atol=1e-7)
    np.testing.assert_allclose(target_delta(gltf, blob, "eyeBlink_L"), raw[3] * CM, atol=1e-7)


def test_unknown_profile_names_use_placeholder(tmp_path: Path, small_ict: Path, caplog) -> None:
    profile = RigProfile.from_dict({"name": "toon", "shapes": {"Smile": {"from": ["mouthSmileLeft", "mouthSmileRight"]},
                                                               "Blink": {"from": "eyeBlinkLeft"}, "jawOpen": "jawOpen"}})
    with caplog.at_level(logging.WARNING, logger="emobridge_export.gltf"):
        path = export_gltf(make_animation(), tmp_path / "toon.glb", rig=profile, mesh=small_ict)
    assert "placeholder" in caplog.text and "Smile" in caplog.text
    gltf, blob = load(path)
    assert gltf.asset.extras["emobridge"]["mesh"] == "placeholder"
    assert gltf.meshes[0].extras["targetNames"] == ["Smile", "Blink", "jawOpen"]
    np.testing.assert_allclose(weights_of(gltf, blob)[1], profile.apply(make_animation().frames), atol=1e-6)


def test_no_head_found_uses_placeholder(tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("EMOBRIDGE_ICT_MESH", str(tmp_path / "nowhere.npz"))
    with caplog.at_level(logging.WARNING, logger="emobridge_export.gltf"):
        gltf, _ = load(export_gltf(make_animation(), tmp_path / "anim.glb"))
    assert gltf.asset.extras["emobridge"]["mesh"] == "placeholder"
    assert "placeholder" in caplog.text and "nowhere.npz" in caplog.text


@pytest.mark.shared
def test_ict_head_round_trip(tmp_path: Path, ict_path: Path) -> None:
    from emobridge.render.mesh import FaceMesh

    face = FaceMesh.default(ict_path)
    anim = make_animation()
    gltf, blob = load(export_gltf(anim, tmp_path / "head.glb", mesh=ict_path))
    assert gltf.asset.extras["emobridge"]["mesh"] == "ict_facekit"
    assert gltf.accessors[gltf.meshes[0].primitives[0].attributes.POSITION].count == face.num_vertices
    assert np.abs(weights_of(gltf, blob)[1] - anim.frames).max() < 1e-4
    jaw = target_delta(gltf, blob, "jawOpen")
    expected = face.deltas[ARKIT_INDEX["jawOpen"]] * CM
    assert np.abs(jaw - expected).max() <= SPARSE_EPS                       # only sub-micrometre deltas dropped
    assert gltf.accessors[gltf.meshes[0].primitives[0].targets[ARKIT_INDEX["jawOpen"]]["POSITION"]].sparse is not None


# -- errors and file handling --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["anim.fbx", "anim.obj", "anim"])
def test_unsupported_suffix(tmp_path: Path, name: str) -> None:
    with pytest.raises(ExportError, match=r"\.glb.*\.gltf"):
        export_gltf(make_animation(), tmp_path / name, mesh="placeholder")
    assert list(tmp_path.iterdir()) == []


def test_unknown_mesh_path(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="missing.npz.*not found"):
        export_gltf(make_animation(), tmp_path / "a.glb", mesh=tmp_path / "missing.npz")


def test_wrong_npz_layout(tmp_path: Path, small_ict: Path) -> None:
    data = dict(np.load(small_ict))
    no_deltas = tmp_path / "no_deltas.npz"
    np.savez(no_deltas, **{k: v for k, v in data.items() if k != "expression_deltas"})
    with pytest.raises(ExportError, match="expression_deltas"):
        export_gltf(make_animation(), tmp_path / "a.glb", mesh=no_deltas)
    bad_shape = tmp_path / "bad_shape.npz"
    np.savez(bad_shape, **{**data, "expression_deltas": data["expression_deltas"][:, :-1]})
    with pytest.raises(ExportError, match="expression_deltas must be"):
        export_gltf(make_animation(), tmp_path / "a.glb", mesh=bad_shape)
    bad_tris = tmp_path / "bad_tris.npz"
    np.savez(bad_tris, **{**data, "triangles": data["triangles"] + 100})
    with pytest.raises(ExportError, match="triangles"):
        export_gltf(make_animation(), tmp_path / "a.glb", mesh=bad_tris)
    not_npz = tmp_path / "text.npz"
    not_npz.write_text("hello")
    with pytest.raises(ExportError, match="not a readable npz"):
        export_gltf(make_animation(), tmp_path / "a.glb", mesh=not_npz)
    assert not (tmp_path / "a.glb").exists()


def test_bad_animation_and_profile(tmp_path: Path) -> None:
    anim = make_animation()
    mismatched = Animation(30.0, anim.frames[:, :10])
    with pytest.raises(ExportError, match="52 blendshape names but 10"):
        export_gltf(mismatched, tmp_path / "a.glb", mesh="placeholder")
    with pytest.raises(ExportError, match="rig profile"):
        export_gltf(anim, tmp_path / "a.glb", rig="no_such_profile", mesh="placeholder")


def test_atomic_write_overwrites_and_leaves_no_temp(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "anim.glb"
    export_gltf(make_animation(frames=10), out, mesh="placeholder")
    first = out.read_bytes()
    export_gltf(make_animation(frames=20), out, mesh="placeholder")
    assert out.read_bytes() != first and out.read_bytes()[:4] == b"glTF"
    assert [p.name for p in out.parent.iterdir()] == ["anim.glb"]


def test_registered_exporter() -> None:
    assert EXPORTERS["gltf"][2] == ".glb"
    assert exporter("gltf") is export_gltf


@pytest.mark.parametrize("change, field", [
    (lambda d: d.pop("fps"), "fps"),
    (lambda d: d.update(fps=-3), "fps"),
    (lambda d: d["frames"][1].pop(), "frames"),
    (lambda d: d.update(frames=[[2.0] * 52]), "frames"),
    (lambda d: d.update(head_rotation=[[0.0, 0.0]] * 3), "head_rotation"),
    (lambda d: d.update(blendshape_names="jawOpen"), "blendshape_names"),
])
def test_animation_load_rejects_malformed_json(tmp_path: Path, change, field: str) -> None:
    doc = make_animation(frames=3, head=False).to_dict()
    change(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(AnimationFormatError, match=f"'{field}'"):
        Animation.load(path)


def test_animation_load_rejects_non_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"fps": 30, "frames": [[0.1, ')
    with pytest.raises(AnimationFormatError, match="not valid JSON"):
        Animation.load(path)


def test_baked_animation_round_trip(tmp_path: Path, baked: Animation) -> None:
    path = export_gltf(baked, tmp_path / "hello.glb", mesh="placeholder")
    gltf, blob = load(path)
    times, weights = weights_of(gltf, blob)
    assert np.abs(weights - baked.frames).max() < 1e-4
    np.testing.assert_allclose(times, np.arange(len(baked.frames)) / baked.fps, atol=1e-5)
    assert gltf.animations[0].extras["fps"] == baked.fps
    assert_clean(path)
