"""FLAME <-> ARKit retargeting on generated FLAME-format fixtures (the real FLAME model is licence-gated).

The fixture is a small FLAME-layout model (random smooth template and blendshapes, a jaw-skinned lower face) whose
first 40 expression directions only move the upper face. ARKit shapes are built in its topology as expression
combinations plus one FLAME jaw opening, so known ARKit weights map exactly to known FLAME parameters whenever
the jaw is closed, or open with only upper-face shapes active. Jaw displacements are generated with an independent
full 5-joint linear-blend-skinning implementation (scipy rotations, explicit kinematic chain).
"""

from __future__ import annotations

import os
import pickle
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from scipy.spatial.transform import Rotation

from emobridge.animation import Animation
from emobridge.rig import ARKIT_INDEX, ARKIT_NAMES
from emobridge_export import ExportError
from emobridge_export.flame import (
    DEFAULT_TEMPORAL,
    FlameAnimation,
    arkit_to_flame,
    benchmark,
    fit_flame,
    flame_displacements,
    flame_to_arkit,
    load_arkit_basis,
    load_flame_animation,
    load_flame_model,
    save_flame_animation,
    solve_bounded_ls,
)

N_UPPER = 40                  # expression directions 0..39 vanish on the jaw-skinned lower face
THETA0 = np.array([0.25, 0.0, 0.0])  # the fixture's jawOpen: 0.25 rad about x
UPPER = tuple(n for n in ARKIT_NAMES if n.startswith(("eyeBlink", "eyeLook", "eyeSquint", "eyeWide", "brow", "cheekSquint",
                                                      "noseSneer")))
JAW_OPEN = ARKIT_INDEX["jawOpen"]


# ---------------------------------------------------------------------------------------------------------- fixtures


def _smooth_fields(points: np.ndarray, count: int, rng: np.random.Generator, scale: float) -> np.ndarray:
    """count random smooth vector fields over points: [V, 3, count] (4 random plane waves each)."""
    omega = rng.normal(0, 25.0, (count, 4, 3))
    phase = rng.uniform(0, 2 * np.pi, (count, 4))
    amp = rng.normal(0, scale, (count, 3, 4))
    waves = np.sin(np.einsum("vd,cjd->vcj", points, omega) + phase[None])
    return np.einsum("vcj,cij->vic", waves, amp)


def make_flame(n_vertices: int = 400, seed: int = 0) -> dict[str, np.ndarray]:
    """A FLAME-layout model dict: metres, y up, face towards +z, lower face (y < -0.02) skinned to the jaw."""
    rng = np.random.default_rng(seed)
    u, phi = rng.uniform(-1, 1, n_vertices), rng.uniform(0, 2 * np.pi, n_vertices)
    radial = np.sqrt(1 - u * u)
    points = np.stack([radial * np.cos(phi), u, radial * np.sin(phi)], axis=1) * [0.08, 0.11, 0.09]
    points += _smooth_fields(points, 1, rng, 0.004)[:, :, 0]
    y = points[:, 1]
    shapedirs = np.concatenate([_smooth_fields(points, 300, rng, 0.002), _smooth_fields(points, 100, rng, 0.001)], axis=2)
    upper_mask = np.clip(y / 0.02, 0, 1)
    shapedirs[:, :, 300:300 + N_UPPER] *= upper_mask[:, None, None]
    jaw_w = np.clip((-0.02 - y) / 0.03, 0, 1)
    jaw_w = jaw_w * jaw_w * (3 - 2 * jaw_w)                           # smoothstep ramp into the jaw
    weights = np.zeros((n_vertices, 5))
    weights[:, 2] = jaw_w
    eye_l = np.argsort(np.linalg.norm(points - [0.03, 0.03, 0.08], axis=1))[:6]
    eye_r = np.argsort(np.linalg.norm(points - [-0.03, 0.03, 0.08], axis=1))[:6]
    weights[eye_l, 3] = 1.0
    weights[eye_r, 4] = 1.0
    neck_base = (y < -0.1) & (weights[:, 3:].sum(axis=1) == 0)
    weights[neck_base, 0] = 0.5 * (1 - jaw_w[neck_base])
    weights[:, 1] = 1 - weights[:, [0, 2, 3, 4]].sum(axis=1)
    regressor = np.zeros((5, n_vertices))
    for joint, centre in enumerate(([0, -0.09, -0.02], [0, -0.05, -0.04], [0, -0.04, -0.03], [0.03, 0.03, 0.07],
                                    [-0.03, 0.03, 0.07])):
        nearest = np.argsort(np.linalg.norm(points - centre, axis=1))[:8]
        regressor[joint, nearest] = 1 / 8
    assert np.all(points[regressor[2] > 0, 1] < 0), "the jaw joint must come from lower-face vertices"
    faces = np.arange(3 * (n_vertices // 3)).reshape(-1, 3)
    return {
        "v_template": points,
        "f": faces.astype(np.uint32),
        "shapedirs": shapedirs,
        "posedirs": _smooth_fields(points, 36, rng, 0.001),
        "J_regressor": regressor,
        "weights": weights,
        "kintree_table": np.array([[2**32 - 1, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.int64),
    }


def reference_vertices(flame: dict[str, np.ndarray], expression: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """FLAME forward pass the long way: one frame, full pose [15], explicit kinematic chain and 4x4 transforms."""
    shaped = flame["v_template"] + flame["shapedirs"][:, :, 300:300 + len(expression)] @ expression
    joints = flame["J_regressor"] @ shaped
    rots = Rotation.from_rotvec(pose.reshape(5, 3)).as_matrix()
    feature = np.concatenate([(rots[j] - np.eye(3)).ravel() for j in range(1, 5)])
    posed = shaped + flame["posedirs"] @ feature
    parents = [-1, 0, 1, 1, 1]
    world = []
    for j in range(5):
        local = np.eye(4)
        local[:3, :3] = rots[j]
        local[:3, 3] = joints[j] - (joints[parents[j]] if parents[j] >= 0 else 0)
        world.append(local if parents[j] < 0 else world[parents[j]] @ local)
    rel = np.stack(world)
    rel[:, :3, 3] -= np.einsum("jab,jb->ja", rel[:, :3, :3], joints)       # transforms relative to the rest pose
    blended = np.einsum("vj,jab->vab", flame["weights"], rel)
    return np.einsum("vab,vb->va", blended[:, :3, :3], posed) + blended[:, :3, 3]


def jaw_displacement(flame: dict[str, np.ndarray], jaw: np.ndarray) -> np.ndarray:
    pose = np.zeros(15)
    pose[6:9] = jaw
    return reference_vertices(flame, np.zeros(1), pose) - flame["v_template"]


def make_basis(flame: dict[str, np.ndarray], seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(deltas [52, V, 3] in canonical order, E [100, 52]: ARKit weights -> FLAME expression)."""
    rng = np.random.default_rng(seed)
    mix = np.zeros((100, 52))
    for k, name in enumerate(ARKIT_NAMES):
        if name == "jawOpen":
            continue
        cols = np.arange(N_UPPER) if name in UPPER else np.arange(N_UPPER, 100)
        picked = rng.choice(cols, size=6, replace=False)
        mix[picked, k] = rng.normal(0, 1.0, 6)
    dirs = flame["shapedirs"][:, :, 300:]
    deltas = np.einsum("vcn,nk->kvc", dirs, mix)
    deltas[JAW_OPEN] = jaw_displacement(flame, THETA0)
    return deltas, mix


def smooth_weights(frames: int, rng: np.random.Generator, fps: float = 30.0) -> np.ndarray:
    """Clipped sinusoids: smooth, in 0..1, with runs of exact 0s and 1s (active bounds)."""
    t = np.arange(frames)[:, None] / fps
    return np.clip(0.5 + 0.9 * np.sin(2 * np.pi * rng.uniform(0.3, 1.2, 52) * t + rng.uniform(0, 2 * np.pi, 52)), 0, 1)


def motion_rms(displacements: np.ndarray) -> float:
    """RMS vertex displacement (model units), the scale a residual RMS compares against."""
    return float(np.sqrt(np.mean(np.sum(displacements**2, axis=-1))))


def write_pickle(path: Path, obj: object, protocol: int = 2) -> Path:
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("flame")
    flame = make_flame()
    deltas, mix = make_basis(flame)
    model_path = write_pickle(root / "generic_model.pkl", flame)
    basis_path = root / "basis.npz"
    np.savez(basis_path, names=np.array(ARKIT_NAMES), deltas=deltas)
    model = load_flame_model(model_path)
    return {"root": root, "flame": flame, "mix": mix, "deltas": deltas, "model_path": model_path, "basis_path": basis_path,
            "model": model, "basis": load_arkit_basis(basis_path, model)}


def flame_take(weights: np.ndarray, mix: np.ndarray, fps: float = 30.0) -> FlameAnimation:
    """The FLAME animation whose displacement is exactly basis @ weights (expression mix, jaw = THETA0 * jawOpen)."""
    return FlameAnimation(fps, weights @ mix.T, weights[:, [JAW_OPEN]] * THETA0[None])


def jaw_take_weights(rng: np.random.Generator) -> np.ndarray:
    """Exactly representable with the jaw: jawOpen in {0, 1}; lower-face shapes only while the jaw is closed."""
    w = smooth_weights(90, rng)
    jaw = np.zeros(90)
    jaw[30:60] = 1.0
    lower = [k for k, n in enumerate(ARKIT_NAMES) if n not in UPPER and n != "jawOpen"]
    w[:, lower] *= (1 - jaw)[:, None]
    w[:, JAW_OPEN] = jaw
    return w


# ------------------------------------------------------------------------------------------------------- the loader


class _FakeCh:
    """Stands for chumpy.ch.Ch when writing a fixture: pickles as the class chumpy.ch.Ch with the array in 'x'."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self._dirty_vars = set()

    def __getstate__(self) -> dict[str, object]:
        return dict(self.__dict__)


def test_loads_plain_chumpy_sparse_and_npz_layouts(fixture: dict[str, object], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    flame = fixture["flame"]
    reference = fixture["model"]
    # chumpy-wrapped shapedirs/v_template (protocol 2, as the py2-era files) and a sparse J_regressor
    chumpy_mod, ch_mod = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    _FakeCh.__module__, _FakeCh.__qualname__, _FakeCh.__name__ = "chumpy.ch", "Ch", "Ch"
    ch_mod.Ch = _FakeCh
    wrapped = dict(flame, shapedirs=_FakeCh(flame["shapedirs"]), v_template=_FakeCh(flame["v_template"]),
                   J_regressor=scipy.sparse.csc_matrix(flame["J_regressor"]))
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "chumpy", chumpy_mod)
        patch.setitem(sys.modules, "chumpy.ch", ch_mod)
        blob = pickle.dumps(wrapped, protocol=2)
    assert b"chumpy.ch" in blob and "chumpy" not in sys.modules
    chumpy_path = tmp_path / "flame2020_chumpy.pkl"
    chumpy_path.write_bytes(blob)
    npz_path = tmp_path / "generic_model.npz"
    np.savez(npz_path, **flame)
    for path in (chumpy_path, npz_path, write_pickle(tmp_path / "p5.pkl", flame, protocol=5)):
        model = load_flame_model(path)
        assert "chumpy" not in sys.modules
        assert model.n_vertices == 400 and model.n_expression == 100
        for name in ("v_template", "expr_dirs", "jaw_posedirs", "jaw_regressor", "jaw_weights"):
            np.testing.assert_array_equal(getattr(model, name), getattr(reference, name), err_msg=f"{path.name}: {name}")
    np.testing.assert_array_equal(reference.expr_dirs, flame["shapedirs"][:, :, 300:])
    np.testing.assert_array_equal(reference.jaw_posedirs, flame["posedirs"][:, :, 9:18])


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (os.getpid, ())


@pytest.mark.parametrize("case, message", [
    ("missing", "not found"),
    ("text", "not a FLAME model pickle"),
    ("list", "expected a dict"),
    ("no_shapedirs", "missing shapedirs"),
    ("short_shapedirs", "shapedirs must be"),
    ("bad_weights", "weights must be [400, 5]"),
    ("bad_kintree", "kintree_table"),
    ("nan", "NaN"),
    ("code", "refusing to load posix.getpid"),
])
def test_wrong_model_files_are_clear_errors(fixture: dict[str, object], tmp_path: Path, case: str, message: str) -> None:
    flame = fixture["flame"]
    path = tmp_path / "model.pkl"
    if case == "text":
        path.write_text("this is a readme, not a model\n")
    elif case == "list":
        write_pickle(path, [1, 2, 3])
    elif case == "no_shapedirs":
        write_pickle(path, {k: v for k, v in flame.items() if k != "shapedirs"})
    elif case == "short_shapedirs":
        write_pickle(path, dict(flame, shapedirs=flame["shapedirs"][:, :, :300]))
    elif case == "bad_weights":
        write_pickle(path, dict(flame, weights=flame["weights"][:, :4]))
    elif case == "bad_kintree":
        write_pickle(path, dict(flame, kintree_table=np.array([[2**32 - 1, 0, 0, 1, 1], [0, 1, 2, 3, 4]])))
    elif case == "nan":
        write_pickle(path, dict(flame, posedirs=np.where(flame["posedirs"] > 0.002, np.nan, flame["posedirs"])))
    elif case == "code":
        write_pickle(path, dict(flame, payload=_Evil()))
    with pytest.raises(ExportError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_flame_model(path)


def test_jaw_displacement_matches_full_lbs(fixture: dict[str, object]) -> None:
    """The module's jaw-only skinning equals FLAME's full 5-joint LBS with the other joints at rest."""
    flame, model = fixture["flame"], fixture["model"]
    rng = np.random.default_rng(3)
    expression = rng.normal(0, 1.5, (5, 100))
    jaw = np.array([[0.0, 0.0, 0.0], [0.3, 0.0, 0.0], [0.2, 0.05, -0.04], [1e-7, 0.0, 2e-7], [-0.1, 0.3, 0.2]])
    ours = flame_displacements(model, expression, jaw)
    for t in range(5):
        pose = np.zeros(15)
        pose[6:9] = jaw[t]
        expected = reference_vertices(flame, expression[t], pose) - flame["v_template"]
        np.testing.assert_allclose(ours[t], expected, atol=1e-13, rtol=0)
    assert np.abs(ours[1] - flame_displacements(model, expression[1:2], np.zeros((1, 3)))[0]).max() > 1e-3  # jaw matters


# ---------------------------------------------------------------------------------------------- basis and animation


def test_basis_accepts_any_spelling_and_subsets(fixture: dict[str, object], tmp_path: Path) -> None:
    deltas, model = fixture["deltas"], fixture["model"]
    spelled = ["EyeBlinkLeft", "eye_blink_right", "blendShape.jawOpen", "mouthSmile_L"]
    order = [ARKIT_INDEX[n] for n in ("eyeBlinkLeft", "eyeBlinkRight", "jawOpen", "mouthSmileLeft")]
    path = tmp_path / "subset.npz"
    np.savez(path, names=np.array(spelled), deltas=deltas[order].reshape(4, -1), neutral=fixture["flame"]["v_template"])
    basis = load_arkit_basis(path, model)
    assert basis.names == ("eyeBlinkLeft", "eyeBlinkRight", "jawOpen", "mouthSmileLeft")
    assert basis.deltas.shape == (4, 400, 3) and basis.neutral is not None
    weights = np.zeros((20, 52))
    weights[:, order] = np.random.default_rng(0).uniform(0, 1, (20, 4))
    weights[:, JAW_OPEN] = 0  # keep it exactly representable: no jaw rotation
    arkit, residual = flame_to_arkit(model, basis, flame_take(weights, fixture["mix"]), temporal=0.0)  # jumpy weights
    assert np.abs(arkit.frames - weights).max() < 1e-3
    assert "tongueOut" in arkit.meta["flame_to_arkit"]["missing_shapes"] and residual.max() < 1e-9


@pytest.mark.parametrize("arrays, message", [
    ({"names": np.array(["jawOpen"])}, "missing deltas"),
    ({"names": np.array(["jawOpen", "notAShape"]), "deltas": np.zeros((2, 400, 3))}, "'notAShape' is not an ARKit"),
    ({"names": np.array(["jawOpen", "JawOpen"]), "deltas": np.zeros((2, 400, 3))}, "appears twice"),
    ({"names": np.array(["jawOpen"]), "deltas": np.zeros((1, 401, 3))}, "topology mismatch.*401 vertices.*has 400"),
    ({"names": np.array(["jawOpen"]), "deltas": np.zeros((1, 400, 3)), "neutral": np.zeros((399, 3))}, "topology mismatch"),
    ({"names": np.array(["jawOpen", "mouthClose"]), "deltas": np.zeros((1, 400, 3))}, "1 shapes but 'names' has 2"),
    ({"names": np.array(["jawOpen"]), "deltas": np.full((1, 400, 3), np.nan)}, "NaN"),
    ({"names": np.array([1, 2]), "deltas": np.zeros((2, 400, 3))}, "string array"),
])
def test_bad_basis_is_a_clear_error(fixture: dict[str, object], tmp_path: Path, arrays: dict[str, np.ndarray],
                                    message: str) -> None:
    path = tmp_path / "basis.npz"
    np.savez(path, **arrays)
    with pytest.raises(ExportError, match=message):
        load_arkit_basis(path, fixture["model"])


def test_basis_file_errors(fixture: dict[str, object], tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="not found"):
        load_arkit_basis(tmp_path / "nope.npz", fixture["model"])
    (tmp_path / "basis.npz").write_text("names,deltas\n")
    with pytest.raises(ExportError, match="not an .npz"):
        load_arkit_basis(tmp_path / "basis.npz", fixture["model"])
    np.save(tmp_path / "deltas.npy", np.zeros((1, 400, 3)))
    with pytest.raises(ExportError, match="single .npy"):
        load_arkit_basis(tmp_path / "deltas.npy", fixture["model"])
    np.savez(tmp_path / "objects.npz", names=np.array(["jawOpen", None], dtype=object), deltas=np.zeros((2, 400, 3)))
    with pytest.raises(ExportError, match="object arrays"):
        load_arkit_basis(tmp_path / "objects.npz", fixture["model"])


def test_animation_key_conventions_and_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    exp, jaw = rng.normal(size=(12, 50)), rng.normal(0, 0.1, (12, 3))
    full_pose = np.zeros((12, 15))
    full_pose[:, 6:9] = jaw                       # global(3) neck(3) jaw(3) eyes(6)
    short_pose = np.zeros((12, 6))
    short_pose[:, 3:6] = jaw                      # global(3) jaw(3)
    variants = {
        "a.npz": {"expression": exp, "jaw_pose": jaw, "fps": np.array(30.0)},
        "b.npz": {"exp": exp, "jaw": jaw},
        "c.npz": {"expr": exp, "pose": full_pose},
        "d.npz": {"exp": exp, "pose": short_pose, "fps": np.array([60])},
    }
    for name, arrays in variants.items():
        np.savez(tmp_path / name, **arrays)
        anim = load_flame_animation(tmp_path / name)
        np.testing.assert_array_equal(anim.expression, exp)
        np.testing.assert_array_equal(anim.jaw_pose, jaw)
        assert anim.fps == {"a.npz": 30.0, "d.npz": 60.0}.get(name, 25.0)
    saved = save_flame_animation(tmp_path / "out.npz", FlameAnimation(30.0, exp, jaw, np.zeros(12)))
    back = load_flame_animation(saved)
    assert back.fps == 30.0 and back.residual_rms is not None
    np.testing.assert_allclose(back.expression, exp, rtol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == ["out.npz"]


@pytest.mark.parametrize("arrays, message", [
    ({"jaw_pose": np.zeros((4, 3))}, "no expression array"),
    ({"expression": np.zeros((4, 10))}, "no jaw rotation"),
    ({"expression": np.zeros((4, 10)), "jaw_pose": np.zeros((5, 3))}, "T = 4"),
    ({"expression": np.zeros((4, 10)), "pose": np.zeros((4, 9))}, r"'pose' must be \[T, 15\]"),
    ({"expression": np.zeros((4, 101)), "jaw": np.zeros((4, 3))}, "n <= 100"),
    ({"expression": np.zeros(10), "jaw": np.zeros((1, 3))}, "must be \\[T, n\\]"),
    ({"expression": np.full((4, 10), np.nan), "jaw": np.zeros((4, 3))}, "NaN"),
    ({"expression": np.zeros((4, 10)), "jaw": np.zeros((4, 3)), "fps": np.array(-1.0)}, "'fps' must be one positive"),
])
def test_bad_animation_is_a_clear_error(tmp_path: Path, arrays: dict[str, np.ndarray], message: str) -> None:
    np.savez(tmp_path / "anim.npz", **arrays)
    with pytest.raises(ExportError, match=message):
        load_flame_animation(tmp_path / "anim.npz")


# ------------------------------------------------------------------------------------------------ FLAME -> ARKit


def test_flame_to_arkit_recovers_smooth_weights_with_default_regularisation(fixture: dict[str, object],
                                                                           tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    weights = smooth_weights(150, rng)
    weights[:, JAW_OPEN] = 0.0
    assert (weights == 0).mean() > 0.1 and (weights == 1).mean() > 0.1  # plenty of active bounds
    take = flame_take(weights, fixture["mix"])
    np.savez(tmp_path / "take.npz", expression=take.expression, jaw_pose=take.jaw_pose, fps=np.array(30.0))
    arkit, residual = flame_to_arkit(fixture["model"], fixture["basis"], load_flame_animation(tmp_path / "take.npz"))
    error = np.abs(arkit.frames - weights)
    assert error.max() < 1e-3, f"max weight error {error.max():.2e}"
    assert residual.shape == (150,) and residual.max() < 1e-5 * arkit.meta["flame_to_arkit"]["motion_rms"]
    assert arkit.fps == 30.0 and arkit.meta["flame_to_arkit"]["residual_rms_max"] == pytest.approx(residual.max())
    arkit.save(tmp_path / "out.json")
    np.testing.assert_allclose(Animation.load(tmp_path / "out.json").frames, arkit.frames, atol=1e-5)
    exact, _ = flame_to_arkit(fixture["model"], fixture["basis"], take, temporal=0.0)
    print(f"\nsmooth take: max |w - w*| {error.max():.2e} (temporal default), {np.abs(exact.frames - weights).max():.2e} "
          f"(temporal 0); residual RMS max {residual.max():.2e} m vs motion {arkit.meta['flame_to_arkit']['motion_rms']:.2e} m")


def test_flame_to_arkit_recovers_jaw_and_bounds(fixture: dict[str, object]) -> None:
    weights = jaw_take_weights(np.random.default_rng(6))
    take = flame_take(weights, fixture["mix"])
    for temporal in (0.0, DEFAULT_TEMPORAL):
        arkit, residual = flame_to_arkit(fixture["model"], fixture["basis"], take, temporal=temporal)
        error = np.abs(arkit.frames - weights)
        assert error.max() < 1e-3, f"temporal {temporal}: max weight error {error.max():.2e}"
        assert residual.max() < 1e-4 * arkit.meta["flame_to_arkit"]["motion_rms"] or temporal > 0
        assert arkit.frames.min() >= 0 and arkit.frames.max() <= 1
        print(f"\njaw take, temporal {temporal}: max |w - w*| {error.max():.2e}, residual RMS max {residual.max():.2e} m")


def test_unrepresentable_motion_reports_its_residual(fixture: dict[str, object]) -> None:
    """Half a jaw rotation is not half the jawOpen displacement: close weights, and a residual that says so."""
    share = np.linspace(0, 1, 11)
    take = FlameAnimation(30.0, np.zeros((11, 10)), share[:, None] * THETA0[None])
    arkit, residual = flame_to_arkit(fixture["model"], fixture["basis"], take, temporal=0.0)
    assert np.abs(arkit.frames[:, JAW_OPEN] - share).max() < 0.05
    assert residual[0] < 1e-12 and residual[-1] < 1e-9 and residual[5] > 1e-6
    assert arkit.meta["flame_to_arkit"]["residual_rms_max"] == pytest.approx(residual.max())


def test_temporal_regularisation_damps_jitter(fixture: dict[str, object]) -> None:
    rng = np.random.default_rng(7)
    weights = 0.3 + 0.4 * smooth_weights(120, rng)
    weights[:, JAW_OPEN] = 0.0
    take = flame_take(weights, fixture["mix"])
    take.expression = take.expression + rng.normal(0, 0.05, take.expression.shape)
    jitter = {}
    for temporal in (0.0, 0.1):
        arkit, _ = flame_to_arkit(fixture["model"], fixture["basis"], take, temporal=temporal)
        jitter[temporal] = float(np.mean(np.diff(arkit.frames, axis=0) ** 2))
    assert jitter[0.1] < 0.5 * jitter[0.0]
    with pytest.raises(ExportError, match="temporal"):
        flame_to_arkit(fixture["model"], fixture["basis"], take, temporal=-1.0)


def test_too_many_expression_coefficients(fixture: dict[str, object], tmp_path: Path) -> None:
    small = make_flame(n_vertices=400)
    small["shapedirs"] = small["shapedirs"][:, :, :350]
    model = load_flame_model(write_pickle(tmp_path / "small.pkl", small))
    basis = load_arkit_basis(fixture["basis_path"], model)
    with pytest.raises(ExportError, match="100 expression coefficients but the FLAME model only 50"):
        flame_to_arkit(model, basis, FlameAnimation(25.0, np.zeros((3, 100)), np.zeros((3, 3))))
    other = fixture["root"] / "other_topology.npz"
    np.savez(other, names=np.array(["jawOpen"]), deltas=np.zeros((1, 5023, 3)))
    with pytest.raises(ExportError, match="topology mismatch.*5023.*400"):
        load_arkit_basis(other, model)


def test_solver_paths_and_long_take_chunks_agree() -> None:
    """Active set, plain projected gradient and chunked windows give the same bounded solution, which satisfies KKT."""
    rng = np.random.default_rng(8)
    basis = rng.normal(size=(52, 300)) + 2.0 * rng.normal(size=(1, 300))   # correlated shapes: not an M-matrix
    gram = basis @ basis.T
    target = rng.uniform(-0.3, 1.3, (300, 52))
    rhs = target @ gram + rng.normal(0, 3.0, (300, 52))
    for temporal in (0.0, 5.0):
        exact, info = solve_bounded_ls(gram, rhs, temporal)
        assert info["method"] in ("active-set", "gradient+active-set")
        gradient, info_gradient = solve_bounded_ls(gram, rhs, temporal, active_set_iterations=0)
        assert info_gradient["method"] == "projected-gradient"
        chunked, _ = solve_bounded_ls(gram, rhs, temporal, chunk=64, overlap=32)
        assert np.abs(gradient - exact).max() < 1e-6 and np.abs(chunked - exact).max() < 1e-6
        grad = exact @ gram - rhs
        if temporal:
            grad[1:] += temporal * (exact[1:] - exact[:-1])
            grad[:-1] -= temporal * (exact[1:] - exact[:-1])
        free = (exact > 0) & (exact < 1)
        scale = np.abs(rhs).max()
        assert 0.1 < free.mean() < 0.9
        assert np.abs(grad[free]).max() < 1e-9 * scale                        # stationary in the free weights
        assert grad[exact == 0].min() > -1e-9 * scale and grad[exact == 1].max() < 1e-9 * scale  # bounds hold back


# ------------------------------------------------------------------------------------------------ ARKit -> FLAME


def test_arkit_to_flame_recovers_expression_and_jaw(fixture: dict[str, object], tmp_path: Path) -> None:
    weights = jaw_take_weights(np.random.default_rng(9))
    animation = Animation(fps=30.0, frames=weights.astype(np.float32))
    flame = arkit_to_flame(fixture["model"], fixture["basis"], animation)
    expected = flame_take(animation.frames.astype(np.float64), fixture["mix"])
    exp_error = np.abs(flame.expression - expected.expression).max()
    jaw_error = np.abs(flame.jaw_pose - expected.jaw_pose).max()
    assert exp_error < 1e-3 and jaw_error < 1e-3, (exp_error, jaw_error)
    assert flame.expression.shape == (90, 100) and flame.fps == 30.0
    target = np.tensordot(animation.frames.astype(np.float64), fixture["deltas"], axes=1)
    assert flame.residual_rms is not None and flame.residual_rms.max() < 1e-4 * motion_rms(target)  # the ridge's share
    _, _, unridged = fit_flame(fixture["model"], target, ridge=0.0)
    assert unridged.max() < 1e-12
    save_flame_animation(tmp_path / "back.npz", flame)
    again, _ = flame_to_arkit(fixture["model"], fixture["basis"], load_flame_animation(tmp_path / "back.npz"), temporal=0.0)
    assert np.abs(again.frames - animation.frames).max() < 1e-3  # float32 file round trip
    print(f"\narkit->flame: max expression error {exp_error:.2e}, max jaw error {jaw_error:.2e} rad, "
          f"residual RMS max {flame.residual_rms.max():.2e} m")


def test_fit_flame_recovers_coupled_expression_and_jaw(fixture: dict[str, object]) -> None:
    """Global expression with an open jaw couples through the rotation: Gauss-Newton still lands on the truth."""
    flame, model = fixture["flame"], fixture["model"]
    rng = np.random.default_rng(10)
    expression = rng.normal(0, 1.0, (6, 100))
    jaw = np.column_stack([rng.uniform(0, 0.4, 6), rng.uniform(-0.05, 0.05, 6), rng.uniform(-0.05, 0.05, 6)])
    target = np.stack([reference_vertices(flame, expression[t], np.concatenate([np.zeros(6), jaw[t], np.zeros(6)]))
                       - flame["v_template"] for t in range(6)])
    exp_fit, jaw_fit, residual = fit_flame(model, target)
    assert np.abs(exp_fit - expression).max() < 1e-3 and np.abs(jaw_fit - jaw).max() < 1e-3
    assert residual.max() < 1e-4 * motion_rms(target)                    # what the default ridge leaves
    exp_exact, jaw_exact, residual_exact = fit_flame(model, target, ridge=0.0)
    assert np.abs(exp_exact - expression).max() < 1e-8 and np.abs(jaw_exact - jaw).max() < 1e-9
    assert residual_exact.max() < 1e-12
    exp_few, _, residual_few = fit_flame(model, target, n_expression=20)
    assert exp_few.shape == (6, 20) and residual_few.min() > 1e-5      # the truth needs all 100
    with pytest.raises(ExportError, match="n_expression must be between 1 and 100"):
        fit_flame(model, target, n_expression=101)


@pytest.mark.slow
def test_speed_benchmark(fixture: dict[str, object]) -> None:
    """FLAME-sized mesh (5023 vertices): report frames per second of both directions."""
    flame = make_flame(n_vertices=5023, seed=2)
    started = time.perf_counter()
    model = load_flame_model(write_pickle(fixture["root"] / "big.pkl", flame))
    deltas, _ = make_basis(flame)
    np.savez(fixture["root"] / "big_basis.npz", names=np.array(ARKIT_NAMES), deltas=deltas)
    basis = load_arkit_basis(fixture["root"] / "big_basis.npz", model)
    loaded = time.perf_counter() - started
    stats = benchmark(model, basis, frames=300)
    print(f"\nbenchmark (5023 vertices, 300 frames; model+basis load {loaded:.2f} s): "
          + ", ".join(f"{k} {v:.3g}" for k, v in stats.items()))
    # A report more than a gate (shared CI machines vary 10x); these floors only catch a solver gone pathological.
    assert stats["flame_to_arkit_solve_fps"] > 50 and stats["flame_to_arkit_fps"] > 10 and stats["arkit_to_flame_fps"] > 1


def test_command_line_round_trip(fixture: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from emobridge.cli import main

    weights = jaw_take_weights(np.random.default_rng(5))  # a take the fixture's basis represents exactly
    anim_path = tmp_path / "line.json"
    Animation(fps=30.0, frames=weights.astype(np.float32)).save(anim_path)
    common = ["--flame-model", str(fixture["model_path"]), "--arkit-basis", str(fixture["basis_path"])]
    assert main(["export", "arkit-to-flame", str(anim_path), *common, "-o", str(tmp_path / "take.npz")]) == 0
    assert main(["export", "flame-to-arkit", str(tmp_path / "take.npz"), *common, "--temporal", "0",
                 "-o", str(tmp_path / "back.json")]) == 0
    assert "residual RMS" in capsys.readouterr().out
    back = Animation.load(tmp_path / "back.json")
    assert np.abs(back.frames - weights).max() < 1e-3
    assert main(["export", "flame-to-arkit", str(tmp_path / "take.npz"), "--flame-model", str(anim_path),
                 "--arkit-basis", str(fixture["basis_path"]), "-o", str(tmp_path / "x.json")]) == 2
    assert "emobridge: error:" in capsys.readouterr().err
