"""One Animate stream's state: its validated config, audio features, model state, emotion, idle, output.

A session does no I/O and never calls the model itself: the scheduler takes a ready 20 ms step from
each of many sessions (``take_step``), runs them as one batch and hands each its rows back
(``accept_step``). The output reproduces the offline bake of the same audio exactly (up to float
rounding): the same log-mel (``StreamingLogMel``'s causal framing, computed for many streams at once),
the same per-step conditioning (the conditioning of the step's last frame, as the offline graph uses),
the same linear resampling to the stream's fps, the same seeded idle motion and the same critically
damped emotion curve (``EmotionTimeline`` replays ``EmotionTrack.sample`` frame by frame as keyframes
arrive).
"""

from __future__ import annotations

import bisect
import math
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np
import scipy.sparse

from emobridge.animate import DEFAULT_FPS, DEFAULT_MOUTH_PRESERVATION, Style, frame_count
from emobridge.animate.animator import BLINK_CHANNELS
from emobridge.animate.idle import idle_motion
from emobridge.audio import SAMPLE_RATE, AudioError, decode_pcm
from emobridge.audio.features import _HISTORY, HOP, LOG_FLOOR, N_FFT, N_MELS, WIN, _mel_filterbank, _window
from emobridge.emotion import EMOTIONS
from emobridge.emotion.space import EmotionError, parse_emotion
from emobridge.emotion.track import DEFAULT_TRANSITION_S
from emobridge.emotion.transition import DampedEmotion
from emobridge.model.runtime import SILENCE_MEL, FaceModel
from emobridge.rig.profile import RigProfile, builtin_profiles, load_profile

ENCODINGS = {1: ("pcm_s16le", 2), 2: ("f32le", 4)}  # AudioEncoding value -> (decode_pcm name, bytes per sample)
SAMPLE_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
RIG_PROFILES = ("", *builtin_profiles())  # "" = the plain ARKit rig
IDLE_BLOCK = 256  # output frames of idle motion computed at a time


@lru_cache(maxsize=64)
def _window_index(n: int) -> np.ndarray:
    return np.arange(n)[:, None] * HOP + np.arange(WIN)[None, :]


def log_mel_windows(windows: np.ndarray) -> np.ndarray:
    """Log-mel frames [n, 80] of analysis windows [n, WIN]: ``StreamingLogMel``'s arithmetic, for many
    streams' windows in one call (each row depends on its own window only)."""
    if not len(windows):
        return np.zeros((0, N_MELS), np.float32)
    spectrum = np.fft.rfft(windows * _window(), n=N_FFT, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    # A sparse product, not a BLAS matmul: a multithreaded BLAS spins up its threads on this small product
    # and, on a busy machine, takes milliseconds; the filters are 98% zeros (same result to 1e-15).
    return np.log((_sparse_filterbank() @ power.T).T + LOG_FLOOR).astype(np.float32)


@cache
def _sparse_filterbank() -> scipy.sparse.csr_matrix:
    return scipy.sparse.csr_matrix(_mel_filterbank())


class SessionError(Exception):
    """A request the stream cannot take; ``code`` is the gRPC status name, the message says what to fix."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def invalid(message: str) -> SessionError:
    return SessionError("INVALID_ARGUMENT", message)


@dataclass
class Limits:
    """What the server accepts (GetInfoResponse.limits) and how much a stream may buffer."""

    max_streams: int = 64
    max_chunk_bytes: int = 64000           # 2 s of 16 kHz PCM16, far more than a 20 ms chunk
    sample_rates: tuple[int, ...] = SAMPLE_RATES
    max_fps: float = 240.0
    max_bake_seconds: float = 600.0
    max_concurrent_bakes: int = 4          # more wait their turn; each bake thread keeps ~100 MB of decoders
    max_message_bytes: int = 64 * 1024 * 1024
    max_pending_seconds: float = 1.0       # audio a stream may have buffered ahead of the model
    max_outbound_frames: int = 120         # frames waiting for a slow client before its stream pauses
    max_stream_seconds: float = 3600.0     # audio per stream before it ends with MAX_DURATION
    config_timeout_s: float = 10.0         # time for the first message to arrive


def finite(value: float, what: str) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise invalid(f"{what} must be a finite number, got {value}")
    return value


def emotion_vector(msg, what: str = "emotion") -> np.ndarray:
    """emobridge.v1.Emotion -> emotion vector; unknown names and bad numbers are INVALID_ARGUMENT."""
    spec: dict[str, float] = {}
    for name, value in msg.intensities.items():
        spec[name] = finite(value, f"{what} intensity of {name!r}")
    has_v, has_a = msg.HasField("valence"), msg.HasField("arousal")
    if has_v != has_a:
        raise invalid(f"{what}: valence and arousal must be set together")
    if has_v:
        spec["valence"] = finite(msg.valence, f"{what} valence")
        spec["arousal"] = finite(msg.arousal, f"{what} arousal")
    try:
        return parse_emotion(spec)
    except EmotionError as err:
        raise invalid(f"{what}: {err}") from None


def style_of(msg) -> Style:
    try:
        return Style(finite(msg.energy, "style energy"), finite(msg.smoothness, "style smoothness"))
    except ValueError as err:
        raise invalid(str(err)) from None


def transition_of(update) -> float:
    if not update.HasField("transition_seconds"):
        return DEFAULT_TRANSITION_S
    value = finite(update.transition_seconds, "transition_seconds")
    if value < 0:
        raise invalid(f"transition_seconds must be >= 0, got {value}")
    return value


def mouth_preservation_of(msg) -> float:
    if not msg.HasField("mouth_preservation"):
        return DEFAULT_MOUTH_PRESERVATION
    value = float(msg.mouth_preservation)
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise invalid(f"mouth_preservation must be in 0..1, got {value}")
    return value


def fps_of(value: float, limits: Limits) -> float:
    fps = float(value) or DEFAULT_FPS
    if not math.isfinite(fps) or fps < 0 or fps > limits.max_fps:
        raise invalid(f"fps must be in (0, {limits.max_fps:g}] (0 = {DEFAULT_FPS:g}), got {value}")
    return fps


def rig_profile_of(name: str) -> str:
    if name not in RIG_PROFILES:
        raise invalid(f"unknown rig_profile {name!r}; GetInfo lists the rig profiles (\"\" = plain ARKit)")
    return name


@cache
def rig_of(name: str) -> RigProfile | None:
    """The built-in profile a (validated) rig_profile names; None for the plain ARKit rig. Read once per name,
    not on every stream open."""
    return load_profile(name) if name else None


class EmotionTimeline:
    """``EmotionTrack.sample`` run incrementally: frame i's value once keyframes up to its time are known.

    Frames must be asked for in non-decreasing order; a keyframe must be added before any frame at or
    after its time is asked for (the session places late ones at the next frame not yet computed).
    """

    def __init__(self, initial: np.ndarray, fps: float) -> None:
        self.fps = fps
        self.follower = DampedEmotion(initial)
        self.keys: list[tuple[float, int, np.ndarray, float]] = []  # (time, arrival order, target, transition)
        self.now = 0.0
        self.next_frame = 0
        self.value = self.follower.step(0.0)
        self._order = 0

    def add(self, time_s: float, target: np.ndarray, transition_s: float) -> None:
        self._order += 1
        bisect.insort(self.keys, (time_s, self._order, target, transition_s), key=lambda k: (k[0], k[1]))

    def at(self, frame: int) -> np.ndarray:
        if not self.keys and math.isinf(self.follower.omega) and self.next_frame > 0:
            self.next_frame = max(self.next_frame, frame + 1)  # settled at its target: every frame is the same
            return self.value
        while self.next_frame <= frame:
            t = self.next_frame / self.fps
            while self.keys and self.keys[0][0] <= t + 1e-9:
                key_time, _, target, transition = self.keys.pop(0)
                if key_time > self.now:
                    self.follower.step(key_time - self.now)
                    self.now = key_time
                self.follower.set_target(target, transition)
            self.value = self.follower.step(max(0.0, t - self.now))
            self.now = max(self.now, t)
            self.next_frame += 1
        return self.value


@dataclass
class OutFrame:
    """One frame ready to send (the service turns it into an emobridge.v1.Frame)."""

    index: int
    time_seconds: float
    weights: np.ndarray   # [52] float32
    head: np.ndarray      # [3] yaw, pitch, roll
    emotion: np.ndarray   # [7] float32
    latency_s: float = 0.0


@dataclass
class StepInput:
    mel: np.ndarray       # [stride, 80]
    cond: np.ndarray      # [cond_size]
    arrival: float        # when the newest audio of this step arrived (monotonic seconds)


@dataclass
class Session:
    """State of one live stream. Create with ``Session.from_config``."""

    model: FaceModel
    limits: Limits
    sample_rate: int
    encoding: str
    bytes_per_frame: int
    channels: int
    fps: float
    mouth_preservation: float
    style: Style
    seed: int
    initial_emotion: np.ndarray
    rig_profile: str = ""
    stream_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    livelink: object | None = None  # a LiveLinkSender, when the stream also goes to Live Link

    def __post_init__(self) -> None:
        m = self.model
        self.rate, self.stride, self.lookahead = m.frame_rate, m.stride, m.lookahead
        self._raw = np.zeros(_HISTORY)  # audio of hops not yet turned into mel frames, after WIN - HOP of history
        self.pending = np.zeros((0, N_MELS), np.float32)
        self.pending_arrival: deque[float] = deque()
        self.state = m.new_state(1)[0]
        self.frames_in = 0          # mel frames of real audio received
        self.frames_run = 0         # mel frames the network has stepped over
        self.samples_in = 0         # 16 kHz samples received
        self.bytes_in = 0
        self.limit: int | None = None  # frames_in at end of audio
        self.ended = False          # no more audio will come
        self.done = False           # every frame has been produced
        self.stopping = False       # the server is shutting down: send what is ready, then end
        self.end_reason = 1         # EndReason of the StreamEnd (END_OF_AUDIO unless changed)
        self.end_message = ""
        self.error: SessionError | None = None
        self.cond_emotion = EmotionTimeline(self.initial_emotion, self.rate)
        self.out_emotion = EmotionTimeline(self.initial_emotion, self.fps)
        self.face: list[np.ndarray] = []   # ARKit rows at the model rate, from face index face_base
        self.face_base = 0
        self.face_count = 0                # face frames produced (indices 0 .. face_count - 1)
        self.out_index = 0
        self.frames_sent = 0
        self.outbox: deque[OutFrame] = deque()
        self.style_changes: deque[tuple[int, Style]] = deque()  # (first mel frame it applies to, style)
        self._idle_start = -1
        self._idle_add = self._idle_floor = np.zeros((0, 52))
        self._idle_head = np.zeros((0, 3), np.float32)
        self.opened = time.monotonic()
        self.listener = None  # called when output, room or the end became available (set by the service)

    def notify(self) -> None:
        if self.listener is not None:
            self.listener()

    # --- set-up ---

    @classmethod
    def from_config(cls, config, model: FaceModel, limits: Limits) -> Session:
        """Validate an emobridge.v1.StreamConfig."""
        if config.sample_rate == 0:
            raise invalid("StreamConfig.sample_rate is not set; send the audio's sample rate in Hz (16000 is exact)")
        if config.sample_rate not in limits.sample_rates:
            raise invalid(f"sample_rate {config.sample_rate} Hz is not supported; use one of "
                          f"{', '.join(map(str, limits.sample_rates))} (16000 avoids resampling)")
        if config.encoding not in ENCODINGS:
            raise invalid(f"encoding {config.encoding} is not supported; set AUDIO_ENCODING_PCM_S16LE or "
                          "AUDIO_ENCODING_PCM_F32LE")
        channels = config.channels or 1
        if channels > 8:
            raise invalid(f"channels must be 1..8, got {channels}")
        name, width = ENCODINGS[config.encoding]
        initial = emotion_vector(config.initial_emotion, "initial_emotion") if config.HasField("initial_emotion") \
            else np.zeros(len(EMOTIONS), np.float32)
        return cls(model=model, limits=limits, sample_rate=int(config.sample_rate), encoding=name,
                   bytes_per_frame=width * channels, channels=channels, fps=fps_of(config.fps, limits),
                   mouth_preservation=mouth_preservation_of(config), style=style_of(config.style),
                   seed=int(config.seed), initial_emotion=initial, rig_profile=rig_profile_of(config.rig_profile))

    @property
    def audio_seconds(self) -> float:
        return self.samples_in / SAMPLE_RATE

    # --- input (called as client messages arrive) ---

    def inbound_room(self) -> bool:
        """Whether more audio may be buffered (else the reader waits: flow control slows the sender)."""
        return (self.pending_frames < self.limits.max_pending_seconds * self.rate or self.done or self.stopping
                or self.error is not None)

    def push_audio(self, data: bytes, now: float | None = None) -> None:
        if self.ended:
            if self.end_reason == 3:  # past the duration limit: the stream is finishing, late audio is dropped
                return
            raise invalid("audio after EndOfAudio; open a new stream for new audio")
        if len(data) > self.limits.max_chunk_bytes:
            raise SessionError("RESOURCE_EXHAUSTED", f"audio chunk of {len(data)} bytes exceeds max_chunk_bytes "
                               f"{self.limits.max_chunk_bytes}; send 20 ms chunks")
        if len(data) % self.bytes_per_frame:
            raise invalid(f"audio chunk of {len(data)} bytes is not a whole number of {self.encoding} sample "
                          f"frames ({self.bytes_per_frame} bytes each); send whole sample frames")
        if self.encoding == "pcm_s16le" and self.channels == 1 and self.sample_rate == SAMPLE_RATE:
            audio = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0  # decode_pcm's result, without its checks
        else:
            try:
                audio = decode_pcm(data, self.encoding, self.sample_rate, self.channels)
            except AudioError as err:
                raise invalid(str(err)) from None
        self.bytes_in += len(data)
        self.samples_in += len(audio)
        before = self.raw_hops
        self._raw = np.concatenate([self._raw, audio.astype(np.float64)])
        new = self.raw_hops - before
        self.frames_in += new
        self.pending_arrival.extend([time.monotonic() if now is None else now] * new)
        if self.audio_seconds > self.limits.max_stream_seconds:
            self.end_audio(reason=3, message=f"streams are limited to {self.limits.max_stream_seconds:g} s of audio")

    def _queue(self, mel: np.ndarray, now: float) -> None:
        self.add_mel(mel.astype(np.float32))
        self.pending_arrival.extend([now] * len(mel))

    def next_frame_time(self) -> float:
        """Time of the first model-rate frame not yet computed: where a live update takes effect."""
        return max(0, self.frames_run - self.lookahead) / self.rate

    def update_emotion(self, update) -> None:
        """An emobridge.v1.EmotionUpdate: from the next frame, or at its time when that is still ahead."""
        if not update.HasField("emotion"):
            raise invalid("EmotionUpdate.emotion is not set; send the target emotion (an empty map = neutral)")
        target = emotion_vector(update.emotion)
        transition = transition_of(update)
        when = self.next_frame_time()
        if update.HasField("time_seconds"):
            t = finite(update.time_seconds, "EmotionUpdate.time_seconds")
            if t < 0:
                raise invalid(f"EmotionUpdate.time_seconds must be >= 0, got {t}")
            when = max(when, t)
        self.cond_emotion.add(when, target, transition)
        self.out_emotion.add(when, target, transition)

    def update_style(self, update) -> None:
        """A new style for the model steps over audio sent after it (deterministic whatever the timing)."""
        self.style_changes.append((self.frames_in, style_of(update.style)))

    def end_audio(self, reason: int = 1, message: str = "", now: float | None = None) -> None:
        """No more audio: pad with the model's lookahead of silence (as offline inference does)."""
        if self.ended:
            return
        self.ended, self.end_reason, self.end_message = True, reason, message
        partial = (len(self._raw) - _HISTORY) % HOP
        if partial:  # the last partial hop, zero-padded (as StreamingLogMel.flush does)
            self._raw = np.concatenate([self._raw, np.zeros(HOP - partial)])
            self.frames_in += 1
            self.pending_arrival.append(time.monotonic() if now is None else now)
        self.convert_mel()  # the silence below must come after every audio frame
        self.limit = self.frames_in
        fill = self.lookahead + (-self.frames_in) % self.stride
        now = time.monotonic() if now is None else now
        self._queue(np.full((fill, N_MELS), SILENCE_MEL, np.float32), now)
        self._maybe_finish()

    def fail(self, error: SessionError) -> None:
        self.error = error

    # --- model steps (called by the scheduler) ---

    def ready(self) -> bool:
        return (self.pending_frames >= self.stride and not self.done and self.error is None
                and len(self.outbox) < self.limits.max_outbound_frames)

    @property
    def raw_hops(self) -> int:
        """Complete hops of audio not yet turned into mel frames."""
        return (len(self._raw) - _HISTORY) // HOP

    @property
    def pending_frames(self) -> int:
        """Mel frames waiting for the model, computed or not."""
        return len(self.pending) + self.raw_hops

    def mel_windows(self) -> np.ndarray:
        """Take the analysis windows [n, WIN] of the complete hops (the scheduler batches them over streams)."""
        n = self.raw_hops
        if n <= 0:
            return np.zeros((0, WIN))
        windows = self._raw[_window_index(n)]
        self._raw = self._raw[n * HOP:]
        return windows

    def add_mel(self, mel: np.ndarray) -> None:
        if len(mel):
            self.pending = np.concatenate([self.pending, mel])

    def convert_mel(self) -> None:
        """Turn this stream's complete hops into mel frames on its own (the scheduler does many at once)."""
        self.add_mel(log_mel_windows(self.mel_windows()))

    def take_step(self) -> StepInput:
        k, la = self.stride, self.lookahead
        if len(self.pending) < k:
            self.convert_mel()
        mel = self.pending[:k]
        self.pending = self.pending[k:]
        arrival = 0.0
        for _ in range(k):
            arrival = self.pending_arrival.popleft()
        # The offline graph conditions each step on its last frame's conditioning, clamped to the clip.
        j = max(0, self.frames_run + k - 1 - la)
        if self.limit is not None:
            j = min(j, max(0, self.limit - 1))
        while self.style_changes and self.style_changes[0][0] <= self.frames_run:
            self.style = self.style_changes.popleft()[1]
        emotion = self.cond_emotion.at(j)
        cond = np.concatenate([emotion, [self.mouth_preservation], self.style.vector()]).astype(np.float32)
        return StepInput(mel, cond, arrival)

    def accept_step(self, face: np.ndarray, state: np.ndarray, arrival: float, now: float | None = None) -> list[OutFrame]:
        """The step's ARKit rows [stride, 52] and next state; returns the output frames that became ready."""
        k, la = self.stride, self.lookahead
        self.state = state
        first = self.frames_run - la
        self.frames_run += k
        end = self.limit if self.limit is not None else 1 << 62
        for i in range(k):
            if 0 <= first + i < end:
                self.face.append(face[i])
                self.face_count += 1
        now = time.monotonic() if now is None else now
        frames = self._emit(final=False, latency=now - arrival)
        self._maybe_finish(now)
        return frames

    def _maybe_finish(self, now: float | None = None) -> None:
        if self.ended and not self.done and self.pending_frames < self.stride:
            self.outbox.extend(self._emit(final=True, latency=0.0))
            self.done = True

    # --- output ---

    def _emit(self, final: bool, latency: float) -> list[OutFrame]:
        out: list[OutFrame] = []
        # The clip's frame count only grows with more audio, so a frame below the current count is final.
        n_frames = frame_count(self.audio_seconds, self.fps)
        while self.face_count:
            k = self.out_index
            t = k / self.fps
            if k >= n_frames or not (final or t <= (self.face_count - 1) / self.rate):
                break
            out.append(self._frame(k, t, latency))
            self.out_index += 1
        if not final:
            self.outbox.extend(out)
        # Keep the rows later frames still interpolate from.
        keep_from = max(0, int(self.out_index / self.fps * self.rate) - 2)
        if keep_from - self.face_base > 64:
            del self.face[:keep_from - self.face_base]
            self.face_base = keep_from
        return out

    def _interp(self, t: float) -> np.ndarray:
        """np.interp of the model-rate rows at time t (what the offline resample_frames computes)."""
        last = self.face_count - 1
        j = min(int(t * self.rate), last)
        while j < last and (j + 1) / self.rate <= t:
            j += 1
        while j > 0 and j / self.rate > t:
            j -= 1
        f0 = self.face[j - self.face_base].astype(np.float64)
        if j >= last or t <= j / self.rate:
            return f0
        f1 = self.face[j + 1 - self.face_base].astype(np.float64)
        x0, x1 = j / self.rate, (j + 1) / self.rate
        return (f1 - f0) / (x1 - x0) * (t - x0) + f0

    def _idle(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frame k's idle motion as (added to the face, floor of the face, head rotation)."""
        if not self._idle_start <= k < self._idle_start + len(self._idle_add):
            self._idle_start = k - k % IDLE_BLOCK
            times = np.arange(self._idle_start, self._idle_start + IDLE_BLOCK) / self.fps
            idle = idle_motion(times, self.fps, None, self.seed)
            # Idle motion adds to the face, except blinks: the larger of the face's and the idle blink wins.
            self._idle_add = idle.weights.astype(np.float64)
            self._idle_add[:, BLINK_CHANNELS] = 0.0
            self._idle_floor = np.full_like(self._idle_add, -np.inf)
            self._idle_floor[:, BLINK_CHANNELS] = idle.weights[:, BLINK_CHANNELS]
            self._idle_head = idle.head_rotation.astype(np.float32)
        i = k - self._idle_start
        return self._idle_add[i], self._idle_floor[i], self._idle_head[i]

    def _frame(self, k: int, t: float, latency: float) -> OutFrame:
        add, floor, head = self._idle(k)
        face = np.maximum(self._interp(t) + add, floor)
        weights = np.minimum(np.maximum(face, 0.0, out=face), 1.0, out=face).astype(np.float32)
        emotion = self.out_emotion.at(k)  # float32; may be shared between frames, never written to
        return OutFrame(k, t, weights, head, emotion, latency)
