"""UDP sender of Live Link Face v6 packets: animation frames in, a MetaHuman moving in Unreal out.

Each packet carries a frame time (frame number + subframe at the sender's rate). Frame numbers count
from an origin frame: by default the current local time of day in frames, as the Live Link Face app's
system timecode does, so several senders line up in Unreal's timecode-based buffering; pass
``start_frame`` for a fixed origin. Frames sent one after another advance by one frame; frames given
their ``time_seconds`` on a stream's timeline land on ``origin + time * fps``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import socket
import time
import uuid
from collections.abc import Callable, Sequence

import numpy as np

from emobridge.animation import Animation
from emobridge.livelink.packet import DEFAULT_PORT, FrameTime, encode_packet, frame_rate
from emobridge.rig.eyes import eye_rotations

log = logging.getLogger(__name__)
DEFAULT_SUBJECT = "emobridge"


def frame_of_day(fps: float, now: _dt.datetime | None = None) -> int:
    """Frames since local midnight at ``fps``: the timecode a Live Link Face phone would stamp."""
    now = now or _dt.datetime.now()
    seconds = now.hour * 3600 + now.minute * 60 + now.second + now.microsecond / 1e6
    num, den = frame_rate(fps)
    return math.floor(seconds * num / den)


def resample(values: np.ndarray, src_fps: float, dst_fps: float) -> np.ndarray:
    """[T, C] rows at ``src_fps`` -> rows at ``dst_fps`` over the same duration (linear interpolation)."""
    if abs(src_fps - dst_fps) < 1e-9:
        return values
    n_out = max(1, math.floor(len(values) * dst_fps / src_fps + 1e-9))
    src_t = np.arange(len(values)) / src_fps
    dst_t = np.arange(n_out) / dst_fps
    return np.stack([np.interp(dst_t, src_t, values[:, c]) for c in range(values.shape[1])], axis=1)


class LiveLinkSender:
    """Sends frames to ``host:port`` as subject ``subject`` of device ``device_id`` at ``fps``.

    ``send`` takes one frame (52 weights, optional head/eye rotations in radians) and returns the packet;
    ``send_animation`` sends a whole Animation, resampled to the sender's fps, optionally paced in real
    time. UDP is fire-and-forget: a send the OS refuses is counted in ``dropped`` and logged, not raised.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT, subject: str = DEFAULT_SUBJECT,
                 device_id: str | None = None, fps: float = 60.0, start_frame: int | None = None) -> None:
        self.rate = frame_rate(fps)
        self.fps = self.rate[0] / self.rate[1]
        self.subject = subject
        self.device_id = str(uuid.uuid4()).upper() if device_id is None else device_id
        self.origin_frame = frame_of_day(self.fps) if start_frame is None else int(start_frame)
        self.next_index = 0  # frames after the origin of the next frame sent without a time
        self.sent = 0
        self.dropped = 0
        # Encode once so a too-long subject or device id fails here, not on the first frame.
        encode_packet(np.zeros(52), FrameTime(0, 0.0, *self.rate), self.subject, self.device_id)
        if not 0 < int(port) < 65536:
            raise ValueError(f"Live Link port must be 1..65535, got {port}")
        try:
            family, kind, proto, _, address = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)[0]
        except socket.gaierror as err:
            raise ValueError(f"cannot resolve Live Link host {host!r}: {err.strerror}") from None
        self.address = address
        self._sock = socket.socket(family, kind, proto)

    def frame_time(self, time_seconds: float | None = None) -> FrameTime:
        """Frame time of the next frame (``None``) or of ``time_seconds`` after the origin."""
        if time_seconds is None:
            return FrameTime(self.origin_frame + self.next_index, 0.0, *self.rate)
        return FrameTime.at(time_seconds, self.fps, self.origin_frame)

    def packet(self, weights: Sequence[float] | np.ndarray, head: Sequence[float] | np.ndarray | None = None,
               left_eye: Sequence[float] | np.ndarray | None = None, right_eye: Sequence[float] | np.ndarray | None = None,
               time_seconds: float | None = None) -> bytes:
        """Encode one frame and advance the frame counter (without sending)."""
        ft = self.frame_time(time_seconds)
        data = encode_packet(weights, ft, self.subject, self.device_id, head, left_eye, right_eye)
        self.next_index = ft.frame - self.origin_frame + 1
        return data

    def send(self, weights: Sequence[float] | np.ndarray, head: Sequence[float] | np.ndarray | None = None,
             left_eye: Sequence[float] | np.ndarray | None = None, right_eye: Sequence[float] | np.ndarray | None = None,
             time_seconds: float | None = None) -> bytes:
        """Send one frame; returns the packet sent."""
        data = self.packet(weights, head, left_eye, right_eye, time_seconds)
        try:
            self._sock.sendto(data, self.address)
            self.sent += 1
        except OSError as err:  # e.g. no route, buffer full: a live frame is not worth a crash
            self.dropped += 1
            log.debug("Live Link packet to %s dropped: %s", self.address, err)
        return data

    def send_animation(self, animation: Animation, realtime: bool = False,
                       clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> int:
        """Send every frame of ``animation`` (resampled to the sender's fps); returns the number sent.

        With ``realtime`` each frame leaves at its time after the first (a late frame is sent at once).
        """
        frames = resample(np.asarray(animation.frames, np.float64), animation.fps, self.fps)
        head = None
        if animation.head_rotation is not None:
            head = resample(np.asarray(animation.head_rotation, np.float64), animation.fps, self.fps)
        left, right = eye_rotations(frames)
        start = clock()
        for i, weights in enumerate(frames):
            if realtime:
                wait = start + i / self.fps - clock()
                if wait > 0:
                    sleep(wait)
            self.send(weights, None if head is None else head[i], left[i], right[i])
        return len(frames)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> LiveLinkSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
