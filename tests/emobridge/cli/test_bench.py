import os

import pytest

from emobridge.cli import main

pytest.importorskip("torch", reason="the tiny test model is exported with torch")


def test_bench_bake_prints_a_real_time_ratio(tiny_model_dir, capsys):
    assert main(["bench", "bake", "--model", str(tiny_model_dir), "--seconds", "5", "--repeat", "1"]) == 0
    assert "x real time per process" in capsys.readouterr().out


def test_bench_bake_with_recognised_words_says_so(tiny_model_dir, capsys):
    assert main(["bench", "bake", "--model", str(tiny_model_dir), "--seconds", "5", "--repeat", "1", "--recognize"]) == 0
    assert "x real time per process with recognised words" in capsys.readouterr().out
    assert main(["bench", "bake", "--model", str(tiny_model_dir), "--recognize", "--batch", "4"]) == 2


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


def test_bench_serve_native_client_on_two_workers_reports_the_same_numbers(tiny_model_dir, capsys, tmp_path):
    from emobridge.cli.bench import NATIVE_DRIVER

    if not NATIVE_DRIVER.is_file():
        pytest.skip(f"{NATIVE_DRIVER} is not built (cmake -S . -B build && cmake --build build)")
    out = tmp_path / "serve.json"
    assert main(["bench", "serve", "--model", str(tiny_model_dir), "--streams", "3", "--duration", "1",
                 "--threads", "1", "--client", "native", "--workers", "2", "--json", str(out)]) == 0
    assert "2 workers, native client, 3 connections" in capsys.readouterr().out
    import json

    result = json.loads(out.read_text())
    # 1 s at 60 fps is 60 frames a stream; the latency counts only frames whose chunk was pushed.
    assert result["errors"] == 0 and 100 < result["frames"] <= 180 and result["fps_mean"] > 50
    assert 0 <= result["p50_ms"] <= result["p99_ms"] <= result["max_ms"] and result["server_p99_ms_at_most"] > 0
    assert result["workers"] == 2 and result["connections"] == 3 and result["model_calls"] > 0
    assert 0 < result["model_call_ms_mean"] < 1000
    # The call splits into the model alone and the wait for the loop; on CPU the step runs on the loop's thread.
    assert 0 < result["model_compute_ms_mean"] <= result["model_call_ms_mean"]
    assert 0 <= result["model_resume_ms_mean"] < result["model_compute_ms_mean"]
    assert result["loop_lag_ms_mean"] >= 0 and result["loop_lag_p99_ms_at_most"] >= 0


def test_histogram_quantile_is_the_bucket_holding_it():
    from emobridge.cli.bench import _histogram_quantile_ms

    buckets = [(0.005, 90.0), (0.01, 99.0), (0.02, 100.0), (float("inf"), 100.0)]
    assert _histogram_quantile_ms(buckets, 0.5) == 5.0
    assert _histogram_quantile_ms(buckets, 0.99) == 10.0
    assert _histogram_quantile_ms(buckets, 1.0) == 20.0
    assert _histogram_quantile_ms([], 0.99) == 0.0


def test_bench_batch_prints_throughput_and_scaling_efficiency(capsys, tmp_path):
    import shutil

    if not shutil.which("flite"):
        pytest.skip("flite is not installed (./setup.sh installs it)")
    assert main(["bench", "batch", "--lines", "6", "--workers", "2", "--baseline-lines", "3", "--formats", "json",
                 "--keep", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 process: 3 lines" in out and "2 workers: 6 lines" in out and "scaling efficiency" in out
    assert "identical: yes" in out


def test_cpu_lists_name_existing_cores():
    import argparse

    from emobridge.cli.bench import _cpu_list

    last = (os.cpu_count() or 1) - 1
    assert _cpu_list("0") == {0} and _cpu_list(f"0-{last},0") == set(range(last + 1))
    for bad in ("", "a-b", "0-99999"):
        with pytest.raises(argparse.ArgumentTypeError):
            _cpu_list(bad)
