import shutil

import numpy as np
import pytest

from emobridge.phonetics.phones import Phone
from emobridge.train.corpus import ClipSpec, build_clip, build_corpus, pad_with_silence, plan_clips, sample_emotion


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


def test_padding_puts_long_labelled_silences_around_a_clip():
    audio = np.ones(16000, np.float32)
    phones = [Phone("M", 0.0, 0.5), Phone("AA", 0.5, 0.9), Phone("SIL", 0.9, 1.0)]
    padded, labelled = pad_with_silence(audio, phones, np.random.default_rng(1), p=1.0)
    lead = labelled[0].end
    assert labelled[0] == Phone("SIL", 0.0, lead) and 0.1 <= lead <= 1.2
    assert labelled[1] == Phone("M", lead, lead + 0.5)                 # the speech moves with its labels
    assert np.all(padded[: int(lead * 16000)] == 0) and padded[int(lead * 16000)] == 1
    assert labelled[-1].start == 0.9 + lead and labelled[-1].end == len(padded) / 16000  # a trailing SIL grows
    assert pad_with_silence(audio, phones, np.random.default_rng(1), p=0.0) == (audio, phones)


@pytest.mark.skipif(not shutil.which("flite"), reason="flite is not installed (./setup.sh installs it)")
def test_a_padded_clip_rests_in_its_long_silences():
    from emobridge.rig import ARKIT_INDEX

    padded = [build_clip(ClipSpec(0, "Bob made a map.", "flite/slt", 1.0, seed=s, augment=False)) for s in range(6)]
    rested = [c for c in padded if c["activity"][:30].max() == 0]
    assert rested                                                     # some clips got a lead of 0.3 s or more
    for clip in rested:
        assert clip["target"][:20, ARKIT_INDEX["jawOpen"]].max() == 0 and clip["closure"][:20].max() == 0


def test_a_seeded_corpus_is_the_same_whatever_the_number_of_workers(tmp_path):
    from emobridge.train.tts import available_voices

    if not any(v.startswith("espeak/") for v in available_voices()):
        pytest.skip("espeak-ng is not installed (./setup.sh installs it)")
    # 13 clips: two workers split them in chunks of 4, so each worker speaks its own history
    one = build_corpus(tmp_path / "one", hours=0.03, seed=5, workers=1)
    two = build_corpus(tmp_path / "two", hours=0.03, seed=5, workers=2)
    assert one == two and one["clips"] == 13 and any(v.startswith("espeak/") for v in one["voices"])
    with np.load(tmp_path / "one" / "shard_00000.npz") as a, np.load(tmp_path / "two" / "shard_00000.npz") as b:
        for key in a.files:
            assert np.array_equal(a[key], b[key]), key
