"""The audio-to-face network (PyTorch; training and ONNX export only, inference runs in ONNX Runtime).

A stack of causal dilated 1-D convolutions over log-mel frames (10 ms hop). The first half of the blocks
is the articulation trunk: it hears only the audio, and the lip closure head reads from it, so p/b/m
closure cannot depend on emotion or style (an emotion change never opens or seals the lips). The second
half is modulated by FiLM from a conditioning vector: a learned emotion embedding, mouth preservation
and a style vector.
The network steps every ``stride`` mel frames (20 ms) and emits ``stride`` face frames per step, which
halves the cost of offline and live inference alike. Nothing looks ahead inside the network; lookahead
is a fixed output delay of ``lookahead`` frames (frame t is predicted once mel frame t + lookahead has
arrived), so streaming and offline inference run the same arithmetic.

The emotion embedding places each basis emotion along a learned direction and bends blends through
a small residual MLP, so directions between emotions are learned too (boundary-aware, after
EditEmoTalk) while the zero vector stays exactly neutral.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from emobridge.audio.features import mel_centres_hz
from emobridge.model.output import CLOSURE_SLOT

N_EMOTIONS = 7
N_STYLE = 2
COND_INPUTS = N_EMOTIONS + 1 + N_STYLE  # emotion, mouth_preservation, style


@dataclass(frozen=True)
class NetConfig:
    n_mels: int = 80
    channels: int = 96
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2, 4, 8)
    emotion_dim: int = 16
    cond_dim: int = 64
    lookahead: int = 8          # frames of 10 ms: 80 ms algorithmic latency (a multiple of stride)
    n_out: int = 52
    stride: int = 2             # mel frames per network step
    closure_hidden: int = 0     # 0: the closure head is linear on the trunk; N: one hidden layer of N channels
    # Mel bands centred below this many Hz are held at the corpus mean (0 = hear every band). Recording chains
    # (rumble filters, small microphones) remove what TTS voices keep down there.
    ignore_below_hz: float = 0.0

    @property
    def trunk_blocks(self) -> int:
        """Blocks before any conditioning (the articulation trunk the closure head reads)."""
        return len(self.dilations) // 2

    @property
    def state_size(self) -> int:
        """Past input frames all blocks together keep for streaming."""
        return sum((self.kernel - 1) * d for d in self.dilations)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> NetConfig:
        """The inverse of ``to_dict``, for checkpoints of any version (those before ``stride`` stepped one frame)."""
        return cls(**{"stride": 1, **values, "dilations": tuple(values["dilations"])})


class EmotionEmbedding(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.directions = nn.Parameter(torch.randn(N_EMOTIONS, dim) * 0.5)
        self.bend = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, dim))

    def forward(self, emotion: torch.Tensor) -> torch.Tensor:
        z = emotion @ self.directions
        # The bend is scaled by total intensity, so neutral (all zeros) maps exactly to zero.
        return z + self.bend(z) * emotion.sum(dim=-1, keepdim=True).clamp(max=1.0)


class FaceNet(nn.Module):
    def __init__(self, config: NetConfig | None = None) -> None:
        super().__init__()
        config = config or NetConfig()
        self.config = config
        c = config.channels
        self.register_buffer("mel_mean", torch.zeros(config.n_mels))
        self.register_buffer("mel_std", torch.ones(config.n_mels))
        # Not saved: derived from the config, so checkpoints without it load unchanged.
        self.register_buffer("band_keep", torch.from_numpy(mel_centres_hz(config.n_mels) >= config.ignore_below_hz)
                             .float(), persistent=False)
        self.emotion = EmotionEmbedding(config.emotion_dim)
        self.cond = nn.Sequential(nn.Linear(config.emotion_dim + 1 + N_STYLE, config.cond_dim), nn.GELU(),
                                  nn.Linear(config.cond_dim, config.cond_dim), nn.GELU())
        self.film = nn.Linear(config.cond_dim, 2 * c * self.conditioned_blocks)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        if config.lookahead % config.stride:
            raise ValueError(f"lookahead {config.lookahead} must be a multiple of stride {config.stride}")
        self.inp = nn.Conv1d(config.n_mels * config.stride, c, 1)
        self.convs = nn.ModuleList(nn.Conv1d(c, c, config.kernel, dilation=d) for d in config.dilations)
        self.out = nn.Conv1d(c, config.n_out * config.stride, 1)
        h = config.closure_hidden
        self.closure = nn.Sequential(nn.Conv1d(c, h, 1), nn.GELU(), nn.Conv1d(h, config.stride, 1)) if h \
            else nn.Conv1d(c, config.stride, 1)

    @property
    def conditioned_blocks(self) -> int:
        return len(self.config.dilations) - self.config.trunk_blocks

    def _block(self, i: int, y: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        """Block i's FiLM (none in the trunk); y [B, C, T], gamma/beta [B, T, blocks, C]."""
        j = i - self.config.trunk_blocks
        if j < 0:
            return y
        return y * (1 + gamma[:, :, j].transpose(1, 2)) + beta[:, :, j].transpose(1, 2)

    def _heads(self, x: torch.Tensor, trunk: torch.Tensor) -> torch.Tensor:
        """Face [B, C, S] and trunk [B, C, S] features -> [B, S * stride, n_out] with the closure slot
        filled from the trunk."""
        b = x.shape[0]
        face = self.out(x).transpose(1, 2).reshape(b, -1, self.config.n_out)
        closure = self.closure(trunk).transpose(1, 2).reshape(b, -1, 1)
        return torch.cat([face[..., :CLOSURE_SLOT], closure, face[..., CLOSURE_SLOT + 1:]], dim=-1)

    def conditioning(self, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """cond [..., COND_INPUTS] -> FiLM (gamma, beta), each [..., blocks, channels]."""
        emotion, rest = cond[..., :N_EMOTIONS], cond[..., N_EMOTIONS:]
        h = self.cond(torch.cat([self.emotion(emotion), rest], dim=-1))
        gamma, beta = self.film(h).unflatten(-1, (2, self.conditioned_blocks, self.config.channels)).unbind(-3)
        return gamma, beta

    def forward(self, mel: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """mel [B, T, n_mels], cond [B, T, COND_INPUTS] (T a multiple of stride) -> [B, T, n_out];
        output t is face frame t - lookahead. Each step uses the conditioning of its last frame."""
        b, t, _ = mel.shape
        k = self.config.stride
        gamma, beta = self.conditioning(cond[:, k - 1::k])          # [B, T/k, blocks, C]
        x = ((mel - self.mel_mean) / self.mel_std * self.band_keep).reshape(b, t // k, k * self.config.n_mels)
        x = trunk = self.inp(x.transpose(1, 2))
        for i, conv in enumerate(self.convs):
            pad = (self.config.kernel - 1) * conv.dilation[0]
            x = x + F.gelu(self._block(i, conv(F.pad(x, (pad, 0))), gamma, beta))
            if i + 1 == self.config.trunk_blocks:
                trunk = x
        return self._heads(x, trunk)

    def step(self, mel: torch.Tensor, cond: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step (``stride`` frames of 10 ms) for a batch of streams: mel [B, stride, n_mels],
        cond [B, COND_INPUTS], state [B, C, state_size] (the past inputs of every block)
        -> (out [B, stride, n_out], new state)."""
        b = mel.shape[0]
        gamma, beta = self.conditioning(cond)                       # [B, blocks, C]
        x = ((mel - self.mel_mean) / self.mel_std * self.band_keep).reshape(b, -1, 1)
        x = trunk = self.inp(x)                                     # [B, C, 1]
        new_state, offset = [], 0
        for i, conv in enumerate(self.convs):
            keep = (self.config.kernel - 1) * conv.dilation[0]
            window = torch.cat([state[:, :, offset:offset + keep], x], dim=2)
            new_state.append(window[:, :, 1:])
            offset += keep
            x = x + F.gelu(self._block(i, conv(window), gamma.unsqueeze(1), beta.unsqueeze(1)))
            if i + 1 == self.config.trunk_blocks:
                trunk = x
        return self._heads(x, trunk), torch.cat(new_state, dim=2)


class EmotionRecognizer(nn.Module):
    """The mapping network of the emotion-consistency loss: ARKit motion [B, T, 52] -> emotion [B, 7]."""

    def __init__(self, n_in: int = 52, hidden: int = 64) -> None:
        super().__init__()
        self.frame = nn.Sequential(nn.Linear(n_in, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU())
        self.head = nn.Linear(2 * hidden, N_EMOTIONS)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        h = self.frame(frames)
        return self.head(torch.cat([h.mean(dim=1), h.amax(dim=1)], dim=-1))
