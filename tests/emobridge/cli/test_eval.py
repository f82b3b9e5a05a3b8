"""`emobridge eval DIR` end to end on a tiny folder of flite clips (needs flite and the ICT head in ../shared)."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from emobridge.bake import model_available
from emobridge.cli import main

LINES = {"map": "Please pass me the map.", "boat": "My father bought a big boat."}


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    if not shutil.which("flite"):
        pytest.skip("flite is not installed (./setup.sh installs it)")
    folder = tmp_path_factory.mktemp("clips")
    (folder / "audio").mkdir()
    for clip_id, text in LINES.items():
        subprocess.run(["flite", "-t", text, "-o", str(folder / "audio" / f"{clip_id}.wav")], check=True)
    sf.write(folder / "audio" / "hush.wav", np.zeros(16000, np.float32), 16000)   # silent: cannot be aligned
    rows = [*LINES.items(), ("hush", "nothing was said")]
    (folder / "transcripts.tsv").write_text("".join(f"{i}\t{t}\n" for i, t in rows), encoding="utf-8")
    return folder


def _model_flags() -> list[str]:
    return [] if model_available() else ["--no-model"]


def test_missing_or_empty_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("no audio here")
    assert main(["eval", str(tmp_path / "notes.txt")]) == 2
    assert "not a folder" in capsys.readouterr().err


@pytest.mark.shared
def test_no_clips_and_bad_options(shared_dir, tmp_path, capsys):
    assert main(["eval", str(tmp_path)]) == 2
    assert "no clips with transcripts" in capsys.readouterr().err
    assert main(["eval", str(tmp_path), "--emotion", "happy=lots"]) == 2
    assert "not a number" in capsys.readouterr().err
    assert main(["eval", str(tmp_path), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
    assert main(["eval", str(tmp_path), "--with-text", "--recognize"]) == 2
    assert "--recognize is for audio-only bakes" in capsys.readouterr().err


@pytest.mark.shared
def test_eval_prints_the_table_and_writes_json(shared_dir, clip_folder, tmp_path, capsys):
    out = tmp_path / "report" / "eval.json"
    assert main(["eval", str(clip_folder), *_model_flags(), "--fps", "30", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert "2 of 3 clips (" in lines[0] and "s), audio only, emotion neutral, 30 fps" in lines[0]
    assert lines[1].split()[:4] == ["clip", "route", "dur_s", "bilabial"]
    assert any(line.startswith("map ") for line in lines) and any(line.startswith("boat ") for line in lines)
    assert any(line.startswith("mean (2)") for line in lines)
    assert any(line.startswith("target") and ">=0.9" in line and "|x|<=20" in line for line in lines)
    assert "skipped hush: transcript cannot be aligned: the audio is silent" in text
    assert "all means meet the audio only targets" in text or "mean misses the audio only target" in text

    doc = json.loads(out.read_text())
    assert doc["settings"] == {"with_text": False, "emotion": "neutral", "fps": 30.0, "use_model": model_available(),
                               "recognize": False}
    assert [c["clip"] for c in doc["clips"]] == ["map", "boat"] and [s["clip"] for s in doc["skipped"]] == ["hush"]
    for clip in doc["clips"]:
        assert clip["route"] in ("model", "phones")
        assert clip["bilabials"] >= 2 and 0.0 <= clip["bilabial_closure"] <= 1.0
        assert -200 <= clip["lag_ms"] <= 200 and -1 <= clip["corr"] <= 1 and 0 <= clip["hf_ratio"] <= 1
    assert doc["mean"]["bilabial_closure"] == pytest.approx(np.mean([c["bilabial_closure"] for c in doc["clips"]]))
    assert doc["mean"]["lag_ms"] == pytest.approx(np.mean([abs(c["lag_ms"]) for c in doc["clips"]]))
    assert "mean lag_ms is the mean of |lag|" in text
    assert set(doc["misses"]) <= set(doc["targets"])


@pytest.mark.shared
def test_eval_with_text_and_emotion(shared_dir, clip_folder, capsys):
    assert main(["eval", str(clip_folder), "--with-text", "--emotion", "happy=1", "--no-model"]) == 0
    text = capsys.readouterr().out
    assert "with transcript, emotion happy=1, 60 fps" in text
    rows = [line.split() for line in text.splitlines() if line.startswith(("map ", "boat "))]
    assert [r[1] for r in rows] == ["transcript", "transcript"]
    assert all(float(r[3]) >= 0.97 for r in rows)   # p/b/m closure holds with a strong emotion and the text
    assert any(line.startswith("target") and ">=0.97" in line for line in text.splitlines())


@pytest.mark.shared
def test_eval_with_recognised_words(shared_dir, clip_folder, capsys):
    assert main(["eval", str(clip_folder), *_model_flags(), "--recognize"]) == 0
    text = capsys.readouterr().out
    assert "audio only + recognised words, emotion neutral" in text
    rows = [line.split() for line in text.splitlines() if line.startswith(("map ", "boat "))]
    assert len(rows) == 2 and all(float(r[3]) >= 0.5 for r in rows)   # the words' p/b/m seal the lips


def test_clip_jobs_run_in_a_spawned_worker(clip_folder):
    """--workers N hands evaluate_clip and its arguments to spawned processes: they must pickle and import."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from emobridge.cli.eval import evaluate_clip

    job = (clip_folder / "audio" / "hush.wav", "nothing was said", np.zeros(7, np.float32), False, False, 60.0)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        row = pool.submit(evaluate_clip, *job).result(timeout=120)
    assert row["clip"] == "hush" and row["skipped"].startswith("transcript cannot be aligned")
