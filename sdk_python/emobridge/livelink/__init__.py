"""Live Link Face output: the v6 UDP packets Unreal's stock Apple ARKit Live Link source reads.

``packet`` encodes and decodes single packets (layout and sources in its docstring); ``sender`` sends
frames or whole animations over UDP with advancing frame numbers. No gRPC here: the server, the CLI
and tests use this on their own.
"""

from emobridge.livelink.packet import (
    CURVE_COUNT,
    CURVE_NAMES,
    DEFAULT_PORT,
    MAX_PACKET_BYTES,
    PACKET_VERSION,
    FrameTime,
    LiveLinkPacket,
    LiveLinkPacketError,
    decode_packet,
    encode_curves,
    encode_packet,
    frame_rate,
)
from emobridge.livelink.sender import DEFAULT_SUBJECT, LiveLinkSender

__all__ = [
    "CURVE_COUNT", "CURVE_NAMES", "DEFAULT_PORT", "DEFAULT_SUBJECT", "MAX_PACKET_BYTES", "PACKET_VERSION",
    "FrameTime", "LiveLinkPacket", "LiveLinkPacketError", "LiveLinkSender", "decode_packet", "encode_curves",
    "encode_packet", "frame_rate",
]
