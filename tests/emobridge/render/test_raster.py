"""The numpy z-buffer rasteriser (synthetic meshes) and the ICT-FaceKit face renderer (needs ../shared)."""

import numpy as np
import pytest

from emobridge.render.raster import interpolate, rasterize, render_face, rotation_matrix, vertex_normals
from emobridge.rig import ARKIT_INDEX, NUM_BLENDSHAPES

# Two overlapping counter-clockwise (as seen on screen) triangles in a 32x32 pixel space, y down.
NEAR_Z, FAR_Z = 5.0, 1.0


def _square(x0, y0, x1, y1, z):
    # corners listed counter-clockwise as seen on screen (y grows downwards)
    return np.array([[x0, y0, z], [x0, y1, z], [x1, y1, z], [x1, y0, z]], float)


def _two_quads(near_first: bool):
    far = _square(2, 2, 22, 22, FAR_Z)
    near = _square(10, 10, 30, 30, NEAR_Z)
    quads = [near, far] if near_first else [far, near]
    vertices = np.concatenate(quads)
    faces = np.array([[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]])
    near_tris = {0, 1} if near_first else {2, 3}
    return vertices, faces, near_tris


@pytest.mark.parametrize("near_first", [True, False])
def test_nearer_triangle_wins_whatever_the_order(near_first):
    vertices, faces, near_tris = _two_quads(near_first)
    r = rasterize(vertices, faces, 32)
    assert r.triangle.shape == (32, 32) and r.bary.shape == (32, 32, 3)
    overlap = r.triangle[12:20, 12:20]                       # inside both quads
    assert set(np.unique(overlap)) <= near_tris
    assert np.allclose(r.depth[12:20, 12:20], NEAR_Z)
    assert set(np.unique(r.triangle[3:9, 3:9])) <= ({0, 1, 2, 3} - near_tris)   # only the far quad there
    assert np.allclose(r.depth[3:9, 3:9], FAR_Z)
    assert (r.triangle[0:2, :] == -1).all() and np.isneginf(r.depth[0, 0])      # background
    drawn = r.mask
    assert np.allclose(r.bary[drawn].sum(axis=1), 1, atol=1e-5) and (r.bary[drawn] >= 0).all()
    # 20x20 far square plus the 20x20 near square minus their 12x12 overlap, on pixel centres
    assert drawn.sum() == 400 + 400 - 144


def test_depth_interpolates_across_a_slanted_triangle_and_buffers_agree():
    vertices = np.array([[0, 0, 0.0], [0, 40, 4.0], [40, 0, 8.0]])
    # z = 0.2 x + 0.1 y: check the z-buffer depth at a few pixel centres
    r = rasterize(vertices, np.array([[0, 1, 2]]), 40)
    for x, y in [(3, 3), (10, 20), (25, 5)]:
        assert r.triangle[y, x] == 0
        assert r.depth[y, x] == pytest.approx(0.2 * (x + 0.5) + 0.1 * (y + 0.5), abs=1e-4)
    assert r.triangle[35, 35] == -1                          # beyond the hypotenuse
    small = rasterize(vertices, np.array([[0, 1, 2]]), 40, max_candidates=7)   # many tiny batches
    assert np.array_equal(small.triangle, r.triangle) and np.allclose(small.depth, r.depth)


def test_backface_culling_and_clipping():
    ccw = np.array([[4, 4, 0.0], [4, 20, 0.0], [20, 20, 0.0]])   # counter-clockwise on screen
    cw = ccw[[0, 2, 1]]
    assert rasterize(ccw, np.array([[0, 1, 2]]), 24, cull_backfaces=True).mask.any()
    assert not rasterize(cw, np.array([[0, 1, 2]]), 24, cull_backfaces=True).mask.any()
    assert rasterize(cw, np.array([[0, 1, 2]]), 24).mask.any()
    # a triangle far bigger than the image is clipped, not rejected; width != height works
    big = np.array([[-100, -100, 0.0], [-100, 300, 0.0], [300, -100, 0.0]])
    r = rasterize(big, np.array([[0, 1, 2]]), 16, 8)
    assert r.triangle.shape == (8, 16) and r.mask.all()
    # nothing to draw: off-screen, degenerate or no triangles at all
    assert not rasterize(ccw + [100, 0, 0], np.array([[0, 1, 2]]), 24).mask.any()
    assert not rasterize(np.zeros((3, 3)), np.array([[0, 1, 2]]), 24).mask.any()
    assert not rasterize(ccw, np.zeros((0, 3), int), 24).mask.any()


def test_interpolate_vertex_colours_and_flat_normals():
    vertices, faces, _ = _two_quads(True)
    values = np.zeros((len(vertices), 3))
    values[:4] = [1, 0, 0]                                   # the near quad is red, the far one stays black
    r = rasterize(vertices, faces, 32)
    image = interpolate(r, faces, values, background=0.5)
    assert np.allclose(image[15, 15], [1, 0, 0]) and np.allclose(image[5, 5], 0) and np.allclose(image[0, 0], 0.5)
    # a flat quad facing the viewer in a y-up world: normals +z (counter-clockwise outward)
    flat = np.array([[0, 0, 0.0], [1, 0, 0], [1, 1, 0], [0, 1, 0]])
    assert np.allclose(vertex_normals(flat, np.array([[0, 1, 2], [0, 2, 3]])), [0, 0, 1])


def test_rotation_conventions():
    front = np.array([0, 0, 1.0])
    assert np.allclose(rotation_matrix(0, 0, 0), np.eye(3))
    r = rotation_matrix(0.3, -0.2, 0.1)
    assert np.allclose(r @ r.T, np.eye(3)) and np.linalg.det(r) == pytest.approx(1)
    assert (rotation_matrix(0.5, 0, 0) @ front)[0] > 0.4          # yaw turns the face towards +x
    assert (rotation_matrix(0, 0.5, 0) @ front)[1] < -0.4         # pitch tips the chin down
    assert (rotation_matrix(0, 0, 0.5) @ np.array([0, 1.0, 0]))[0] < -0.4


# -- the real head -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mesh(shared_dir):
    from emobridge.render import FaceMesh

    path = shared_dir / "data/mesh/ict_facekit/ict_facekit_expressions.npz"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return FaceMesh.default(path)


def _weights(**pose):
    w = np.zeros(NUM_BLENDSHAPES, np.float32)
    for name, value in pose.items():
        w[ARKIT_INDEX[name]] = value
    return w


@pytest.fixture(scope="module")
def neutral(mesh):
    return np.asarray(render_face(None, mesh, 128, supersample=1), np.float32)


def test_neutral_face_is_framed_front_on(mesh, neutral):
    assert neutral.shape == (128, 128, 3)
    background = np.all(np.abs(neutral - [236, 238, 242]) < 1, axis=2)
    assert 0.1 < background.mean() < 0.45                    # the face fills most of the frame
    assert not background[40:100, 30:98].any()               # eyes to chin: all face
    # left-right symmetric head, lit from the upper left: compare silhouettes, not shading
    assert np.mean(background == background[:, ::-1]) > 0.97
    # skin is warm: red above blue in the middle of the cheek
    cheek = neutral[75, 40]
    assert cheek[0] > cheek[2] + 20


def test_jaw_open_changes_the_mouth_not_the_eyes(mesh, neutral):
    opened = np.asarray(render_face(_weights(jawOpen=1.0), mesh, 128, supersample=1), np.float32)
    diff = np.abs(opened - neutral).sum(axis=2)
    mouth, eyes = diff[80:112, 44:84], diff[36:52, 24:104]
    assert (mouth > 60).mean() > 0.3
    assert (eyes > 30).mean() < 0.02
    # the open mouth is darker than the closed lips
    assert opened[88:100, 54:74].mean() < neutral[88:100, 54:74].mean() - 20


def test_blink_and_head_rotation(mesh, neutral):
    blink = np.asarray(render_face(_weights(eyeBlinkLeft=1.0, eyeBlinkRight=1.0), mesh, 128, supersample=1), float)
    assert np.abs(blink - neutral).sum(axis=2)[36:56].max() > 100                # the eyes change
    assert np.abs(blink - neutral).sum(axis=2)[80:].max() < 30                   # the mouth does not
    turned = np.asarray(render_face(None, mesh, 128, head_rotation=(0.5, 0.0, 0.0), supersample=1), float)
    assert np.abs(turned - neutral).mean() > 10
    image = render_face(None, mesh, 96)                       # default 2x supersampling, then reduced
    assert image.size == (96, 96) and image.mode == "RGB"
