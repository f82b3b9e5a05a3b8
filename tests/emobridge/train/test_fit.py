"""A few training steps on a two-clip corpus: losses fall, checkpoints resume exactly, export runs."""

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from emobridge.model.network import NetConfig  # noqa: E402
from emobridge.train.corpus import ClipSpec, _write_shard, build_clip  # noqa: E402
from emobridge.train.fit import Corpus, FitConfig, channel_augment, fit  # noqa: E402

TINY = NetConfig(channels=16, dilations=(1, 2), emotion_dim=4, cond_dim=8, lookahead=2, stride=2)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    if not shutil.which("flite"):
        pytest.skip("flite is not installed (./setup.sh installs it)")
    root = tmp_path_factory.mktemp("corpus")
    clips = [build_clip(ClipSpec(i, text, "flite/slt", 1.0, seed=i, augment=False))
             for i, text in enumerate(["Bob made a map.", "Please pass the paper plates, Pam."])]
    _write_shard(root / "shard_00000.npz", clips)
    return root


def _cfg(corpus, out, steps, stop_at=None):
    return FitConfig(corpus=str(corpus), out=str(out), steps=steps, batch=4, crop=64, val_every=4, seed=3,
                     device="cpu", warmup=2, stop_at=stop_at)


def test_corpus_loads_and_crops(corpus):
    data = Corpus(corpus)
    assert len(data.clips) == 2
    batch = data.batch(data.clips, 3, 64, np.random.default_rng(0))
    assert batch["mel"].shape == (3, 64, 80) and batch["target"].shape == (3, 64, 52)


def test_resumed_training_matches_uninterrupted(corpus, tmp_path):
    straight = torch.load(fit(_cfg(corpus, tmp_path / "a", 8), TINY, progress=False), weights_only=False)
    fit(_cfg(corpus, tmp_path / "b", 8, stop_at=4), TINY, progress=False)
    resumed = torch.load(fit(_cfg(corpus, tmp_path / "b", 8), TINY, progress=False), weights_only=False)
    for k, v in straight["net"].items():
        assert torch.allclose(v, resumed["net"][k], atol=1e-6), k
    assert (tmp_path / "b" / "learning_curve.png").stat().st_size > 1000
    rows = (tmp_path / "b" / "curve.csv").read_text().splitlines()
    assert len(rows) == 3  # header + steps 4 and 8
    summary = json.loads((tmp_path / "b" / "fit.json").read_text())  # what export copies into model.json
    assert (summary["steps"], summary["seed"], summary["lr"]) == (8, 3, 2e-3)


def test_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="emobridge train corpus"):
        fit(_cfg(tmp_path, tmp_path / "out", 2), TINY, progress=False)


def test_channel_augment_colours_bands_not_time():
    mel = np.random.default_rng(0).normal(-5, 2, (50, 80)).astype(np.float32)
    band_mean = np.full(80, -7.0, np.float32)
    outs = []
    for _ in range(2):
        out = mel.copy()
        channel_augment(out, np.random.default_rng(11), band_mean)
        outs.append(out)
    assert np.array_equal(outs[0], outs[1])  # seeded
    change = outs[0] - mel
    masked = np.all(outs[0] == -7.0, axis=0)
    # Every frame gets the same colouring (a fixed microphone), so timing cues are untouched.
    assert np.allclose(change[:, ~masked], change[0, ~masked], atol=1e-5)
    assert masked.sum() <= 8
    untouched = 0
    for seed in range(40):
        out = mel.copy()
        channel_augment(out, np.random.default_rng(seed), band_mean)
        untouched += np.array_equal(out, mel)
    assert 0 < untouched < 20  # about a fifth of the crops stay clean
