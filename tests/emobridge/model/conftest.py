"""A tiny randomly initialised model exported to ONNX, so runtime tests need neither training nor ../shared."""

from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="exporting a model needs the train extra (torch)")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from emobridge.model.export import export
    from emobridge.model.network import FaceNet, NetConfig

    torch.manual_seed(0)
    config = NetConfig(channels=16, dilations=(1, 2, 4), emotion_dim=4, cond_dim=8, lookahead=4, stride=2)
    net = FaceNet(config)
    for p in net.film.parameters():  # FiLM starts at zero; make conditioning matter for the tests
        torch.nn.init.normal_(p, std=0.2)
    root = tmp_path_factory.mktemp("tiny_model")
    torch.save({"net": net.state_dict(), "net_config": config.to_dict()}, root / "checkpoint.pt")
    return export(root / "checkpoint.pt", root / "model", {"note": "random weights for tests"})
