"""Python clients of the sidecar: ``EmoBridgeClient`` (blocking) and ``AsyncEmoBridgeClient`` (asyncio).

Both offer ``info()``, ``bake(...)`` (whole clip -> Animation) and ``stream(...)`` (audio chunks in,
frames out as they are made). A stream's input is an iterable (or async iterable) of items: audio as
bytes in the stream's encoding or float arrays (sent as PCM16), and ``emotion_update(...)`` /
``style_update(...)`` requests, in any order; EndOfAudio is sent when the input ends. The frames are
``emobridge.v1.Frame`` messages; ``FrameStream.header`` and ``.end`` hold the stream's header and end.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from pathlib import Path

import grpc
import numpy as np

from emobridge.animation import Animation
from emobridge.emotion.space import EMOTIONS as _EMOTIONS
from emobridge.emotion.space import parse_emotion_string

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
CHUNK_SECONDS = 0.02
_OPTIONS = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # One client, one connection (gRPC shares one among equal channels): `serve --workers` spreads
            # work by connection, so a program wanting several workers' capacity opens several clients.
            ("grpc.use_local_subchannel_pool", 1)]


def _pb():
    from emobridge.wire import pb

    return pb


def emotion_message(emotion: Mapping[str, float] | str | np.ndarray | None):
    """``{"happy": 0.7}``, ``"happy=0.7,surprise=0.2"``, a 7-vector or None (neutral) -> emobridge.v1.Emotion."""
    pb = _pb()
    if emotion is None:
        return pb.Emotion()
    if isinstance(emotion, str):
        emotion = parse_emotion_string(emotion)
    if isinstance(emotion, np.ndarray):
        return pb.Emotion(intensities={n: float(v) for n, v in zip(_EMOTIONS, emotion, strict=True) if v > 0})
    spec = dict(emotion)
    msg = pb.Emotion(intensities={k: float(v) for k, v in spec.items() if k not in ("valence", "arousal")})
    if "valence" in spec or "arousal" in spec:
        msg.valence, msg.arousal = float(spec.get("valence", 0.0)), float(spec.get("arousal", 0.0))
    return msg


def emotion_update(emotion, transition_seconds: float | None = None, time_seconds: float | None = None):
    """An AnimateRequest changing the target emotion (at once, or at ``time_seconds`` on the audio timeline)."""
    pb = _pb()
    update = pb.EmotionUpdate(emotion=emotion_message(emotion))
    if transition_seconds is not None:
        update.transition_seconds = transition_seconds
    if time_seconds is not None:
        update.time_seconds = time_seconds
    return pb.AnimateRequest(emotion=update)


def style_update(energy: float = 0.0, smoothness: float = 0.0):
    pb = _pb()
    return pb.AnimateRequest(style=pb.StyleUpdate(style=pb.Style(energy=energy, smoothness=smoothness)))


def pcm16(samples: np.ndarray) -> bytes:
    """Float samples in -1..1 -> PCM16 little-endian bytes."""
    return (np.clip(np.asarray(samples, np.float64), -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def chunks_of(samples: np.ndarray, sample_rate: int = 16000, seconds: float = CHUNK_SECONDS) -> list[bytes]:
    """A mono float signal as PCM16 chunks of ``seconds`` each (the last may be shorter)."""
    n = max(1, round(sample_rate * seconds))
    return [pcm16(samples[i:i + n]) for i in range(0, len(samples), n)]


def _config(sample_rate: int, fps: float, emotion, seed: int, encoding: str, channels: int,
            mouth_preservation: float | None, livelink: Mapping[str, object] | None):
    pb = _pb()
    config = pb.StreamConfig(
        sample_rate=sample_rate, channels=channels, fps=fps, seed=seed,
        encoding=pb.AUDIO_ENCODING_PCM_F32LE if encoding == "f32le" else pb.AUDIO_ENCODING_PCM_S16LE)
    if emotion is not None:
        config.initial_emotion.CopyFrom(emotion_message(emotion))
    if mouth_preservation is not None:
        config.mouth_preservation = mouth_preservation
    if livelink:
        config.livelink.CopyFrom(pb.LiveLinkTarget(**livelink))
    return pb.AnimateRequest(config=config)


def _request(item):
    pb = _pb()
    if isinstance(item, pb.AnimateRequest):
        return item
    if isinstance(item, (bytes, bytearray, memoryview)):
        return pb.AnimateRequest(audio=pb.AudioChunk(data=bytes(item)))
    if isinstance(item, np.ndarray):
        return pb.AnimateRequest(audio=pb.AudioChunk(data=pcm16(item)))
    raise TypeError(f"stream input items are audio (bytes or float arrays) or AnimateRequests, got {type(item).__name__}")


def _bake_request(audio, emotion, fps, seed, transcript, mouth_preservation, sample_rate, recognize_words=False):
    pb = _pb()
    request = pb.BakeRequest(fps=fps, seed=seed, transcript=transcript or "", recognize_words=recognize_words)
    if isinstance(audio, (str, os.PathLike)):
        request.file = Path(audio).read_bytes()
    elif isinstance(audio, (bytes, bytearray)):
        request.file = bytes(audio)
    else:
        request.pcm.CopyFrom(pb.PcmAudio(data=np.asarray(audio, "<f4").tobytes(), encoding=pb.AUDIO_ENCODING_PCM_F32LE,
                                         sample_rate=sample_rate, channels=1))
    keyframes = emotion if isinstance(emotion, list) else ([] if emotion is None else [(0.0, emotion, 0.0)])
    for key in keyframes:
        t, value, transition = key if isinstance(key, tuple) else (0.0, key, 0.0)
        request.emotion_keyframes.append(pb.EmotionUpdate(emotion=emotion_message(value), time_seconds=t,
                                                          transition_seconds=transition))
    if mouth_preservation is not None:
        request.mouth_preservation = mouth_preservation
    return request


def animation_of(response) -> Animation:
    """BakeResponse (or a list of Frames + fps) -> Animation."""
    import json

    anim = response.animation
    return Animation(
        fps=anim.fps,
        frames=np.array([f.weights for f in anim.frames], np.float32).reshape(-1, 52),
        head_rotation=np.array([[f.head.yaw, f.head.pitch, f.head.roll] for f in anim.frames], np.float32).reshape(-1, 3),
        emotion=np.array([f.emotion for f in anim.frames], np.float32).reshape(len(anim.frames), -1),
        meta=json.loads(response.meta.meta_json or "{}"),
    )


class _Responses:
    """Sorts Animate responses: ``header`` and ``end`` are kept as they arrive, frames are handed on."""

    def __init__(self, call) -> None:
        self.call = call
        self.header = None
        self.end = None

    def _frame_of(self, response):
        kind = response.WhichOneof("kind")
        if kind == "header":
            self.header = response.header
        elif kind == "end":
            self.end = response.end
        return response.frame if kind == "frame" else None

    def cancel(self) -> None:
        self.call.cancel()


class _Pacer:
    """Real-time pacing of audio requests: how long to wait so each chunk leaves at its audio time."""

    def __init__(self, bytes_per_second: float) -> None:
        self.bytes_per_second = bytes_per_second
        self.start, self.sent = time.monotonic(), 0.0

    def wait(self, request) -> float:
        if request.WhichOneof("kind") != "audio":
            return 0.0
        wait = self.start + self.sent - time.monotonic()
        self.sent += len(request.audio.data) / self.bytes_per_second
        return wait


class FrameStream(_Responses):
    """Iterate for frames; ``header`` and ``end`` fill in as they arrive."""

    def __iter__(self) -> Iterator:
        for response in self.call:
            frame = self._frame_of(response)
            if frame is not None:
                yield frame


class EmoBridgeClient:
    """Blocking client. ``EmoBridgeClient("localhost:50051")``; use as a context manager or ``close()``."""

    def __init__(self, address: str, timeout: float | None = None, options: list[tuple[str, object]] | None = None) -> None:
        from emobridge.wire import rpc

        self.address = address
        self.timeout = timeout
        self.channel = grpc.insecure_channel(address, options=_OPTIONS + list(options or []))
        self.stub = rpc.EmoBridgeStub(self.channel)

    def info(self):
        return self.stub.GetInfo(_pb().GetInfoRequest(), timeout=self.timeout)

    def bake(self, audio, emotion=None, fps: float = 60.0, seed: int = 0, transcript: str = "",
             mouth_preservation: float | None = None, sample_rate: int = 16000,
             recognize_words: bool = False) -> Animation:
        """``audio``: a file path, file bytes, or float mono samples at ``sample_rate``. ``emotion``: one emotion,
        or keyframes [(time, emotion, transition), ...]. ``recognize_words``: see BakeRequest in the .proto."""
        return animation_of(self.bake_raw(_bake_request(audio, emotion, fps, seed, transcript, mouth_preservation,
                                                        sample_rate, recognize_words)))

    def bake_raw(self, request):
        return self.stub.Bake(request, timeout=self.timeout)

    def stream(self, items: Iterable, sample_rate: int = 16000, fps: float = 60.0, emotion=None, seed: int = 0,
               encoding: str = "pcm_s16le", channels: int = 1, mouth_preservation: float | None = None,
               realtime: bool = False, livelink: Mapping[str, object] | None = None,
               end_of_audio: bool = True) -> FrameStream:
        """Open an Animate stream fed from ``items``; with ``realtime`` audio chunks leave at their audio time."""
        pb = _pb()
        first = _config(sample_rate, fps, emotion, seed, encoding, channels, mouth_preservation, livelink)
        bytes_per_second = (4 if encoding == "f32le" else 2) * channels * sample_rate

        def requests():
            yield first
            pacer = _Pacer(bytes_per_second)
            for item in items:
                request = _request(item)
                wait = pacer.wait(request) if realtime else 0.0
                if wait > 0:
                    time.sleep(wait)
                yield request
            if end_of_audio:
                yield pb.AnimateRequest(end_of_audio=pb.EndOfAudio())

        return FrameStream(self.stub.Animate(requests(), timeout=self.timeout))

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> EmoBridgeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncFrameStream(_Responses):
    async def __aiter__(self):
        async for response in self.call:
            frame = self._frame_of(response)
            if frame is not None:
                yield frame


class AsyncEmoBridgeClient:
    """asyncio client with the same methods as EmoBridgeClient (``await``, and ``async for`` over streams)."""

    def __init__(self, address: str, timeout: float | None = None, options: list[tuple[str, object]] | None = None) -> None:
        from emobridge.wire import rpc

        self.address = address
        self.timeout = timeout
        self.channel = grpc.aio.insecure_channel(address, options=_OPTIONS + list(options or []))
        self.stub = rpc.EmoBridgeStub(self.channel)

    async def info(self):
        return await self.stub.GetInfo(_pb().GetInfoRequest(), timeout=self.timeout)

    async def bake(self, audio, emotion=None, fps: float = 60.0, seed: int = 0, transcript: str = "",
                   mouth_preservation: float | None = None, sample_rate: int = 16000,
                   recognize_words: bool = False) -> Animation:
        request = _bake_request(audio, emotion, fps, seed, transcript, mouth_preservation, sample_rate, recognize_words)
        return animation_of(await self.stub.Bake(request, timeout=self.timeout))

    def stream(self, items: Iterable | AsyncIterable, sample_rate: int = 16000, fps: float = 60.0, emotion=None,
               seed: int = 0, encoding: str = "pcm_s16le", channels: int = 1, mouth_preservation: float | None = None,
               realtime: bool = False, livelink: Mapping[str, object] | None = None) -> AsyncFrameStream:
        pb = _pb()
        first = _config(sample_rate, fps, emotion, seed, encoding, channels, mouth_preservation, livelink)
        bytes_per_second = (4 if encoding == "f32le" else 2) * channels * sample_rate

        async def requests():
            yield first
            pacer = _Pacer(bytes_per_second)

            async def each():
                if hasattr(items, "__aiter__"):
                    async for item in items:
                        yield item
                else:
                    for item in items:
                        yield item

            async for item in each():
                request = _request(item)
                wait = pacer.wait(request) if realtime else 0.0
                if wait > 0:
                    await asyncio.sleep(wait)
                yield request
            yield pb.AnimateRequest(end_of_audio=pb.EndOfAudio())

        return AsyncFrameStream(self.stub.Animate(requests(), timeout=self.timeout))

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> AsyncEmoBridgeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


__all__ = ["AsyncEmoBridgeClient", "EmoBridgeClient", "FrameStream", "animation_of", "chunks_of", "emotion_message",
           "emotion_update", "pcm16", "style_update"]
