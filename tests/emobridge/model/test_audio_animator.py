import numpy as np
import pytest

from emobridge.animate import Style
from emobridge.emotion import EmotionKeyframe, EmotionTrack
from emobridge.model import AudioAnimator, FaceModel
from emobridge.model.audio_animator import resample_frames


def test_output_contract_and_fps(tiny_model_dir):
    animator = AudioAnimator(FaceModel(tiny_model_dir, device="cpu"))
    audio = (0.05 * np.random.default_rng(0).standard_normal(24000)).astype(np.float32)
    anim = animator.animate(audio, fps=30, emotion=np.eye(7)[0], seed=3, style=Style(energy=0.5))
    assert anim.frames.shape == (45, 52) and anim.frames.min() >= 0 and anim.frames.max() <= 1
    assert anim.head_rotation.shape == (45, 3) and anim.emotion.shape == (45, 7)
    assert anim.meta["generator"] == "model"


def test_emotion_track_reaches_the_model(tiny_model_dir):
    animator = AudioAnimator(FaceModel(tiny_model_dir, device="cpu"))
    audio = (0.05 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    track = EmotionTrack([EmotionKeyframe(0, np.zeros(7), 0), EmotionKeyframe(1.0, np.eye(7)[2], 0.2)])
    moving = animator.animate(audio, emotion=track, idle=False).frames
    still = animator.animate(audio, idle=False).frames
    assert np.allclose(moving[:50], still[:50], atol=1e-6) and not np.allclose(moving[-20:], still[-20:])


def test_bad_mouth_preservation(tiny_model_dir):
    with pytest.raises(ValueError, match="mouth_preservation"):
        AudioAnimator(FaceModel(tiny_model_dir, device="cpu")).animate(np.zeros(1600, np.float32),
                                                                      mouth_preservation=3)


def test_resample_frames_is_linear_interpolation():
    src = np.stack([np.arange(11.0), np.zeros(11)], axis=1)
    out = resample_frames(src, 100.0, 6, 60.0)
    np.testing.assert_allclose(out[:, 0], np.arange(6) * 100 / 60)
