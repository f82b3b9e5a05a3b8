"""Training loop of the audio-to-face network: seeded, resumable, CPU or GPU, logs a learning curve.

Losses (weights in ``LOSS_WEIGHTS``):
    rec       per-channel L1, weighted toward the mouth
    velocity  L1 of frame-to-frame change (no jitter, no lag)
    closure   the closure output (mouthClose slot, see model/output.py) follows the bilabial closure on
              every frame (squared error)
    emotion   a mapping network, trained on the targets, must recognise the crop's emotion in the output
    mouth     extra articulation L1 where mouth preservation asks the speaking mouth to stay exact
"""

from __future__ import annotations

import csv
import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.func import functional_call
from torch.nn import functional as F

from emobridge.model.network import N_EMOTIONS, EmotionRecognizer, FaceNet, NetConfig
from emobridge.model.output import CLOSURE_SLOT, to_network_layout
from emobridge.rig import ARKIT_INDEX, face_tables

log = logging.getLogger(__name__)
LOSS_WEIGHTS = {"rec": 1.0, "velocity": 0.5, "closure": 1.0, "emotion": 0.1, "mouth": 0.5}
MOUTH_WEIGHT = 3.0


@dataclass
class FitConfig:
    corpus: str
    out: str
    steps: int = 6000
    batch: int = 32
    crop: int = 400              # frames (4 s) per training example
    lr: float = 2e-3
    warmup: int = 200
    seed: int = 0
    device: str = "auto"
    val_every: int = 250
    threads: int = 0             # 0 = torch default
    stop_at: int | None = None   # end this run early at this step (resume later); the schedule still spans steps
    augment: bool = True         # channel colouring and band masks on the training crops (channel_augment)
    loss_weights: dict[str, float] = field(default_factory=lambda: dict(LOSS_WEIGHTS))


class Corpus:
    """All shards in memory (float16); random crops weighted by clip length."""

    def __init__(self, folder: str | Path) -> None:
        shards = sorted(Path(folder).glob("shard_*.npz"))
        if not shards:
            raise FileNotFoundError(f"{folder}: no shard_*.npz files; build a corpus with `emobridge train corpus`")
        keys = ("mel", "target", "cond", "closure", "activity")
        parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
        starts, ends, base = [], [], 0
        for shard in shards:
            with np.load(shard) as z:
                for k in keys:
                    parts[k].append(z[k])
                off = z["offsets"]
                starts += list(base + off[:-1])
                ends += list(base + off[1:])
                base += int(off[-1])
        self.data = {k: np.concatenate(v) for k, v in parts.items()}
        self.clips = np.stack([starts, ends], axis=1)
        self.mel_mean = self.data["mel"].mean(axis=0, dtype=np.float64).astype(np.float32)

    def split(self, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        order = np.random.default_rng(seed).permutation(len(self.clips))
        n_val = max(1, int(len(order) * val_fraction))
        return self.clips[order[n_val:]], self.clips[order[:n_val]]

    def batch(self, clips: np.ndarray, size: int, crop: int, rng: np.random.Generator,
              augment: bool = False) -> dict[str, torch.Tensor]:
        lengths = clips[:, 1] - clips[:, 0]
        picks = rng.choice(len(clips), size=size, p=lengths / lengths.sum())
        out = {k: np.zeros((size, crop) + v.shape[1:], np.float32) for k, v in self.data.items()}
        for row, i in enumerate(picks):
            start, end = clips[i]
            begin = start + rng.integers(0, max(1, end - start - crop + 1))
            stop = min(end, begin + crop)
            for k, v in self.data.items():
                out[k][row, : stop - begin] = v[begin:stop]
                if stop - begin < crop and k == "cond":  # padding keeps the clip's last conditioning
                    out[k][row, stop - begin:] = v[stop - 1]
            if augment:
                channel_augment(out["mel"][row], rng, self.mel_mean)
        return {k: torch.from_numpy(v) for k, v in out.items()}


def channel_augment(mel: np.ndarray, rng: np.random.Generator, band_mean: np.ndarray) -> None:
    """In place on one crop [T, n_mels] of log-mel: the colouring of a microphone and room that no TTS
    voice has (a random spectral tilt and a smooth random EQ, in natural-log units) and, half the time,
    a masked band of up to 8 mel bands (SpecAugment), so the net does not lean on a voice's spectral
    fine print. Time is never masked: the closure labels live in time."""
    if rng.random() < 0.2:
        return
    bands = np.linspace(-0.5, 0.5, mel.shape[1])
    curve = rng.uniform(-2.5, 2.5) * bands
    for _ in range(3):
        centre, width = rng.uniform(-0.5, 0.5), rng.uniform(0.04, 0.2)
        curve = curve + rng.normal(0.0, 0.35) * np.exp(-0.5 * ((bands - centre) / width) ** 2)
    mel += curve.astype(np.float32)
    if rng.random() < 0.5:
        lo = int(rng.integers(0, mel.shape[1] - 8))
        hi = lo + int(rng.integers(1, 9))
        mel[:, lo:hi] = band_mean[lo:hi]


def _channel_weights() -> torch.Tensor:
    w = torch.ones(52)
    mouth = face_tables()["articulation_channels"] + [n for n in face_tables()["arkit_names"] if n.startswith("mouth")]
    w[[ARKIT_INDEX[n] for n in set(mouth)]] = MOUTH_WEIGHT
    w[CLOSURE_SLOT] = 0.0  # trained by the closure loss
    return w


def _mask(names: list[str]) -> torch.Tensor:
    m = torch.zeros(52)
    m[[ARKIT_INDEX[n] for n in names]] = 1.0
    return m


def losses(net: FaceNet, recognizer: EmotionRecognizer, batch: dict[str, torch.Tensor],
           weights: torch.Tensor, loss_weights: dict[str, float] = LOSS_WEIGHTS) -> dict[str, torch.Tensor]:
    la = net.config.lookahead
    # The network emits frame t - la at input step t; feed it that frame's conditioning.
    cond = torch.cat([batch["cond"][:, :1].expand(-1, la, -1), batch["cond"][:, :-la]], dim=1)
    pred = net(batch["mel"], cond)[:, la:]
    closure = batch["closure"][:, :-la]
    target = to_network_layout(batch["target"][:, :-la], closure)
    activity = batch["activity"][:, :-la]
    mp = batch["cond"][:, :-la, N_EMOTIONS]
    err = (pred - target).abs()
    out = {"rec": (err * weights).mean() / weights.mean()}
    out["velocity"] = (pred.diff(dim=1) - target.diff(dim=1)).abs().mean() * 10
    # Closure is judged on every frame by squared error: a one-sided "reach 1 on bilabials" term teaches
    # the net to predict closure everywhere, and L1 collapses this mostly-zero target to its median, 0.
    # Its slot is left out of the L1 terms. (No extra penalty on lip-parting channels where the lips seal:
    # the targets already yield there and to_arkit enforces it; such a penalty, summed over channels,
    # outweighed the reconstruction of a sneer or a raised upper lip and taught the net never to make them.)
    out["closure"] = 4.0 * F.mse_loss(pred[..., CLOSURE_SLOT], closure)
    emotion = batch["cond"][:, :, :N_EMOTIONS].mean(dim=1)
    out["recognizer"] = F.mse_loss(recognizer(target), emotion)  # sees the same layout as the output
    frozen = {k: v.detach() for k, v in recognizer.named_parameters()}
    out["emotion"] = F.mse_loss(functional_call(recognizer, frozen, (pred,)), emotion)
    articulation = _mask(face_tables()["articulation_channels"]).to(pred)
    articulation[CLOSURE_SLOT] = 0.0
    out["mouth"] = (err * articulation * (mp * activity).unsqueeze(-1)).sum() / (articulation.sum() * err.shape[0]
                                                                                 * err.shape[1])
    out["total"] = sum(loss_weights[k] * out[k] for k in LOSS_WEIGHTS) + out["recognizer"]
    return out


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _lr(step: int, cfg: FitConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return 0.05 * cfg.lr + 0.95 * cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def fit(cfg: FitConfig, net_config: NetConfig | None = None, progress: bool = True) -> Path:
    """Train (or resume) and return the checkpoint path."""
    from tqdm import tqdm

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    state = torch.load(ckpt_path, map_location="cpu", weights_only=False) if ckpt_path.exists() else None
    if state is not None:  # a resumed run keeps the network it started with
        net_config = NetConfig.from_dict(state["net_config"])
    net_config = net_config or NetConfig()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    device = _device(cfg.device)
    corpus = Corpus(cfg.corpus)
    train_clips, val_clips = corpus.split(0.03, cfg.seed)
    net, recognizer = FaceNet(net_config), EmotionRecognizer()
    mel = corpus.data["mel"].astype(np.float32)
    net.mel_mean.copy_(torch.from_numpy(mel.mean(axis=0)))
    net.mel_std.copy_(torch.from_numpy(mel.std(axis=0) + 1e-3))
    del mel
    params = list(net.parameters()) + list(recognizer.parameters())
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-4)
    step, wall = 0, 0.0
    rng = np.random.default_rng(cfg.seed)
    if state is not None:
        net.load_state_dict(state["net"])
        recognizer.load_state_dict(state["recognizer"])
        opt.load_state_dict(state["opt"])
        step, wall = state["step"], state.get("wall_s", 0.0)
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        log.info("resumed from %s at step %d", ckpt_path, step)
    net.to(device)
    recognizer.to(device)
    weights = _channel_weights().to(device)
    val_rng = np.random.default_rng(cfg.seed + 1)
    val_batches = [corpus.batch(val_clips, cfg.batch, cfg.crop, val_rng) for _ in range(4)]
    curve_path = out / "curve.csv"
    new_curve = not curve_path.exists() or step == 0
    with open(curve_path, "w" if new_curve else "a", newline="") as fh:
        writer = csv.writer(fh)
        if new_curve:
            writer.writerow(["step", "wall_s", "lr", "train_total", "val_total", "val_rec", "val_closure", "val_emotion"])
        bar = tqdm(total=cfg.steps, initial=step, desc="fit", unit="step", disable=not progress)
        running = None
        while step < min(cfg.steps, cfg.stop_at or cfg.steps):
            t0 = time.perf_counter()
            for group in opt.param_groups:
                group["lr"] = _lr(step, cfg)
            batch = {k: v.to(device) for k, v in corpus.batch(train_clips, cfg.batch, cfg.crop, rng, cfg.augment).items()}
            parts = losses(net, recognizer, batch, weights, cfg.loss_weights)
            opt.zero_grad(set_to_none=True)
            parts["total"].backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1
            wall += time.perf_counter() - t0
            loss = float(parts["total"].detach())
            running = loss if running is None else 0.98 * running + 0.02 * loss
            bar.update()
            bar.set_postfix(loss=f"{running:.4f}")
            if step % cfg.val_every == 0 or step in (cfg.steps, cfg.stop_at):
                val = _validate(net, recognizer, val_batches, weights, device)
                writer.writerow([step, round(wall, 1), _lr(step, cfg), round(running, 5), round(val["total"], 5),
                                 round(val["rec"], 5), round(val["closure"], 5), round(val["emotion"], 5)])
                fh.flush()
                torch.save({"net": net.state_dict(), "recognizer": recognizer.state_dict(), "opt": opt.state_dict(),
                            "step": step, "wall_s": wall, "rng": rng.bit_generator.state,
                            "torch_rng": torch.get_rng_state(), "net_config": net_config.to_dict(),
                            "fit_config": asdict(cfg)}, ckpt_path)
        bar.close()
    summary = {"steps": step, "wall_s": round(wall, 1), "device": str(device), "corpus": str(cfg.corpus),
               "batch": cfg.batch, "crop": cfg.crop, "lr": cfg.lr, "seed": cfg.seed,
               "train_clips": len(train_clips), "val_clips": len(val_clips)}
    (out / "fit.json").write_text(json.dumps(summary, indent=1))
    plot_curve(curve_path, out / "learning_curve.png")
    return ckpt_path


@torch.no_grad()
def _validate(net, recognizer, batches, weights, device) -> dict[str, float]:
    net.eval()
    totals: dict[str, float] = {}
    for batch in batches:
        parts = losses(net, recognizer, {k: v.to(device) for k, v in batch.items()}, weights)
        for k, v in parts.items():
            totals[k] = totals.get(k, 0.0) + float(v) / len(batches)
    net.train()
    return totals


def plot_curve(csv_path: Path, png_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return
    steps = [int(r["step"]) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key in ("train_total", "val_total", "val_rec", "val_closure", "val_emotion"):
        ax.plot(steps, [float(r[key]) for r in rows], label=key)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("emobridge face model: learning curve")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    plt.close(fig)
