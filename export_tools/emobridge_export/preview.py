"""Previews: an animation rendered on the ICT-FaceKit head as a video with its audio, or a PNG strip.

Rendering is the package's CPU software renderer (``emobridge.render``), so a preview is for looking,
not for final frames. Video goes through ffmpeg (raw RGB frames on a pipe, H.264 + AAC); when ffmpeg is
missing, or the output is a .png, a contact sheet of evenly spaced frames is written instead.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emobridge.animation import Animation
from emobridge.render import FaceMesh, contact_sheet, frame_weights, render_face
from emobridge_export import ExportError

log = logging.getLogger(__name__)
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm")


def _mesh(mesh: str | Path | None) -> FaceMesh:
    try:
        return FaceMesh.default(mesh)
    except (FileNotFoundError, ValueError, OSError) as err:
        raise ExportError(f"the preview needs the ICT-FaceKit head: {err}") from None


def preview(animation: Animation, out: str | Path, audio: str | Path | None = None, fps: float = 30.0,
            size: int = 320, mesh: str | Path | None = None, progress: bool = True) -> Path:
    """Render ``animation`` to ``out`` (.mp4/.mov/.mkv/.webm video, or .png strip); returns the path written
    (a .png next to ``out`` when a video was asked for but ffmpeg is missing)."""
    out = Path(out)
    if not fps > 0 or size < 32:
        raise ExportError(f"preview fps must be positive and size at least 32, got fps={fps}, size={size}")
    if audio is not None and not Path(audio).is_file():
        raise ExportError(f"audio file not found: {audio}")
    face = _mesh(mesh)
    ffmpeg = shutil.which("ffmpeg")
    if out.suffix.lower() not in VIDEO_SUFFIXES or ffmpeg is None:
        if out.suffix.lower() in VIDEO_SUFFIXES:
            log.warning("ffmpeg not found; writing a PNG strip instead of %s", out.name)
            out = out.with_suffix(".png")
        contact_sheet(animation, 8, size=size, mesh=face).save(out)
        return out
    times = np.arange(int(np.floor(animation.duration * fps)) or 1) / fps
    weights = frame_weights(animation, times)
    heads = np.zeros((len(times), 3))
    if animation.head_rotation is not None:
        src = np.arange(len(animation.head_rotation)) / animation.fps
        heads = np.stack([np.interp(times, src, animation.head_rotation[:, k]) for k in range(3)], axis=1)
    size += size % 2  # H.264 needs even dimensions
    command = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size}x{size}",
               "-r", f"{fps:g}", "-i", "-"]
    if audio is not None:
        command += ["-i", str(audio), "-c:a", "aac", "-shortest"]
    command += ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(out)]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        bar = tqdm(zip(weights, heads, strict=True), total=len(times), desc="preview", unit="frame", disable=not progress)
        for w, head in bar:
            image = render_face(w, face, size, head, supersample=1)
            proc.stdin.write(np.asarray(image.convert("RGB"), np.uint8).tobytes())
        proc.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg died; its message is read below
    if proc.wait() != 0:
        raise ExportError(f"ffmpeg could not write {out}: {proc.stderr.read().decode(errors='replace').strip()}")
    return out
