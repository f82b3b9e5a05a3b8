import json

import numpy as np
import pytest

from emobridge.model import FaceModel, FaceStream, ModelError

pytest.importorskip("onnxruntime")


def _cond(n: int, happy: float = 0.7) -> np.ndarray:
    c = np.zeros((n, 10), np.float32)
    c[:, 0], c[:, 7] = happy, 0.5
    return c


def test_streaming_in_20ms_chunks_equals_offline(tiny_model_dir):
    from emobridge.audio import log_mel

    model = FaceModel(tiny_model_dir, device="cpu")
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000 + 123)).astype(np.float32)
    mel = log_mel(audio)
    offline = model.infer(mel, _cond(len(mel)))
    stream = FaceStream(model)
    chunks = [stream.push(audio[i:i + 320], _cond(1)[0]) for i in range(0, len(audio), 320)]
    streamed = np.concatenate(chunks + [stream.flush(_cond(1)[0])])
    assert streamed.shape == offline.shape == (len(mel), 52)
    np.testing.assert_allclose(streamed, offline, atol=1e-4)


def test_batched_steps_equal_single_stream_steps(tiny_model_dir):
    model = FaceModel(tiny_model_dir, device="cpu")
    rng = np.random.default_rng(1)
    mel = rng.standard_normal((4, 2, 80)).astype(np.float32)
    cond = np.repeat(_cond(1), 4, axis=0)
    cond[:, 0] = [0, 0.3, 0.6, 1.0]
    batch, _ = model.step(mel, cond, model.new_state(4))
    for i in range(4):
        single, _ = model.step(mel[i:i + 1], cond[i:i + 1], model.new_state(1))
        np.testing.assert_allclose(batch[i], single[0], atol=1e-5)


def test_model_json_describes_latency(tiny_model_dir):
    meta = json.loads((tiny_model_dir / "model.json").read_text())
    assert meta["lookahead_ms"] == 40.0 and meta["stride"] == 2 and meta["frame_rate"] == 100.0 and len(meta["cond_layout"]) == 10


def test_missing_or_bad_model_folder_is_a_clear_error(tmp_path, tiny_model_dir):
    with pytest.raises(ModelError, match="model.json"):
        FaceModel(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(ModelError, match="format"):
        FaceModel(tmp_path)
    (tmp_path / "model.json").write_text((tiny_model_dir / "model.json").read_text())
    (tmp_path / "face_offline.onnx").write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="cannot load"):
        FaceModel(tmp_path)


def test_unknown_device_is_rejected(tiny_model_dir):
    with pytest.raises(ModelError, match="device"):
        FaceModel(tiny_model_dir, device="tpu")


def test_cuda_listed_but_not_startable_is_named_not_silently_cpu(tiny_model_dir, monkeypatch):
    # onnxruntime-gpu lists CUDA even when libcudart/cuDNN are missing, then runs on CPU with a warning;
    # here the CPU build is told it has CUDA, and its sessions fall back the same way.
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    with pytest.raises(ModelError, match="could not start its CUDA provider"):
        FaceModel(tiny_model_dir, device="cuda")
    assert FaceModel(tiny_model_dir, device="auto").device == "cpu"


def test_padded_device_batches_return_the_same_rows(tiny_model_dir):
    from emobridge.model.runtime import padded_batch

    assert [padded_batch(n) for n in (1, 3, 64, 65, 1000)] == [1, 4, 64, 128, 1024]
    model = FaceModel(tiny_model_dir, device="cpu")
    rng = np.random.default_rng(0)
    mel = rng.standard_normal((5, model.stride, 80)).astype(np.float32)
    cond, state = _cond(5), rng.standard_normal((5, *model.state_shape)).astype(np.float32)
    plain = model.step(mel, cond, state)
    model.pad_batches = True  # what a CUDA model does: 5 streams run as a batch of 8
    padded = model.step(mel, cond, state)
    for a, b in zip(plain, padded, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert model.warm_up(100) == 8  # 1, 2, 4, 8, 16, 32, 64, 128


def test_a_model_with_evidence_keeps_numpy_blas_to_its_threads(tiny_evidence_model_dir, tiny_model_dir):
    """BLAS threads spinning beside the evidence's small products cost a 32-stream server 5x its p99 latency
    (docs/sidecar.md). Checked in a fresh process: the cap is process-wide."""
    import subprocess
    import sys

    child = """
import sys
from threadpoolctl import threadpool_info, threadpool_limits
from emobridge.model import FaceModel
blas = lambda: sorted({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})
threadpool_limits(limits=2, user_api="blas")
FaceModel(sys.argv[2], device="cpu", threads=1)   # no evidence: BLAS is left as it is
print(blas())
FaceModel(sys.argv[1], device="cpu", threads=1)
print(blas())
"""
    run = subprocess.run([sys.executable, "-c", child, str(tiny_evidence_model_dir), str(tiny_model_dir)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["[2]", "[1]"], run.stdout
