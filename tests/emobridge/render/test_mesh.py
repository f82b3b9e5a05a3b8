"""ICT-FaceKit lookup and ARKit mapping (synthetic), and loading the real head (needs ../shared)."""

import numpy as np
import pytest

from emobridge.render.mesh import MESH_ENV, MESH_RELATIVE, arkit_to_ict, resolve_mesh_path
from emobridge.rig import ARKIT_INDEX, NUM_BLENDSHAPES


def test_arkit_mapping_keeps_jaw_and_mouth_sideways_shapes():
    ict = ["browInnerUp_L", "browInnerUp_R", "eyeBlink_L", "jawLeft", "jawRight", "mouthLeft", "mouthSmile_R"]
    m = arkit_to_ict(ict)
    assert m.shape == (NUM_BLENDSHAPES, len(ict))
    assert m[ARKIT_INDEX["browInnerUp"]].tolist() == [1, 1, 0, 0, 0, 0, 0]
    assert m[ARKIT_INDEX["eyeBlinkLeft"], 2] == 1
    assert m[ARKIT_INDEX["jawLeft"], 3] == 1 and m[ARKIT_INDEX["jawRight"], 4] == 1
    assert m[ARKIT_INDEX["mouthLeft"], 5] == 1 and m[ARKIT_INDEX["mouthSmileRight"], 6] == 1
    assert m[ARKIT_INDEX["tongueOut"]].sum() == 0 and m.sum(axis=0).tolist() == [1] * len(ict)


def test_lookup_order_and_errors(tmp_path, monkeypatch):
    monkeypatch.delenv(MESH_ENV, raising=False)
    with pytest.raises(FileNotFoundError, match=MESH_ENV):
        resolve_mesh_path(tmp_path / "nope.npz")
    monkeypatch.setenv(MESH_ENV, str(tmp_path / "missing.npz"))
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        resolve_mesh_path()
    monkeypatch.delenv(MESH_ENV)
    with pytest.raises(FileNotFoundError, match="ict_facekit_expressions.npz"):
        resolve_mesh_path(search_from=[tmp_path])
    found = tmp_path / MESH_RELATIVE
    found.parent.mkdir(parents=True)
    found.write_bytes(b"")
    deep = tmp_path / "repo" / "sub"
    deep.mkdir(parents=True)
    assert resolve_mesh_path(search_from=[deep]) == found
    monkeypatch.setenv(MESH_ENV, str(found))
    assert resolve_mesh_path() == found


def test_real_head(shared_dir):
    from emobridge.render.mesh import EYEBALLS, FACE, TEETH, FaceMesh

    path = shared_dir / "data/mesh/ict_facekit/ict_facekit_expressions.npz"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    mesh = FaceMesh.default(path)
    assert mesh is FaceMesh.default(path)
    assert mesh.deltas.shape == (NUM_BLENDSHAPES, mesh.num_vertices, 3)
    assert mesh.triangles.max() < mesh.num_vertices and mesh.albedo.shape == (mesh.num_vertices, 3)
    assert mesh.albedo.min() >= 0 and mesh.albedo.max() <= 1
    assert {FACE, TEETH, EYEBALLS} <= set(np.unique(mesh.region).tolist())
    moved = np.abs(mesh.deltas).max(axis=(1, 2))
    assert (moved[[i for n, i in ARKIT_INDEX.items() if n != "tongueOut"]] > 0.05).all()   # jawLeft & co. too
    assert moved[ARKIT_INDEX["tongueOut"]] == 0
    w = np.zeros(NUM_BLENDSHAPES)
    w[ARKIT_INDEX["jawOpen"]] = 1
    assert (mesh.vertices(w) - mesh.neutral)[:, 1].min() < -2.0     # the chin drops by centimetres
    with pytest.raises(ValueError):
        mesh.vertices(np.zeros(3))
