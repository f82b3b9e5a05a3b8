"""The `emobridge bake-batch` command: summary, exit codes, user errors as one line."""

import fcntl
import shutil
from pathlib import Path

import pytest

from emobridge.cli import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def manifest(tmp_path) -> Path:
    shutil.copy(EXAMPLES / "hello.wav", tmp_path)
    path = tmp_path / "lines.csv"
    path.write_text("id,audio,emotion,seed\nhi,hello.wav,happy=0.6,3\ngone,missing.wav,,\n")
    return path


def test_bakes_the_good_lines_reports_the_bad_and_exits_1(manifest, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["bake-batch", str(manifest), "-o", str(out), "--formats", "json,visemes", "--workers", "1",
                 "--no-progress"]) == 1
    printed = capsys.readouterr().out
    assert "2 lines in" in printed and "1 baked, 0 already done, 1 failed" in printed
    assert "failed gone: lines.csv line 3, field 'audio': file not found" in printed
    assert (out / "json" / "hi.json").is_file() and (out / "visemes" / "hi.csv").is_file()
    assert (out / "report.csv").read_text().splitlines()[1].startswith("hi,2,ok,model,")
    manifest.write_text(manifest.read_text().replace("gone,missing.wav,,\n", ""))
    assert main(["bake-batch", str(manifest), "-o", str(out), "--formats", "json,visemes", "--no-progress"]) == 0
    assert "0 baked, 1 already done, 0 failed" in capsys.readouterr().out


def test_user_errors_are_one_line(manifest, tmp_path, capsys):
    assert main(["bake-batch", str(manifest), "-o", str(tmp_path / "o"), "--formats", "json,fbx"]) == 2
    assert "unknown format(s) fbx" in capsys.readouterr().err
    assert main(["bake-batch", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o")]) == 2
    assert "manifest not found" in capsys.readouterr().err
    assert main(["bake-batch", str(manifest), "-o", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_a_folder_another_run_is_writing_is_refused(manifest, tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert main(["bake-batch", str(manifest), "-o", str(out), "--no-progress"]) == 2
    assert "another bake-batch run is writing there" in capsys.readouterr().err
