"""Voice lines for the batch tests: slices of the bundled example clip (no TTS needed) and a manifest maker."""

import csv
import shutil
from pathlib import Path

import pytest
import soundfile as sf

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> Path:
    """A folder with clip0..clip3.wav (1-1.5 s slices of examples/hello.wav) and hello.wav + hello.txt."""
    folder = tmp_path_factory.mktemp("clips")
    audio, rate = sf.read(EXAMPLES / "hello.wav", dtype="float32")
    for i in range(4):
        start = int(i * 0.7 * rate)
        sf.write(folder / f"clip{i}.wav", audio[start:start + int((1.0 + 0.15 * i) * rate)], rate)
    shutil.copy(EXAMPLES / "hello.wav", folder)
    shutil.copy(EXAMPLES / "hello.txt", folder)
    return folder


@pytest.fixture(scope="session")
def make_manifest(clips):
    """``make_manifest(name, n, transcripts=())`` -> a CSV manifest in the clips folder: n lines line000... (varied clip,
    emotion, fps, seed); those numbered in ``transcripts`` are the full example clip with its transcript file."""

    def make(name: str, n: int, transcripts: tuple[int, ...] = ()) -> Path:
        path = clips / name
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "audio", "text_file", "emotion", "fps", "seed"])
            for i in range(n):
                audio, text = ("hello.wav", "hello.txt") if i in transcripts else (f"clip{i % 4}.wav", "")
                writer.writerow([f"line{i:03d}", audio, text, ["happy=0.6", "angry=0.4,sad=0.2", ""][i % 3],
                                 [60, 30][i % 2], i])
        return path

    return make


FORMATS = ("json", "unity-anim", "gltf", "livelink-csv")


@pytest.fixture(scope="session")
def reference(tmp_path_factory, make_manifest):
    """(manifest, output folder, ids) of an uninterrupted local run of 14 lines (2 with transcripts) in the four
    formats: the bytes every other run of this manifest must reproduce."""
    from emobridge.batch import run_batch

    manifest = make_manifest("ref.csv", 14, transcripts=(3, 9))
    out = tmp_path_factory.mktemp("reference")
    summary = run_batch(manifest, out, FORMATS, workers=2, gltf_mesh="placeholder", progress=False)
    assert (summary.ok, summary.failed, summary.skipped) == (14, 0, 0)
    return manifest, out, [f"line{i:03d}" for i in range(14)]


@pytest.fixture(scope="session")
def outputs_of():
    """``outputs_of(folder)`` -> {relative path: bytes} of every asset a batch wrote there."""

    def read(out: Path) -> dict[str, bytes]:
        return {p.relative_to(out).as_posix(): p.read_bytes() for fmt in FORMATS if (out / fmt).is_dir()
                for p in sorted((out / fmt).iterdir())}

    return read
