"""Live Link Face v6 UDP packets: the encoder, and a decoder written separately from the format description.

Layout (every number big-endian, "network byte order"), as Unreal's Apple ARKit Face Support plugin
writes it in ``FAppleARKitLiveLinkRemotePublisher::PublishBlendShapes`` and reads it in
``FAppleARKitLiveLinkRemoteListener`` (AppleARKitFaceSupport/Private/AppleARKitLiveLinkSource.cpp),
which is also what the Live Link Face iOS app sends::

    offset  size  field
    0       1     packet version, uint8 = 6 (BLEND_SHAPE_PACKET_VER)
    1       4     device id length N, int32
    5       N     device id, UTF-8 (no terminator)                          FString
    5+N     4     subject name length M, int32
    9+N     M     subject name, UTF-8 (no terminator)                       FString
    9+N+M   4     frame number, int32                                       FQualifiedFrameTime.Time.FrameNumber
    13+N+M  4     subframe, float32 in [0, 1)                               FQualifiedFrameTime.Time.SubFrame
    17+N+M  4     frame rate numerator, int32                               FQualifiedFrameTime.Rate.Numerator
    21+N+M  4     frame rate denominator, int32                             FQualifiedFrameTime.Rate.Denominator
    25+N+M  1     curve count, uint8 = 61 (EARFaceBlendShape::MAX)
    26+N+M  244   61 x float32: the 52 ARKit blendshapes in EARFaceBlendShape order (the canonical
                  order of emobridge.rig), then HeadYaw, HeadPitch, HeadRoll, LeftEyeYaw,
                  LeftEyePitch, LeftEyeRoll, RightEyeYaw, RightEyePitch, RightEyeRoll

Total 270 + N + M bytes. Strings are written by ``FNboSerializeToBuffer << FString`` (int32 length of
the UTF-8 bytes, then the bytes); numbers by its big-endian integer writers, floats as their bit
pattern. Unreal drops a packet whose version is not 6 or whose count is not 61, one no longer than
MIN_BLEND_SHAPE_PACKET_SIZE, and reads into a buffer of MAX_BLEND_SHAPE_PACKET_SIZE bytes
(1 + 16 + 1 + 61*4 + 2*256*sizeof(TCHAR)); with the smallest TCHAR that is 774 bytes, so packets
here are kept to at most 774 bytes (device id + subject <= 504 UTF-8 bytes).

Rotation curves: Unreal's ARKit source maps each FRotator component in degrees from -180..180 to
-1..1 (``Yaw / 180``, ``ToBlendShapeMap`` in AppleARKitFaceSupport), so a rotation of ``r`` radians is
sent as ``r / pi``; the decoder turns it back into radians.

Learned from: Unreal Engine's AppleARKitLiveLinkSource.cpp (v5 publisher/listener and the packet
version history "4 = device id, 5 = timecode", v6 replacing the timecode with FQualifiedFrameTime),
NboSerializer.h (FString and integer serialisation), and two independent readers of real Live Link
Face captures that agree on the v6 order: think-biq/LLV (``FaceFrame._deserialize``) and
aelzeiny/Animoji (``livelink.py``).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from emobridge.rig import ARKIT_NAMES, pascal_name

PACKET_VERSION = 6
DEFAULT_PORT = 11111
ROTATION_NAMES: tuple[str, ...] = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                                   "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
CURVE_NAMES: tuple[str, ...] = tuple(pascal_name(n) for n in ARKIT_NAMES) + ROTATION_NAMES
CURVE_COUNT = len(CURVE_NAMES)  # 61 = EARFaceBlendShape::MAX
NUM_WEIGHTS = len(ARKIT_NAMES)  # 52
FIXED_BYTES = 1 + 4 + 4 + 16 + 1 + 4 * CURVE_COUNT  # 270: everything but the two strings' bytes
MAX_PACKET_BYTES = 774
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

assert CURVE_COUNT == 61 and NUM_WEIGHTS == 52


class LiveLinkPacketError(ValueError):
    """Bytes that are not a Live Link Face v6 packet, or values that cannot be encoded in one."""


@dataclass(frozen=True)
class FrameTime:
    """Unreal's FQualifiedFrameTime: frame number + subframe at a rate numerator/denominator fps."""

    frame: int
    subframe: float = 0.0
    rate_numerator: int = 60
    rate_denominator: int = 1

    @property
    def rate(self) -> float:
        return self.rate_numerator / self.rate_denominator

    @property
    def seconds(self) -> float:
        """The time this frame time names, in seconds since frame 0."""
        return (self.frame + self.subframe) / self.rate

    @classmethod
    def at(cls, seconds: float, fps: float, origin_frame: int = 0) -> FrameTime:
        """The frame time of ``seconds`` after ``origin_frame`` at ``fps`` (subframe = the fraction)."""
        num, den = frame_rate(fps)
        position = seconds * num / den
        whole = math.floor(position + 1e-9)  # 1e-9: index/fps * fps lands on the frame, not just below
        fraction = position - whole
        fraction = 0.0 if fraction < 1e-6 else min(fraction, 0.99999994)  # a frame's own time: exactly 0, not 1e-14
        return cls(origin_frame + whole, float(fraction), num, den)


def frame_rate(fps: float) -> tuple[int, int]:
    """fps as Unreal's FFrameRate numerator/denominator: 60 -> 60/1, 29.97 -> 30000/1001, 12.5 -> 25/2."""
    if not math.isfinite(fps) or fps <= 0:
        raise LiveLinkPacketError(f"frame rate must be a positive number, got {fps}")
    ntsc = round(fps * 1.001)
    if ntsc > 0 and abs(fps - ntsc / 1.001) < 5e-4 and abs(fps - round(fps)) > 1e-3:
        return ntsc * 1000, 1001
    rate = Fraction(fps).limit_denominator(1001)
    return rate.numerator, rate.denominator


def _rotation(value: Sequence[float] | np.ndarray | None, name: str) -> np.ndarray:
    if value is None:
        return np.zeros(3, np.float64)
    arr = np.asarray(value, np.float64).reshape(-1)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise LiveLinkPacketError(f"{name} must be 3 finite numbers (yaw, pitch, roll in radians), got {value!r}")
    return arr


def curves_of(weights: Sequence[float] | np.ndarray, head: Sequence[float] | np.ndarray | None = None,
              left_eye: Sequence[float] | np.ndarray | None = None,
              right_eye: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """The 61 curve values of one frame: 52 weights as given, then rotations in radians mapped to r / pi."""
    w = np.asarray(weights, np.float64).reshape(-1)
    if w.shape != (NUM_WEIGHTS,):
        raise LiveLinkPacketError(f"a frame needs {NUM_WEIGHTS} ARKit weights, got {w.size}")
    if not np.all(np.isfinite(w)):
        raise LiveLinkPacketError("blendshape weights contain NaN or infinite values")
    rotations = [_rotation(v, n) for v, n in ((head, "head"), (left_eye, "left_eye"), (right_eye, "right_eye"))]
    return np.concatenate([w, np.concatenate(rotations) / math.pi])


def _fstring(text: str, what: str) -> bytes:
    if not isinstance(text, str):
        raise LiveLinkPacketError(f"{what} must be a string, got {type(text).__name__}")
    data = text.encode("utf-8")
    return struct.pack(">i", len(data)) + data


def encode_curves(curves: Sequence[float] | np.ndarray, frame_time: FrameTime, subject: str, device_id: str) -> bytes:
    """One packet from the 61 raw curve values (rotations already in Unreal's -1..1 units)."""
    values = np.asarray(curves, np.float64).reshape(-1)
    if values.shape != (CURVE_COUNT,) or not np.all(np.isfinite(values)):
        raise LiveLinkPacketError(f"a packet carries {CURVE_COUNT} finite curve values, got {values.size}")
    ft = frame_time
    if not INT32_MIN <= ft.frame <= INT32_MAX:
        raise LiveLinkPacketError(f"frame number {ft.frame} does not fit an int32")
    if not (0 < ft.rate_numerator <= INT32_MAX and 0 < ft.rate_denominator <= INT32_MAX):
        raise LiveLinkPacketError(f"frame rate {ft.rate_numerator}/{ft.rate_denominator} must be positive int32s")
    if not 0.0 <= float(np.float32(ft.subframe)) < 1.0:  # as float32, since that is what is sent
        raise LiveLinkPacketError(f"subframe must be in [0, 1), got {ft.subframe}")
    packet = b"".join([
        struct.pack(">B", PACKET_VERSION),
        _fstring(device_id, "device id"),
        _fstring(subject, "subject name"),
        struct.pack(">ifiiB", int(ft.frame), ft.subframe, int(ft.rate_numerator), int(ft.rate_denominator), CURVE_COUNT),
        values.astype(">f4").tobytes(),
    ])
    if len(packet) > MAX_PACKET_BYTES:
        raise LiveLinkPacketError(
            f"packet of {len(packet)} bytes exceeds Unreal's {MAX_PACKET_BYTES}-byte receive buffer: device id and "
            f"subject name together may take at most {MAX_PACKET_BYTES - FIXED_BYTES} UTF-8 bytes")
    return packet


def encode_packet(weights: Sequence[float] | np.ndarray, frame_time: FrameTime, subject: str, device_id: str,
                  head: Sequence[float] | np.ndarray | None = None, left_eye: Sequence[float] | np.ndarray | None = None,
                  right_eye: Sequence[float] | np.ndarray | None = None) -> bytes:
    """One packet: 52 ARKit weights (canonical order) and head/eye rotations (yaw, pitch, roll, radians)."""
    return encode_curves(curves_of(weights, head, left_eye, right_eye), frame_time, subject, device_id)


# --- decoder: written from the layout in the module docstring alone; it shares no code with the encoder ---


@dataclass(frozen=True)
class LiveLinkPacket:
    """A decoded packet. ``curves`` are the 61 raw float32 values as sent."""

    version: int
    device_id: str
    subject: str
    frame_time: FrameTime
    curves: np.ndarray

    @property
    def weights(self) -> np.ndarray:
        """The 52 ARKit weights."""
        return self.curves[:52]

    @property
    def head(self) -> np.ndarray:
        """Head yaw, pitch, roll in radians."""
        return self.curves[52:55].astype(np.float64) * math.pi

    @property
    def left_eye(self) -> np.ndarray:
        """Left eye yaw, pitch, roll in radians."""
        return self.curves[55:58].astype(np.float64) * math.pi

    @property
    def right_eye(self) -> np.ndarray:
        """Right eye yaw, pitch, roll in radians."""
        return self.curves[58:61].astype(np.float64) * math.pi


def decode_packet(data: bytes) -> LiveLinkPacket:
    """Parse one Live Link Face v6 packet; LiveLinkPacketError says what is wrong with bad bytes."""
    buf = memoryview(bytes(data))
    pos = 0

    def take(n: int, what: str) -> memoryview:
        nonlocal pos
        if n < 0 or pos + n > len(buf):
            raise LiveLinkPacketError(f"packet of {len(buf)} bytes ends inside the {what} (needs {n} bytes at {pos})")
        piece = buf[pos:pos + n]
        pos += n
        return piece

    def text(what: str) -> str:
        (length,) = struct.unpack(">i", take(4, f"{what} length"))
        if length < 0:
            raise LiveLinkPacketError(f"negative {what} length {length}")
        raw = bytes(take(length, what))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise LiveLinkPacketError(f"{what} is not UTF-8: {err}") from None

    (version,) = struct.unpack(">B", take(1, "version byte"))
    if version != 6:
        raise LiveLinkPacketError(f"packet version {version}; only Live Link Face version 6 is understood")
    device_id = text("device id")
    subject = text("subject name")
    frame, subframe, numerator, denominator = struct.unpack(">ifii", take(16, "frame time"))
    (count,) = struct.unpack(">B", take(1, "curve count"))
    if count != 61:
        raise LiveLinkPacketError(f"curve count {count}; a v6 packet carries 61")
    curves = np.frombuffer(bytes(take(4 * count, "curve values")), dtype=">f4").astype(np.float32)
    if pos != len(buf):
        raise LiveLinkPacketError(f"{len(buf) - pos} unexpected bytes after the curve values")
    return LiveLinkPacket(version, device_id, subject, FrameTime(frame, subframe, numerator, denominator), curves)
