"""emobridge.livelink.packet: Live Link Face v6 bytes, checked against the layout and an independent decoder."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from emobridge.livelink import (
    CURVE_COUNT,
    CURVE_NAMES,
    MAX_PACKET_BYTES,
    FrameTime,
    LiveLinkPacketError,
    decode_packet,
    encode_curves,
    encode_packet,
    frame_rate,
)
from emobridge.rig import ARKIT_NAMES, pascal_name

UUID = "8E2C4F3A-1B7D-4C55-9A0E-2F6B8D1C3E7F"


def weights_for(seed: int = 0) -> np.ndarray:
    w = np.random.default_rng(seed).random(52)
    w[:3] = [0.0, 1.0, 1e-7]  # the edges and a denormal-ish small value survive too
    return w


def test_curve_names_follow_unreal_order():
    assert CURVE_COUNT == 61
    assert CURVE_NAMES[:52] == tuple(pascal_name(n) for n in ARKIT_NAMES)
    assert CURVE_NAMES[0] == "EyeBlinkLeft" and CURVE_NAMES[17] == "JawOpen" and CURVE_NAMES[51] == "TongueOut"
    assert CURVE_NAMES[52:] == ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                                "RightEyeYaw", "RightEyePitch", "RightEyeRoll")


def test_bytes_follow_the_layout_exactly():
    w = weights_for()
    head, left, right = [0.1, -0.2, 0.05], [0.3, 0.0, -0.1], [0.25, 0.01, 0.0]
    data = encode_packet(w, FrameTime(4321, 0.5, 30000, 1001), "Ada", "dev-1", head, left, right)
    expected = (
        b"\x06"
        + b"\x00\x00\x00\x05" + b"dev-1"
        + b"\x00\x00\x00\x03" + b"Ada"
        + (4321).to_bytes(4, "big") + struct.pack(">f", 0.5)
        + (30000).to_bytes(4, "big") + (1001).to_bytes(4, "big")
        + bytes([61])
        + b"".join(struct.pack(">f", v) for v in w)
        + b"".join(struct.pack(">f", r / math.pi) for r in head + left + right)
    )
    assert data == expected
    assert len(data) == 270 + 5 + 3


@pytest.mark.parametrize("device_id", ["", "abcde", UUID, "d" * 100])
@pytest.mark.parametrize("subject", ["MetaHuman", "Ærøskøbing", "顔のテスト", "émotion 😀", ""])
def test_round_trip_device_ids_and_subjects(device_id, subject):
    w = weights_for(len(device_id))
    ft = FrameTime(987654, 0.25, 60, 1)
    data = encode_packet(w, ft, subject, device_id, head=[0.1, 0.2, -0.3], left_eye=[0.05, -0.02, 0.0],
                         right_eye=[0.04, -0.02, 0.01])
    assert len(data) == 270 + len(device_id.encode()) + len(subject.encode())
    assert struct.unpack_from(">i", data, 1)[0] == len(device_id.encode())  # byte length, not characters
    packet = decode_packet(data)
    assert packet.version == 6
    assert packet.device_id == device_id and packet.subject == subject
    assert packet.frame_time == ft
    assert packet.weights.dtype == np.float32
    assert np.array_equal(packet.weights, w.astype(np.float32))  # exact to float32
    np.testing.assert_allclose(packet.head, [0.1, 0.2, -0.3], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(packet.left_eye, [0.05, -0.02, 0.0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(packet.right_eye, [0.04, -0.02, 0.01], rtol=1e-6, atol=1e-7)


def test_rotations_are_sent_in_unreal_units():
    """Unreal maps -180..180 degrees to -1..1, so pi/2 radians (90 degrees) goes out as 0.5."""
    data = encode_packet(np.zeros(52), FrameTime(0), "s", "d", head=[math.pi / 2, -math.pi / 4, 0.0])
    raw = decode_packet(data).curves
    assert raw[52] == pytest.approx(0.5) and raw[53] == pytest.approx(-0.25)
    assert not raw[55:].any()  # eyes default to straight ahead


def test_raw_curves_pass_through_unchanged():
    curves = np.linspace(-1, 1, 61)
    assert np.array_equal(decode_packet(encode_curves(curves, FrameTime(1), "s", "d")).curves, curves.astype(np.float32))


def test_frame_rates():
    assert frame_rate(60) == (60, 1)
    assert frame_rate(24) == (24, 1)
    assert frame_rate(29.97) == (30000, 1001)
    assert frame_rate(59.94) == (60000, 1001)
    assert frame_rate(30000 / 1001) == (30000, 1001)
    assert frame_rate(12.5) == (25, 2)
    for bad in (0, -1, math.nan, math.inf):
        with pytest.raises(LiveLinkPacketError):
            frame_rate(bad)


def test_frame_time_at_seconds():
    assert FrameTime.at(7 / 60, 60, origin_frame=100) == FrameTime(107, 0.0, 60, 1)
    assert FrameTime.at(0.5 / 60, 60) == FrameTime(0, 0.5, 60, 1)
    ft = FrameTime.at(10.0, 29.97)
    assert (ft.rate_numerator, ft.rate_denominator) == (30000, 1001) and ft.frame == 299
    assert ft.seconds == pytest.approx(10.0)
    assert FrameTime(120, 0.0, 60, 1).seconds == 2.0


@pytest.mark.parametrize("weights", [np.zeros(51), np.zeros(61), [0.5] * 51 + [math.nan], [math.inf] * 52])
def test_bad_weights_are_refused(weights):
    with pytest.raises(LiveLinkPacketError):
        encode_packet(weights, FrameTime(0), "s", "d")


def test_bad_rotation_frame_time_and_strings_are_refused():
    with pytest.raises(LiveLinkPacketError, match="head"):
        encode_packet(np.zeros(52), FrameTime(0), "s", "d", head=[0.1, 0.2])
    with pytest.raises(LiveLinkPacketError, match="int32"):
        encode_packet(np.zeros(52), FrameTime(2**31), "s", "d")
    with pytest.raises(LiveLinkPacketError, match="subframe"):
        encode_packet(np.zeros(52), FrameTime(0, 1.0), "s", "d")
    with pytest.raises(LiveLinkPacketError, match="frame rate"):
        encode_packet(np.zeros(52), FrameTime(0, 0.0, 0, 1), "s", "d")
    with pytest.raises(LiveLinkPacketError, match="504"):
        encode_packet(np.zeros(52), FrameTime(0), "s" * 300, "d" * 205)
    longest = encode_packet(np.zeros(52), FrameTime(0), "s" * 300, "d" * 204)
    assert len(longest) == MAX_PACKET_BYTES
    with pytest.raises(LiveLinkPacketError, match="string"):
        encode_packet(np.zeros(52), FrameTime(0), b"bytes", "d")  # type: ignore[arg-type]


def test_decoder_refuses_malformed_packets():
    good = encode_packet(weights_for(), FrameTime(5), "Ada", UUID)
    cases = {
        "version 5": b"\x05" + good[1:],
        "truncated": good[:-1],
        "empty": b"",
        "trailing": good + b"\x00",
    }
    for name, data in cases.items():
        with pytest.raises(LiveLinkPacketError):
            decode_packet(data)
            pytest.fail(f"{name}: decoded without an error")
    count_at = 1 + 4 + len(UUID) + 4 + 3 + 16
    assert good[count_at] == 61
    with pytest.raises(LiveLinkPacketError, match="count"):
        decode_packet(good[:count_at] + bytes([52]) + good[count_at + 1:])
    with pytest.raises(LiveLinkPacketError, match="negative"):
        decode_packet(b"\x06" + struct.pack(">i", -1) + good[5:])
    with pytest.raises(LiveLinkPacketError, match="ends inside"):
        decode_packet(b"\x06" + struct.pack(">i", 10_000) + good[5:])
    bad_utf8 = b"\x06" + struct.pack(">i", 2) + b"\xff\xfe" + good[5 + len(UUID):]
    with pytest.raises(LiveLinkPacketError, match="UTF-8"):
        decode_packet(bad_utf8)
