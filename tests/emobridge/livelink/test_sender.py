"""emobridge.livelink.sender: frames over real UDP on localhost, advancing frame numbers at the rate sent."""

from __future__ import annotations

import datetime as dt
import re
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from emobridge.animation import Animation
from emobridge.livelink import FrameTime, LiveLinkSender, decode_packet
from emobridge.livelink.sender import frame_of_day, resample
from emobridge.rig.eyes import eye_rotations


@pytest.fixture
def receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5.0)
    yield sock
    sock.close()


def receive(sock: socket.socket, n: int) -> list:
    return [decode_packet(sock.recvfrom(2048)[0]) for _ in range(n)]


def animation(n: int, fps: float, seed: int = 0) -> Animation:
    rng = np.random.default_rng(seed)
    head = np.stack([np.linspace(0, 0.2, n), np.zeros(n), np.linspace(0, -0.1, n)], axis=1)
    return Animation(fps=fps, frames=rng.random((n, 52)).astype(np.float32), head_rotation=head)


def test_frames_reach_a_real_udp_socket(receiver):
    port = receiver.getsockname()[1]
    frames = np.random.default_rng(3).random((5, 52)).astype(np.float32)
    with LiveLinkSender("127.0.0.1", port, subject="Ada", device_id="emobridge-test", fps=60, start_frame=1000) as s:
        sent = [s.send(f, head=[0.1, 0.0, 0.0]) for f in frames]
        assert s.sent == 5 and s.dropped == 0
    got = receive(receiver, 5)
    assert [decode_packet(p).frame_time.frame for p in sent] == [p.frame_time.frame for p in got]
    assert [p.frame_time.frame for p in got] == [1000, 1001, 1002, 1003, 1004]
    for packet, weights in zip(got, frames, strict=True):
        assert packet.subject == "Ada" and packet.device_id == "emobridge-test"
        assert (packet.frame_time.rate_numerator, packet.frame_time.rate_denominator) == (60, 1)
        assert packet.frame_time.subframe == 0.0
        assert np.array_equal(packet.weights, weights)
        assert packet.head[0] == pytest.approx(0.1)


def test_animation_is_resampled_and_numbered_at_the_senders_rate(receiver):
    port = receiver.getsockname()[1]
    anim = animation(15, fps=30)  # 0.5 s
    with LiveLinkSender("127.0.0.1", port, fps=60, start_frame=0) as sender:
        assert sender.send_animation(anim) == 30
    got = receive(receiver, 30)
    numbers = [p.frame_time.frame for p in got]
    assert numbers == list(range(30))  # one frame number per packet at the 60 fps sent
    assert all(p.frame_time.seconds == pytest.approx(i / 60) for i, p in enumerate(got))
    # Even packets sit on the 30 fps source frames; odd ones halfway between two.
    for i in range(0, 28, 2):
        np.testing.assert_allclose(got[i].weights, anim.frames[i // 2], atol=1e-6)
        np.testing.assert_allclose(got[i + 1].weights, (anim.frames[i // 2] + anim.frames[i // 2 + 1]) / 2, atol=1e-6)
    np.testing.assert_allclose(got[2].head, anim.head_rotation[1], atol=1e-6)
    left, right = eye_rotations(anim.frames[1])  # the eyes follow the frame's eyeLook weights
    np.testing.assert_allclose([got[2].left_eye, got[2].right_eye], [left, right], atol=1e-6)
    assert np.abs(left).max() > 0.01


def test_ntsc_rate_and_time_coded_frames(receiver):
    port = receiver.getsockname()[1]
    with LiveLinkSender("127.0.0.1", port, fps=29.97, start_frame=500) as sender:
        for index in (0, 1, 2, 10):
            sender.send(np.zeros(52), time_seconds=index * 1001 / 30000)
        sender.send(np.zeros(52))  # no time: the frame after the last one
    got = receive(receiver, 5)
    assert [p.frame_time.frame for p in got] == [500, 501, 502, 510, 511]
    assert {(p.frame_time.rate_numerator, p.frame_time.rate_denominator) for p in got} == {(30000, 1001)}


def test_realtime_pacing_follows_the_frame_rate():
    """Frame i leaves at start + i / fps: checked with a fake clock, so it holds on a loaded machine too."""
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    with LiveLinkSender("127.0.0.1", 9, fps=50, start_frame=0) as sender:  # port 9: discard
        sender.send_animation(animation(10, fps=50), realtime=True, clock=lambda: now[0], sleep=sleep)
        assert sender.next_index == 10
    assert waits == pytest.approx([1 / 50] * 9)


def test_realtime_send_really_takes_the_clip_duration(receiver):
    port = receiver.getsockname()[1]
    with LiveLinkSender("127.0.0.1", port, fps=60, start_frame=0) as sender:
        start = time.monotonic()
        sender.send_animation(animation(12, fps=60), realtime=True)
        elapsed = time.monotonic() - start
    assert elapsed >= 11 / 60 - 0.005
    assert [p.frame_time.frame for p in receive(receiver, 12)] == list(range(12))


def test_default_identity_and_timecode():
    with LiveLinkSender("127.0.0.1", 9, fps=60) as sender:
        assert re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}", sender.device_id)
        assert sender.subject == "emobridge"
        expected = frame_of_day(60)
        assert abs(sender.origin_frame - expected) <= 60 * 2  # within two seconds of local time of day
    assert frame_of_day(60, dt.datetime(2024, 1, 1, 1, 0, 0, 500000)) == 3600 * 60 + 30
    assert frame_of_day(30000 / 1001, dt.datetime(2024, 1, 1, 0, 0, 10)) == 299


def test_bad_settings_fail_at_construction():
    with pytest.raises(ValueError, match="UTF-8 bytes"):
        LiveLinkSender("127.0.0.1", 11111, subject="x" * 600)
    with pytest.raises(ValueError, match="port"):
        LiveLinkSender("127.0.0.1", 0)
    with pytest.raises(ValueError, match="resolve"):
        LiveLinkSender("no-such-host.invalid", 11111)


def test_frame_time_of_next_frame():
    with LiveLinkSender("127.0.0.1", 9, fps=60, start_frame=10) as sender:
        assert sender.frame_time() == FrameTime(10, 0.0, 60, 1)
        sender.packet(np.zeros(52))
        assert sender.frame_time().frame == 11
        assert sender.frame_time(1.0).frame == 70


def test_resample():
    values = np.arange(6, dtype=np.float64).reshape(3, 2)
    assert resample(values, 30, 30) is values
    np.testing.assert_allclose(resample(values, 30, 60), [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [4, 5]])
    np.testing.assert_allclose(resample(np.arange(8.0).reshape(4, 2), 60, 30), [[0, 1], [4, 5]])


def test_livelink_does_not_need_grpc():
    code = "import sys, emobridge.livelink; print('grpc' in sys.modules, 'emobridge.wire' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
