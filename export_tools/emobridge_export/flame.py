"""FLAME <-> ARKit-52 retargeting: the user's own FLAME model, an ARKit basis in FLAME topology, and two solvers.

Owns three file formats and the math between them; the command line only wires paths to these functions.

* FLAME model (``load_flame_model``): the licence-gated ``generic_model.pkl`` / ``flame2020`` / ``flame2023`` pickle the
  user downloads themselves (never shipped). A dict with ``v_template`` [V,3], ``f`` [F,3], ``shapedirs`` [V,3,300+n]
  (300 identity then up to 100 expression columns), ``posedirs`` [V,3,36], ``J_regressor`` [5,V] (scipy sparse or
  dense), ``weights`` [V,5] and ``kintree_table`` [2,5]. Some releases store arrays as chumpy objects: a restricted
  unpickler maps chumpy classes to a stand-in holding the ndarray, so chumpy is never imported, and it lets through
  nothing but numpy / scipy.sparse arrays (a pickle is code; a model file has no business running any). An ``.npz``
  with the same keys also works.
* ARKit basis (``load_arkit_basis``): ``names`` [K] (any ARKit spelling) and ``deltas`` [K,V,3], each shape's vertex
  displacement from the FLAME rest mesh, optionally ``neutral`` [V,3] (the mesh the deltas were sculpted on; it then
  replaces the FLAME template as the rest mesh for the jaw skinning). K may be fewer than 52: missing shapes get 0.
* FLAME animation (``load_flame_animation`` / ``save_flame_animation``): ``expression`` (or ``exp`` / ``expr``)
  [T,n<=100] and ``jaw_pose`` (or ``jaw``) [T,3] axis-angle, or instead of the jaw a ``pose`` of [T,15] laid out as
  FLAME's full pose global(3) neck(3) jaw(3) eyes(6) (jaw = 6:9) or [T,6] global(3) jaw(3) as in DECA / EMOCA /
  FLAME_PyTorch ``pose_params`` (jaw = 3:6); optional scalar ``fps`` (default 25, the rate of EMOTE, DiffPoseTalk and
  most talking-head FLAME data).

What is modelled: FLAME's expression blendshapes, the jaw rotation by linear blend skinning about the jaw joint
(jaw joint from ``J_regressor`` on the expressed rest mesh, Rodrigues rotation weighted by the jaw column of
``weights``) and the jaw's pose-corrective ``posedirs``, exactly as FLAME's forward pass with every other pose at zero.
Identity (shape betas), global rotation, neck and eyeballs are ignored: retargeting moves the face, not the head.

* ``flame_to_arkit``: per frame d_t = FLAME displacement (expression + jaw); solve
  min sum_t ||B w_t - d_t||^2 + temporal * s * sum_t ||w_t - w_{t-1}||^2 subject to 0 <= w <= 1 for all frames at once,
  where s is the mean squared norm of an ARKit shape (so ``temporal`` is unit-free). The problem only needs the K x K
  Gram matrix B'B and B'd_t; it is solved exactly by a primal-dual active-set method whose linear systems (block
  tridiagonal in time) go through block-Jacobi preconditioned CG, exact in one step without the temporal term;
  accelerated projected gradient restarts it if it cycles. Residuals are reported per frame.
* ``arkit_to_flame``: d_t = B w_t is fitted by FLAME expression (ridge-regularised, unbounded) and jaw axis-angle
  together with a few Gauss-Newton iterations, vectorised over frames; expression enters linearly for a fixed jaw,
  so its normal matrix is assembled from 19 precomputed n x n blocks instead of a V*3 x n product per frame.
"""

from __future__ import annotations

import io
import math
import pickle
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emobridge.animation import Animation
from emobridge.rig import ARKIT_INDEX, ARKIT_NAMES, UnknownBlendshapeError, canonical_name
from emobridge_export import ExportError

FLAME_N_SHAPE = 300          # shapedirs columns before the expression ones, in every FLAME release
FLAME_N_JOINTS = 5           # global/root, neck, jaw, left eye, right eye
JAW_JOINT = 2
DEFAULT_FPS = 25.0
DEFAULT_TEMPORAL = 1e-5      # see flame_to_arkit: a tie-breaker for near-identical shapes, not a smoother
DEFAULT_RIDGE = 1e-7         # expression ridge relative to the mean squared norm of an expression direction
_CHUNK_FRAMES = 256          # frames per vectorised batch of mesh-sized work (~4 MB per frame at 5023 vertices)


# --------------------------------------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class FlameModel:
    """The parts of a FLAME model retargeting uses (template identity, expression, jaw)."""

    v_template: np.ndarray     # [V, 3] rest mesh
    faces: np.ndarray          # [F, 3]
    expr_dirs: np.ndarray      # [V, 3, n_exp] expression blendshapes (shapedirs columns 300:)
    jaw_posedirs: np.ndarray   # [V, 3, 9] pose correctives driven by (R_jaw - I) flattened row-major
    jaw_regressor: np.ndarray  # [V] jaw joint = jaw_regressor @ rest mesh
    jaw_weights: np.ndarray    # [V] skinning weight of the jaw joint
    source: str = ""

    @property
    def n_vertices(self) -> int:
        return int(self.v_template.shape[0])

    @property
    def n_expression(self) -> int:
        return int(self.expr_dirs.shape[2])


@dataclass(frozen=True)
class ArkitBasis:
    """ARKit shapes as vertex displacements in FLAME topology."""

    names: tuple[str, ...]     # canonical ARKit names, file order
    deltas: np.ndarray         # [K, V, 3]
    neutral: np.ndarray | None = None  # [V, 3] rest mesh the deltas were made on, if given

    @property
    def columns(self) -> np.ndarray:
        """Index of each basis shape in the canonical ARKit order."""
        return np.array([ARKIT_INDEX[n] for n in self.names], dtype=np.int64)


@dataclass
class FlameAnimation:
    """FLAME expression and jaw per frame (the rest of the FLAME pose is not retargeted)."""

    fps: float
    expression: np.ndarray                   # [T, n_exp]
    jaw_pose: np.ndarray                     # [T, 3] axis-angle, radians
    residual_rms: np.ndarray | None = None   # [T] fit residual (model units, per vertex) when produced by a fit
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.expression.shape[0])


# ------------------------------------------------------------------------------------------------------ FLAME model


class _ChumpyStandIn:
    """Whatever chumpy class a pickle names: keeps the state so the wrapped ndarray can be pulled out."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _ChumpyStandIn:
        obj = super().__new__(cls)
        obj.state = None
        obj.args = args
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def array(self) -> np.ndarray:
        # A chumpy Ch keeps its value in the attribute 'x'; fall back to the one ndarray in the state.
        state = getattr(self, "state", None)  # copyreg._reconstructor bypasses __new__
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):
            state = state[0]
        if isinstance(state, dict):
            if "x" in state:
                return _as_array(state["x"])
            arrays = [v for v in state.values() if isinstance(v, (np.ndarray, _ChumpyStandIn))]
            if len(arrays) == 1:
                return _as_array(arrays[0])
        elif state is not None:
            return _as_array(state)
        for arg in getattr(self, "args", ()):
            if isinstance(arg, np.ndarray):
                return arg
        raise ExportError("a chumpy object in the FLAME pickle holds no plain array (a derived chumpy expression?)")


_NUMPY_NAMES = {"_reconstruct", "scalar", "ndarray", "dtype", "_frombuffer"}
_BUILTIN_NAMES = {"object", "list", "dict", "tuple", "set", "frozenset", "int", "float", "complex", "bool", "str", "bytes",
                  "bytearray", "slice"}


class _FlameUnpickler(pickle.Unpickler):
    """Only arrays get through: numpy, scipy.sparse matrices and chumpy stand-ins."""

    def find_class(self, module: str, name: str) -> Any:
        module = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)  # Python 2 names
        if module.split(".")[0] == "chumpy":
            return _ChumpyStandIn
        if module.startswith("numpy") and (name in _NUMPY_NAMES or module == "numpy.dtypes"):
            if module.startswith("numpy.core") and hasattr(np, "_core"):  # numpy 1.x pickles under numpy 2
                module = "numpy._core" + module[len("numpy.core"):]
            return super().find_class(module, name)
        if module.startswith("scipy.sparse") and name.endswith(("_matrix", "_array")):
            import scipy.sparse

            return getattr(scipy.sparse, name)  # old module paths (scipy.sparse.csc) are deprecated or gone
        if (module, name) in {("copyreg", "_reconstructor"), ("_codecs", "encode"), ("collections", "OrderedDict")}:
            return super().find_class(module, name)
        if module == "builtins" and name in _BUILTIN_NAMES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a FLAME model pickle holds only arrays")


def _as_array(value: Any) -> np.ndarray:
    """ndarray from an ndarray, chumpy stand-in or scipy sparse matrix (also one pickled by an old scipy)."""
    if isinstance(value, _ChumpyStandIn):
        return value.array()
    if hasattr(value, "toarray") and hasattr(value, "indptr"):
        try:
            return np.asarray(value.toarray())
        except Exception:  # an old scipy's attribute layout: rebuild from the raw CSR/CSC arrays
            import scipy.sparse

            d = value.__dict__
            shape = d.get("_shape") or d.get("shape")
            kind = scipy.sparse.csc_matrix if d.get("format", "csc") == "csc" else scipy.sparse.csr_matrix
            return kind((d["data"], d["indices"], d["indptr"]), shape=shape).toarray()
    return np.asarray(value)


def _read_model_dict(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ExportError(f"FLAME model not found: {path} (download generic_model.pkl from flame.is.tue.mpg.de)") from None
    except OSError as err:
        raise ExportError(f"cannot read FLAME model {path}: {err.strerror or err}") from None
    if raw[:4] == b"PK\x03\x04":  # an .npz with the pickle's keys
        try:
            with np.load(io.BytesIO(raw), allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
            raise ExportError(f"{path} is not a readable FLAME model .npz ({err})") from None
    try:
        obj = _FlameUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except pickle.UnpicklingError as err:
        if "refusing" in str(err):
            raise ExportError(f"{path}: {err}") from None
        raise ExportError(f"{path} is not a FLAME model pickle ({err})") from None
    except Exception as err:  # EOFError, ValueError, ... from bytes that are not a pickle at all
        raise ExportError(f"{path} is not a FLAME model pickle ({type(err).__name__}: {err})") from None
    if not isinstance(obj, dict):
        raise ExportError(f"{path} is not a FLAME model: expected a dict of arrays, found {type(obj).__name__}")
    return obj


def load_flame_model(path: str | Path) -> FlameModel:
    """Read a FLAME model pickle (or .npz with the same keys); chumpy is not needed."""
    path = Path(path)
    raw = _read_model_dict(path)
    required = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights")
    missing = [k for k in required if k not in raw]
    if missing:
        raise ExportError(f"{path} is not a FLAME model: missing {', '.join(missing)} (found {', '.join(map(str, raw))})")
    arr = {k: _as_array(raw[k]) for k in required}

    def fail(msg: str) -> ExportError:
        return ExportError(f"{path} is not a FLAME model: {msg}")

    v_template = arr["v_template"].astype(np.float64)
    if v_template.ndim != 2 or v_template.shape[1] != 3 or len(v_template) < 4:
        raise fail(f"v_template must be [V, 3], got {list(v_template.shape)}")
    n_vertices = len(v_template)
    faces = arr["f"]
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.size == 0 or faces.min() < 0 or faces.max() >= n_vertices:
        raise fail(f"f must be [F, 3] vertex indices below {n_vertices}, got {list(faces.shape)}")
    shapedirs = arr["shapedirs"]
    if shapedirs.ndim != 3 or shapedirs.shape[:2] != (n_vertices, 3) or shapedirs.shape[2] <= FLAME_N_SHAPE:
        raise fail(f"shapedirs must be [{n_vertices}, 3, 300 + n_expression], got {list(shapedirs.shape)}")
    posedirs = arr["posedirs"]
    n_pose = 9 * (FLAME_N_JOINTS - 1)
    if posedirs.shape == (n_pose, n_vertices * 3):  # the transposed layout some converters write
        posedirs = posedirs.T.reshape(n_vertices, 3, n_pose)
    if posedirs.shape != (n_vertices, 3, n_pose):
        raise fail(f"posedirs must be [{n_vertices}, 3, {n_pose}], got {list(posedirs.shape)}")
    regressor = arr["J_regressor"]
    if regressor.shape != (FLAME_N_JOINTS, n_vertices):
        raise fail(f"J_regressor must be [{FLAME_N_JOINTS}, {n_vertices}], got {list(regressor.shape)}")
    weights = arr["weights"]
    if weights.shape != (n_vertices, FLAME_N_JOINTS):
        raise fail(f"weights must be [{n_vertices}, {FLAME_N_JOINTS}], got {list(weights.shape)}")
    if "kintree_table" in raw:
        parents = _as_array(raw["kintree_table"])
        if parents.shape != (2, FLAME_N_JOINTS) or int(parents[0, JAW_JOINT]) != 1:
            raise fail("kintree_table is not FLAME's (root, neck, jaw, eye, eye) with the jaw under the neck")
    for name, value in (("v_template", v_template), ("shapedirs", shapedirs), ("posedirs", posedirs),
                        ("J_regressor", regressor), ("weights", weights)):
        if not np.all(np.isfinite(value)):
            raise fail(f"{name} contains NaN or infinite values")
    # Pose correctives are ordered by joint 1..4, 9 entries each: the jaw (joint 2) owns columns 9:18.
    jaw_cols = slice(9 * (JAW_JOINT - 1), 9 * JAW_JOINT)
    return FlameModel(
        v_template=v_template,
        faces=faces.astype(np.int64),
        expr_dirs=np.ascontiguousarray(shapedirs[:, :, FLAME_N_SHAPE:FLAME_N_SHAPE + 100], dtype=np.float64),
        jaw_posedirs=np.ascontiguousarray(posedirs[:, :, jaw_cols], dtype=np.float64),
        jaw_regressor=np.ascontiguousarray(regressor[JAW_JOINT], dtype=np.float64),
        jaw_weights=np.ascontiguousarray(weights[:, JAW_JOINT], dtype=np.float64),
        source=str(path),
    )


# ------------------------------------------------------------------------------------------------------------ files


def _load_npz(path: str | Path, what: str) -> dict[str, np.ndarray]:
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ExportError(f"{path} is a single .npy array; the {what} must be an .npz archive")
        with data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise ExportError(f"{what} not found: {path}") from None
    except ValueError as err:
        if "Object arrays" in str(err):
            raise ExportError(f"{path}: the {what} holds object arrays; store names as a string array") from None
        raise ExportError(f"{path} is not an .npz archive ({err})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        raise ExportError(f"{path} is not a readable .npz archive ({err})") from None


def _finite(arr: np.ndarray, path: Path | str, key: str) -> np.ndarray:
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise ExportError(f"{path}: {key!r} must be a real numeric array, got dtype {arr.dtype}")
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise ExportError(f"{path}: {key!r} contains NaN or infinite values")
    return out


def load_arkit_basis(path: str | Path, model: FlameModel) -> ArkitBasis:
    """Read ARKit shapes in FLAME topology and check them against the model."""
    data = _load_npz(path, "ARKit basis")
    missing = [k for k in ("names", "deltas") if k not in data]
    if missing:
        raise ExportError(f"{path}: the ARKit basis needs 'names' [K] and 'deltas' [K, V, 3]; missing {', '.join(missing)}")
    raw_names = data["names"]
    if raw_names.ndim != 1 or raw_names.dtype.kind not in "US" or raw_names.size == 0:
        raise ExportError(f"{path}: 'names' must be a non-empty 1-D string array, got {raw_names.dtype} {list(raw_names.shape)}")
    names: list[str] = []
    for raw in raw_names:
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        try:
            name = canonical_name(text)
        except UnknownBlendshapeError:
            raise ExportError(f"{path}: basis shape {text!r} is not an ARKit blendshape name") from None
        if name in names:
            raise ExportError(f"{path}: ARKit shape {name!r} appears twice in 'names'")
        names.append(name)
    deltas = _finite(data["deltas"], path, "deltas")
    n_vertices = model.n_vertices
    if deltas.ndim == 2 and deltas.shape[1] % 3 == 0:
        deltas = deltas.reshape(len(deltas), -1, 3)
    if deltas.ndim != 3 or deltas.shape[2] != 3:
        raise ExportError(f"{path}: 'deltas' must be [K, V, 3], got {list(data['deltas'].shape)}")
    if len(deltas) != len(names):
        raise ExportError(f"{path}: 'deltas' has {len(deltas)} shapes but 'names' has {len(names)}")
    if deltas.shape[1] != n_vertices:
        raise ExportError(f"topology mismatch: the ARKit basis {path} has {deltas.shape[1]} vertices, "
                          f"the FLAME model {model.source or ''} has {n_vertices}")
    neutral = None
    if "neutral" in data:
        neutral = _finite(data["neutral"], path, "neutral")
        if neutral.shape != (n_vertices, 3):
            raise ExportError(f"topology mismatch: the basis 'neutral' is {list(neutral.shape)}, "
                              f"the FLAME model needs [{n_vertices}, 3]")
    return ArkitBasis(tuple(names), deltas, neutral)


def _first_key(data: dict[str, np.ndarray], keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if k in data), None)


def load_flame_animation(path: str | Path) -> FlameAnimation:
    """Read a FLAME animation .npz (expression + jaw; the key conventions are in the module docstring)."""
    data = _load_npz(path, "FLAME animation")
    exp_key = _first_key(data, ("expression", "exp", "expr"))
    if exp_key is None:
        raise ExportError(f"{path}: no expression array; expected 'expression' (or 'exp', 'expr') [T, n<=100], "
                          f"found {', '.join(data) or 'nothing'}")
    expression = _finite(data[exp_key], path, exp_key)
    if expression.ndim != 2 or len(expression) == 0 or not 1 <= expression.shape[1] <= 100:
        raise ExportError(f"{path}: {exp_key!r} must be [T, n] with T >= 1 and 1 <= n <= 100, got {list(expression.shape)}")
    jaw_key = _first_key(data, ("jaw_pose", "jaw"))
    if jaw_key is not None:
        jaw = _finite(data[jaw_key], path, jaw_key)
        if jaw.shape != (len(expression), 3):
            raise ExportError(f"{path}: {jaw_key!r} must be [T, 3] axis-angle with T = {len(expression)}, got {list(jaw.shape)}")
    elif "pose" in data:
        pose = _finite(data["pose"], path, "pose")
        if pose.ndim != 2 or len(pose) != len(expression) or pose.shape[1] not in (6, 15):
            raise ExportError(f"{path}: 'pose' must be [T, 15] (global, neck, jaw, eyes) or [T, 6] (global, jaw) with "
                              f"T = {len(expression)}, got {list(pose.shape)}")
        jaw = pose[:, 6:9] if pose.shape[1] == 15 else pose[:, 3:6]
    else:
        raise ExportError(f"{path}: no jaw rotation; expected 'jaw_pose' (or 'jaw') [T, 3] or 'pose' [T, 15] / [T, 6]")
    fps = DEFAULT_FPS
    if "fps" in data:
        value = data["fps"]
        if value.size != 1 or not np.issubdtype(value.dtype, np.number) or not 0 < float(value.reshape(-1)[0]) < math.inf:
            raise ExportError(f"{path}: 'fps' must be one positive number, got {value!r}")
        fps = float(value.reshape(-1)[0])
    residual = data.get("residual_rms")
    return FlameAnimation(fps, expression, np.ascontiguousarray(jaw), residual, {"source": str(path)})


def save_flame_animation(path: str | Path, anim: FlameAnimation) -> Path:
    """Write ``expression`` [T,n], ``jaw_pose`` [T,3] and ``fps`` (+ ``residual_rms``) as float32 .npz."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "expression": np.asarray(anim.expression, dtype=np.float32),
        "jaw_pose": np.asarray(anim.jaw_pose, dtype=np.float32),
        "fps": np.asarray(anim.fps, dtype=np.float64),
    }
    if anim.residual_rms is not None:
        arrays["residual_rms"] = np.asarray(anim.residual_rms, dtype=np.float32)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:  # a handle, so numpy does not append .npz to the temp name
        np.savez(fh, **arrays)
    tmp.replace(path)
    return path


# ------------------------------------------------------------------------------------------------------- FLAME math


def _skew(v: np.ndarray) -> np.ndarray:
    """[..., 3] -> [..., 3, 3] cross-product matrices."""
    out = np.zeros(v.shape[:-1] + (3, 3))
    out[..., 0, 1], out[..., 0, 2] = -v[..., 2], v[..., 1]
    out[..., 1, 0], out[..., 1, 2] = v[..., 2], -v[..., 0]
    out[..., 2, 0], out[..., 2, 1] = -v[..., 1], v[..., 0]
    return out


def rodrigues(rotvec: np.ndarray) -> np.ndarray:
    """Axis-angle [T, 3] -> rotation matrices [T, 3, 3] (series near zero, so no division by a tiny angle)."""
    theta2 = np.sum(rotvec * rotvec, axis=-1)
    theta = np.sqrt(theta2)
    small = theta < 1e-4
    safe = np.where(small, 1.0, theta)
    a = np.where(small, 1 - theta2 / 6, np.sin(safe) / safe)
    b = np.where(small, 0.5 - theta2 / 24, (1 - np.cos(safe)) / (safe * safe))
    k = _skew(rotvec)
    return np.eye(3) + a[..., None, None] * k + b[..., None, None] * np.einsum("...ij,...jk->...ik", k, k)


def _rodrigues_jacobian(rotvec: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """dR/dr_i as [T, 3(i), 3, 3] (Gallego & Yezzi 2015; second-order series near zero)."""
    theta2 = np.sum(rotvec * rotvec, axis=-1)
    basis = _skew(np.eye(3))                                    # [3, 3, 3]: [e_i]_x
    small = theta2 < 1e-10
    k = _skew(rotvec)[:, None]                                  # [T, 1, 3, 3]
    series = basis[None] + 0.5 * (np.einsum("iab,tbc->tiac", basis, k[:, 0]) + np.einsum("tab,ibc->tiac", k[:, 0], basis))
    i_minus_r = np.eye(3)[None] - rot                           # [T, 3, 3]; column i is (I - R) e_i
    cross = np.cross(rotvec[:, None, :], np.swapaxes(i_minus_r, 1, 2))   # [T, 3(i), 3]: r x (I - R) e_i
    num = rotvec[:, :, None, None] * k + _skew(cross)
    exact = np.einsum("tiab,tbc->tiac", num, rot) / np.where(small, 1.0, theta2)[:, None, None, None]
    return np.where(small[:, None, None, None], series, exact)


def _row_times(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Row vectors times 3x3 matrices, x[..., c] m[..., c, d], broadcasting the leading dims (m pre-shaped to do so).

    Nine multiply-adds over the long (vertex) axis: einsum and [..., 3]-strided broadcasting both loop over the tiny
    inner dimension and measured 3-4x slower.
    """
    xs = np.moveaxis(x, -1, 0)
    out = np.empty(np.broadcast_shapes(x.shape[:-1], m.shape[:-2]) + (3,))
    for d in range(3):
        out[..., d] = xs[0] * m[..., 0, d] + xs[1] * m[..., 1, d] + xs[2] * m[..., 2, d]
    return out


def _rest(model: FlameModel, rest: np.ndarray | None) -> np.ndarray:
    return model.v_template if rest is None else rest


def flame_displacements(model: FlameModel, expression: np.ndarray, jaw_pose: np.ndarray,
                        rest: np.ndarray | None = None) -> np.ndarray:
    """FLAME vertex displacements [T, V, 3] from the rest mesh for expression [T,n] and jaw axis-angle [T,3].

    Exactly FLAME's forward pass (blendshapes, joint regression, pose correctives, LBS) with identity, global,
    neck and eye rotations at zero: then only the jaw transform differs from identity, a rotation about the jaw
    joint, so LBS reduces to v + w_jaw * (R - I)(v - j_jaw).
    """
    v_rest = _rest(model, rest)
    n_frames, n_exp = expression.shape
    n_vertices = model.n_vertices
    dirs = model.expr_dirs.reshape(n_vertices * 3, -1)[:, :n_exp]
    v_shaped = v_rest[None] + (expression @ dirs.T).reshape(n_frames, n_vertices, 3)
    joint = np.einsum("v,tvc->tc", model.jaw_regressor, v_shaped)
    rot = rodrigues(jaw_pose)
    m = rot - np.eye(3)
    v_posed = v_shaped + (m.reshape(n_frames, 9) @ model.jaw_posedirs.reshape(n_vertices * 3, 9).T).reshape(v_shaped.shape)
    # einsum, not @: a stack of [V,3]x[3,3] products makes a threaded BLAS thrash (see _batched_spd_solve)
    skinned = v_posed + model.jaw_weights[None, :, None] * _row_times(v_posed - joint[:, None], np.swapaxes(m, 1, 2)[:, None])
    return skinned - v_rest[None]


# ------------------------------------------------------------------------------------------- bounded least squares


# Small dense work below goes through einsum and numpy loops rather than BLAS/LAPACK: a threaded BLAS called on
# stacks of small matrices (or a narrow band) spins its threads per call, which measured 50-500x slower on a busy
# 2-core machine. Large products (frames x vertices) still use BLAS, where threads pay.


def _batched_cholesky(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky factors of the Jacobi-scaled [T, n, n] SPD stack: (low, scale) with S a S = low low'."""
    scale = 1.0 / np.sqrt(np.einsum("tii->ti", a))
    a = a * scale[:, :, None] * scale[:, None, :]
    n = a.shape[1]
    low = np.zeros_like(a)
    for j in range(n):
        col = a[:, j:, j] - np.einsum("tik,tk->ti", low[:, j:, :j], low[:, j, :j])
        pivot = np.sqrt(np.maximum(col[:, 0], 1e-300))
        low[:, j, j] = pivot
        low[:, j + 1:, j] = col[:, 1:] / pivot[:, None]
    return low, scale


def _batched_cho_solve(factor: tuple[np.ndarray, np.ndarray], b: np.ndarray) -> np.ndarray:
    """x with a x = b for each frame, from ``_batched_cholesky(a)``; b is [T, n]."""
    low, scale = factor
    b = b * scale
    n = low.shape[1]
    y = np.empty_like(b)
    for j in range(n):
        y[:, j] = (b[:, j] - np.einsum("tk,tk->t", low[:, j, :j], y[:, :j])) / low[:, j, j]
    x = np.empty_like(b)
    for j in range(n - 1, -1, -1):
        x[:, j] = (y[:, j] - np.einsum("tk,tk->t", low[:, j + 1:, j], x[:, j + 1:])) / low[:, j, j]
    return x * scale


def _batched_spd_solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with a x = b for a [T, n, n] symmetric positive definite stack and b [T, n]."""
    return _batched_cho_solve(_batched_cholesky(a), b)


def _laplacian_diag(n_frames: int) -> np.ndarray:
    lap = np.full(n_frames, 2.0)
    lap[[0, -1]] = 1.0
    return lap if n_frames > 1 else np.zeros(1)


def _apply_hessian(x: np.ndarray, gram: np.ndarray, temporal: float) -> np.ndarray:
    """H x for H = I_T (x) gram + temporal * L_T (x) I_K, x as [T, K] (L_T: path-graph Laplacian over time)."""
    y = np.einsum("tk,kl->tl", x, gram)
    if temporal and len(x) > 1:
        diff = x[1:] - x[:-1]
        y[1:] += temporal * diff
        y[:-1] -= temporal * diff
    return y


def _hessian_diag(gram: np.ndarray, temporal: float, n_frames: int) -> np.ndarray:
    return np.diag(gram)[None, :] + temporal * _laplacian_diag(n_frames)[:, None]


def _solve_free(gram: np.ndarray, temporal: float, free: np.ndarray, b: np.ndarray, tol: float = 1e-14,
                iterations: int = 1000) -> np.ndarray:
    """Solve H restricted to the free weights (identity rows for the fixed ones) by block-Jacobi preconditioned CG.

    The preconditioner is each frame's own block (gram + temporal * L_tt on its free weights), so without temporal
    coupling the first application is already exact; light coupling adds a few iterations.
    """
    f = free.astype(np.float64)
    k = len(gram)
    diag_shift = temporal * _laplacian_diag(len(b))
    blocks = f[:, :, None] * (gram[None] + diag_shift[:, None, None] * np.eye(k)) * f[:, None, :]
    blocks += (1 - f)[:, :, None] * np.eye(k)
    factor = _batched_cholesky(blocks)
    x = _batched_cho_solve(factor, b)
    if not temporal or len(b) == 1:
        return x

    def op(v: np.ndarray) -> np.ndarray:
        return f * _apply_hessian(f * v, gram, temporal) + (1 - f) * v

    r = b - op(x)
    z = _batched_cho_solve(factor, r)
    p, rz = z.copy(), float(np.sum(r * z))
    stop = tol * math.sqrt(float(np.sum(b * b)))
    for _ in range(iterations):
        if math.sqrt(float(np.sum(r * r))) <= stop or rz <= 0:
            break
        q = op(p)
        alpha = rz / float(np.sum(p * q))
        x += alpha * p
        r -= alpha * q
        z = _batched_cho_solve(factor, r)
        rz, rz_old = float(np.sum(r * z)), rz
        p = z + (rz / rz_old) * p
    return x


def _active_set(gram: np.ndarray, rhs: np.ndarray, temporal: float, lower: float, upper: float, at_lower: np.ndarray,
                at_upper: np.ndarray, iterations: int) -> tuple[np.ndarray | None, int]:
    """Primal-dual active set (Hintermueller-Ito-Kunisch) from a guess of the bound weights: exact, or None.

    Each guess costs one solve of the free weights. From a good guess it converges in one or two; from a poor one it
    can cycle (the Hessian is no M-matrix), which a repeated guess detects. A hysteresis of ``tol`` keeps weights
    sitting on a bound with a zero multiplier (exact 0s and 1s) from flipping sets forever.
    """
    tol = 1e-10
    hdiag = _hessian_diag(gram, temporal, len(rhs))
    seen: set[bytes] = set()
    for it in range(1, iterations + 1):
        key = np.packbits(at_lower).tobytes() + np.packbits(at_upper).tobytes()
        if key in seen:
            return None, it - 1
        seen.add(key)
        fixed = at_lower | at_upper
        x_fixed = np.where(at_lower, lower, np.where(at_upper, upper, 0.0))
        b = np.where(fixed, x_fixed, rhs - _apply_hessian(x_fixed, gram, temporal))
        x = np.where(fixed, x_fixed, _solve_free(gram, temporal, ~fixed, b))
        y = x - (_apply_hessian(x, gram, temporal) - rhs) / hdiag  # x for free weights; sign of the multiplier else
        new_lower = (y < lower - tol) | (at_lower & (y < lower + tol))
        new_upper = (y > upper + tol) | (at_upper & (y > upper - tol))
        if np.array_equal(new_lower, at_lower) and np.array_equal(new_upper, at_upper):
            return np.clip(x, lower, upper), it
        at_lower, at_upper = new_lower, new_upper
    return None, iterations


def _projected_gradient(gram: np.ndarray, rhs: np.ndarray, temporal: float, x0: np.ndarray, lower: float, upper: float,
                        iterations: int, tol: float = 1e-12) -> tuple[np.ndarray, int, bool]:
    """FISTA with adaptive restart in the Jacobi metric (projection onto a box stays a clip in any diagonal metric)."""
    d = np.diag(gram) + 2 * temporal
    step = 1.0 / (np.linalg.eigvalsh(gram / np.sqrt(np.outer(d, d)))[-1] + 4 * temporal / d.min())
    x = np.clip(x0, lower, upper)
    y, t = x.copy(), 1.0
    for it in range(1, iterations + 1):
        x_new = np.clip(y - step * (_apply_hessian(y, gram, temporal) - rhs) / d, lower, upper)
        t_new = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
        if np.sum((y - x_new) * (x_new - x)) > 0:  # momentum points uphill: restart
            y, t_new = x_new.copy(), 1.0
        else:
            y = x_new + ((t - 1) / t_new) * (x_new - x)
        moved = float(np.max(np.abs(x_new - x)))
        x, t = x_new, t_new
        if moved < tol:
            return x, it, True
    return x, iterations, False


def _solve_block(gram: np.ndarray, rhs: np.ndarray, temporal: float, lower: float, upper: float,
                 active_set_iterations: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Active set from the unconstrained solution; if that cycles, projected gradient finds it a better start."""
    none = np.zeros(rhs.shape, dtype=bool)
    if active_set_iterations > 0:
        exact, steps = _active_set(gram, rhs, temporal, lower, upper, none, none, active_set_iterations)
        if exact is not None:
            return exact, {"method": "active-set", "iterations": steps}
    x, total = np.zeros_like(rhs), 0
    for _ in range(80):  # at most 80 x 250 gradient steps
        x, used, converged = _projected_gradient(gram, rhs, temporal, x, lower, upper, 250)
        total += used
        if active_set_iterations > 0:
            exact, steps = _active_set(gram, rhs, temporal, lower, upper, x <= lower, x >= upper, 8)
            if exact is not None:
                return exact, {"method": "gradient+active-set", "iterations": total + steps}
        if converged:
            break
    return x, {"method": "projected-gradient", "iterations": total}


def solve_bounded_ls(gram: np.ndarray, rhs: np.ndarray, temporal: float = 0.0, *, lower: float = 0.0, upper: float = 1.0,
                     active_set_iterations: int = 10, chunk: int = 2048, overlap: int = 64) -> tuple[np.ndarray, dict[str, Any]]:
    """All frames of min sum_t 0.5 w'Gw - c_t'w + 0.5 temporal sum_t ||w_t - w_{t-1}||^2, lower <= w <= upper.

    ``gram`` is B'B [K,K] (symmetric positive definite), ``rhs`` rows c_t = B'd_t [T,K], ``temporal`` absolute.
    ``active_set_iterations=0`` skips the exact active-set stage (plain projected gradient), for testing.
    Long takes are cut into ``chunk``-frame windows that overlap by ``overlap`` frames when frames are coupled
    (the coupling's influence decays geometrically, so the seams are exact for light regularisation).
    """
    n_frames = len(rhs)
    # A whisper of ridge keeps a rank-deficient basis (duplicate shapes) solvable; ~1e-12 relative, invisible otherwise.
    gram = gram + 1e-12 * np.mean(np.diag(gram)) * np.eye(len(gram))
    pad = overlap if temporal > 0 else 0
    out = np.empty_like(rhs)
    methods: list[str] = []
    iterations = 0
    for start in range(0, n_frames, chunk):
        stop = min(start + chunk, n_frames)
        lo, hi = max(0, start - pad), min(n_frames, stop + pad)
        x, part = _solve_block(gram, rhs[lo:hi], temporal, lower, upper, active_set_iterations)
        out[start:stop] = x[start - lo: stop - lo]
        iterations = max(iterations, part["iterations"])
        methods.append(part["method"])
    return out, {"method": max(set(methods), key=methods.count), "methods": sorted(set(methods)), "iterations": iterations}


# ------------------------------------------------------------------------------------------------------- retargeting


def _check_animation(model: FlameModel, anim: FlameAnimation) -> None:
    n_frames, n_exp = anim.expression.shape
    if anim.jaw_pose.shape != (n_frames, 3):
        raise ExportError(f"jaw_pose must be [{n_frames}, 3] to match the expression, got {list(anim.jaw_pose.shape)}")
    if n_exp > model.n_expression:
        raise ExportError(f"the animation has {n_exp} expression coefficients but the FLAME model only {model.n_expression}")


def flame_to_arkit(model: FlameModel, basis: ArkitBasis, anim: FlameAnimation,
                   temporal: float = DEFAULT_TEMPORAL) -> tuple[Animation, np.ndarray]:
    """ARKit-52 weights in 0..1 for a FLAME animation, and the per-frame residual RMS (model units per vertex).

    ``temporal`` weighs sum_t ||w_t - w_{t-1}||^2 relative to the mean squared norm of a basis shape. Its bias on a
    clean take is about temporal x (frame-to-frame change of w) x (mean / smallest eigenvalue of B'B), so the default
    1e-5 mostly decides between near-identical shapes smoothly (measured: <= 3.3e-4 weight error on the test fixtures,
    whose basis has that ratio ~500). 1e-3 .. 1e-1 damps jitter from noisy input; 0 is the exact per-frame solution.
    """
    if temporal < 0 or not math.isfinite(temporal):
        raise ExportError(f"temporal must be a finite number >= 0, got {temporal}")
    _check_animation(model, anim)
    n_frames = len(anim)
    flat = basis.deltas.reshape(len(basis.names), -1)          # [K, V*3]
    gram = flat @ flat.T
    scale = float(np.mean(np.diag(gram)))
    if scale <= 0:
        raise ExportError("the ARKit basis is all zeros")
    started = time.perf_counter()
    rhs = np.empty((n_frames, len(basis.names)))
    sq_norm = np.empty(n_frames)
    for s in range(0, n_frames, _CHUNK_FRAMES):
        e = min(s + _CHUNK_FRAMES, n_frames)
        d = flame_displacements(model, anim.expression[s:e], anim.jaw_pose[s:e], basis.neutral).reshape(e - s, -1)
        rhs[s:e] = d @ flat.T
        sq_norm[s:e] = np.einsum("ti,ti->t", d, d)
    projected = time.perf_counter()
    weights, info = solve_bounded_ls(gram, rhs, temporal * scale)
    solved = time.perf_counter()
    # ||Bw - d||^2 from the Gram quantities: no second pass over the meshes.
    sq_res = sq_norm - 2 * np.einsum("tk,tk->t", weights, rhs) + np.einsum("tk,kl,tl->t", weights, gram, weights)
    residual = np.sqrt(np.maximum(sq_res, 0.0) / model.n_vertices)
    frames = np.zeros((n_frames, len(ARKIT_NAMES)), dtype=np.float32)
    frames[:, basis.columns] = weights
    rms_motion = np.sqrt(np.mean(sq_norm) / model.n_vertices)
    meta: dict[str, Any] = {"source": "flame", "flame_to_arkit": {
        "temporal": temporal,
        "residual_rms_max": float(residual.max()),
        "residual_rms_mean": float(residual.mean()),
        "motion_rms": float(rms_motion),              # the RMS displacement the residual compares against
        "basis_shapes": len(basis.names),
        "missing_shapes": [n for n in ARKIT_NAMES if n not in basis.names],
        "solver": "+".join(info["methods"]),
        "solver_iterations": info["iterations"],
        "solve_fps": n_frames / max(solved - projected, 1e-9),
        "total_fps": n_frames / max(solved - started, 1e-9),
    }}
    if anim.meta.get("source"):
        meta["flame_animation"] = anim.meta["source"]
    return Animation(fps=float(anim.fps), frames=frames, meta=meta), residual


class _ExpressionJawFit:
    """Gauss-Newton fit of FLAME expression + jaw to displacements, with the model's fixed blocks precomputed."""

    def __init__(self, model: FlameModel, n_exp: int, ridge: float, rest: np.ndarray | None) -> None:
        v = model.n_vertices
        self.model, self.rest, self.n_exp = model, rest, n_exp
        s = model.expr_dirs[:, :, :n_exp]                                      # [V, 3, n]
        q = s - np.einsum("v,vcn->cn", model.jaw_regressor, s)[None]          # expression relative to the jaw joint
        self.s_flat = s.reshape(v * 3, n_exp)
        self.q_flat = q.reshape(v * 3, n_exp)
        w = model.jaw_weights
        # For a fixed jaw (M = R - I) the expression Jacobian is A = S + w M Q per vertex, so
        # A'A = K0 + sum_ab M_ab (K1_ab + K1_ab') + sum_bd (M'M)_bd K2_bd.
        self.k0 = self.s_flat.T @ self.s_flat
        self.k1 = np.empty((3, 3, n_exp, n_exp))
        self.k2 = np.empty((3, 3, n_exp, n_exp))
        for a in range(3):
            for b in range(3):
                block = (s[:, a, :] * w[:, None]).T @ q[:, b, :]
                self.k1[a, b] = block + block.T
                self.k2[a, b] = (q[:, a, :] * (w * w)[:, None]).T @ q[:, b, :]
        self.ridge = ridge * float(np.mean(np.diag(self.k0)))

    def _apply_transpose(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """A'x for x [T, V, 3] (or [T, c, V, 3] for several columns), A the expression Jacobian at jaw M = R - I."""
        w = self.model.jaw_weights[:, None]
        if x.ndim == 4:
            y = w * _row_times(x, m[:, None, None])
            n_frames, cols = x.shape[:2]
            return ((x.reshape(n_frames * cols, -1) @ self.s_flat) + (y.reshape(n_frames * cols, -1) @ self.q_flat)).reshape(
                n_frames, cols, -1)
        y = w * _row_times(x, m[:, None])
        return x.reshape(len(x), -1) @ self.s_flat + y.reshape(len(x), -1) @ self.q_flat

    def _evaluate(self, exp: np.ndarray, jaw: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = flame_displacements(self.model, exp, jaw, self.rest) - target
        cost = np.einsum("tvc,tvc->t", residual, residual) + self.ridge * np.einsum("tn,tn->t", exp, exp)
        return residual, cost

    def fit(self, target: np.ndarray, iterations: int = 30, tol: float = 1e-7) -> tuple[np.ndarray, np.ndarray, int]:
        """Expression [T, n] and jaw [T, 3] minimising ||FLAME - target||^2 + ridge ||e||^2 per frame."""
        model, n = self.model, self.n_exp
        n_frames = len(target)
        exp, jaw = np.zeros((n_frames, n)), np.zeros((n_frames, 3))
        residual, cost = self._evaluate(exp, jaw, target)
        v_rest = _rest(model, self.rest)
        dirs = model.expr_dirs.reshape(model.n_vertices * 3, -1)[:, :n]
        used = 0
        for _ in range(iterations):
            used += 1
            rot = rodrigues(jaw)
            m = rot - np.eye(3)
            # Jaw Jacobian: d/dr_i of v_posed + w (R - I)(v_posed - j), with v_posed's correctives depending on R too.
            v_shaped = v_rest[None] + (exp @ dirs.T).reshape(n_frames, -1, 3)
            joint = np.einsum("v,tvc->tc", model.jaw_regressor, v_shaped)
            d_rot = _rodrigues_jacobian(jaw, rot)                                                # [T, 3, 3, 3]
            d_pose = (d_rot.reshape(n_frames * 3, 9) @ model.jaw_posedirs.reshape(-1, 9).T).reshape(n_frames, 3, -1, 3)
            v_posed = v_shaped + (m.reshape(n_frames, 9) @ model.jaw_posedirs.reshape(-1, 9).T).reshape(v_shaped.shape)
            rel = (v_posed - joint[:, None])[:, None]                                            # [T, 1, V, 3]
            j_jaw = d_pose + model.jaw_weights[None, None, :, None] * (
                _row_times(rel, np.swapaxes(d_rot, 2, 3)[:, :, None]) + _row_times(d_pose, np.swapaxes(m, 1, 2)[:, None, None]))
            mtm = np.einsum("tba,tbc->tac", m, m)
            system = np.empty((n_frames, n + 3, n + 3))
            system[:, :n, :n] = (self.k0 + np.einsum("tab,abnm->tnm", m, self.k1) + np.einsum("tab,abnm->tnm", mtm, self.k2)
                                 + self.ridge * np.eye(n))
            cross = self._apply_transpose(j_jaw, m)                                               # [T, 3, n]
            system[:, :n, n:] = np.swapaxes(cross, 1, 2)
            system[:, n:, :n] = cross
            jj = j_jaw.reshape(n_frames, 3, -1)
            system[:, n:, n:] = np.einsum("tiv,tjv->tij", jj, jj)
            system += 1e-14 * np.trace(system, axis1=1, axis2=2)[:, None, None] * np.eye(n + 3)  # never singular
            grad = np.concatenate([self._apply_transpose(residual, m) + self.ridge * exp,
                                   np.einsum("tiv,tv->ti", jj, residual.reshape(n_frames, -1))], axis=1)
            step = -_batched_spd_solve(system, grad)
            # Backtracking per frame: halve the step where the cost went up (large jaw rotations from a zero start).
            alpha = np.ones(n_frames)
            for _ in range(12):
                new_exp, new_jaw = exp + alpha[:, None] * step[:, :n], jaw + alpha[:, None] * step[:, n:]
                new_residual, new_cost = self._evaluate(new_exp, new_jaw, target)
                worse = new_cost > cost * (1 + 1e-12) + 1e-300
                if not worse.any():
                    break
                alpha = np.where(worse, alpha * 0.5, alpha)
            keep = worse[:, None]  # no descent even with a tiny step: already at the optimum up to rounding
            alpha = np.where(worse, 0.0, alpha)
            exp, jaw = np.where(keep, exp, new_exp), np.where(keep, jaw, new_jaw)
            residual = np.where(keep[:, :, None], residual, new_residual)
            cost = np.where(worse, cost, new_cost)
            if np.max(np.abs(alpha[:, None] * step)) < tol:
                break
        return exp, jaw, used


def fit_flame(model: FlameModel, displacements: np.ndarray, n_expression: int | None = None, ridge: float = DEFAULT_RIDGE,
              rest: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FLAME expression [T, n], jaw axis-angle [T, 3] and residual RMS [T] best explaining displacements [T, V, 3].

    Minimises ||FLAME(e, jaw) - d||^2 + ridge * s * ||e||^2 per frame (s: mean squared norm of an expression
    direction), Gauss-Newton from e = 0, jaw = 0 with per-frame backtracking; converges in a handful of iterations
    (steps below 1e-7). The default ridge is a numerical guard, not a prior; raise it (1e-3 .. 1e-1) to keep the
    coefficients small when the target leaves FLAME's expression span.
    """
    n_exp = model.n_expression if n_expression is None else int(n_expression)
    if not 1 <= n_exp <= model.n_expression:
        raise ExportError(f"n_expression must be between 1 and {model.n_expression} (the model's), got {n_expression}")
    if ridge < 0 or not math.isfinite(ridge):
        raise ExportError(f"ridge must be a finite number >= 0, got {ridge}")
    if displacements.ndim != 3 or displacements.shape[1:] != (model.n_vertices, 3):
        raise ExportError(f"displacements must be [T, {model.n_vertices}, 3], got {list(displacements.shape)}")
    solver = _ExpressionJawFit(model, n_exp, ridge, rest)
    n_frames = len(displacements)
    exp, jaw, residual = np.empty((n_frames, n_exp)), np.empty((n_frames, 3)), np.empty(n_frames)
    for s in range(0, n_frames, _CHUNK_FRAMES):
        e = min(s + _CHUNK_FRAMES, n_frames)
        exp[s:e], jaw[s:e], _ = solver.fit(displacements[s:e])
        diff = flame_displacements(model, exp[s:e], jaw[s:e], rest) - displacements[s:e]
        residual[s:e] = np.sqrt(np.einsum("tvc,tvc->t", diff, diff) / model.n_vertices)
    return exp, jaw, residual


def arkit_to_flame(model: FlameModel, basis: ArkitBasis, animation: Animation, n_expression: int | None = None,
                   ridge: float = DEFAULT_RIDGE) -> FlameAnimation:
    """FLAME expression + jaw for ARKit-52 weights: displacement through the basis, then ``fit_flame``.

    Weights of ARKit shapes the basis lacks cannot move the mesh and are ignored (listed in meta). Head rotation is
    not retargeted (FLAME's global / neck pose stays with the caller).
    """
    if tuple(animation.blendshape_names) != ARKIT_NAMES:
        try:
            index = [ARKIT_INDEX[canonical_name(n)] for n in animation.blendshape_names]
        except UnknownBlendshapeError as err:
            raise ExportError(f"animation blendshape names: {err}") from None
        frames = np.zeros((len(animation.frames), len(ARKIT_NAMES)))
        frames[:, index] = animation.frames
    else:
        frames = np.asarray(animation.frames, dtype=np.float64)
    started = time.perf_counter()
    weights = frames[:, basis.columns]
    ignored = [n for i, n in enumerate(ARKIT_NAMES) if n not in basis.names and np.any(frames[:, i] != 0)]
    displacements = np.tensordot(weights, basis.deltas, axes=1)                          # [T, V, 3]
    exp, jaw, residual = fit_flame(model, displacements, n_expression, ridge, basis.neutral)
    elapsed = time.perf_counter() - started
    meta = {"source": "arkit", "arkit_to_flame": {
        "n_expression": int(exp.shape[1]),
        "ridge": ridge,
        "residual_rms_max": float(residual.max()),
        "residual_rms_mean": float(residual.mean()),
        "ignored_shapes": ignored,
        "fps_solved": len(exp) / max(elapsed, 1e-9),
    }}
    return FlameAnimation(float(animation.fps), exp, jaw, residual, meta)


def benchmark(model: FlameModel, basis: ArkitBasis, frames: int = 1000, seed: int = 0) -> dict[str, float]:
    """Frames per second of both directions on a smooth synthetic FLAME take through the given model and basis."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] / DEFAULT_FPS
    n = min(50, model.n_expression)
    expression = 1.5 * np.sin(2 * np.pi * rng.uniform(0.3, 2.0, n) * t + rng.uniform(0, 2 * np.pi, n))
    jaw = np.zeros((frames, 3))
    jaw[:, 0] = 0.15 * (1 - np.cos(2 * np.pi * 3.0 * t[:, 0]))   # FLAME opens the jaw about +x
    anim = FlameAnimation(DEFAULT_FPS, expression, jaw)
    started = time.perf_counter()
    arkit, residual = flame_to_arkit(model, basis, anim)
    middle = time.perf_counter()
    back = arkit_to_flame(model, basis, arkit)
    done = time.perf_counter()
    stats = arkit.meta["flame_to_arkit"]
    return {
        "frames": float(frames),
        "vertices": float(model.n_vertices),
        "flame_to_arkit_fps": frames / (middle - started),
        "flame_to_arkit_solve_fps": float(stats["solve_fps"]),
        "arkit_to_flame_fps": frames / (done - middle),
        "flame_to_arkit_residual_rms_max": float(residual.max()),
        "arkit_to_flame_residual_rms_max": float(np.max(back.residual_rms)),
    }


__all__ = [
    "ArkitBasis", "FlameAnimation", "FlameModel", "arkit_to_flame", "benchmark", "fit_flame", "flame_displacements",
    "flame_to_arkit", "load_arkit_basis", "load_flame_animation", "load_flame_model", "rodrigues", "save_flame_animation",
    "solve_bounded_ls",
]
