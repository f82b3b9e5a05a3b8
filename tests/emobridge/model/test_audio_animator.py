import numpy as np
import pytest

from emobridge.animate import Style
from emobridge.animate.coarticulation import tuning
from emobridge.emotion import EmotionKeyframe, EmotionTrack
from emobridge.model import AudioAnimator, FaceModel
from emobridge.model.audio_animator import resample_frames
from emobridge.phonetics import Phone
from emobridge.rig import ARKIT_INDEX


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


def test_recognized_phones_seal_their_bilabials_and_rest_the_jaw_in_their_pauses():
    animator = AudioAnimator(FaceModel(device="cpu"))  # the bundled model: a trained jaw, never saturated
    audio = (0.05 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    phones = [Phone("SIL", 0.0, 0.8), Phone("AA", 0.8, 1.0), Phone("M", 1.0, 1.2), Phone("AA", 1.2, 1.4),
              Phone("SIL", 1.4, 2.0)]

    def take(emotion=None, recognized=None):
        return animator.animate(audio, fps=100, emotion=emotion, idle=False, recognized_phones=recognized).frames

    plain, sealed = take(), take(recognized=phones)
    close, jaw = ARKIT_INDEX["mouthClose"], ARKIT_INDEX["jawOpen"]
    ratio = tuning()["closure"]["seal_ratio"]
    assert np.allclose(sealed[105:115, close], ratio * sealed[105:115, jaw], atol=1e-5)  # the recognised M seals
    assert not np.allclose(plain[105:115, close], ratio * plain[105:115, jaw], atol=1e-5)
    assert np.allclose(sealed[:60, jaw], 0.0) and plain[:60, jaw].max() > 0.05  # the jaw rests in the pause
    others = [c for c in range(52) if c not in (close, jaw)]
    assert np.allclose(sealed[:, others], plain[:, others])                     # the rest of the face is the model's
    assert np.allclose(take(recognized=[]), plain)
    # An emotion's own jaw stays in the pause; only the part the neutral take opens for the sound rests.
    surprise = np.eye(7)[5]
    moved = take(surprise)[:60, jaw]
    assert moved.mean() > plain[:60, jaw].mean() + 0.05
    assert np.allclose(take(surprise, phones)[:60, jaw], np.maximum(moved - plain[:60, jaw], 0), atol=1e-5)
