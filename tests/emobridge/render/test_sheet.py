"""Contact sheets: frame sampling, captions and grid layout (rendering itself needs ../shared)."""

import numpy as np
import pytest
from PIL import Image

from emobridge.animation import Animation
from emobridge.render.sheet import (
    contact_sheet,
    frame_weights,
    grid,
    pose_sheet,
    pose_weights,
    short_name,
    weights_summary,
)
from emobridge.rig import ARKIT_INDEX, NUM_BLENDSHAPES


def _anim(frames=11, fps=10.0, emotion=True, head=True):
    w = np.zeros((frames, NUM_BLENDSHAPES), np.float32)
    w[:, ARKIT_INDEX["jawOpen"]] = np.linspace(0, 1, frames)
    w[:, ARKIT_INDEX["mouthSmileLeft"]] = w[:, ARKIT_INDEX["mouthSmileRight"]] = 0.4
    emo = np.zeros((frames, 7), np.float32)
    emo[:, 1] = 0.6                                           # sad
    rot = np.zeros((frames, 3), np.float32)
    rot[:, 0] = np.linspace(-0.2, 0.2, frames)
    return Animation(fps, w, rot if head else None, emo if emotion else None, {"audio": "line.wav"})


def test_frame_weights_by_index_and_by_time():
    anim = _anim()
    jaw = ARKIT_INDEX["jawOpen"]
    w = frame_weights(anim, [0, 5, -1])
    assert w.shape == (3, NUM_BLENDSHAPES) and w.dtype == np.float32
    assert w[:, jaw] == pytest.approx([0.0, 0.5, 1.0])
    t = frame_weights(anim, [0.0, 0.25, 1.0, 1.1])            # seconds; frame i at i / fps
    assert t[:, jaw] == pytest.approx([0.0, 0.25, 1.0, 1.0])  # interpolated; the last frame holds to the end
    assert frame_weights(anim, np.array([3]))[0, jaw] == pytest.approx(0.3)
    assert frame_weights(anim, 0.5)[0, jaw] == pytest.approx(0.5)


@pytest.mark.parametrize("bad", [[11], [-12], [-0.1], [1.5], [float("nan")], ["a"]])
def test_frame_weights_rejects_frames_outside_the_animation(bad):
    with pytest.raises(ValueError):
        frame_weights(_anim(), bad)


def test_labels_are_short_and_pair_symmetric_channels():
    assert short_name("mouthSmileLeft") == "mouthSmileL" and short_name("jawOpen") == "jawOpen"
    w = pose_weights({"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0, "jawOpen": 0.3, "eyeBlinkLeft": 0.2})
    assert weights_summary(w) == "mouthSmile L+R 1  jawOpen 0.3"
    assert weights_summary(w, k=5).endswith("eyeBlinkL 0.2")
    assert weights_summary(np.zeros(NUM_BLENDSHAPES)) == ""
    with pytest.raises(ValueError):
        pose_weights({"smile": 1.0})
    with pytest.raises(ValueError):
        pose_weights([0.5] * 3)


def test_grid_dimensions():
    tiles = [Image.new("RGB", (40, 40), (200, 10, 10)) for _ in range(5)]
    plain = grid(tiles)
    assert plain.size[0] > 3 * 40 and plain.size[1] > 2 * 40     # 5 tiles -> 3 columns, 2 rows
    captioned = grid(tiles, [["a", "b"]] * 5, columns=5, title="title")
    assert captioned.size[0] > 5 * 40 and 40 < captioned.size[1] < 2 * 40 + 80
    assert grid(tiles[:1]).size[0] < 2 * 40
    with pytest.raises(ValueError):
        grid([])


# -- rendered sheets ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mesh(shared_dir):
    from emobridge.render import FaceMesh

    path = shared_dir / "data/mesh/ict_facekit/ict_facekit_expressions.npz"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return FaceMesh.default(path)


def test_contact_sheet_layout(mesh):
    anim = _anim()
    sheet = contact_sheet(anim, 4, size=48, mesh=mesh, supersample=1)
    assert sheet.mode == "RGB"
    w, h = sheet.size
    assert 4 * 48 < w < 4 * 48 + 60                           # 4 tiles in one row plus padding
    assert 48 + 40 < h < 48 + 140                             # title and three caption lines
    unlabelled = contact_sheet(anim, 4, size=48, mesh=mesh, labels=False, title="", supersample=1)
    assert unlabelled.size[0] == w and unlabelled.size[1] < h
    # explicit frames: 2 times -> 2 tiles; more frames than the clip has -> every frame once
    two = contact_sheet(anim, frames=[0.2, 0.9], size=48, mesh=mesh, supersample=1, labels=False, title="")
    assert two.size[0] < w / 2 + 20
    plain = contact_sheet(_anim(frames=3, emotion=False, head=False), 8, size=48, mesh=mesh, columns=1,
                          supersample=1)
    assert plain.size[1] > 3 * 48 and plain.size[0] < 48 + 40
    with pytest.raises(ValueError):
        contact_sheet(anim, frames=[5.0], mesh=mesh)


def test_pose_sheet(mesh):
    sheet = pose_sheet({"neutral": {}, "open": {"jawOpen": 1.0}}, size=48, mesh=mesh, supersample=1,
                       title="poses")
    assert sheet.size[0] > 2 * 48 and sheet.size[1] > 48
    pixels = np.asarray(sheet)
    assert pixels.std() > 10                                  # something was drawn
