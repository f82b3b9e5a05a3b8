"""ctypes binding of the native client core (libemobridge): a smoke client, and the model for Unity's P/Invoke.

The structs and signatures mirror ``engine_plugins/native/include/emobridge.h`` one for one. Only the
standard library is needed (numpy arrays are accepted where samples go in).

    python emobridge_native.py localhost:50051 examples/hello.wav happy=0.6

The library is looked up in ``$EMOBRIDGE_NATIVE_LIB``, then in the repository's ``build/`` tree.
"""

from __future__ import annotations

import ctypes as C
import json
import os
import sys
import time
import wave
from pathlib import Path

EB_ABI_VERSION = 5  # needs the clips of ABI 5 (a newer library serves it too)
EB_MAX_WEIGHTS = 64
EB_NUM_EMOTIONS = 7

EB_OK, EB_NO_FRAME = 0, 1
EB_ERR_INVALID_ARGUMENT, EB_ERR_INVALID_HANDLE, EB_ERR_CLOSED, EB_ERR_UNAVAILABLE = -1, -2, -3, -4
EB_ERR_QUEUE_FULL, EB_ERR_STATE, EB_ERR_INTERNAL = -5, -6, -7
STATES = ("connecting", "streaming", "reconnecting", "ended", "failed", "closed")

REPO = Path(__file__).resolve().parents[3]


class Rotation(C.Structure):
    _fields_ = [("yaw", C.c_float), ("pitch", C.c_float), ("roll", C.c_float)]


class Frame(C.Structure):
    _fields_ = [("index", C.c_uint64), ("time_seconds", C.c_double), ("weight_count", C.c_uint32),
                ("connection", C.c_uint32), ("weights", C.c_float * EB_MAX_WEIGHTS), ("head", Rotation),
                ("left_eye", Rotation), ("right_eye", Rotation), ("emotion", C.c_float * EB_NUM_EMOTIONS)]


class StreamConfig(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("sample_rate", C.c_uint32), ("channels", C.c_uint32),
                ("frame_queue_capacity", C.c_uint32), ("fps", C.c_double), ("seed", C.c_uint64),
                ("mouth_preservation", C.c_float), ("style_energy", C.c_float), ("style_smoothness", C.c_float),
                ("audio_queue_ms", C.c_uint32), ("reconnect", C.c_int32), ("reconnect_initial_ms", C.c_uint32),
                ("reconnect_max_ms", C.c_uint32), ("rig_profile", C.c_char_p),
                ("emotion_names", C.POINTER(C.c_char_p)), ("emotion_values", C.POINTER(C.c_float)),
                ("emotion_count", C.c_uint32)]


class StreamStats(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("state", C.c_int32), ("reconnects", C.c_uint32),
                ("frames_queued", C.c_uint32), ("frames_received", C.c_uint64), ("frames_dropped", C.c_uint64),
                ("audio_frames_accepted", C.c_uint64), ("audio_frames_rejected", C.c_uint64), ("fps", C.c_double),
                ("stream_id", C.c_char * 40)]


class EmotionKey(C.Structure):
    _fields_ = [("time_seconds", C.c_double), ("transition_seconds", C.c_float), ("names", C.POINTER(C.c_char_p)),
                ("values", C.POINTER(C.c_float)), ("count", C.c_uint32)]


class BakeConfig(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("sample_rate", C.c_uint32), ("channels", C.c_uint32),
                ("fps", C.c_double), ("seed", C.c_uint64), ("mouth_preservation", C.c_float),
                ("style_energy", C.c_float), ("style_smoothness", C.c_float), ("rig_profile", C.c_char_p),
                ("transcript", C.c_char_p), ("recognize_words", C.c_int32), ("timeout_ms", C.c_uint32),
                ("emotion_names", C.POINTER(C.c_char_p)), ("emotion_values", C.POINTER(C.c_float)),
                ("emotion_count", C.c_uint32), ("emotion_keys", C.POINTER(EmotionKey)), ("emotion_key_count", C.c_uint32)]


class BakeInfo(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("duration_seconds", C.c_double), ("route", C.c_char * 16),
                ("meta_json", C.c_char_p), ("meta_json_capacity", C.c_size_t), ("meta_json_length", C.c_size_t)]


class ClipStatus(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("changes", C.c_uint32), ("changes_baked", C.c_uint32),
                ("bakes_started", C.c_uint32), ("version", C.c_uint64), ("baking", C.c_int32),
                ("last_result", C.c_int32), ("frame_count", C.c_uint32), ("duration_seconds", C.c_double),
                ("route", C.c_char * 16)]


class NativeError(RuntimeError):
    """A negative eb_result; ``code`` is the number, the message eb_last_error()."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code


def library_path() -> Path | None:
    env = os.environ.get("EMOBRIDGE_NATIVE_LIB")
    candidates = [Path(env)] if env else [REPO / "build/engine_plugins/native/libemobridge.so"]
    return next((p for p in candidates if p.is_file()), None)


def load(path: str | os.PathLike | None = None) -> C.CDLL:
    path = path or library_path()
    if path is None:
        raise FileNotFoundError("libemobridge not found: build it (cmake -S . -B build && cmake --build build) "
                                "or set EMOBRIDGE_NATIVE_LIB")
    lib = C.CDLL(str(path))
    handle = C.c_void_p
    sig = {
        "eb_version": (C.c_char_p, []), "eb_abi_version": (C.c_uint32, []), "eb_last_error": (C.c_char_p, []),
        "eb_result_name": (C.c_char_p, [C.c_int32]), "eb_state_name": (C.c_char_p, [C.c_int32]),
        "eb_client_connect": (C.c_int32, [C.c_char_p, C.c_uint32, C.POINTER(handle)]),
        "eb_client_close": (C.c_int32, [handle]),
        "eb_client_get_info": (C.c_int32, [handle, C.c_uint32, C.c_char_p, C.c_size_t, C.POINTER(C.c_size_t)]),
        "eb_stream_config_init": (None, [C.POINTER(StreamConfig)]),
        "eb_stream_open": (C.c_int32, [handle, C.POINTER(StreamConfig), C.POINTER(handle)]),
        "eb_stream_push_s16": (C.c_int32, [handle, C.c_void_p, C.c_size_t]),
        "eb_stream_push_f32": (C.c_int32, [handle, C.c_void_p, C.c_size_t]),
        "eb_stream_set_emotion": (C.c_int32, [handle, C.POINTER(C.c_char_p), C.POINTER(C.c_float), C.c_uint32,
                                              C.c_float]),
        "eb_stream_set_emotion_at": (C.c_int32, [handle, C.POINTER(C.c_char_p), C.POINTER(C.c_float), C.c_uint32,
                                                 C.c_float, C.c_double]),
        "eb_stream_set_valence_arousal": (C.c_int32, [handle, C.c_float, C.c_float, C.c_float, C.c_double]),
        "eb_stream_end_audio": (C.c_int32, [handle]),
        "eb_stream_poll_latest": (C.c_int32, [handle, C.POINTER(Frame)]),
        "eb_stream_drain": (C.c_int32, [handle, C.POINTER(Frame), C.c_size_t, C.POINTER(C.c_size_t)]),
        "eb_stream_wait": (C.c_int32, [handle, C.c_uint32]),
        "eb_stream_get_state": (C.c_int32, [handle, C.POINTER(C.c_int32)]),
        "eb_stream_get_stats": (C.c_int32, [handle, C.POINTER(StreamStats)]),
        "eb_stream_get_error": (C.c_int32, [handle, C.c_char_p, C.c_size_t, C.POINTER(C.c_size_t)]),
        "eb_stream_close": (C.c_int32, [handle]),
        "eb_bake_config_init": (None, [C.POINTER(BakeConfig)]),
        "eb_bake_max_frames": (C.c_size_t, [C.c_size_t, C.c_uint32, C.c_double]),
        "eb_bake_s16": (C.c_int32, [handle, C.POINTER(BakeConfig), C.c_void_p, C.c_size_t, C.POINTER(Frame),
                                    C.c_size_t, C.POINTER(C.c_size_t), C.POINTER(BakeInfo)]),
        "eb_bake_f32": (C.c_int32, [handle, C.POINTER(BakeConfig), C.c_void_p, C.c_size_t, C.POINTER(Frame),
                                    C.c_size_t, C.POINTER(C.c_size_t), C.POINTER(BakeInfo)]),
        "eb_clip_open_s16": (C.c_int32, [handle, C.POINTER(BakeConfig), C.c_void_p, C.c_size_t, C.POINTER(handle)]),
        "eb_clip_open_f32": (C.c_int32, [handle, C.POINTER(BakeConfig), C.c_void_p, C.c_size_t, C.POINTER(handle)]),
        "eb_clip_set_emotion_at": (C.c_int32, [handle, C.POINTER(C.c_char_p), C.POINTER(C.c_float), C.c_uint32,
                                               C.c_float, C.c_double]),
        "eb_clip_set_valence_arousal": (C.c_int32, [handle, C.c_float, C.c_float, C.c_float, C.c_double]),
        "eb_clip_sample": (C.c_int32, [handle, C.c_double, C.POINTER(Frame)]),
        "eb_clip_frames": (C.c_int32, [handle, C.POINTER(Frame), C.c_size_t, C.POINTER(C.c_size_t),
                                       C.POINTER(C.c_uint64)]),
        "eb_clip_wait": (C.c_int32, [handle, C.c_uint32, C.c_uint32]),
        "eb_clip_get_status": (C.c_int32, [handle, C.POINTER(ClipStatus)]),
        "eb_clip_get_error": (C.c_int32, [handle, C.c_char_p, C.c_size_t, C.POINTER(C.c_size_t)]),
        "eb_clip_close": (C.c_int32, [handle]),
    }
    for name, (restype, argtypes) in sig.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    if lib.eb_abi_version() < EB_ABI_VERSION:
        raise RuntimeError(f"libemobridge ABI {lib.eb_abi_version()}, this binding expects {EB_ABI_VERSION}")
    return lib


def _check(lib: C.CDLL, rc: int) -> int:
    """``rc`` if it is not an error, else NativeError with eb_last_error()."""
    if rc < 0:
        raise NativeError(rc, lib.eb_last_error().decode())
    return rc


def _emotion_arrays(emotion: dict[str, float] | None):
    emotion = emotion or {}
    names = (C.c_char_p * max(1, len(emotion)))(*[k.encode() for k in emotion])
    values = (C.c_float * max(1, len(emotion)))(*emotion.values())
    return names, values, len(emotion)


class Stream:
    """One eb_stream. Methods raise NativeError on errors; ``push`` returns False when the queue is full."""

    def __init__(self, lib: C.CDLL, handle: C.c_void_p, channels: int = 1) -> None:
        self.lib, self.handle, self.channels = lib, handle, channels

    def _check(self, rc: int) -> int:
        return _check(self.lib, rc)

    def push(self, samples, f32: bool = False) -> bool:
        """Interleaved int16 (bytes or an int16 array) or, with ``f32``, float32 samples; False = queue full."""
        data = bytes(samples) if isinstance(samples, (bytes, bytearray, memoryview)) else samples.tobytes()
        width = 4 if f32 else 2
        fn = self.lib.eb_stream_push_f32 if f32 else self.lib.eb_stream_push_s16
        buffer = C.create_string_buffer(data, len(data))
        rc = fn(self.handle, buffer, len(data) // (width * self.channels))
        return rc != EB_ERR_QUEUE_FULL and self._check(rc) == EB_OK

    def set_emotion(self, emotion: dict[str, float] | None, transition_seconds: float = -1.0,
                    time_seconds: float | None = None) -> None:
        """Target emotion, blending from ``time_seconds`` on the audio timeline (None = at once)."""
        names, values, count = _emotion_arrays(emotion)
        at = float("nan") if time_seconds is None else time_seconds
        self._check(self.lib.eb_stream_set_emotion_at(self.handle, names, values, count, transition_seconds, at))

    def set_valence_arousal(self, valence: float, arousal: float, transition_seconds: float = -1.0,
                            time_seconds: float | None = None) -> None:
        """Target emotion from a valence/arousal point in -1..1 (the sidecar maps it); times as set_emotion."""
        at = float("nan") if time_seconds is None else time_seconds
        self._check(self.lib.eb_stream_set_valence_arousal(self.handle, valence, arousal, transition_seconds, at))

    def end_audio(self) -> None:
        self._check(self.lib.eb_stream_end_audio(self.handle))

    def wait(self, timeout_ms: int) -> bool:
        return self._check(self.lib.eb_stream_wait(self.handle, timeout_ms)) == EB_OK

    def poll_latest(self) -> Frame | None:
        frame = Frame()
        return frame if self._check(self.lib.eb_stream_poll_latest(self.handle, C.byref(frame))) == EB_OK else None

    def drain(self, capacity: int = 256) -> list[Frame]:
        frames, count = (Frame * capacity)(), C.c_size_t()
        self._check(self.lib.eb_stream_drain(self.handle, frames, capacity, C.byref(count)))
        return list(frames[: count.value])

    @property
    def state(self) -> str:
        state = C.c_int32()
        self._check(self.lib.eb_stream_get_state(self.handle, C.byref(state)))
        return STATES[state.value]

    def stats(self) -> StreamStats:
        stats = StreamStats(struct_size=C.sizeof(StreamStats))
        self._check(self.lib.eb_stream_get_stats(self.handle, C.byref(stats)))
        return stats

    @property
    def error(self) -> str:
        buffer = C.create_string_buffer(1024)
        self._check(self.lib.eb_stream_get_error(self.handle, buffer, len(buffer), None))
        return buffer.value.decode()

    def close(self) -> None:
        self._check(self.lib.eb_stream_close(self.handle))


class Clip:
    """One eb_clip: a clip baked whole and baked again at every emotion change. Methods raise NativeError."""

    def __init__(self, lib: C.CDLL, handle: C.c_void_p) -> None:
        self.lib, self.handle = lib, handle

    def set_emotion(self, emotion: dict[str, float] | None, time_seconds: float,
                    transition_seconds: float = -1.0) -> None:
        """From ``time_seconds`` on the clip the face blends to ``emotion``; bakes again."""
        names, values, count = _emotion_arrays(emotion)
        _check(self.lib, self.lib.eb_clip_set_emotion_at(self.handle, names, values, count, transition_seconds,
                                                          time_seconds))

    def set_valence_arousal(self, valence: float, arousal: float, time_seconds: float,
                            transition_seconds: float = -1.0) -> None:
        """From ``time_seconds`` the face blends to a valence/arousal point (the sidecar maps it); bakes again."""
        _check(self.lib, self.lib.eb_clip_set_valence_arousal(self.handle, valence, arousal, transition_seconds,
                                                               time_seconds))

    def sample(self, time_seconds: float) -> Frame | None:
        """The newest bake's frame at a playback time; None before the first bake is back."""
        frame = Frame()
        return frame if _check(self.lib, self.lib.eb_clip_sample(self.handle, time_seconds, C.byref(frame))) == EB_OK \
            else None

    def frames(self) -> tuple[list[Frame], int]:
        """(the newest bake's frames, its version); ([], 0) before the first bake is back."""
        capacity = self.status().frame_count
        frames, count, version = (Frame * max(1, capacity))(), C.c_size_t(), C.c_uint64()
        _check(self.lib, self.lib.eb_clip_frames(self.handle, frames, capacity, C.byref(count), C.byref(version)))
        return list(frames[: count.value]), version.value

    def wait(self, changes: int = 0, timeout_ms: int = 60000) -> bool:
        """Until a bake holding the first ``changes`` changes is back (True) or the timeout (False)."""
        return _check(self.lib, self.lib.eb_clip_wait(self.handle, changes, timeout_ms)) == EB_OK

    def status(self) -> ClipStatus:
        status = ClipStatus(struct_size=C.sizeof(ClipStatus))
        _check(self.lib, self.lib.eb_clip_get_status(self.handle, C.byref(status)))
        return status

    @property
    def error(self) -> str:
        buffer = C.create_string_buffer(1024)
        _check(self.lib, self.lib.eb_clip_get_error(self.handle, buffer, len(buffer), None))
        return buffer.value.decode()

    def close(self) -> None:
        _check(self.lib, self.lib.eb_clip_close(self.handle))


class Client:
    """One eb_client: ``Client("localhost:50051")``; use as a context manager or ``close()``."""

    def __init__(self, address: str, connect_timeout_ms: int = 5000, lib: C.CDLL | None = None) -> None:
        self.lib = lib or load()
        self.handle = C.c_void_p()
        _check(self.lib, self.lib.eb_client_connect(address.encode(), connect_timeout_ms, C.byref(self.handle)))

    def stream(self, sample_rate: int = 16000, channels: int = 1, fps: float = 60.0, seed: int = 0,
               emotion: dict[str, float] | None = None, frame_queue_capacity: int = 256, **fields) -> Stream:
        config = StreamConfig()
        self.lib.eb_stream_config_init(C.byref(config))
        config.sample_rate, config.channels, config.fps, config.seed = sample_rate, channels, fps, seed
        config.frame_queue_capacity = frame_queue_capacity
        for name, value in fields.items():
            setattr(config, name, value)
        names, values, count = _emotion_arrays(emotion)
        config.emotion_names, config.emotion_values, config.emotion_count = names, values, count
        handle = C.c_void_p()
        _check(self.lib, self.lib.eb_stream_open(self.handle, C.byref(config), C.byref(handle)))
        return Stream(self.lib, handle, channels)

    def bake(self, samples, sample_rate: int = 16000, channels: int = 1, f32: bool = False,
             emotion: dict[str, float] | None = None, transcript: str | None = None, recognize_words: bool = False,
             emotion_keys: list[tuple[float, float, dict[str, float]]] = (),
             **fields) -> tuple[list[Frame], str, dict]:
        """A whole clip in one Bake call: interleaved int16 (bytes or an array) or, with ``f32``, float32 samples;
        ``emotion_keys``: (time_seconds, transition_seconds, emotion) changes over the clip.
        Returns (every frame, the route: "transcript", "model", "phones" or "silence", the bake's metadata)."""
        config, data, count, _alive = self._bake_config(samples, sample_rate, channels, f32, emotion, transcript,
                                                        recognize_words, emotion_keys, fields)
        capacity = self.lib.eb_bake_max_frames(count, sample_rate, config.fps)
        meta = C.create_string_buffer(65536)
        frames, got = (Frame * capacity)(), C.c_size_t()
        info = BakeInfo(struct_size=C.sizeof(BakeInfo), meta_json=C.cast(meta, C.c_char_p), meta_json_capacity=len(meta))
        fn = self.lib.eb_bake_f32 if f32 else self.lib.eb_bake_s16
        _check(self.lib, fn(self.handle, C.byref(config), data, count, frames, capacity, C.byref(got), C.byref(info)))
        return list(frames[: got.value]), info.route.decode(), json.loads(meta.value.decode() or "{}")

    def clip(self, samples, sample_rate: int = 16000, channels: int = 1, f32: bool = False,
             emotion: dict[str, float] | None = None, transcript: str | None = None, recognize_words: bool = False,
             emotion_keys: list[tuple[float, float, dict[str, float]]] = (), **fields) -> Clip:
        """A clip baked now and again at every ``Clip.set_emotion`` (eb_clip_open_*); arguments as ``bake``."""
        config, data, count, _alive = self._bake_config(samples, sample_rate, channels, f32, emotion, transcript,
                                                        recognize_words, emotion_keys, fields)
        handle = C.c_void_p()
        fn = self.lib.eb_clip_open_f32 if f32 else self.lib.eb_clip_open_s16
        _check(self.lib, fn(self.handle, C.byref(config), data, count, C.byref(handle)))
        return Clip(self.lib, handle)

    def _bake_config(self, samples, sample_rate, channels, f32, emotion, transcript, recognize_words, emotion_keys,
                     fields):
        """(eb_bake_config, the samples' buffer, sample frames, what the config points into: keep it alive)."""
        data = bytes(samples) if isinstance(samples, (bytes, bytearray, memoryview)) else samples.tobytes()
        config = BakeConfig()
        self.lib.eb_bake_config_init(C.byref(config))
        config.sample_rate, config.channels, config.recognize_words = sample_rate, channels, int(recognize_words)
        config.transcript = transcript.encode() if transcript else None
        for name, value in fields.items():
            setattr(config, name, value)
        names, values, n = _emotion_arrays(emotion)
        config.emotion_names, config.emotion_values, config.emotion_count = names, values, n
        key_arrays = [(t, ramp, *_emotion_arrays(e)) for t, ramp, e in emotion_keys]
        keys = (EmotionKey * max(1, len(emotion_keys)))(*[EmotionKey(*fields) for fields in key_arrays])
        config.emotion_keys, config.emotion_key_count = keys, len(emotion_keys)
        count = len(data) // ((4 if f32 else 2) * channels)
        return config, C.create_string_buffer(data, len(data)), count, (names, values, key_arrays, keys)

    def info(self, timeout_ms: int = 5000) -> dict:
        """The sidecar's GetInfo reply (eb_client_get_info's JSON): model, emotion names, rig profiles, limits."""
        length = C.c_size_t()
        rc = self.lib.eb_client_get_info(self.handle, timeout_ms, None, 0, C.byref(length))  # the length first
        buffer = C.create_string_buffer(length.value + 1)
        if rc == EB_OK:
            rc = self.lib.eb_client_get_info(self.handle, timeout_ms, buffer, len(buffer), C.byref(length))
        _check(self.lib, rc)
        return json.loads(buffer.value.decode())

    def close(self) -> None:
        _check(self.lib, self.lib.eb_client_close(self.handle))

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stream_pcm16(stream: Stream, pcm: bytes, sample_rate: int, channels: int = 1, timeout_s: float = 60.0) -> list[Frame]:
    """Push PCM16 in 20 ms pieces (waiting while the queue is full), end the audio, return every frame."""
    step = sample_rate // 50 * 2 * channels
    frames: list[Frame] = []
    for at in range(0, len(pcm), step):
        while not stream.push(pcm[at:at + step]):
            frames += stream.drain()
            stream.wait(20)
        frames += stream.drain()
    stream.end_audio()
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up:
        stream.wait(200)
        state = stream.state  # read before draining: nothing arrives after an end seen here
        frames += stream.drain()
        if state in ("ended", "failed"):
            break
    return frames


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    emotion = dict([(argv[3].split("=")[0], float(argv[3].split("=")[1]))]) if len(argv) > 3 else None
    with wave.open(argv[2]) as wav:
        assert wav.getsampwidth() == 2, "16-bit PCM wav only"
        rate, channels, pcm = wav.getframerate(), wav.getnchannels(), wav.readframes(wav.getnframes())
    with Client(argv[1]) as client:
        stream = client.stream(sample_rate=rate, channels=channels, emotion=emotion)
        frames = stream_pcm16(stream, pcm, rate, channels)
        for f in frames[::10]:
            print(f"frame {f.index:4d} t={f.time_seconds:6.3f} jawOpen={f.weights[17]:.3f} happy={f.emotion[0]:.3f}")
        print(f"{len(frames)} frames, stream {stream.state}{': ' + stream.error if stream.error else ''}")
        return 0 if stream.state == "ended" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
