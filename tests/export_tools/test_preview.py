"""Previews: a short video with audio through ffmpeg, the PNG strip fallback, clear errors."""

import shutil
import subprocess

import numpy as np
import pytest

from emobridge.animation import Animation
from emobridge.render import resolve_mesh_path
from emobridge_export import ExportError
from emobridge_export.preview import preview

from .conftest import EXAMPLES


@pytest.fixture(scope="module")
def mesh():
    try:
        return resolve_mesh_path()
    except FileNotFoundError:
        pytest.skip("the ICT-FaceKit head (../shared/data/mesh/ict_facekit) is not available")


def _clip() -> Animation:
    frames = np.zeros((30, 52), np.float32)
    frames[:, 24] = np.linspace(0, 1, 30)
    return Animation(fps=60.0, frames=frames)


@pytest.mark.shared
def test_video_with_audio(mesh, tmp_path):
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed")
    out = preview(_clip(), tmp_path / "p.mp4", audio=EXAMPLES / "hello.wav", fps=10, size=64, mesh=mesh, progress=False)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width", "-of", "csv=p=0", str(out)],
                           capture_output=True, text=True, check=True).stdout
    assert "video,64" in probe and "audio" in probe


@pytest.mark.shared
def test_png_strip(mesh, tmp_path):
    out = preview(_clip(), tmp_path / "p.png", size=64, mesh=mesh)
    assert out.suffix == ".png" and out.stat().st_size > 0


def test_bad_requests(tmp_path):
    with pytest.raises(ExportError, match="audio file not found"):
        preview(_clip(), tmp_path / "p.mp4", audio=tmp_path / "none.wav")
    with pytest.raises(ExportError, match="fps must be positive"):
        preview(_clip(), tmp_path / "p.mp4", fps=0)
    with pytest.raises(ExportError, match="ICT-FaceKit head"):
        preview(_clip(), tmp_path / "p.mp4", mesh=tmp_path / "missing.npz")
