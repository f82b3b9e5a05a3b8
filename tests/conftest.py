"""Shared fixtures. Tests that need ../shared data use `shared_dir` and skip cleanly without it; tests that need
a model without training use `tiny_model_dir`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EMOBRIDGE_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared is not present (real recordings and the ICT head live there)")
    return SHARED


@pytest.fixture
def tone_wav(tmp_path: Path):
    """Factory: write a short synthetic voiced signal as a wav and return its path."""
    import soundfile as sf

    def make(rate: int = 16000, seconds: float = 1.0, channels: int = 1, name: str = "tone.wav") -> Path:
        t = np.arange(int(rate * seconds)) / rate
        envelope = 0.5 * (1 - np.cos(2 * np.pi * 3 * t))          # three syllable-like bursts a second
        x = 0.3 * envelope * np.sin(2 * np.pi * 140 * t) * (1 + 0.3 * np.sin(2 * np.pi * 700 * t))
        data = np.stack([x] * channels, axis=1) if channels > 1 else x
        path = tmp_path / name
        sf.write(path, data.astype(np.float32), rate)
        return path

    return make


def _tiny_model(tmp_path_factory, lookahead: int) -> Path:
    torch = pytest.importorskip("torch", reason="exporting a model needs the train extra (torch)")
    from emobridge.model.export import export
    from emobridge.model.network import FaceNet, NetConfig

    torch.manual_seed(0)
    config = NetConfig(channels=16, dilations=(1, 2, 4), emotion_dim=4, cond_dim=8, lookahead=lookahead, stride=2)
    net = FaceNet(config)
    for p in net.film.parameters():  # FiLM starts at zero; make conditioning matter for the tests
        torch.nn.init.normal_(p, std=0.2)
    folder = tmp_path_factory.mktemp("tiny_model")
    torch.save({"net": net.state_dict(), "net_config": config.to_dict()}, folder / "checkpoint.pt")
    return export(folder / "checkpoint.pt", folder / "model", {"note": "random weights for tests"})


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny randomly initialised model exported to ONNX (40 ms lookahead), so runtime, sidecar and CLI tests
    need neither training nor ../shared. Too little lookahead for the bilabial evidence: the network alone."""
    return _tiny_model(tmp_path_factory, lookahead=4)


@pytest.fixture(scope="session")
def tiny_evidence_model_dir(tmp_path_factory) -> Path:
    """The same with the shipped model's 80 ms lookahead, so its model.json turns the bilabial evidence on."""
    return _tiny_model(tmp_path_factory, lookahead=8)
