import pytest

from emobridge.cli import main

pytest.importorskip("torch", reason="the tiny test model is exported with torch")


def test_bench_bake_prints_a_real_time_ratio(tiny_model_dir, capsys):
    assert main(["bench", "bake", "--model", str(tiny_model_dir), "--seconds", "5", "--repeat", "1"]) == 0
    assert "x real time per process" in capsys.readouterr().out


def test_bench_step_prints_streams_per_batch(tiny_model_dir, capsys):
    assert main(["bench", "step", "--model", str(tiny_model_dir), "--batches", "1,4", "--steps", "5"]) == 0
    out = capsys.readouterr().out
    assert "real-time streams" in out and len(out.strip().splitlines()) == 4


def test_bench_serve_drives_real_time_streams_and_prints_latency(tiny_model_dir, capsys, tmp_path):
    out = tmp_path / "serve.json"
    assert main(["bench", "serve", "--model", str(tiny_model_dir), "--streams", "2", "--duration", "1",
                 "--threads", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "achieved" in text and "p99" in text and "% CPU" in text
    import json

    result = json.loads(out.read_text())
    assert result["errors"] == 0 and result["frames"] > 100 and result["fps_mean"] > 50


def test_bench_batch_prints_throughput_and_scaling_efficiency(capsys, tmp_path):
    import shutil

    if not shutil.which("flite"):
        pytest.skip("flite is not installed (./setup.sh installs it)")
    assert main(["bench", "batch", "--lines", "6", "--workers", "2", "--baseline-lines", "3", "--formats", "json",
                 "--keep", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 process: 3 lines" in out and "2 workers: 6 lines" in out and "scaling efficiency" in out
    assert "identical: yes" in out
