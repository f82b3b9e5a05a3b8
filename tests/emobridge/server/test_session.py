"""emobridge.server.session: config validation, emotion timeline, and equality with the offline bake."""

from __future__ import annotations

import numpy as np
import pytest

from emobridge.emotion import EmotionTrack
from emobridge.emotion.space import parse_emotion
from emobridge.emotion.track import EmotionKeyframe
from emobridge.model import FaceModel
from emobridge.model.output import to_arkit
from emobridge.server.session import EmotionTimeline, Limits, Session, SessionError
from emobridge.wire import pb


def _drive(session: Session, model: FaceModel, sink: list | None = None) -> None:
    """Step the session alone; with ``sink`` the outbox is drained into it (as the service's writer does)."""
    while True:
        if sink is not None:
            sink.extend(session.outbox)
            session.outbox.clear()
        if not session.ready():
            break
        x = session.take_step()
        face, state = model.step(x.mel[None], x.cond[None], session.state[None])
        session.accept_step(to_arkit(face[0]), state[0], x.arrival)


def _config(**kw):
    base = {"sample_rate": 16000, "encoding": pb.AUDIO_ENCODING_PCM_S16LE, "fps": 60.0}
    base.update(kw)
    return pb.StreamConfig(**base)


def test_emotion_timeline_replays_the_track_as_keyframes_arrive():
    happy, angry, sad = parse_emotion({"happy": 0.6}), parse_emotion({"angry": 1.0}), parse_emotion({"sad": 0.5})
    track = EmotionTrack([EmotionKeyframe(0.0, happy, 0.0), EmotionKeyframe(0.31, angry, 0.4),
                          EmotionKeyframe(0.5, sad, 0.2)])
    expected = track.sample(90, 60.0)
    timeline = EmotionTimeline(happy, 60.0)
    timeline.add(0.31, angry, 0.4)
    got = [timeline.at(i) for i in range(25)]
    timeline.add(0.5, sad, 0.2)  # arrives later, still ahead of the frames asked for
    got += [timeline.at(i) for i in range(25, 90)]
    np.testing.assert_array_equal(np.array(got), expected)


@pytest.mark.parametrize("chunk", [320, 1000, 7])
@pytest.mark.parametrize("fps", [60.0, 30.0, 100.0, 24.0])
def test_session_output_equals_the_offline_bake(tiny_model_dir, speech, chunk, fps):
    from emobridge.bake import bake

    model = FaceModel(tiny_model_dir, device="cpu")
    config = _config(fps=fps, seed=5, initial_emotion=pb.Emotion(intensities={"sad": 0.4}), mouth_preservation=0.8)
    session = Session.from_config(config, model, Limits())
    pcm = (speech * 32767).round().astype("<i2").tobytes()
    frames: list = []
    for i in range(0, len(pcm), 2 * chunk):
        session.push_audio(pcm[i:i + 2 * chunk])
        _drive(session, model, frames)
    session.end_audio()
    _drive(session, model, frames)
    assert session.done and not session.ready()
    audio = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0
    anim = bake(audio, emotion=EmotionTrack.constant(parse_emotion({"sad": 0.4})), mouth_preservation=0.8, fps=fps,
                seed=5, model_dir=tiny_model_dir, device="cpu")
    assert anim.meta["route"] == "model"
    assert [f.index for f in frames] == list(range(len(anim.frames)))
    np.testing.assert_allclose(np.array([f.weights for f in frames]), anim.frames, atol=1e-4)
    np.testing.assert_allclose(np.array([f.head for f in frames]), anim.head_rotation, atol=1e-6)
    np.testing.assert_allclose(np.array([f.emotion for f in frames]), anim.emotion, atol=1e-6)


def test_frames_wait_for_the_lookahead_and_no_more(tiny_model_dir):
    model = FaceModel(tiny_model_dir, device="cpu")
    session = Session.from_config(_config(fps=100.0), model, Limits())
    session.push_audio(b"\0\0" * 1600)  # 100 ms = 10 mel frames
    _drive(session, model)
    # 10 mel frames heard, lookahead 4: face frames 0..5 exist, so output frames 0..5 at 100 fps.
    assert [f.index for f in session.outbox] == list(range(6))


def test_config_validation_messages(tiny_model_dir):
    model = FaceModel(tiny_model_dir, device="cpu")
    cases = [
        (_config(sample_rate=11111), "sample_rate 11111"),
        (_config(encoding=0), "encoding"),
        (_config(channels=99), "channels"),
        (_config(fps=float("nan")), "fps"),
        (_config(mouth_preservation=2.0), "mouth_preservation"),
        (_config(style=pb.Style(energy=3.0)), "energy"),
        (_config(rig_profile="gorilla"), "rig_profile"),
        (_config(initial_emotion=pb.Emotion(valence=0.5)), "valence and arousal"),
        (_config(initial_emotion=pb.Emotion(intensities={"happy": 1.5})), "0..1"),
    ]
    for config, words in cases:
        with pytest.raises(SessionError) as err:
            Session.from_config(config, model, Limits())
        assert err.value.code == "INVALID_ARGUMENT" and words in str(err.value), str(err.value)


def test_buffers_are_bounded_and_the_duration_limit_ends_the_stream(tiny_model_dir):
    model = FaceModel(tiny_model_dir, device="cpu")
    session = Session.from_config(_config(), model, Limits(max_pending_seconds=0.1, max_stream_seconds=0.5))
    session.push_audio(b"\0\0" * 3200)
    assert not session.inbound_room()  # 20 pending mel frames > 0.1 s: the reader must wait
    with pytest.raises(SessionError) as err:
        session.push_audio(b"\0" * 70000)
    assert err.value.code == "RESOURCE_EXHAUSTED"
    session.push_audio(b"\0\0" * 6400)
    assert session.ended and session.end_reason == 3 and "limited" in session.end_message


def test_other_sample_rates_and_channels_are_resampled_and_mixed(tiny_model_dir, speech):
    from emobridge.audio import resample

    model = FaceModel(tiny_model_dir, device="cpu")
    session = Session.from_config(_config(sample_rate=48000, channels=2, encoding=pb.AUDIO_ENCODING_PCM_F32LE),
                                  model, Limits())
    audio48 = resample(speech[:16000], 16000, 48000)
    stereo = np.stack([audio48, audio48], axis=1).astype("<f4")
    frames: list = []
    for i in range(0, len(stereo), 960):  # 20 ms chunks
        session.push_audio(stereo[i:i + 960].tobytes())
        _drive(session, model, frames)
    session.end_audio()
    _drive(session, model, frames)
    assert session.audio_seconds == pytest.approx(1.0) and len(frames) == 60
