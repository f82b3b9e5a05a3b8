"""emobridge.server.service against a real sidecar on localhost: equivalence with Bake, live emotion, faults, limits."""

from __future__ import annotations

import threading
import time
import urllib.request

import grpc
import numpy as np
import pytest

from emobridge.client import EmoBridgeClient, chunks_of, emotion_update, pcm16
from emobridge.rig.eyes import eye_rotations
from emobridge.wire import pb

FPS = 60.0


def _bake(client: EmoBridgeClient, audio: np.ndarray, keyframes=(), seed: int = 0):
    request = pb.BakeRequest(pcm=pb.PcmAudio(data=pcm16(audio), encoding=pb.AUDIO_ENCODING_PCM_S16LE,
                                             sample_rate=16000), fps=FPS, seed=seed)
    for t, emotion, transition in keyframes:
        request.emotion_keyframes.append(pb.EmotionUpdate(emotion=pb.Emotion(intensities=emotion), time_seconds=t,
                                                          transition_seconds=transition))
    response = client.bake_raw(request)
    assert response.meta.route == "model"
    return response.animation.frames


def _rotations(frames, field: str) -> np.ndarray:
    return np.array([[getattr(f, field).yaw, getattr(f, field).pitch, getattr(f, field).roll] for f in frames])


def _arrays(frames):
    """(weights, head, emotion, eyes [N, 6]: left then right yaw, pitch, roll)."""
    return (np.array([f.weights for f in frames]), _rotations(frames, "head"), np.array([f.emotion for f in frames]),
            np.concatenate([_rotations(frames, "left_eye"), _rotations(frames, "right_eye")], axis=1))


def _assert_same(streamed, baked):
    assert [f.index for f in streamed] == list(range(len(baked)))
    for a, b in zip(_arrays(streamed), _arrays(baked), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


def _raw_animate(address: str, messages: list[bytes], timeout: float = 10):
    """Send raw request bytes (possibly malformed) and return (responses, error)."""
    with grpc.insecure_channel(address) as channel:
        call = channel.stream_stream("/emobridge.v1.EmoBridge/Animate", request_serializer=None,
                                     response_deserializer=pb.AnimateResponse.FromString)
        responses = []
        try:
            for r in call(iter(messages), timeout=timeout):
                responses.append(r)
        except grpc.RpcError as err:
            return responses, err
        return responses, None


def _config(**kw) -> pb.AnimateRequest:
    base = {"sample_rate": 16000, "encoding": pb.AUDIO_ENCODING_PCM_S16LE, "fps": FPS}
    base.update(kw)
    return pb.AnimateRequest(config=pb.StreamConfig(**base))


def _audio(data: bytes) -> pb.AnimateRequest:
    return pb.AnimateRequest(audio=pb.AudioChunk(data=data))


END = pb.AnimateRequest(end_of_audio=pb.EndOfAudio())


def test_stream_equals_bake_with_emotion_keyframes(server, speech):
    with EmoBridgeClient(server.address, timeout=30) as client:
        items = [emotion_update({"angry": 0.8}, transition_seconds=0.2, time_seconds=0.5)] + chunks_of(speech)
        stream = client.stream(items, fps=FPS, seed=7, emotion={"happy": 0.6})
        streamed = list(stream)
        baked = _bake(client, speech, [(0.0, {"happy": 0.6}, 0.0), (0.5, {"angry": 0.8}, 0.2)], seed=7)
    assert stream.header.fps == FPS and len(stream.header.blendshape_names) == 52 and stream.header.lookahead_ms == 40
    assert stream.end.reason == pb.END_REASON_END_OF_AUDIO and stream.end.frames_sent == len(streamed) == 96
    assert stream.end.audio_seconds == pytest.approx(1.6)
    _assert_same(streamed, baked)
    weights, _, emotion, eyes = _arrays(streamed)
    np.testing.assert_allclose(eyes, np.concatenate(eye_rotations(weights), axis=1), atol=1e-6)
    assert np.abs(eyes).max() > 0.005  # the gaze moves the eye rotations as well as the eyeLook shapes
    assert emotion[29, 0] == pytest.approx(0.6) and emotion[-1, 2] > 0.75  # happy held, then angry blended in
    assert server.wait_idle()


def test_live_emotion_update_blends_in_from_the_frame_it_arrives(server, speech):
    received = threading.Event()
    seen = []
    chunks = chunks_of(speech)

    def items():
        yield from chunks[:40]
        assert received.wait(10)
        yield emotion_update({"happy": 1.0}, transition_seconds=0.3)
        yield from chunks[40:]

    with EmoBridgeClient(server.address, timeout=30) as client:
        for frame in client.stream(items(), fps=FPS):
            seen.append(frame)
            if len(seen) == 20:
                received.set()
    happy = _arrays(seen)[2][:, 0]
    start = int(np.argmax(happy > 0))
    assert start >= 20, "frames sent before the update arrived keep the old emotion"
    assert np.all(happy[:start] == 0)
    assert np.all(np.diff(happy[start:]) >= -1e-6) and np.max(np.diff(happy)) < 0.25  # smooth, no pop
    assert happy[start + int(0.3 * FPS) + 1] >= 0.9 and happy.max() <= 1.0  # 90 % within its transition


def test_client_disconnect_frees_its_slot_and_other_streams_are_unaffected(server, speech):
    assert server.wait_idle()
    hold = threading.Event()
    chunks = chunks_of(speech)

    def endless():
        yield from chunks[:30]
        hold.wait(20)

    with EmoBridgeClient(server.address, timeout=30) as client:
        doomed = client.stream(endless())
        got = []
        for frame in doomed:
            got.append(frame)
            if len(got) == 5:
                break
        assert server.active() == 1
        result = {}
        other = threading.Thread(target=lambda: result.setdefault("frames", list(client.stream(chunks, seed=1))))
        other.start()
        doomed.cancel()
        deadline = time.monotonic() + 5
        while server.active() > 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        other.join(20)
        hold.set()
        assert server.wait_idle(), "the vanished client's session must be freed"
        _assert_same(result["frames"], _bake(client, speech, seed=1))


@pytest.mark.parametrize(("messages", "code", "words"), [
    ([b"\xff\xff\xff"], grpc.StatusCode.INVALID_ARGUMENT, "malformed"),
    ([pb.AnimateRequest().SerializeToString()], grpc.StatusCode.INVALID_ARGUMENT, "config missing"),
    ([], grpc.StatusCode.INVALID_ARGUMENT, "closed before its StreamConfig"),
    ([_audio(b"\0\0" * 320).SerializeToString()], grpc.StatusCode.INVALID_ARGUMENT, "audio before config"),
    ([_config(sample_rate=12345).SerializeToString()], grpc.StatusCode.INVALID_ARGUMENT, "sample_rate 12345"),
    ([_config(sample_rate=0).SerializeToString()], grpc.StatusCode.INVALID_ARGUMENT, "sample_rate is not set"),
    ([_config(encoding=0).SerializeToString()], grpc.StatusCode.INVALID_ARGUMENT, "encoding"),
    ([_config(fps=1e6).SerializeToString()], grpc.StatusCode.INVALID_ARGUMENT, "fps"),
    ([_config(initial_emotion=pb.Emotion(intensities={"smug": 1})).SerializeToString()],
     grpc.StatusCode.INVALID_ARGUMENT, "unknown emotion 'smug'"),
    ([_config(initial_emotion=pb.Emotion(intensities={"happy": float("nan")})).SerializeToString()],
     grpc.StatusCode.INVALID_ARGUMENT, "finite"),
    ([_config().SerializeToString(), _config().SerializeToString()], grpc.StatusCode.INVALID_ARGUMENT,
     "config duplicated"),
    ([_config().SerializeToString(), _audio(b"\0" * 100_000).SerializeToString()], grpc.StatusCode.RESOURCE_EXHAUSTED,
     "max_chunk_bytes"),
    ([_config().SerializeToString(), _audio(b"\0\0\0").SerializeToString()], grpc.StatusCode.INVALID_ARGUMENT,
     "whole number"),
    ([_config().SerializeToString(), b"\x1a\x05\xff"], grpc.StatusCode.INVALID_ARGUMENT, "malformed"),
    ([_config().SerializeToString(), pb.AnimateRequest(emotion=pb.EmotionUpdate(
        emotion=pb.Emotion(intensities={"happy": 0.5}), transition_seconds=float("nan"))).SerializeToString()],
     grpc.StatusCode.INVALID_ARGUMENT, "transition_seconds"),
    ([_config().SerializeToString(), END.SerializeToString(), _audio(b"\0\0").SerializeToString()],
     grpc.StatusCode.INVALID_ARGUMENT, "after EndOfAudio"),
    ([_config(livelink=pb.LiveLinkTarget(host="10.0.0.1")).SerializeToString()], grpc.StatusCode.PERMISSION_DENIED,
     "allow-stream-livelink"),
])
def test_bad_input_gets_a_clear_status_and_leaks_nothing(server, messages, code, words):
    _, err = _raw_animate(server.address, messages)
    assert err is not None and err.code() == code, err
    assert words in err.details()
    assert server.wait_idle()
    with EmoBridgeClient(server.address, timeout=10) as client:
        assert client.info().limits.active_streams == 0


def test_flooding_sender_is_throttled_by_flow_control_and_memory_stays_bounded(server, speech):
    assert server.wait_idle()
    long_audio = np.tile(speech, 12)  # 19 s sent as fast as possible (far beyond 10x real time)
    limits = server.service.limits
    peak = {"pending": 0, "outbox": 0}
    # No BDP probing: the receive window stays at 64 KiB, so an idle reader really pushes back.
    with EmoBridgeClient(server.address, timeout=60, options=[("grpc.http2.bdp_probe", 0)]) as client:
        stream = client.stream(chunks_of(long_audio), seed=2)
        frames = iter(stream)
        first = [next(frames)]
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # the client reads nothing for a second
            for s in list(server.service.active.values()):
                peak["pending"] = max(peak["pending"], len(s.pending))
                peak["outbox"] = max(peak["outbox"], len(s.outbox))
                paused_at = s.bytes_in
            time.sleep(0.005)
        assert paused_at < len(pcm16(long_audio)), "the server stopped reading while the client stopped reading"
        rest = first + list(frames)
        baked = _bake(client, long_audio, seed=2)
    assert peak["pending"] <= limits.max_pending_seconds * 100 + 4
    assert peak["outbox"] <= limits.max_outbound_frames + 4
    _assert_same(rest, baked)


def test_ten_times_real_time_sender_gets_every_frame(server, speech):
    def paced():
        for chunk in chunks_of(speech):
            time.sleep(0.002)  # 20 ms of audio every 2 ms
            yield chunk

    with EmoBridgeClient(server.address, timeout=30) as client:
        frames = list(client.stream(paced(), seed=4))
        _assert_same(frames, _bake(client, speech, seed=4))


def test_max_streams_is_resource_exhausted_and_the_slot_comes_back(make_server, speech):
    from emobridge.server import Limits

    srv = make_server(limits=Limits(max_streams=2))
    hold = threading.Event()

    def held():
        yield from chunks_of(speech)[:10]
        hold.wait(20)

    with EmoBridgeClient(srv.address, timeout=30) as client:
        open_streams = [iter(client.stream(held())) for _ in range(2)]
        for s in open_streams:
            next(s)
        assert srv.active() == 2
        with pytest.raises(grpc.RpcError) as err:
            list(client.stream(chunks_of(speech)))
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "max-streams" in err.value.details()
        hold.set()
        for s in open_streams:
            list(s)
        assert srv.wait_idle()
        assert len(list(client.stream(chunks_of(speech)))) == 96


def test_shutdown_ends_live_streams_cleanly(make_server, speech):
    srv = make_server()
    hold = threading.Event()
    results = []

    def held():
        yield from chunks_of(speech)[:40]
        hold.wait(20)

    def run(client):
        stream = client.stream(held())
        try:
            frames = list(stream)
            results.append(("ok", len(frames), stream.end))
        except grpc.RpcError as err:
            results.append((err.code(), 0, None))

    with EmoBridgeClient(srv.address, timeout=30) as client:
        threads = [threading.Thread(target=run, args=(client,)) for _ in range(3)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while (srv.active() < 3 or any(s.frames_sent == 0 for s in srv.service.active.values())) \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        srv.stop(grace=3)
        for t in threads:
            t.join(10)
        hold.set()
    assert len(results) == 3
    for outcome, n, end in results:
        assert outcome == "ok" and n > 0
        assert end.reason == pb.END_REASON_SERVER_SHUTDOWN and end.frames_sent == n and "shutting down" in end.message
    assert not srv.service.active and srv.service.slots == 0
    assert not srv.service.scheduler.sessions


def test_bake_rejects_bad_requests(server):
    with EmoBridgeClient(server.address, timeout=10) as client:
        for request, words in [
            (pb.BakeRequest(), "no audio"),
            (pb.BakeRequest(pcm=pb.PcmAudio(data=b"\0\0", sample_rate=16000)), "encoding"),
            (pb.BakeRequest(file=b"not audio"), "cannot decode"),
            (pb.BakeRequest(pcm=pb.PcmAudio(data=b"\0\0" * 100, encoding=1, sample_rate=16000), fps=-1), "fps"),
        ]:
            with pytest.raises(grpc.RpcError) as err:
                client.bake_raw(request)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and words in err.value.details()


def test_get_info_health_reflection_and_metrics(server, speech):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    with EmoBridgeClient(server.address, timeout=10) as client:
        info = client.info()
        list(client.stream(chunks_of(speech[:8000])))
    assert len(info.blendshape_names) == 52 and info.emotion_names[0] == "happy" and info.device == "cpu"
    assert info.limits.max_streams == 6 and 16000 in info.limits.sample_rates and info.lookahead_ms == 40
    assert "CPUExecutionProvider" in info.providers and "joy" in info.emotion_aliases
    with grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", "emobridge.v1.EmoBridge"):
            assert health.Check(health_pb2.HealthCheckRequest(service=name)).status == health_pb2.HealthCheckResponse.SERVING
        refl = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = list(refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
        names = {s.name for s in answers[0].list_services_response.service}
        assert {"emobridge.v1.EmoBridge", "grpc.health.v1.Health"} <= names
    text = urllib.request.urlopen(f"http://127.0.0.1:{server.server.metrics_port}/metrics", timeout=5).read().decode()
    assert "emobridge_streams 0" in text
    assert 'emobridge_frame_latency_seconds_bucket{le="+Inf"}' in text and "emobridge_batch_size_count" in text


def test_stream_livelink_target_gets_the_frames_as_live_link_packets(make_server, speech):
    import socket

    from emobridge.livelink import decode_packet

    srv = make_server(allow_stream_livelink=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    port = sock.getsockname()[1]
    try:
        with EmoBridgeClient(srv.address, timeout=30) as client:
            frames = list(client.stream(chunks_of(speech), livelink={"host": "127.0.0.1", "port": port,
                                                                     "subject": "npc1", "device_id": "dev"}))
        packets = [decode_packet(sock.recv(2048)) for _ in frames]
    finally:
        sock.close()
    assert {p.subject for p in packets} == {"npc1"} and {p.device_id for p in packets} == {"dev"}
    np.testing.assert_allclose([p.weights for p in packets], [f.weights for f in frames], atol=1e-6)
    numbers = [p.frame_time.frame for p in packets]
    assert np.all(np.diff(numbers) == 1) and packets[0].frame_time.rate == 60


def test_config_timeout_and_client_deadline_free_the_slot(make_server, speech):
    from emobridge.server import Limits

    srv = make_server(limits=Limits(config_timeout_s=0.3))
    hold = threading.Event()

    def silent():
        hold.wait(10)
        yield from ()

    with grpc.insecure_channel(srv.address) as channel:
        call = channel.stream_stream("/emobridge.v1.EmoBridge/Animate", request_serializer=None,
                                     response_deserializer=pb.AnimateResponse.FromString)
        with pytest.raises(grpc.RpcError) as err:
            list(call(silent(), timeout=10))
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED and "no StreamConfig" in err.value.details()
    hold.set()
    assert srv.wait_idle()

    hold2 = threading.Event()

    def stalls():
        yield from chunks_of(speech)[:10]
        hold2.wait(10)

    with EmoBridgeClient(srv.address, timeout=0.5) as client:
        with pytest.raises(grpc.RpcError) as err:
            list(client.stream(stalls()))
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert srv.wait_idle(), "a stream past its deadline leaves no session behind"
    hold2.set()


def test_server_wide_livelink_target_and_style_updates(make_server, speech):
    import socket

    from emobridge.client import style_update
    from emobridge.livelink import decode_packet
    from emobridge.server import LiveLinkDefault

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    srv = make_server(livelink=LiveLinkDefault("127.0.0.1", sock.getsockname()[1], "crowd"))
    try:
        chunks = chunks_of(speech)
        with EmoBridgeClient(srv.address, timeout=30) as client:
            plain = list(client.stream(chunks, fps=30))
            styled = list(client.stream(chunks[:30] + [style_update(energy=1.0)] + chunks[30:], fps=30))
        packets = [decode_packet(sock.recv(2048)) for _ in range(len(plain) + len(styled))]
    finally:
        sock.close()
    assert {p.subject for p in packets} == {"crowd"} and packets[0].frame_time.rate == 30
    a, b = _arrays(plain)[0], _arrays(styled)[0]
    # The style acts on the steps over audio sent after it: from 0.6 s - lookahead, frame 16 at 30 fps.
    np.testing.assert_allclose(a[:16], b[:16], atol=1e-6)
    assert np.abs(a - b).max() > 1e-3


def test_a_stream_past_its_longest_duration_ends_with_max_duration(make_server, speech):
    from emobridge.server import Limits

    srv = make_server(limits=Limits(max_stream_seconds=0.5))
    with EmoBridgeClient(srv.address, timeout=30) as client:
        stream = client.stream(chunks_of(speech))
        frames = list(stream)
    assert stream.end.reason == pb.END_REASON_MAX_DURATION and "limited" in stream.end.message
    assert stream.end.audio_seconds == pytest.approx(0.52) and len(frames) == stream.end.frames_sent == 31
    assert srv.wait_idle()


def test_rig_profile_renames_the_stream_and_the_bake(server, speech):
    from emobridge.rig.profile import load_profile

    ict = load_profile("ict_facekit")
    pcm = (np.clip(speech[:16000], -1, 1) * 32767).astype("<i2").tobytes()
    plain, _ = _raw_animate(server.address, [m.SerializeToString() for m in
                                             [_config(), _audio(pcm), END]])
    rigged, err = _raw_animate(server.address, [m.SerializeToString() for m in
                                                [_config(rig_profile="ict_facekit"), _audio(pcm), END]])
    assert err is None and tuple(rigged[0].header.blendshape_names) == ict.shape_names
    arkit = np.array([r.frame.weights for r in plain if r.HasField("frame")])
    rig = np.array([r.frame.weights for r in rigged if r.HasField("frame")])
    assert rig.shape == (len(arkit), 53) and np.allclose(rig, ict.apply(arkit), atol=1e-6)
    with EmoBridgeClient(server.address, timeout=30) as client:
        info = client.info()
        baked = client.bake_raw(pb.BakeRequest(pcm=pb.PcmAudio(data=pcm, encoding=1, sample_rate=16000),
                                               rig_profile="vrm_perfect_sync"))
        assert "ict_facekit" in info.rig_profiles and baked.animation.blendshape_names[0] == "EyeBlinkLeft"
        with pytest.raises(grpc.RpcError) as bad:
            client.bake_raw(pb.BakeRequest(pcm=pb.PcmAudio(data=pcm, encoding=1, sample_rate=16000), rig_profile="nope"))
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "rig_profile" in bad.value.details()


def test_bake_can_recognise_words_to_seal_the_lips(server):
    import json
    from pathlib import Path

    hello = Path(__file__).resolve().parents[3] / "examples" / "hello.wav"
    with EmoBridgeClient(server.address, timeout=60) as client:
        plain = client.bake_raw(pb.BakeRequest(file=hello.read_bytes()))
        recognized = client.bake_raw(pb.BakeRequest(file=hello.read_bytes(), recognize_words=True))
    assert plain.meta.route == recognized.meta.route == "model"
    assert "recognized" not in json.loads(plain.meta.meta_json)
    assert "map" in json.loads(recognized.meta.meta_json)["recognized"].split()


def test_concurrent_bakes_run_on_a_bounded_pool_and_all_finish(make_server, speech, monkeypatch):
    import emobridge.bake
    from emobridge.server import Limits

    real_bake, running, seen = emobridge.bake.bake, [0], {"threads": set(), "most": 0}
    lock = threading.Lock()

    def counting_bake(**kwargs):
        with lock:
            running[0] += 1
            seen["most"] = max(seen["most"], running[0])
            seen["threads"].add(threading.current_thread().name)
        try:
            time.sleep(0.1)  # long enough for the other calls to arrive while this one runs
            return real_bake(**kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(emobridge.bake, "bake", counting_bake)
    srv = make_server(limits=Limits(max_concurrent_bakes=2))
    results = []

    def one() -> None:
        with EmoBridgeClient(srv.address, timeout=60) as client:
            results.append(len(_bake(client, speech)))

    callers = [threading.Thread(target=one) for _ in range(5)]
    for t in callers:
        t.start()
    for t in callers:
        t.join(60)
    assert len(results) == 5 and len(set(results)) == 1
    assert seen["most"] == 2 and len(seen["threads"]) == 2
    assert all(name.startswith("emobridge-bake") for name in seen["threads"])
