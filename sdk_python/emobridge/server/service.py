"""The gRPC service (emobridge.v1.EmoBridge on grpc.aio) and the server around it.

``Animate`` runs a Session per stream on the shared batching Scheduler; ``Bake`` runs the offline bake
(``emobridge.bake.bake``, the same model folder) in a worker thread; ``GetInfo`` describes the server.
Standard health checking and reflection are served next to it; metrics go to a Prometheus text
endpoint; each event is logged as one JSON line on the ``emobridge.server.events`` logger.

Requests reach the handlers as raw bytes and are parsed here, so a malformed message is an
INVALID_ARGUMENT that says so rather than a generic deserialisation failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
import numpy as np
from google.protobuf.message import DecodeError

from emobridge.audio import SAMPLE_RATE, AudioError, decode_pcm, load_audio
from emobridge.emotion import EMOTIONS, EmotionTrack
from emobridge.emotion.space import _ALIASES
from emobridge.emotion.track import EmotionKeyframe
from emobridge.model.runtime import FaceModel
from emobridge.rig import ARKIT_NAMES
from emobridge.rig.eyes import eye_rotations
from emobridge.rig.profile import RigProfile
from emobridge.server.metrics import ServerMetrics, serve_metrics
from emobridge.server.scheduler import Scheduler
from emobridge.server.session import (
    ENCODINGS,
    RIG_PROFILES,
    Limits,
    OutFrame,
    Session,
    SessionError,
    emotion_vector,
    finite,
    fps_of,
    invalid,
    mouth_preservation_of,
    rig_of,
    rig_profile_of,
    style_of,
    transition_of,
)
from emobridge.wire import pb

SERVICE_NAME = "emobridge.v1.EmoBridge"
events = logging.getLogger("emobridge.server.events")


def log_event(event: str, **fields: object) -> None:
    """One JSON line per event: {"ts": unix seconds, "event": name, ...fields}."""
    if events.isEnabledFor(logging.INFO):
        events.info(json.dumps({"ts": round(time.time(), 3), "event": event, **fields}, default=str))


def _code(name: str) -> grpc.StatusCode:
    return getattr(grpc.StatusCode, name)


def _rotation(yaw_pitch_roll: np.ndarray) -> pb.Rotation:
    return pb.Rotation(yaw=float(yaw_pitch_roll[0]), pitch=float(yaw_pitch_roll[1]), roll=float(yaw_pitch_roll[2]))


def _parse(message_type, raw: bytes, what: str):
    try:
        return message_type.FromString(raw)
    except (DecodeError, TypeError) as err:
        raise invalid(f"malformed {what}: the bytes are not an emobridge.v1.{message_type.__name__} ({err}); "
                      "use stubs generated from proto/emobridge/v1/emobridge.proto") from None


@dataclass
class LiveLinkDefault:
    host: str
    port: int
    subject: str


class EmoBridgeService:
    """Handlers of emobridge.v1.EmoBridge plus the stream registry shutdown needs."""

    def __init__(self, model: FaceModel, model_dir: str | None = None, device: str = "auto", limits: Limits | None = None,
                 metrics: ServerMetrics | None = None, livelink: LiveLinkDefault | None = None,
                 allow_stream_livelink: bool = False, min_tick_s: float = 0.005) -> None:
        self.model = model
        self.model_dir = model_dir
        self.device = device
        self.limits = limits or Limits()
        self.metrics = metrics or ServerMetrics()
        self.scheduler = Scheduler(model, self.metrics, min_tick_s=min_tick_s)
        # Bakes run here, not in asyncio's default pool (up to 32 threads): a thread that recognises words
        # keeps its PocketSphinx decoders (~100 MB), and CPU-bound bakes gain nothing past the core count.
        self.bake_pool = ThreadPoolExecutor(self.limits.max_concurrent_bakes, thread_name_prefix="emobridge-bake")
        self.livelink = livelink
        self.allow_stream_livelink = allow_stream_livelink
        self.active: dict[str, Session] = {}
        self.slots = 0
        self.closing = False
        meta_text = json.dumps({k: v for k, v in model.meta.items() if k != "folder"}, sort_keys=True)
        self.model_name = str(model.meta.get("name") or Path(model.meta["folder"]).name)
        self.model_version = str(model.meta.get("version") or hashlib.sha256(meta_text.encode()).hexdigest()[:12])
        self.lookahead_ms = model.lookahead * 1000.0 / model.frame_rate

    def handler(self) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler(SERVICE_NAME, {
            "Animate": grpc.stream_stream_rpc_method_handler(
                self.Animate, response_serializer=pb.AnimateResponse.SerializeToString),
            "Bake": grpc.unary_unary_rpc_method_handler(
                self.Bake, response_serializer=pb.BakeResponse.SerializeToString),
            "GetInfo": grpc.unary_unary_rpc_method_handler(
                self.GetInfo, response_serializer=pb.GetInfoResponse.SerializeToString),
        })

    # --- GetInfo ---

    def info(self) -> pb.GetInfoResponse:
        lim = self.limits
        try:
            providers = list(self.model._step.get_providers())
        except AttributeError:
            providers = []
        from emobridge import __version__

        return pb.GetInfoResponse(
            model_name=self.model_name, model_version=self.model_version, server_version=__version__,
            providers=providers, device=self.model.device, emotion_names=list(EMOTIONS),
            emotion_aliases=sorted(_ALIASES), blendshape_names=list(ARKIT_NAMES),
            limits=pb.Limits(max_streams=lim.max_streams, active_streams=len(self.active),
                             max_chunk_bytes=lim.max_chunk_bytes, sample_rates=list(lim.sample_rates),
                             max_fps=lim.max_fps, max_bake_seconds=lim.max_bake_seconds,
                             max_message_bytes=lim.max_message_bytes),
            lookahead_ms=self.lookahead_ms, rig_profiles=list(RIG_PROFILES))

    async def GetInfo(self, raw: bytes, context: grpc.aio.ServicerContext) -> pb.GetInfoResponse:  # noqa: N802
        try:
            _parse(pb.GetInfoRequest, raw, "GetInfoRequest")
        except SessionError as err:
            await context.abort(_code(err.code), str(err))
        return self.info()

    # --- Animate ---

    async def Animate(self, requests, context: grpc.aio.ServicerContext):  # noqa: N802
        if self.closing:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the server is shutting down; connect to another instance")
        if self.slots >= self.limits.max_streams:
            self.metrics.streams_rejected.inc()
            log_event("stream_rejected", peer=context.peer(), reason="max_streams", max_streams=self.limits.max_streams)
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                f"the server is at its limit of {self.limits.max_streams} concurrent streams; "
                                "retry later or start it with a larger --max-streams")
        self.slots += 1
        session: Session | None = None
        reader: asyncio.Task | None = None
        started = time.monotonic()
        outcome = "error"
        try:
            try:
                session = await self._open(requests)
            except SessionError as err:
                self.metrics.streams_rejected.inc()
                log_event("stream_rejected", peer=context.peer(), code=err.code, message=str(err))
                outcome = err.code
                await context.abort(_code(err.code), str(err))
            assert session is not None
            output, room = asyncio.Event(), asyncio.Event()

            def _listener() -> None:
                output.set()
                room.set()

            session.listener = _listener
            self.active[session.stream_id] = session
            self.scheduler.add(session)
            self.metrics.streams.set(len(self.active))
            self.metrics.streams_total.inc()
            log_event("stream_open", stream=session.stream_id, peer=context.peer(), fps=session.fps,
                      sample_rate=session.sample_rate, seed=session.seed, active=len(self.active))
            rig = rig_of(session.rig_profile)  # the wire carries the rig's shapes; Live Link stays ARKit
            yield pb.AnimateResponse(header=pb.StreamHeader(
                blendshape_names=list(rig.shape_names if rig else ARKIT_NAMES), fps=session.fps, model_name=self.model_name,
                model_version=self.model_version, lookahead_ms=self.lookahead_ms, emotion_names=list(EMOTIONS),
                stream_id=session.stream_id))
            reader = asyncio.get_running_loop().create_task(self._read(requests, session, room))
            full = session.limits.max_outbound_frames
            while True:
                while session.outbox:
                    if len(session.outbox) >= full:  # the stream was paused on this queue: room makes it ready
                        self.scheduler.wake()
                    frame = session.outbox.popleft()
                    eyes = eye_rotations(frame.weights)  # from the ARKit gaze, whatever the rig's shapes
                    yield pb.AnimateResponse(frame=self._frame_message(frame, rig, eyes))
                    session.frames_sent += 1
                    self.metrics.frames.inc()
                    if session.livelink is not None:
                        session.livelink.send(frame.weights, frame.head, *eyes,
                                              time_seconds=frame.time_seconds)
                if session.error is not None:
                    outcome = session.error.code
                    log_event("stream_error", stream=session.stream_id, code=session.error.code,
                              message=str(session.error))
                    await context.abort(_code(session.error.code), str(session.error))
                if session.done or session.stopping:
                    break
                output.clear()
                if not (session.outbox or session.done or session.stopping or session.error):
                    await output.wait()
            outcome = "ok"
            yield pb.AnimateResponse(end=pb.StreamEnd(
                frames_sent=session.frames_sent, reason=session.end_reason, audio_seconds=session.audio_seconds,
                message=session.end_message))
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            if reader is not None:
                reader.cancel()
            self.slots -= 1
            if session is not None:
                self.scheduler.remove(session)
                self.active.pop(session.stream_id, None)
                self.metrics.streams.set(len(self.active))
                if session.livelink is not None:
                    session.livelink.close()
                log_event("stream_close", stream=session.stream_id, outcome=outcome, frames_sent=session.frames_sent,
                          audio_seconds=round(session.audio_seconds, 3), seconds=round(time.monotonic() - started, 3),
                          active=len(self.active))

    async def _open(self, requests) -> Session:
        """Read and validate the first message: the StreamConfig."""
        try:
            raw = await asyncio.wait_for(requests.__anext__(), self.limits.config_timeout_s)
        except StopAsyncIteration:
            raise invalid("the stream closed before its StreamConfig; send a StreamConfig first") from None
        except asyncio.TimeoutError:
            raise SessionError("DEADLINE_EXCEEDED", f"no StreamConfig within {self.limits.config_timeout_s:g} s of "
                               "opening the stream; send the StreamConfig first") from None
        request = _parse(pb.AnimateRequest, raw, "AnimateRequest")
        kind = request.WhichOneof("kind")
        if kind is None:
            raise invalid("config missing: the first AnimateRequest is empty; the first message must be a StreamConfig")
        if kind != "config":
            raise invalid(f"{'audio' if kind == 'audio' else kind} before config: the first message of an Animate "
                          "stream must be a StreamConfig")
        session = Session.from_config(request.config, self.model, self.limits)
        target = None
        if request.config.HasField("livelink"):
            if not self.allow_stream_livelink:
                raise SessionError("PERMISSION_DENIED", "this server does not send Live Link to stream-chosen targets; "
                                   "start it with --allow-stream-livelink, or use its --livelink target")
            t = request.config.livelink
            target = (t.host, t.port or 11111, t.subject or "emobridge", t.device_id or None)
        elif self.livelink is not None:
            target = (self.livelink.host, self.livelink.port, self.livelink.subject, None)
        if target is not None:
            from emobridge.livelink import LiveLinkSender

            try:
                session.livelink = LiveLinkSender(target[0], target[1], target[2], target[3], fps=session.fps)
            except ValueError as err:
                raise invalid(f"livelink: {err}") from None
        return session

    async def _read(self, requests, session: Session, room: asyncio.Event) -> None:
        """Feed the session from the client's messages; waits (flow control) while its buffer is full."""
        try:
            async for raw in requests:
                request = _parse(pb.AnimateRequest, raw, "AnimateRequest")
                kind = request.WhichOneof("kind")
                if kind == "audio":
                    while not session.inbound_room():
                        room.clear()
                        if session.inbound_room():
                            break
                        await room.wait()
                    if session.stopping:
                        continue
                    session.push_audio(request.audio.data)
                    if session.ended:  # the duration limit ended it
                        session.notify()
                elif kind == "emotion":
                    session.update_emotion(request.emotion)
                elif kind == "style":
                    session.update_style(request.style)
                elif kind == "end_of_audio":
                    session.end_audio()
                    session.notify()  # the end may already be complete (nothing left to step)
                elif kind == "config":
                    raise invalid("config duplicated: a stream takes exactly one StreamConfig, as its first message")
                else:
                    raise invalid("empty AnimateRequest: set one of config, audio, emotion, style, end_of_audio")
                if session.ready():  # waking the scheduler for a message that left no step to run costs a scan
                    self.scheduler.wake()
            session.end_audio()  # the client closed its side without EndOfAudio: finish what was sent
            self.scheduler.wake()
            session.notify()
        except SessionError as err:
            session.fail(err)
            session.notify()
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the transport failed under us (client gone): the writer side ends the call
            session.fail(SessionError("CANCELLED", f"reading the stream failed: {err}"))
            session.notify()

    @staticmethod
    def _frame_message(f: OutFrame, rig: RigProfile | None, eyes: tuple[np.ndarray, np.ndarray]) -> pb.Frame:
        weights = rig.apply(f.weights[None])[0] if rig else f.weights
        left, right = eyes
        return pb.Frame(index=f.index, time_seconds=f.time_seconds, weights=weights.tolist(), head=_rotation(f.head),
                        left_eye=_rotation(left), right_eye=_rotation(right), emotion=f.emotion.tolist())

    # --- Bake ---

    async def Bake(self, raw: bytes, context: grpc.aio.ServicerContext) -> pb.BakeResponse:  # noqa: N802
        started = time.monotonic()
        try:
            request = _parse(pb.BakeRequest, raw, "BakeRequest")
            kwargs = self._bake_arguments(request)
        except SessionError as err:
            log_event("bake_rejected", peer=context.peer(), code=err.code, message=str(err))
            await context.abort(_code(err.code), str(err))
        from emobridge.bake import bake

        try:
            anim = await asyncio.get_running_loop().run_in_executor(self.bake_pool, functools.partial(bake, **kwargs))
        except ValueError as err:  # AudioError, EmotionError, ...: input the bake could not use
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        self.metrics.bakes.inc()
        n = len(anim.frames)
        head = anim.head_rotation if anim.head_rotation is not None else np.zeros((n, 3), np.float32)
        emotion = anim.emotion if anim.emotion is not None else np.zeros((n, len(EMOTIONS)), np.float32)
        rig = rig_of(request.rig_profile)
        weights = rig.apply(anim.frames) if rig else anim.frames
        left, right = eye_rotations(anim.frames)
        frames = [pb.Frame(index=i, time_seconds=i / anim.fps, weights=weights[i].tolist(), head=_rotation(head[i]),
                           left_eye=_rotation(left[i]), right_eye=_rotation(right[i]), emotion=emotion[i].tolist())
                  for i in range(n)]
        route = str(anim.meta.get("route", ""))
        duration = len(kwargs["audio"]) / SAMPLE_RATE
        log_event("bake", peer=context.peer(), route=route, audio_seconds=round(duration, 3), frames=n,
                  seconds=round(time.monotonic() - started, 3))
        return pb.BakeResponse(
            animation=pb.Animation(blendshape_names=list(rig.shape_names if rig else anim.blendshape_names), fps=anim.fps,
                                   frames=frames,
                                   emotion_names=list(EMOTIONS)),
            meta=pb.BakeMeta(route=route, duration_seconds=duration,
                             model_name=self.model_name if route == "model" else "",
                             model_version=self.model_version if route == "model" else "",
                             meta_json=json.dumps(anim.meta, default=str)))

    def _bake_arguments(self, request) -> dict:
        kind = request.WhichOneof("audio")
        if kind is None:
            raise invalid("BakeRequest has no audio; set pcm (raw samples) or file (wav/flac bytes)")
        try:
            if kind == "pcm":
                p = request.pcm
                if p.encoding not in ENCODINGS:
                    raise invalid("pcm.encoding is not set; use AUDIO_ENCODING_PCM_S16LE or AUDIO_ENCODING_PCM_F32LE")
                if p.sample_rate == 0:
                    raise invalid("pcm.sample_rate is not set; give the rate of the samples in Hz")
                audio = decode_pcm(p.data, ENCODINGS[p.encoding][0], int(p.sample_rate), int(p.channels or 1))
            else:
                audio = _decode_file(request.file)
        except AudioError as err:
            raise invalid(str(err)) from None
        if len(audio) == 0:
            raise invalid("the audio has no samples")
        seconds = len(audio) / SAMPLE_RATE
        if seconds > self.limits.max_bake_seconds:
            raise SessionError("RESOURCE_EXHAUSTED", f"clip of {seconds:.1f} s exceeds max_bake_seconds "
                               f"{self.limits.max_bake_seconds:g}; split it")
        track = None
        if request.emotion_keyframes:
            keys = []
            for i, k in enumerate(request.emotion_keyframes):
                if not k.HasField("emotion"):
                    raise invalid(f"emotion_keyframes[{i}].emotion is not set")
                t = finite(k.time_seconds, f"emotion_keyframes[{i}].time_seconds") if k.HasField("time_seconds") else 0.0
                if t < 0:
                    raise invalid(f"emotion_keyframes[{i}].time_seconds must be >= 0, got {t}")
                keys.append(EmotionKeyframe(t, emotion_vector(k.emotion, f"emotion_keyframes[{i}]"), transition_of(k)))
            track = EmotionTrack(keys)
        rig_profile_of(request.rig_profile)
        return {"audio": audio, "text": request.transcript or None, "emotion": track,
                "mouth_preservation": mouth_preservation_of(request), "fps": fps_of(request.fps, self.limits),
                "seed": int(request.seed), "progress": False, "style": style_of(request.style), "use_model": True,
                "model_dir": self.model_dir, "device": self.device, "recognize": request.recognize_words}

    # --- shutdown ---

    async def shutdown(self, grace: float = 5.0) -> None:
        """Refuse new streams, end live ones with StreamEnd(SERVER_SHUTDOWN), wait for them up to ``grace``."""
        self.closing = True
        for session in list(self.active.values()):
            session.stopping = True
            session.end_reason = 2
            session.end_message = "the server is shutting down"
            session.notify()
        deadline = time.monotonic() + grace
        while self.active and time.monotonic() < deadline:
            await asyncio.sleep(0.02)


def _decode_file(data: bytes) -> np.ndarray:
    with tempfile.NamedTemporaryFile(suffix=".audio", delete=False) as f:
        f.write(data)
        path = f.name
    try:
        return load_audio(path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


class Server:
    """A running sidecar: the grpc.aio server, the service, health, reflection and the metrics endpoint."""

    def __init__(self, service: EmoBridgeService, server: grpc.aio.Server, port: int, health, metrics_http=None,
                 metrics_port: int | None = None) -> None:
        self.service, self.server, self.port, self.health = service, server, port, health
        self.metrics_http, self.metrics_port = metrics_http, metrics_port

    async def stop(self, grace: float = 5.0) -> None:
        from grpc_health.v1 import health_pb2

        log_event("shutdown", active=len(self.service.active), grace_s=grace)
        await self.health.enter_graceful_shutdown()
        with contextlib.suppress(Exception):
            await self.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.service.shutdown(grace)
        await self.server.stop(grace)
        await self.service.scheduler.stop()
        self.service.bake_pool.shutdown(wait=False, cancel_futures=True)
        if self.metrics_http is not None:
            self.metrics_http.shutdown()
            self.metrics_http.server_close()

    async def wait(self) -> None:
        await self.server.wait_for_termination()


async def start_server(model_dir: str | os.PathLike[str] | None = None, port: int = 50051, host: str = "[::]",
                       device: str = "auto", limits: Limits | None = None, metrics_port: int | None = None,
                       livelink: LiveLinkDefault | None = None, allow_stream_livelink: bool = False,
                       threads: int = 0, model: FaceModel | None = None, min_tick_s: float = 0.005,
                       reuse_port: bool = False) -> Server:
    """Load the model and start serving on ``host:port`` (port 0 = any free port; ``Server.port`` says which).
    ``reuse_port``: share the port with other processes that also ask (``emobridge serve --workers``); without it
    a port in use is an error, never silently shared with another sidecar."""
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection

    limits = limits or Limits()
    model = model or FaceModel(model_dir, device=device, threads=threads)
    if model.pad_batches:  # the device's first call at each batch shape is slow: pay for it before any stream
        started = time.monotonic()
        shapes = model.warm_up(min(limits.max_streams, Scheduler.MAX_BATCH))
        log_event("warmed_up", batch_shapes=shapes, seconds=round(time.monotonic() - started, 2))
    metrics = ServerMetrics()
    service = EmoBridgeService(model, str(model_dir) if model_dir else None, device, limits, metrics, livelink,
                               allow_stream_livelink, min_tick_s)
    options = [("grpc.max_receive_message_length", limits.max_message_bytes),
               ("grpc.max_send_message_length", limits.max_message_bytes),
               ("grpc.so_reuseport", int(reuse_port))]  # gRPC's default on Linux is 1
    server = grpc.aio.server(options=options)
    server.add_generic_rpc_handlers((service.handler(),))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:  # grpcio raises this when the bind fails
        bound = 0
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port}: is another server using the port? (pick another --port)")
    service.scheduler.start()
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    metrics_http = serve_metrics(metrics, metrics_port) if metrics_port is not None else None
    actual_metrics = metrics_http.server_address[1] if metrics_http is not None else None
    log_event("listening", port=bound, device=model.device, model=service.model_name, max_streams=limits.max_streams,
              metrics_port=actual_metrics, lookahead_ms=service.lookahead_ms)
    return Server(service, server, bound, health_servicer, metrics_http, actual_metrics)
