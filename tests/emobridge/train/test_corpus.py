import shutil

import numpy as np
import pytest

from emobridge.train.corpus import ClipSpec, build_clip, plan_clips, sample_emotion


def test_sampled_emotions_cover_the_space():
    rng = np.random.default_rng(0)
    tracks = [sample_emotion(rng, 5.0) for _ in range(400)]
    firsts = np.stack([t.keyframes[0].emotion for t in tracks])
    assert (firsts.sum(axis=1) == 0).mean() > 0.1                  # some neutral
    assert ((firsts > 0).sum(axis=1) >= 2).mean() > 0.15            # some blends
    assert (firsts > 0).any(axis=0).all()                           # every emotion appears
    assert np.mean([len(t.keyframes) > 1 for t in tracks]) > 0.15   # some change mid-clip
    assert firsts.min() >= 0 and firsts.max() <= 1


@pytest.mark.skipif(not shutil.which("flite"), reason="flite is not installed (./setup.sh installs it)")
def test_clip_features_targets_and_conditioning_line_up():
    spec = ClipSpec(0, "Bob made a map of the big barn.", "flite/slt", 1.0, seed=5, augment=False)
    clip = build_clip(spec)
    n = len(clip["mel"])
    assert clip["mel"].shape == (n, 80) and clip["target"].shape == (n, 52) and clip["cond"].shape == (n, 10)
    assert clip["closure"].max() == 1.0 and clip["activity"].max() == 1.0
    assert clip["target"].astype(np.float32).max() <= 1.0
    assert np.isfinite(clip["mel"].astype(np.float32)).all()


def test_plan_is_seeded_and_mixes_engines():
    from emobridge.train.tts import available_voices

    if not available_voices():
        pytest.skip("no TTS engine installed")
    a, b = plan_clips(60, seed=2), plan_clips(60, seed=2)
    assert a == b and len({s.voice.split("/")[0] for s in a}) == len({v.split("/")[0] for v in available_voices()})
