"""Checkpoint -> the shipped model folder: two ONNX graphs with the same weights plus model.json.

    face_offline.onnx  mel [B, T, 80], cond [B, T, 10] -> face [B, T, 52]    (whole clips, batched)
    face_step.onnx     mel [B, K, 80], cond [B, 10], state [B, C, S] -> face [B, K, 52], state
                       (streaming; one step = K = stride frames of 10 ms)
    recognizer.onnx    the emotion mapping network, face [B, T, 52] (network layout) -> emotion [B, 7]
                       (used to measure emotion controllability; not needed to animate)
    model.json         network config, lookahead, frame rate, conditioning layout, training summary, and
                       whether the runtime adds PocketSphinx's bilabial evidence (``model/phone_evidence.py``;
                       on whenever the lookahead leaves room for its 60 ms)
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from emobridge.model import phone_evidence
from emobridge.model.network import COND_INPUTS, EmotionRecognizer, FaceNet, NetConfig

FRAME_RATE = 100.0
COND_LAYOUT = ["happy", "sad", "angry", "fear", "disgust", "surprise", "contempt", "mouth_preservation",
               "style_energy", "style_smoothness"]


class _Step(torch.nn.Module):
    def __init__(self, net: FaceNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, mel, cond, state):
        return self.net.step(mel, cond, state)


def load_checkpoint(path: str | Path) -> FaceNet:
    state = torch.load(path, map_location="cpu", weights_only=False)
    net = FaceNet(NetConfig.from_dict(state["net_config"]))
    net.load_state_dict(state["net"])
    return net.eval()


def _export_recognizer(checkpoint: str | Path, path: Path) -> bool:
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    if "recognizer" not in state:
        return False
    recognizer = EmotionRecognizer()
    recognizer.load_state_dict(state["recognizer"])
    torch.onnx.export(recognizer.eval(), (torch.zeros(1, 100, 52),), path, input_names=["face"],
                      output_names=["emotion"], dynamic_axes={"face": {0: "batch", 1: "frames"}},
                      opset_version=17, dynamo=False)
    return True


def export(checkpoint: str | Path, out_dir: str | Path, summary: dict | None = None) -> Path:
    net = load_checkpoint(checkpoint)
    cfg = net.config
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mel, cond = torch.zeros(1, 50 * cfg.stride, cfg.n_mels), torch.zeros(1, 50 * cfg.stride, COND_INPUTS)
    common = {"opset_version": 17, "dynamo": False}
    # The TorchScript exporter is deprecated but exports these plain conv graphs exactly; hush its notes.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (mel, cond), out / "face_offline.onnx", input_names=["mel", "cond"],
                          output_names=["face"], dynamic_axes={"mel": {0: "batch", 1: "frames"},
                                                               "cond": {0: "batch", 1: "frames"},
                                                               "face": {0: "batch", 1: "frames"}}, **common)
        state = torch.zeros(1, cfg.channels, cfg.state_size)
        torch.onnx.export(_Step(net), (mel[:, :cfg.stride], cond[:, 0], state), out / "face_step.onnx",
                          input_names=["mel", "cond", "state"], output_names=["face", "next_state"],
                          dynamic_axes={"mel": {0: "batch"}, "cond": {0: "batch"}, "state": {0: "batch"},
                                        "face": {0: "batch"}, "next_state": {0: "batch"}}, **common)
        _export_recognizer(checkpoint, out / "recognizer.onnx")
    meta = {"format": 1, "frame_rate": FRAME_RATE, "lookahead_frames": cfg.lookahead, "stride": cfg.stride,
            "lookahead_ms": cfg.lookahead * 1000 / FRAME_RATE, "state_shape": [cfg.channels, cfg.state_size],
            "cond_layout": COND_LAYOUT, "outputs": "ARKit-52, canonical order", "config": cfg.to_dict(),
            "parameters": sum(p.numel() for p in net.parameters()), "training": summary or {}}
    if cfg.lookahead >= phone_evidence.LOOKAHEAD:
        meta["bilabial_evidence"] = phone_evidence.SOURCE
    (out / "model.json").write_text(json.dumps(meta, indent=1))
    return out
