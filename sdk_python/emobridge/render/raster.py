"""A vectorised numpy z-buffer rasteriser and the front-view face renderer built on it.

``rasterize`` resolves visibility only: every candidate pixel of every triangle (pixel centres inside the
triangle's bounding box, generated in one flat batch with ``np.repeat``) is tested with barycentric edge
functions, and the nearest one per pixel wins through a single ``np.minimum.at`` over packed
``(depth, triangle)`` integer keys. Barycentrics and depth are then recomputed for the winning triangle
only (a visibility buffer), so shading costs one evaluation per pixel, not per candidate.

``render_face`` deforms the ICT-FaceKit head with 52 ARKit weights, lights it per vertex (Lambert + ambient
+ a little specular, Gouraud-interpolated), projects it orthographically from the front, frames the face
and returns a ``PIL.Image``.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
from PIL import Image

from emobridge.render.mesh import FACE, FaceMesh
from emobridge.rig import NUM_BLENDSHAPES

BACKGROUND = (236, 238, 242)
LIGHT = (-0.35, 0.45, 1.0)   # towards the key light: upper left of the viewer, in front of the face
AMBIENT = 0.34
DIFFUSE = 0.72
SPECULAR = 0.10
SHININESS = 24.0

_DEPTH_LEVELS = (1 << 24) - 1   # float32 depth carries about 24 bits
_EMPTY = np.iinfo(np.int64).max


class Raster(NamedTuple):
    """Per-pixel visibility: ``triangle`` [H,W] int32 (-1 where nothing is drawn), ``bary`` [H,W,3] float32
    barycentric weights of that triangle's three corners, ``depth`` [H,W] float32 (-inf where empty)."""

    triangle: np.ndarray
    bary: np.ndarray
    depth: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        return self.triangle >= 0


def _edge_coefficients(x: np.ndarray, y: np.ndarray, area2: np.ndarray) -> np.ndarray:
    """[F,9] per-triangle affine maps ``b_i = A_i x + B_i y + C_i`` of the 3 barycentrics (A0..2, B0..2, C0..2)."""
    x0, x1, x2 = x[:, 0], x[:, 1], x[:, 2]
    y0, y1, y2 = y[:, 0], y[:, 1], y[:, 2]
    coef = np.stack(
        [y1 - y2, y2 - y0, y0 - y1, x2 - x1, x0 - x2, x1 - x0, x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, x0 * y1 - x1 * y0],
        axis=1,
    )
    return coef / area2[:, None]


def rasterize(
    vertices: np.ndarray,
    triangles: np.ndarray,
    width: int,
    height: int | None = None,
    *,
    cull_backfaces: bool | np.ndarray = False,
    max_candidates: int = 1 << 21,
) -> Raster:
    """Z-buffer ``triangles`` [F,3] over ``vertices`` [V,3] given in pixel space.

    Pixel space: x to the right and y downwards in pixels (pixel ``(i, j)`` covers ``[i, i+1) x [j, j+1)``
    and is sampled at its centre), z towards the viewer, so the largest z wins. With ``cull_backfaces``
    triangles whose corners run clockwise as seen on screen (facing away, for the usual counter-clockwise
    outward winding) are dropped first; a boolean [F] array culls only the triangles it marks. Candidate
    pixels are processed in batches of at most ``max_candidates`` to bound memory (about 60 bytes each).
    """
    height = width if height is None else height
    v = np.asarray(vertices, np.float64)
    t = np.asarray(triangles, np.int64).reshape(-1, 3)
    if v.ndim != 2 or v.shape[1] != 3:
        raise ValueError(f"vertices must be [V,3], got {v.shape}")
    triangle_map = np.full((height, width), -1, np.int32)
    bary_map = np.zeros((height, width, 3), np.float32)
    depth_map = np.full((height, width), -np.inf, np.float32)
    if len(t) == 0 or width <= 0 or height <= 0:
        return Raster(triangle_map, bary_map, depth_map)

    p = v[t]                                                     # [F,3 corners,3]
    x, y = p[..., 0], p[..., 1]
    area2 = (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (x[:, 2] - x[:, 0]) * (y[:, 1] - y[:, 0])
    lo_x = np.maximum(np.ceil(x.min(axis=1) - 0.5), 0)           # pixel centres inside the bounding box
    lo_y = np.maximum(np.ceil(y.min(axis=1) - 0.5), 0)
    hi_x = np.minimum(np.floor(x.max(axis=1) - 0.5), width - 1)
    hi_y = np.minimum(np.floor(y.max(axis=1) - 0.5), height - 1)
    with np.errstate(invalid="ignore"):
        keep = (np.abs(area2) > 1e-12) & (hi_x >= lo_x) & (hi_y >= lo_y) & np.isfinite(p).all(axis=(1, 2))
    if cull_backfaces is not False:
        keep &= (area2 < 0) | ~np.broadcast_to(np.asarray(cull_backfaces, bool), keep.shape)
    ids = np.flatnonzero(keep)
    if len(ids) == 0:
        return Raster(triangle_map, bary_map, depth_map)
    x, y, z, area2 = x[ids], y[ids], p[ids, :, 2], area2[ids]
    lo_x, lo_y = lo_x[ids].astype(np.int64), lo_y[ids].astype(np.int64)
    span = hi_x[ids].astype(np.int64) - lo_x + 1
    counts = span * (hi_y[ids].astype(np.int64) - lo_y + 1)

    # Candidate tests run in float32 in box-local coordinates (origin: the box's first pixel centre), so the
    # numbers stay small; depth becomes an affine map too, scaled so that 0 is the nearest point.
    zmin, zmax = float(z.min()), float(z.max())
    depth_scale = _DEPTH_LEVELS / max(zmax - zmin, 1e-12)
    local = _edge_coefficients(x - (lo_x + 0.5)[:, None], y - (lo_y + 0.5)[:, None], area2)
    zn = (zmax - z) * depth_scale
    local_z = np.stack([(local[:, 3 * j : 3 * j + 3] * zn).sum(axis=1) for j in range(3)], axis=1)
    cols = np.asfortranarray(np.concatenate([local, local_z], axis=1), dtype=np.float32)  # contiguous columns
    origin = lo_y * width + lo_x

    zbuf = np.full(width * height, _EMPTY, np.int64)
    ends = np.cumsum(counts)
    span32 = span.astype(np.int32)
    start = 0
    while start < len(ids):
        base = int(ends[start - 1]) if start else 0
        stop = max(int(np.searchsorted(ends, base + max_candidates, side="right")), start + 1)
        n = counts[start:stop]
        total = int(ends[stop - 1]) - base
        # Candidate k of triangle i sits at (k % span, k // span) in i's box; triangles come in runs, so
        # per-triangle values are spread with np.repeat (a memcpy) instead of gathered.
        tri = np.repeat(np.arange(start, stop, dtype=np.int32), n)
        k = np.arange(total, dtype=np.int32)
        k -= np.repeat((ends[start:stop] - n - base).astype(np.int32), n)
        w = np.repeat(span32[start:stop], n)
        dy = k // w
        dx = k - dy * w
        fx, fy = dx.astype(np.float32), dy.astype(np.float32)
        inside = np.ones(total, bool)
        for i in range(3):
            e = np.repeat(cols[start:stop, i], n)
            e *= fx
            e += np.repeat(cols[start:stop, 6 + i], n)
            f = np.repeat(cols[start:stop, 3 + i], n)
            f *= fy
            e += f
            inside &= e >= -1e-6
        hit = np.flatnonzero(inside)
        tri, fx, fy = tri[hit], fx[hit], fy[hit]
        depth = cols[tri, 9] * fx + cols[tri, 10] * fy + cols[tri, 11]
        key = np.clip(depth, 0, _DEPTH_LEVELS).astype(np.int64) << 32
        key |= tri
        pixel = origin[tri] + dy[hit].astype(np.int64) * width + dx[hit]
        np.minimum.at(zbuf, pixel, key)
        start = stop

    # Resolve: barycentrics and depth of the winning triangle only, in float64 screen coordinates.
    hit = np.flatnonzero(zbuf != _EMPTY)
    tri = zbuf[hit] & 0xFFFFFFFF
    cy, cx = np.divmod(hit, width)
    cx, cy = cx + 0.5, cy + 0.5
    coef = np.asfortranarray(_edge_coefficients(x, y, area2))
    bary = [np.maximum(coef[tri, i] * cx + coef[tri, 3 + i] * cy + coef[tri, 6 + i], 0.0) for i in range(3)]
    norm = 1.0 / np.maximum(bary[0] + bary[1] + bary[2], 1e-12)
    triangle_map.reshape(-1)[hit] = ids[tri]
    out = bary_map.reshape(-1, 3)
    depth = np.zeros(len(hit))
    for i in range(3):
        bary[i] *= norm
        out[hit, i] = bary[i]
        depth += bary[i] * z[tri, i]
    depth_map.reshape(-1)[hit] = depth
    return Raster(triangle_map, bary_map, depth_map)


def interpolate(raster: Raster, triangles: np.ndarray, values: np.ndarray, background=0.0) -> np.ndarray:
    """Barycentric interpolation of per-vertex ``values`` [V] or [V,C] over the drawn pixels -> [H,W(,C)]."""
    values = np.asarray(values)
    flat = values.reshape(len(values), -1)
    out = np.empty((raster.triangle.size, flat.shape[1]), np.float32)
    out[...] = background
    hit = np.flatnonzero(raster.triangle.reshape(-1) >= 0)
    tri = raster.triangle.reshape(-1)[hit]
    tris = np.asarray(triangles)
    corners = [tris[:, k][tri] for k in range(3)]                       # 1-D gathers beat [P,3] row gathers
    bary = [raster.bary.reshape(-1, 3)[hit, k] for k in range(3)]
    for c in range(flat.shape[1]):
        column = np.ascontiguousarray(flat[:, c], dtype=np.float32)
        out[hit, c] = bary[0] * column[corners[0]] + bary[1] * column[corners[1]] + bary[2] * column[corners[2]]
    return out.reshape(raster.triangle.shape + values.shape[1:])


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals [V,3] (counter-clockwise winding = outward)."""
    p = vertices[triangles]
    face = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    n = np.zeros_like(vertices, dtype=np.float64)
    flat = triangles.reshape(-1)
    for k in range(3):
        n[:, k] = np.bincount(flat, weights=np.repeat(face[:, k], 3), minlength=len(vertices))
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Right-handed rotation, y up and z out of the face: ``Ry(yaw) @ Rx(pitch) @ Rz(roll)``.

    Positive yaw turns the face towards its own left (the viewer's right), positive pitch tips the chin
    down, positive roll tilts the top of the head towards the face's right (the viewer's left).
    """
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return ry @ rx @ rz


def face_frame(mesh: FaceMesh) -> tuple[np.ndarray, float]:
    """Centre (x, y) in cm and half-extent in cm of the square that frames the face of the neutral head.

    From the front part of the face region (ears, sides and neck dropped by depth): the square runs from
    a little below the chin (room for ``jawOpen`` = 1) to the upper forehead, centred left-right.
    """
    cached = getattr(mesh, "_render_frame", None)
    if cached is not None:
        return cached
    face = mesh.neutral[mesh.region == FACE]
    front = face[face[:, 2] > np.percentile(face[:, 2], 35)]
    bottom, top = float(front[:, 1].min()) - 2.8, float(front[:, 1].max()) - 2.6   # chin .. upper forehead
    centre = np.array([float(front[:, 0].min() + front[:, 0].max()) / 2, (bottom + top) / 2])
    half = (top - bottom) / 2
    mesh._render_frame = (centre, half)
    return centre, half


def _as_mesh(mesh: FaceMesh | str | os.PathLike[str] | None) -> FaceMesh:
    return mesh if isinstance(mesh, FaceMesh) else FaceMesh.default(mesh)


def render_face(
    weights: np.ndarray | list[float] | None = None,
    mesh: FaceMesh | str | os.PathLike[str] | None = None,
    size: int = 384,
    head_rotation: np.ndarray | tuple[float, float, float] | None = None,
    *,
    background: tuple[int, int, int] = BACKGROUND,
    supersample: int = 2,
) -> Image.Image:
    """Front view of the ICT-FaceKit head with 52 ARKit ``weights`` (canonical order; None = neutral).

    ``mesh`` is a ``FaceMesh`` or a path to the npz (None: the default lookup, see ``resolve_mesh_path``).
    ``head_rotation`` is ``(yaw, pitch, roll)`` in radians as in ``Animation.head_rotation``, about a pivot
    in the neck. The square ``size`` x ``size`` image frames the neutral face; ``supersample`` renders
    that many times larger and box-filters down (anti-aliasing; 1 is fastest).
    """
    mesh = _as_mesh(mesh)
    w = np.zeros(NUM_BLENDSHAPES, np.float32) if weights is None else np.asarray(weights, np.float32)
    verts = mesh.vertices(w).astype(np.float64)
    if head_rotation is not None:
        rot = rotation_matrix(*np.asarray(head_rotation, np.float64).reshape(3))
        pivot = np.array([0.0, -9.0, -1.0])                       # about the top of the neck, in cm
        verts = (verts - pivot) @ rot.T + pivot
    normals = vertex_normals(verts, mesh.triangles)

    light = np.asarray(LIGHT, np.float64)
    light /= np.linalg.norm(light)
    half_vector = light + np.array([0.0, 0.0, 1.0])
    half_vector /= np.linalg.norm(half_vector)
    lambert = np.clip(normals @ light, 0.0, 1.0)
    spec = np.clip(normals @ half_vector, 0.0, 1.0) ** SHININESS
    colour = mesh.albedo * (AMBIENT + DIFFUSE * lambert)[:, None] + SPECULAR * spec[:, None]

    ss = max(int(supersample), 1)
    px = int(size) * ss
    centre, half = face_frame(mesh)
    scale = px / (2 * half)
    screen = np.empty_like(verts)
    screen[:, 0] = (verts[:, 0] - centre[0]) * scale + px / 2
    screen[:, 1] = (centre[1] - verts[:, 1]) * scale + px / 2
    screen[:, 2] = verts[:, 2]
    raster = rasterize(screen, mesh.triangles, px, px, cull_backfaces=True)   # the kept parts are closed enough

    bg = np.asarray(background, np.float32) / 255.0
    image = interpolate(raster, mesh.triangles, colour, background=bg)
    pixels = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    out = Image.fromarray(pixels, "RGB")
    return out.reduce(ss) if ss > 1 else out
