import numpy as np
import pytest

from emobridge.animate import animate, frame_count
from emobridge.emotion import EMOTIONS, EmotionKeyframe, EmotionTrack, facs_rule_holds
from emobridge.phonetics import Phone

SENTENCE = [Phone("SIL", 0.0, 0.4)] + [
    Phone(label, 0.4 + 0.09 * i, 0.4 + 0.09 * (i + 1)) for i, label in enumerate(
        "M AY B R AH DH ER Z AA R T P AE K T HH IY S EH D".split())
] + [Phone("SIL", 2.29, 3.0)]


def test_output_contract():
    anim = animate(SENTENCE, 3.0, fps=30)
    assert anim.frames.shape == (frame_count(3.0, 30), 52) == (90, 52)
    assert anim.frames.dtype == np.float32 and anim.frames.min() >= 0 and anim.frames.max() <= 1
    assert anim.head_rotation.shape == (90, 3) and anim.emotion.shape == (90, 7)


def test_same_seed_same_animation():
    a, b = animate(SENTENCE, 3.0, seed=5), animate(SENTENCE, 3.0, seed=5)
    assert np.array_equal(a.frames, b.frames)


def test_zero_emotion_is_neutral():
    a = animate(SENTENCE, 3.0, emotion=np.zeros(7))
    b = animate(SENTENCE, 3.0)
    assert np.array_equal(a.frames, b.frames)


@pytest.mark.parametrize("name", EMOTIONS)
def test_each_emotion_passes_its_facs_rule(name):
    neutral = animate(SENTENCE, 3.0).frames
    full = animate(SENTENCE, 3.0, emotion=np.eye(7)[EMOTIONS.index(name)]).frames
    assert facs_rule_holds(name, neutral, full)
    assert not facs_rule_holds(name, neutral, neutral)


@pytest.mark.parametrize("name", EMOTIONS)
def test_intensity_sweep_is_monotonic(name):
    one = np.eye(7)[EMOTIONS.index(name)]
    neutral = animate(SENTENCE, 3.0).frames.astype(np.float64)
    offsets = [animate(SENTENCE, 3.0, emotion=one * k).frames - neutral for k in np.linspace(0, 1, 11)]
    # Every channel the emotion moves moves one way only as intensity grows.
    deltas = np.diff(np.stack([o.mean(axis=0) for o in offsets]), axis=0)
    assert np.all((deltas >= -1e-6).all(axis=0) | (deltas <= 1e-6).all(axis=0))


def test_transition_of_0_3_s_never_jumps_more_than_0_1_per_frame_at_60_fps():
    neutral = animate(SENTENCE, 3.0, fps=60).frames.astype(np.float64)
    for name in EMOTIONS:
        track = EmotionTrack([EmotionKeyframe(0.0, np.zeros(7), 0.0),
                              EmotionKeyframe(1.0, np.eye(7)[EMOTIONS.index(name)], 0.3)])
        moving = animate(SENTENCE, 3.0, fps=60, emotion=track).frames
        assert np.abs(np.diff(moving - neutral, axis=0)).max() <= 0.1, name


def test_blend_of_two_emotions_shows_both():
    happy_surprised = np.zeros(7)
    happy_surprised[[EMOTIONS.index("happy"), EMOTIONS.index("surprise")]] = 0.7
    neutral = animate(SENTENCE, 3.0).frames
    mixed = animate(SENTENCE, 3.0, emotion=happy_surprised).frames
    assert facs_rule_holds("happy", neutral, mixed, margin=0.05)
    assert facs_rule_holds("surprise", neutral, mixed, margin=0.05)


def test_bad_fps_is_rejected():
    with pytest.raises(ValueError, match="fps"):
        animate(SENTENCE, 3.0, fps=0)


def test_style_energy_scales_articulation_and_smoothness_widens_it():
    from emobridge.animate import Style
    from emobridge.rig import ARKIT_INDEX

    jaw = ARKIT_INDEX["jawOpen"]
    base = animate(SENTENCE, 3.0, idle=False).frames[:, jaw]
    loud = animate(SENTENCE, 3.0, idle=False, style=Style(energy=1.0)).frames[:, jaw]
    smooth = animate(SENTENCE, 3.0, idle=False, style=Style(smoothness=1.0)).frames[:, jaw]
    assert loud.max() > 1.2 * base.max()
    assert np.abs(np.diff(smooth)).mean() < np.abs(np.diff(base)).mean()
    with pytest.raises(ValueError, match="energy"):
        Style(energy=2.0)


def test_idle_false_leaves_out_blinks_gaze_and_head():
    from emobridge.rig import ARKIT_INDEX

    anim = animate(SENTENCE, 3.0, idle=False, seed=1)
    assert not anim.frames[:, ARKIT_INDEX["eyeBlinkLeft"]].any() and not anim.head_rotation.any()
    assert animate(SENTENCE, 3.0, seed=1).head_rotation.any()
