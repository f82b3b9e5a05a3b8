"""Software renderer of the ICT-FaceKit head with ARKit-52 weights applied, for previews and contact sheets.

Owns: locating and loading the ICT-FaceKit blendshape head (``FaceMesh``; the mesh itself lives in
``../shared`` and is never copied into the repo), a small vectorised numpy z-buffer rasteriser
(``render_face``: front view, Gouraud-shaded Lambert + ambient, one PNG-ready ``PIL.Image`` per frame) and
labelled grids of key frames of an ``Animation`` (``contact_sheet``). Pure numpy + Pillow, CPU only; it is a
preview tool for eyeballing animations, not a production renderer.

Mesh lookup order: explicit path, env ``EMOBRIDGE_ICT_MESH``, then
``shared/data/mesh/ict_facekit/ict_facekit_expressions.npz`` next to any ancestor of the current directory
or of this package (i.e. ``<repo>/../shared/...``).
"""

from __future__ import annotations

from emobridge.render.mesh import MESH_ENV, FaceMesh, resolve_mesh_path
from emobridge.render.raster import rasterize, render_face
from emobridge.render.sheet import contact_sheet, frame_weights

__all__ = [
    "MESH_ENV",
    "FaceMesh",
    "contact_sheet",
    "frame_weights",
    "rasterize",
    "render_face",
    "resolve_mesh_path",
]
