"""glTF 2.0 export: a head mesh with one morph target per blendshape and the animation on its weights.

Owns the glTF/GLB writer (numpy + json + struct, no glTF library) and the choice of head geometry:

* ``mesh=None``: the ICT-FaceKit head when ``emobridge.render.mesh.resolve_mesh_path()`` finds it, else a
  small procedural placeholder (a low-poly ellipsoid, logged as a warning) whose morph targets are small
  distinct bumps, so the file is still valid and carries the animation for retargeting by target name.
* ``mesh="placeholder"`` forces the placeholder; ``mesh=PATH`` (or a ``FaceMesh``) uses that ICT-format npz.

Target names are the animation's blendshape names (the 52 ARKit names), or the rig profile's shape names
with the profile's values. On the ICT head a name picks the ICT expression of that exact name (the
``ict_facekit`` profile) or else the ARKit shape in any spelling, mapped to ICT deltas as ``FaceMesh`` does
(``tongueOut`` has no ICT shape: an all-zero target). Names that are neither use the placeholder instead.

Layout: scene -> node "head" (pivot in the neck, animated ``rotation`` when the animation has head
rotation) -> node "face" (the mesh, animated ``weights``). ``mesh.extras.targetNames`` names the targets.
Units are metres (the ICT head's cm are scaled by 0.01), y up, +z out of the face. Head rotation uses the
renderer's convention (``emobridge.render.raster.rotation_matrix``): R = Ry(yaw) Rx(pitch) Rz(roll), i.e.
yaw about +y, pitch about +x, roll about +z, right-handed, applied roll first. The ICT targets are sparse
accessors (deltas under 1 micrometre dropped), which roughly halves the file; ``sparse=False`` writes them
dense for importers without sparse support. Only the face geometry, normals and vertex colours are written:
no UVs (ICT indexes UVs per corner, which would need vertex splitting) and no textures.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emobridge.animation import Animation
from emobridge.render.mesh import FaceMesh, resolve_mesh_path
from emobridge.rig import ARKIT_INDEX, UnknownBlendshapeError, canonical_name
from emobridge.rig.profile import RigProfile
from emobridge_export import ExportError, rig_shapes

log = logging.getLogger(__name__)

SUFFIXES = (".glb", ".gltf")
PLACEHOLDER = "placeholder"
CM = 0.01                                        # ICT-FaceKit is in cm, glTF in metres
SPARSE_EPS = 1e-6                                # metres: ICT deltas below 1 um are solver noise, not shape
NECK_PIVOT = np.array([0.0, -0.09, -0.01])       # metres, as the renderer's head-rotation pivot
NPZ_KEYS = ("neutral_vertices", "triangles", "expression_names", "expression_deltas")

FLOAT, UBYTE, USHORT, UINT = 5126, 5121, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


@dataclass
class _Head:
    """Geometry to write: metres, y up; ``targets`` [n, V, 3] deltas in target-name order."""

    name: str
    vertices: np.ndarray
    triangles: np.ndarray
    targets: np.ndarray
    colours: np.ndarray | None = None
    sparse: bool = False


def export_gltf(
    animation: Animation,
    out: str | os.PathLike[str],
    rig: RigProfile | str | os.PathLike[str] | None = None,
    mesh: str | os.PathLike[str] | FaceMesh | None = None,
    *,
    sparse: bool = True,
) -> Path:
    """Write ``animation`` as a glTF 2.0 head with morph-target animation; ``.glb`` or ``.gltf`` by suffix.

    ``rig`` is a ``RigProfile`` or a profile name/path (targets and values from the profile); ``mesh`` is
    None (ICT head if found, else placeholder), ``"placeholder"``, an ICT-format npz path or a ``FaceMesh``.
    Returns the written path. Raises ``ExportError`` for a bad suffix, animation, profile or mesh file.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        raise ExportError(f"glTF export writes .glb (binary) or .gltf (JSON, embedded buffer), not {out.name!r}")
    names, weights = _names_and_weights(animation, rig)
    head = _head(names, mesh, sparse)
    doc, blob = _document(animation, names, weights, head, out.stem)
    if suffix == ".glb":
        data = _glb(doc, blob)
    else:
        doc["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(blob).decode("ascii")
        data = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    _write_atomic(out, data)
    return out


# -- what to animate -----------------------------------------------------------------------------------
def _names_and_weights(animation: Animation, rig: RigProfile | str | os.PathLike[str] | None) -> tuple[list[str], np.ndarray]:
    fps = float(animation.fps)
    if not np.isfinite(fps) or fps <= 0:
        raise ExportError(f"animation fps must be a positive number, got {animation.fps!r}")
    frames = np.asarray(animation.frames, np.float32)
    if frames.ndim != 2 or len(frames) == 0 or not np.all(np.isfinite(frames)):
        raise ExportError(f"animation frames must be a non-empty finite [T, N] array, got shape {frames.shape}")
    if rig is None:
        names = list(animation.blendshape_names)
        if len(names) != frames.shape[1]:
            raise ExportError(f"animation has {len(names)} blendshape names but {frames.shape[1]} values per frame")
        return names, frames
    names, values = rig_shapes(rig, frames)
    return list(names), values


# -- geometry ------------------------------------------------------------------------------------------
def _head(names: list[str], mesh: str | os.PathLike[str] | FaceMesh | None, sparse: bool) -> _Head:
    if isinstance(mesh, str) and mesh == PLACEHOLDER:
        return _placeholder(names)
    if mesh is None:
        try:
            path = resolve_mesh_path()
        except FileNotFoundError as err:
            log.warning("glTF export uses a placeholder head (targets named for retargeting in the engine): %s", err)
            return _placeholder(names)
        face = _load_face(path)
    elif isinstance(mesh, FaceMesh):
        face = mesh
    else:
        face = _load_face(Path(mesh))
    head = _ict_head(face, names, sparse)
    if head is None:
        return _placeholder(names)
    return head


def _load_face(path: Path) -> FaceMesh:
    """Check the npz layout first so a wrong file is an ExportError naming the key, not a KeyError."""
    if not path.is_file():
        raise ExportError(f"head mesh {str(path)!r} not found: pass an ICT-FaceKit ict_facekit_expressions.npz "
                          f"or mesh={PLACEHOLDER!r}")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in NPZ_KEYS if k not in data.files]
            if missing:
                raise ExportError(f"head mesh {path} is not an ICT-format npz: missing {missing} (needs {list(NPZ_KEYS)})")
            arrays = {k: data[k] for k in NPZ_KEYS}
    except ExportError:
        raise
    except Exception as err:  # not a zip, pickled objects, truncated file ...
        raise ExportError(f"head mesh {path} is not a readable npz: {err}") from None
    verts, tris, names, deltas = (arrays[k] for k in NPZ_KEYS)
    n_vert = len(verts)
    checks = (
        (verts.ndim == 2 and verts.shape[1] == 3 and n_vert > 0, "neutral_vertices must be [V, 3]"),
        (tris.ndim == 2 and tris.shape[1] == 3 and tris.dtype.kind in "iu", "triangles must be integer [F, 3]"),
        (tris.size == 0 or (tris.min() >= 0 and tris.max() < n_vert), f"triangles must index 0..{n_vert - 1}"),
        (names.ndim == 1 and names.dtype.kind == "U", "expression_names must be a list of strings"),
        (deltas.shape == (len(names), n_vert, 3), f"expression_deltas must be [{len(names)}, {n_vert}, 3]"),
    )
    for ok, what in checks:
        if not ok:
            raise ExportError(f"head mesh {path} has the wrong layout: {what}")
    return FaceMesh.default(path)


def _ict_head(face: FaceMesh, names: list[str], sparse: bool) -> _Head | None:
    """Targets for ``names`` on the ICT head, or None (after a warning) when some name is not a shape of it."""
    raw: np.ndarray | None = None
    ict_index: dict[str, int] = {}
    with np.load(face.path, allow_pickle=False) as data:
        ict_index = {str(n): j for j, n in enumerate(data["expression_names"])}
        if any(n in ict_index and n not in ARKIT_INDEX for n in names):  # raw ICT shapes (browInnerUp_L, ...)
            raw = data["expression_deltas"]
    targets = np.zeros((len(names), face.num_vertices, 3), np.float32)
    unknown = []
    for i, name in enumerate(names):
        if name in ict_index and raw is not None:
            targets[i] = raw[ict_index[name]][face.source_indices]
            continue
        try:
            targets[i] = face.deltas[ARKIT_INDEX[canonical_name(name)]]
        except UnknownBlendshapeError:
            unknown.append(name)
    if unknown:
        log.warning("glTF export uses a placeholder head: %d target names are neither ICT-FaceKit nor ARKit shapes "
                    "(%s); retarget by name in the engine", len(unknown), ", ".join(unknown[:8]))
        return None
    targets *= CM
    if sparse:
        targets[np.abs(targets).max(axis=2) < SPARSE_EPS] = 0.0
    colours = _srgb_to_linear(face.albedo)  # COLOR_0 is linear; the albedo table is sRGB
    return _Head("ict_facekit", face.neutral * CM, face.triangles, targets, colours, sparse)


def _placeholder(names: list[str]) -> _Head:
    """A head-sized ellipsoid (290 vertices) whose target i is a 1 cm bump at its own spot on the front."""
    rings, segments = 12, 24
    radii = np.array([0.075, 0.1, 0.09])
    lat = np.pi * np.arange(1, rings + 1) / (rings + 1)                  # 0 at +y (top), pi at -y
    lon = 2 * np.pi * np.arange(segments) / segments                     # 0 at +z (the face)
    lat_g, lon_g = np.meshgrid(lat, lon, indexing="ij")
    unit = np.stack([np.sin(lat_g) * np.sin(lon_g), np.cos(lat_g), np.sin(lat_g) * np.cos(lon_g)], -1).reshape(-1, 3)
    unit = np.vstack([unit, [[0, 1, 0], [0, -1, 0]]])
    top, bottom = len(unit) - 2, len(unit) - 1
    tris = []
    for s in range(segments):
        s1 = (s + 1) % segments
        tris.append((top, s, s1))
        tris.append((bottom, (rings - 1) * segments + s1, (rings - 1) * segments + s))
        for r in range(rings - 1):
            a, b, c, d = r * segments + s, r * segments + s1, (r + 1) * segments + s, (r + 1) * segments + s1
            tris += [(a, c, b), (b, c, d)]
    triangles = np.asarray(tris, np.int32)
    vertices = unit * radii
    normals = _normals(vertices, triangles)
    # Bump centres spread over the front (Fibonacci spiral on the z > 0 cap) so every target differs.
    n = max(len(names), 1)
    k = np.arange(n) + 0.5
    z = 1.0 - 0.85 * k / n
    phi = k * np.pi * (3.0 - np.sqrt(5.0))
    centres = np.stack([np.sqrt(1 - z**2) * np.cos(phi), np.sqrt(1 - z**2) * np.sin(phi), z], -1)
    angle = np.arccos(np.clip(centres @ unit.T, -1, 1))                 # [n, V]
    bump = 0.01 * np.exp(-0.5 * (angle / 0.3) ** 2)
    bump[bump < 1e-5] = 0.0
    targets = (bump[:, :, None] * normals[None]).astype(np.float32)[: len(names)]
    return _Head(PLACEHOLDER, vertices.astype(np.float32), triangles, targets)


def _normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals; +z where a vertex has no area (glTF requires unit normals)."""
    v = vertices.astype(np.float64)
    face = np.cross(v[triangles[:, 1]] - v[triangles[:, 0]], v[triangles[:, 2]] - v[triangles[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, triangles[:, k], face)
    length = np.linalg.norm(n, axis=1, keepdims=True)
    n = np.where(length > 1e-20, n / np.maximum(length, 1e-30), [0.0, 0.0, 1.0])
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.clip(c.astype(np.float64), 0, 1)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def head_quaternions(head_rotation: np.ndarray) -> np.ndarray:
    """[T, 3] yaw, pitch, roll (radians) -> [T, 4] glTF quaternions (x, y, z, w) of Ry(yaw) Rx(pitch) Rz(roll).

    Consecutive quaternions are kept in the same hemisphere so LINEAR (slerp) interpolation takes the short way.
    """
    half = np.asarray(head_rotation, np.float64).reshape(-1, 3) / 2
    cy, sy, cp, sp, cr, sr = np.cos(half[:, 0]), np.sin(half[:, 0]), np.cos(half[:, 1]), np.sin(half[:, 1]), \
        np.cos(half[:, 2]), np.sin(half[:, 2])
    # qy * qx * qz written out (Hamilton product of the three axis rotations).
    w = cy * cp * cr + sy * sp * sr
    x = cy * sp * cr + sy * cp * sr
    y = sy * cp * cr - cy * sp * sr
    z = cy * cp * sr - sy * sp * cr
    q = np.stack([x, y, z, w], axis=1)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    flips = np.concatenate([[1.0], np.where((q[1:] * q[:-1]).sum(axis=1) < 0, -1.0, 1.0)])
    return q * np.cumprod(flips)[:, None]


# -- the glTF document -----------------------------------------------------------------------------------
class _Buffer:
    """One binary buffer with its bufferViews and accessors (every view starts 4-byte aligned)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.length = 0
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def view(self, data: bytes, target: int | None = None) -> int:
        entry: dict[str, Any] = {"buffer": 0, "byteOffset": self.length, "byteLength": len(data)}
        if target is not None:
            entry["target"] = target
        padded = data + b"\0" * (-len(data) % 4)
        self.parts.append(padded)
        self.length += len(padded)
        self.views.append(entry)
        return len(self.views) - 1

    def accessor(self, array: np.ndarray, kind: str, target: int | None = None, bounds: bool = False) -> int:
        component = {np.dtype(np.float32): FLOAT, np.dtype(np.uint16): USHORT, np.dtype(np.uint32): UINT}[array.dtype]
        entry: dict[str, Any] = {"bufferView": self.view(np.ascontiguousarray(array).tobytes(), target),
                                 "componentType": component, "count": len(array), "type": kind}
        if bounds:
            entry.update(_bounds(array))
        self.accessors.append(entry)
        return len(self.accessors) - 1

    def sparse_vec3(self, dense: np.ndarray) -> int:
        """A POSITION-delta accessor holding only the non-zero rows (none at all: an all-zero accessor)."""
        rows = np.flatnonzero(np.any(dense != 0, axis=1))
        entry: dict[str, Any] = {"componentType": FLOAT, "count": len(dense), "type": "VEC3", **_bounds(dense)}
        if len(rows):
            index_type = np.uint16 if len(dense) <= 65536 else np.uint32
            entry["sparse"] = {
                "count": len(rows),
                "indices": {"bufferView": self.view(rows.astype(index_type).tobytes()),
                            "componentType": USHORT if index_type is np.uint16 else UINT},
                "values": {"bufferView": self.view(np.ascontiguousarray(dense[rows], np.float32).tobytes())},
            }
        self.accessors.append(entry)
        return len(self.accessors) - 1

    def blob(self) -> bytes:
        return b"".join(self.parts)


def _bounds(array: np.ndarray) -> dict[str, list[float]]:
    # Exact float32 values: the validator compares min/max with the data bit for bit.
    a = array.reshape(len(array), -1)
    return {"min": [float(x) for x in a.min(axis=0)], "max": [float(x) for x in a.max(axis=0)]}


def _document(animation: Animation, names: list[str], weights: np.ndarray, head: _Head,
              title: str) -> tuple[dict[str, Any], bytes]:
    buf = _Buffer()
    attributes = {
        "POSITION": buf.accessor(head.vertices.astype(np.float32), "VEC3", ARRAY_BUFFER, bounds=True),
        "NORMAL": buf.accessor(_normals(head.vertices, head.triangles).astype(np.float32), "VEC3", ARRAY_BUFFER),
    }
    if head.colours is not None:
        attributes["COLOR_0"] = buf.accessor(head.colours.astype(np.float32), "VEC3", ARRAY_BUFFER)
    index_type = np.uint16 if len(head.vertices) <= 65535 else np.uint32
    indices = buf.accessor(head.triangles.reshape(-1).astype(index_type), "SCALAR", ELEMENT_ARRAY_BUFFER)
    targets = []
    for delta in head.targets:
        acc = buf.sparse_vec3(delta) if head.sparse else buf.accessor(delta, "VEC3", ARRAY_BUFFER, bounds=True)
        targets.append({"POSITION": acc})

    times = (np.arange(len(weights), dtype=np.float64) / float(animation.fps)).astype(np.float32)
    time_acc = buf.accessor(times, "SCALAR", bounds=True)
    weight_acc = buf.accessor(np.ascontiguousarray(weights, np.float32).reshape(-1), "SCALAR")
    samplers = [{"input": time_acc, "output": weight_acc, "interpolation": "LINEAR"}]
    channels = [{"sampler": 0, "target": {"node": 1, "path": "weights"}}]
    if animation.head_rotation is not None:
        rotation = np.asarray(animation.head_rotation, np.float64)
        if rotation.shape != (len(weights), 3) or not np.all(np.isfinite(rotation)):
            raise ExportError(f"animation head_rotation must be finite [{len(weights)}, 3], got shape {rotation.shape}")
        quats = buf.accessor(head_quaternions(rotation).astype(np.float32), "VEC4")
        samplers.append({"input": time_acc, "output": quats, "interpolation": "LINEAR"})
        channels.append({"sampler": 1, "target": {"node": 0, "path": "rotation"}})

    try:
        meta = json.loads(json.dumps(animation.meta, default=str))
    except (TypeError, ValueError):  # circular or otherwise unserialisable meta: leave it out
        meta = {}
    blob = buf.blob()
    doc: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "emobridge_export.gltf",
                  "extras": {"emobridge": {"mesh": head.name, "fps": float(animation.fps)}}},
        "scene": 0,
        "scenes": [{"name": title, "nodes": [0]}],
        "nodes": [
            # The pivot sits in the neck so head rotation turns the head, not the face about its nose.
            {"name": "head", "translation": [float(x) for x in NECK_PIVOT], "children": [1]},
            {"name": "face", "mesh": 0, "translation": [float(-x) for x in NECK_PIVOT]},
        ],
        "meshes": [{
            "name": head.name,
            "primitives": [{"attributes": attributes, "indices": indices, "material": 0, "mode": 4, "targets": targets}],
            "weights": [0.0] * len(names),
            "extras": {"targetNames": list(names)},
        }],
        "materials": [{"name": "skin", "pbrMetallicRoughness": {
            "baseColorFactor": [1.0, 1.0, 1.0, 1.0] if head.colours is not None else [0.8, 0.6, 0.5, 1.0],
            "metallicFactor": 0.0, "roughnessFactor": 0.6}}],
        "animations": [{"name": title, "samplers": samplers, "channels": channels,
                        "extras": {"fps": float(animation.fps), "meta": meta}}],
        "accessors": buf.accessors,
        "bufferViews": buf.views,
        "buffers": [{"byteLength": len(blob)}],
    }
    return doc, blob


def _glb(doc: dict[str, Any], blob: bytes) -> bytes:
    text = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)          # the JSON chunk is padded with spaces, BIN with zeros
    blob += b"\0" * (-len(blob) % 4)
    total = 12 + 8 + len(text) + 8 + len(blob)
    return b"".join([struct.pack("<4sII", b"glTF", 2, total), struct.pack("<I4s", len(text), b"JSON"), text,
                     struct.pack("<I4s", len(blob), b"BIN\0"), blob])


def _write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the target folder, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["PLACEHOLDER", "export_gltf", "head_quaternions"]
