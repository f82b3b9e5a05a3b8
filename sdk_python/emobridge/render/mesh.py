"""The ICT-FaceKit head as an ARKit-52 blendshape mesh: lookup, loading, ARKit mapping, per-vertex colours."""

from __future__ import annotations

import itertools
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from emobridge.rig import NUM_BLENDSHAPES
from emobridge.rig.profile import load_profile

MESH_ENV = "EMOBRIDGE_ICT_MESH"
MESH_RELATIVE = Path("shared/data/mesh/ict_facekit/ict_facekit_expressions.npz")

# Vertex index ranges of the ICT-FaceKit mesh parts (upstream README; ends exclusive).
REGION_BOUNDS = (0, 9409, 11248, 14062, 17039, 21451, 24591, 25351, 26719)
FACE, HEAD, SOCKETS, GUMS, TEETH, EYEBALLS, OCCLUSION, LASHES = range(8)
# Socket region split by height: the mouth socket is below y=0, the two eye sockets above.
MOUTH_SOCKET = 8
# Skipped: lacrimal/eye-blend/occlusion shells, and the eyelash cards (opaque without their alpha texture they
# read as thick black bands around the eyes; a painted lid line stands in for them).
VISIBLE_REGIONS = (FACE, HEAD, SOCKETS, GUMS, TEETH, EYEBALLS)

SKIN = (222, 170, 142)
LIPS = (184, 98, 96)
BROWS = (92, 66, 50)
LID = (58, 42, 36)
LID_WIDTH = 0.45  # cm from the eyeball: the painted lid line that replaces the eyelashes
ALBEDO = {
    FACE: SKIN,
    HEAD: SKIN,
    SOCKETS: (150, 86, 86),      # eye sockets (only slivers show)
    MOUTH_SOCKET: (104, 34, 38),
    GUMS: (184, 84, 90),
    TEETH: (240, 236, 222),
    EYEBALLS: (238, 236, 230),
    LASHES: (36, 28, 26),
}
IRIS = (84, 62, 44)
PUPIL = (14, 12, 12)


def _search_roots(starts: list[Path]) -> Path | None:
    for start in starts:
        for folder in (start, *start.parents):
            candidate = folder / MESH_RELATIVE
            if candidate.is_file():
                return candidate
    return None


def resolve_mesh_path(path: str | os.PathLike[str] | None = None, *, search_from: list[Path] | None = None) -> Path:
    """Where the ICT-FaceKit npz is: ``path``, else ``$EMOBRIDGE_ICT_MESH``, else ``<ancestor>/shared/...``.

    The search walks up from the current directory and from this package (``search_from`` replaces both,
    for tests). Raises ``FileNotFoundError`` saying how to point at the file.
    """
    hint = (
        f"pass --mesh PATH (or FaceMesh(path)) or set {MESH_ENV} to the ICT-FaceKit "
        "ict_facekit_expressions.npz (it lives in ../shared/data/mesh/ict_facekit/ next to the repo)"
    )
    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise FileNotFoundError(f"ICT-FaceKit mesh not found at {explicit}: {hint}")
        return explicit
    env = os.environ.get(MESH_ENV)
    if env:
        from_env = Path(env).expanduser()
        if not from_env.is_file():
            raise FileNotFoundError(f"ICT-FaceKit mesh not found at {from_env} (from ${MESH_ENV}): {hint}")
        return from_env
    starts = search_from if search_from is not None else [Path.cwd(), Path(__file__).resolve().parent]
    found = _search_roots([Path(s).resolve() for s in starts])
    if found is None:
        raise FileNotFoundError(f"ICT-FaceKit mesh not found ({MESH_RELATIVE} in no parent folder): {hint}")
    return found


def arkit_to_ict(ict_names: list[str]) -> np.ndarray:
    """[52, 53] 0/1 matrix: ARKit weight i drives ICT shape j, as the shipped ``ict_facekit`` rig profile maps
    them (the one ICT rig map: xxxLeft -> xxx_L, browInnerUp and cheekPuff -> both halves, no tongueOut)."""
    index = {name: j for j, name in enumerate(ict_names)}
    mapping = np.zeros((NUM_BLENDSHAPES, len(ict_names)), np.float32)
    for shape in load_profile("ict_facekit").shapes:
        if shape.name in index:
            mapping[list(shape.sources), index[shape.name]] = 1.0
    return mapping


class FaceMesh:
    """The front-visible part of the ICT-FaceKit head as an ARKit-52 blendshape model.

    ``neutral`` [V,3] (cm, y up, +z out of the face), ``deltas`` [52,V,3], ``triangles`` [F,3] into the
    kept vertices, ``region`` [V] part ids and ``albedo`` [V,3] float colours in 0..1.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = resolve_mesh_path(path)
        with np.load(self.path) as data:
            neutral = data["neutral_vertices"].astype(np.float32)
            triangles = data["triangles"].astype(np.int64)
            ict_names = [str(n) for n in data["expression_names"]]
            ict_deltas = data["expression_deltas"]
        region = np.searchsorted(REGION_BOUNDS, np.arange(len(neutral)), side="right") - 1
        tri_region = region[triangles.min(axis=1)]
        keep_tri = np.isin(tri_region, VISIBLE_REGIONS) & np.isin(region[triangles], VISIBLE_REGIONS).all(axis=1)
        triangles = triangles[keep_tri]
        used = np.unique(triangles)
        remap = np.full(len(neutral), -1, np.int64)
        remap[used] = np.arange(len(used))
        self.source_indices = used
        self.triangles = remap[triangles].astype(np.int32)
        self.neutral = neutral[used]
        self.region = region[used]
        self.region[(self.region == SOCKETS) & (self.neutral[:, 1] < 0)] = MOUTH_SOCKET
        mapping = arkit_to_ict(ict_names)
        self.deltas = np.einsum("ij,jvc->ivc", mapping, ict_deltas[:, used], optimize=True).astype(np.float32)
        self._deltas_flat = self.deltas.reshape(NUM_BLENDSHAPES, -1)
        landmarks = _landmarks(self.path.parent / "vertex_indices.json")
        self.albedo = self._albedo(remap, landmarks)

    @classmethod
    def default(cls, path: str | os.PathLike[str] | None = None) -> FaceMesh:
        """A shared instance per resolved mesh file (loading takes about a second)."""
        return _cached_mesh(str(resolve_mesh_path(path)))

    @property
    def num_vertices(self) -> int:
        return len(self.neutral)

    def vertices(self, weights: np.ndarray | list[float]) -> np.ndarray:
        """[V,3] deformed vertices for 52 ARKit weights in canonical order (values are not clipped)."""
        w = np.asarray(weights, np.float32).reshape(-1)
        if w.shape != (NUM_BLENDSHAPES,):
            raise ValueError(f"expected {NUM_BLENDSHAPES} ARKit weights, got {w.size}")
        return self.neutral + (w @ self._deltas_flat).reshape(-1, 3)

    # -- colours -------------------------------------------------------------------------------
    def _albedo(self, remap: np.ndarray, landmarks: np.ndarray | None) -> np.ndarray:
        v, region = self.neutral, self.region
        albedo = np.zeros((len(v), 3), np.float32)
        for part, rgb in ALBEDO.items():
            albedo[region == part] = rgb
        # Mouth interior darkens with depth so the cavity reads as a cavity.
        inner = np.isin(region, (MOUTH_SOCKET, GUMS, TEETH))
        depth_shade = np.clip((v[:, 2] - 3.0) / (10.5 - 3.0), 0.0, 1.0)
        albedo[inner] *= (0.25 + 0.75 * depth_shade[inner])[:, None]
        albedo[region == TEETH] *= (0.55 + 0.45 * np.clip((v[region == TEETH, 2] - 8.0) / 2.5, 0, 1))[:, None]
        self._paint_irises(albedo)
        self._paint_lid_lines(albedo)
        if landmarks is not None:
            lm = remap[landmarks]
            if (lm >= 0).all():
                self._paint_lips_and_brows(albedo, self.neutral[lm])
        return albedo / 255.0

    def _paint_irises(self, albedo: np.ndarray) -> None:
        eyes = self.region == EYEBALLS
        for side in (-1, 1):
            sel = eyes & (np.sign(self.neutral[:, 0]) == side)
            if not sel.any():
                continue
            pts = self.neutral[sel]
            centre = pts.mean(axis=0)
            centre[2] = pts[:, 2].max() - (pts[:, 1].max() - pts[:, 1].min()) / 2  # sphere centre behind the cornea
            d = pts - centre
            cos = d[:, 2] / np.maximum(np.linalg.norm(d, axis=1), 1e-6)
            col = albedo[sel]
            col[cos > np.cos(np.radians(33))] = IRIS
            col[cos > np.cos(np.radians(14))] = PUPIL
            albedo[sel] = col

    def _paint_lid_lines(self, albedo: np.ndarray) -> None:
        """Darken the lid margins (skin touching the eyeball) in place of the dropped eyelash cards."""
        v = self.neutral
        lid = np.zeros(len(v), np.float32)
        for side in (-1, 1):
            eye = v[(self.region == EYEBALLS) & (np.sign(v[:, 0]) == side)]
            if len(eye) < 4:
                continue
            # Least-squares sphere through the eyeball: |p|^2 = 2 c.p + (r^2 - |c|^2).
            sol = np.linalg.lstsq(np.c_[2 * eye, np.ones(len(eye))], (eye**2).sum(axis=1), rcond=None)[0]
            centre = sol[:3]
            radius = np.sqrt(max(sol[3] + centre @ centre, 1e-6))
            gap = np.linalg.norm(v - centre, axis=1) - radius
            margin = np.clip((LID_WIDTH - gap) / LID_WIDTH, 0, 1) * (v[:, 2] > centre[2])
            lid = np.maximum(lid, margin * np.where(v[:, 1] > centre[1], 1.0, 0.4))   # upper lid darker
        lid = self._smooth(lid * (self.region == FACE), 1) * 0.85
        albedo[:] = albedo * (1 - lid[:, None]) + np.asarray(LID, np.float32) * lid[:, None]

    def _paint_lips_and_brows(self, albedo: np.ndarray, lm: np.ndarray) -> None:
        v = self.neutral
        face = (self.region == FACE) & (v[:, 2] > 8.0)
        lip = _inside_polygon(v[:, :2], lm[48:60, :2]).astype(np.float32) * face
        lip = self._smooth(lip, 3)
        brow = np.zeros(len(v), np.float32)
        for start, stop in ((17, 22), (22, 27)):
            line = lm[start:stop]
            dist = _polyline_distance(v[:, :2], line[:, :2])
            brow = np.maximum(brow, np.clip((0.42 - dist) / 0.2, 0, 1))
        brow = self._smooth(brow * (face & (v[:, 2] > 6.0)), 2) * 0.85
        for weight, rgb in ((lip, LIPS), (brow, BROWS)):
            w = weight[:, None]
            albedo[:] = albedo * (1 - w) + np.asarray(rgb, np.float32) * w

    def _smooth(self, values: np.ndarray, iterations: int) -> np.ndarray:
        """Average a per-vertex scalar with its mesh neighbours (soft edges for painted regions)."""
        t = self.triangles
        src = np.concatenate([t[:, 0], t[:, 1], t[:, 2], t[:, 1], t[:, 2], t[:, 0]])
        dst = np.concatenate([t[:, 1], t[:, 2], t[:, 0], t[:, 0], t[:, 1], t[:, 2]])
        count = np.bincount(dst, minlength=len(values)) + 1.0
        for _ in range(iterations):
            values = (np.bincount(dst, weights=values[src], minlength=len(values)) + values) / count
        return values.astype(np.float32)


@lru_cache(maxsize=2)
def _cached_mesh(path: str) -> FaceMesh:
    return FaceMesh(path)


def _landmarks(path: Path) -> np.ndarray | None:
    """The 68 dlib-style landmark vertex ids from vertex_indices.json next to the npz, if present."""
    try:
        ids = json.loads(path.read_text(encoding="utf-8"))["idx_to_landmark_verts"]
    except (OSError, ValueError, KeyError):
        return None
    return np.asarray(ids, np.int64) if len(ids) == 68 else None


def _inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd rule point-in-polygon test, vectorised over points."""
    x, y = points[:, 0:1], points[:, 1:2]
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return (crosses & (x < xc)).sum(axis=1) % 2 == 1


def _polyline_distance(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    best = np.full(len(points), np.inf, np.float32)
    for a, b in itertools.pairwise(line):
        ab = b - a
        t = np.clip(((points - a) @ ab) / max(float(ab @ ab), 1e-9), 0, 1)
        best = np.minimum(best, np.linalg.norm(points - (a + t[:, None] * ab), axis=1))
    return best
