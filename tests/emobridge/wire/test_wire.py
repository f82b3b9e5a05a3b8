"""emobridge.wire: stubs generated from proto/ at build time, message round trips, a fully documented contract."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from emobridge import wire
from emobridge.emotion.space import EMOTIONS
from emobridge.rig import ARKIT_NAMES

REPO = Path(__file__).resolve().parents[3]
PROTO = REPO / "proto" / wire.PROTO_FILE

# Published field numbers (a message may span lines): renumbering breaks every deployed client.
NUMBERS = """
Emotion: intensities=1 valence=2 arousal=3
Style: energy=1 smoothness=2
Rotation: yaw=1 pitch=2 roll=3
Frame: index=1 time_seconds=2 weights=3 head=4 left_eye=5 right_eye=6 emotion=7
LiveLinkTarget: host=1 port=2 subject=3 device_id=4
AnimateRequest: config=1 audio=2 emotion=3 style=4 end_of_audio=5
StreamConfig: sample_rate=1 encoding=2 channels=3 fps=4 rig_profile=5 style=6 initial_emotion=7
StreamConfig: mouth_preservation=8 seed=9 livelink=10
AudioChunk: data=1
EmotionUpdate: emotion=1 transition_seconds=2 time_seconds=3
StyleUpdate: style=1
AnimateResponse: header=1 frame=2 end=3
StreamHeader: blendshape_names=1 fps=2 model_name=3 model_version=4 lookahead_ms=5 emotion_names=6 stream_id=7
StreamEnd: frames_sent=1 reason=2 audio_seconds=3 message=4
PcmAudio: data=1 encoding=2 sample_rate=3 channels=4
BakeRequest: pcm=1 file=2 transcript=3 emotion_keyframes=4 fps=5 seed=6 mouth_preservation=7 style=8 rig_profile=9
BakeRequest: recognize_words=10
Animation: blendshape_names=1 fps=2 frames=3 emotion_names=4
BakeMeta: route=1 duration_seconds=2 model_name=3 model_version=4 meta_json=5
BakeResponse: animation=1 meta=2
Limits: max_streams=1 active_streams=2 max_chunk_bytes=3 sample_rates=4 max_fps=5 max_bake_seconds=6 max_message_bytes=7
GetInfoResponse: model_name=1 model_version=2 server_version=3 providers=4 device=5 emotion_names=6
GetInfoResponse: emotion_aliases=7 blendshape_names=8 limits=9 lookahead_ms=10 rig_profiles=11
AudioEncoding: AUDIO_ENCODING_UNSPECIFIED=0 AUDIO_ENCODING_PCM_S16LE=1 AUDIO_ENCODING_PCM_F32LE=2
EndReason: END_REASON_UNSPECIFIED=0 END_REASON_END_OF_AUDIO=1 END_REASON_SERVER_SHUTDOWN=2 END_REASON_MAX_DURATION=3
"""


def test_import_gives_messages_and_service():
    from emobridge.wire import pb, rpc

    assert pb.DESCRIPTOR.package == "emobridge.v1"
    assert pb.DESCRIPTOR.name == wire.PROTO_FILE  # the canonical path, as reflection and C++ name it
    service = pb.DESCRIPTOR.services_by_name["EmoBridge"]
    methods = {m.name: (m.client_streaming, m.server_streaming) for m in service.methods}
    assert methods == {"Animate": (True, True), "Bake": (False, False), "GetInfo": (False, False)}
    assert {"EmoBridgeStub", "EmoBridgeServicer", "add_EmoBridgeServicer_to_server"} <= set(dir(rpc))


def test_generated_code_is_not_committed():
    tracked = subprocess.run(["git", "ls-files", "sdk_python/emobridge/wire"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()
    assert not [f for f in tracked if f.endswith(("_pb2.py", "_pb2_grpc.py"))]
    ignored = subprocess.run(["git", "check-ignore", "-q", "sdk_python/emobridge/wire/_generated/emobridge_pb2.py"],
                             cwd=REPO)
    assert ignored.returncode == 0, "the generated folder must be git-ignored"


def test_generate_in_a_temp_copy_and_regenerate_only_when_stale(tmp_path):
    root = tmp_path / "proto"
    shutil.copytree(REPO / "proto" / "emobridge", root / "emobridge")
    out = tmp_path / "gen"
    assert wire.generate(root, out) == out
    pb_file, rpc_file = out / "emobridge_pb2.py", out / "emobridge_pb2_grpc.py"
    assert pb_file.is_file() and rpc_file.is_file()
    assert "from . import emobridge_pb2 as" in rpc_file.read_text()  # never `from emobridge.v1 import ...`
    first = pb_file.stat().st_mtime_ns

    time.sleep(0.02)
    wire.generate(root, out)  # current: left alone
    assert pb_file.stat().st_mtime_ns == first

    proto = root / wire.PROTO_FILE
    future = time.time() + 5
    os.utime(proto, (future, future))  # older than the .proto: regenerated
    wire.generate(root, out)
    assert pb_file.stat().st_mtime_ns != first

    second = pb_file.stat().st_mtime_ns
    proto.write_text(proto.read_text().replace("string stream_id = 7;", "string stream_id = 7;\n  // Test field.\n"
                                               "  string extra_test_field = 8;"))
    os.utime(proto, (0, 0))  # content changed but mtime went back (a git checkout can do that): still regenerated
    wire.generate(root, out)
    assert pb_file.stat().st_mtime_ns != second
    assert b"xtra_test_field" in pb_file.read_bytes()  # protoc may escape the leading hex-digit "e"


def test_fresh_process_generates_and_imports(tmp_path):
    """A clean interpreter with only the .proto (as after a fresh clone) gets working stubs."""
    root = tmp_path / "proto"
    shutil.copytree(REPO / "proto" / "emobridge", root / "emobridge")
    out = tmp_path / "gen"
    code = (
        "import sys\n"
        "from emobridge import wire\n"
        f"folder = wire.generate({str(root)!r}, {str(out)!r})\n"
        "pb, rpc = wire._import_from(folder)\n"
        "f = pb.Frame(index=3, weights=[0.5] * 52)\n"
        "print(pb.Frame.FromString(f.SerializeToString()).index, rpc.EmoBridgeStub.__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "EmoBridgeStub"]


def test_module_entry_point_generates(tmp_path):
    result = subprocess.run([sys.executable, "-m", "emobridge.wire", "--out", str(tmp_path / "gen")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "gen" / "emobridge_pb2_grpc.py").is_file()
    assert "stubs of" in result.stdout


def test_unreachable_proto_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOBRIDGE_PROTO_ROOT", str(tmp_path / "nowhere"))
    monkeypatch.setattr(wire, "__file__", str(tmp_path / "a" / "b" / "c" / "wire" / "__init__.py"))
    with pytest.raises(wire.WireError, match="EMOBRIDGE_PROTO_ROOT") as err:
        wire.find_proto_root()
    assert "emobridge/v1/emobridge.proto" in str(err.value)
    with pytest.raises(wire.WireError, match="does not exist"):
        wire.generate(tmp_path, tmp_path / "gen")


def test_env_override_finds_the_proto(tmp_path, monkeypatch):
    shutil.copytree(REPO / "proto" / "emobridge", tmp_path / "emobridge")
    monkeypatch.setenv("EMOBRIDGE_PROTO_ROOT", str(tmp_path))
    assert wire.find_proto_root() == tmp_path


def test_without_proto_existing_stubs_are_used(tmp_path):
    """An install without the repository's proto/ (stubs built earlier) still loads; none at all is a WireError."""
    root = tmp_path / "proto"
    shutil.copytree(REPO / "proto" / "emobridge", root / "emobridge")
    gen = tmp_path / "gen"
    wire.generate(root, gen)
    code = (
        "from pathlib import Path\n"
        "from emobridge import wire\n"
        "wire.__file__ = '/nonexistent/a/b/wire/__init__.py'\n"
        f"wire.GENERATED_DIR = Path({str(gen)!r})\n"
        f"wire._cache_dir = lambda: Path({str(tmp_path / 'cache')!r})\n"
        "from emobridge.wire import pb\n"
        "print(pb.Style(energy=0.5).energy)\n"
        f"wire.GENERATED_DIR = Path({str(tmp_path / 'empty')!r}); wire._loaded = None\n"
        "try:\n"
        "    wire.load()\n"
        "except wire.WireError as err:\n"
        "    print('WireError', 'EMOBRIDGE_PROTO_ROOT' in str(err))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "EMOBRIDGE_PROTO_ROOT"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0.5", "WireError", "True"]


def test_animate_messages_round_trip():
    from emobridge.wire import pb

    config = pb.StreamConfig(
        sample_rate=48000, encoding=pb.AUDIO_ENCODING_PCM_S16LE, channels=2, fps=59.94, rig_profile="metahuman",
        style=pb.Style(energy=0.3, smoothness=-0.2),
        initial_emotion=pb.Emotion(intensities={"happy": 0.7, "surprise": 0.2}),
        mouth_preservation=0.8, seed=12345678901,
        livelink=pb.LiveLinkTarget(host="10.0.0.5", port=11111, subject="Ada", device_id="dev"),
    )
    messages = [
        pb.AnimateRequest(config=config),
        pb.AnimateRequest(audio=pb.AudioChunk(data=bytes(range(256)) * 3)),
        pb.AnimateRequest(emotion=pb.EmotionUpdate(emotion=pb.Emotion(valence=-0.5, arousal=0.6),
                                                   transition_seconds=0.8, time_seconds=2.5)),
        pb.AnimateRequest(style=pb.StyleUpdate(style=pb.Style(energy=1.0))),
        pb.AnimateRequest(end_of_audio=pb.EndOfAudio()),
    ]
    kinds = []
    for message in messages:
        back = pb.AnimateRequest.FromString(message.SerializeToString())
        assert back == message
        kinds.append(back.WhichOneof("kind"))
    assert kinds == ["config", "audio", "emotion", "style", "end_of_audio"]

    back = pb.AnimateRequest.FromString(messages[0].SerializeToString()).config
    assert dict(back.initial_emotion.intensities) == pytest.approx({"happy": 0.7, "surprise": 0.2})
    assert back.HasField("mouth_preservation") and not pb.StreamConfig().HasField("mouth_preservation")
    update = pb.AnimateRequest.FromString(messages[2].SerializeToString()).emotion
    assert update.HasField("time_seconds") and update.time_seconds == 2.5
    assert update.emotion.HasField("valence") and not update.emotion.intensities
    assert not pb.EmotionUpdate().HasField("transition_seconds")  # unset = the server default


def test_frames_round_trip_exact_to_float32():
    from emobridge.wire import pb

    rng = np.random.default_rng(1)
    weights = rng.random(52).astype(np.float32)
    emotion = rng.random(len(EMOTIONS)).astype(np.float32)
    frame = pb.Frame(index=41, time_seconds=41 / 60, weights=weights.tolist(),
                     head=pb.Rotation(yaw=0.1, pitch=-0.05, roll=0.02), left_eye=pb.Rotation(yaw=0.2),
                     right_eye=pb.Rotation(yaw=0.19), emotion=emotion.tolist())
    responses = [
        pb.AnimateResponse(header=pb.StreamHeader(blendshape_names=ARKIT_NAMES, fps=60, model_name="emobridge-face",
                                                  model_version="1", lookahead_ms=80, emotion_names=EMOTIONS,
                                                  stream_id="s-1")),
        pb.AnimateResponse(frame=frame),
        pb.AnimateResponse(end=pb.StreamEnd(frames_sent=42, reason=pb.END_REASON_END_OF_AUDIO, audio_seconds=0.7)),
    ]
    decoded = [pb.AnimateResponse.FromString(r.SerializeToString()) for r in responses]
    assert decoded == responses
    assert list(decoded[0].header.blendshape_names) == list(ARKIT_NAMES)
    got = decoded[1].frame
    assert np.array_equal(np.asarray(got.weights, np.float32), weights)
    assert np.array_equal(np.asarray(got.emotion, np.float32), emotion)
    assert got.time_seconds == 41 / 60  # double on the wire
    assert decoded[2].end.reason == pb.END_REASON_END_OF_AUDIO


def test_bake_and_info_round_trip():
    from emobridge.wire import pb

    request = pb.BakeRequest(
        pcm=pb.PcmAudio(data=b"\x00\x01" * 800, encoding=pb.AUDIO_ENCODING_PCM_S16LE, sample_rate=16000),
        transcript="hello there", fps=30, seed=7, mouth_preservation=0.4, style=pb.Style(smoothness=0.5),
        emotion_keyframes=[pb.EmotionUpdate(emotion=pb.Emotion(intensities={"joy": 1.0})),
                           pb.EmotionUpdate(emotion=pb.Emotion(intensities={"anger": 0.5}), time_seconds=1.5,
                                            transition_seconds=0.4)],
    )
    assert pb.BakeRequest.FromString(request.SerializeToString()) == request
    as_file = pb.BakeRequest(file=b"RIFF....WAVEfmt ")
    assert pb.BakeRequest.FromString(as_file.SerializeToString()).WhichOneof("audio") == "file"

    frames = [pb.Frame(index=i, time_seconds=i / 30, weights=[i / 10] * 52) for i in range(3)]
    response = pb.BakeResponse(animation=pb.Animation(blendshape_names=ARKIT_NAMES, fps=30, frames=frames,
                                                      emotion_names=EMOTIONS),
                               meta=pb.BakeMeta(route="model", duration_seconds=0.1, meta_json='{"seed": 7}'))
    back = pb.BakeResponse.FromString(response.SerializeToString())
    assert back == response and len(back.animation.frames) == 3 and back.meta.route == "model"

    info = pb.GetInfoResponse(model_name="m", model_version="1", providers=["CPUExecutionProvider"], device="cpu",
                              emotion_names=EMOTIONS, blendshape_names=ARKIT_NAMES,
                              limits=pb.Limits(max_streams=64, max_chunk_bytes=65536, sample_rates=[16000, 48000]))
    assert pb.GetInfoResponse.FromString(info.SerializeToString()) == info


def test_field_numbers_are_stable():
    from emobridge.wire import pb

    expected = {}
    for line in NUMBERS.strip().splitlines():
        name, _, fields = line.partition(":")
        expected.setdefault(name, {}).update({f.split("=")[0]: int(f.split("=")[1]) for f in fields.split()})
    actual = {name: {f.name: f.number for f in m.fields} for name, m in pb.DESCRIPTOR.message_types_by_name.items()}
    actual |= {name: {v.name: v.number for v in e.values} for name, e in pb.DESCRIPTOR.enum_types_by_name.items()}
    for name, fields in expected.items():
        assert actual[name] == fields, f"{name}: published field numbers changed"  # additions need a new line here


FIELD = re.compile(r"^\s*(?:optional\s+|repeated\s+)?(?:map\s*<[^>]+>|[\w.]+)\s+\w+\s*=\s*\d+\s*(?:\[[^\]]*\])?\s*;")
ENUM_VALUE = re.compile(r"^\s*[A-Z][A-Z0-9_]*\s*=\s*-?\d+\s*;")
DECLARATION = re.compile(r"^\s*(message|enum|service|oneof|rpc)\s+\w+")


def test_every_field_and_declaration_has_a_comment():
    from emobridge.wire import pb

    lines = PROTO.read_text(encoding="utf-8").splitlines()
    undocumented, fields = [], 0
    for i, line in enumerate(lines):
        code = line.split("//")[0]
        is_field = bool(FIELD.match(code) or ENUM_VALUE.match(code))
        if not (is_field or DECLARATION.match(code)):
            continue
        fields += is_field
        before = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        if not (before.startswith("//") or "//" in line):
            undocumented.append(f"line {i + 1}: {line.strip()}")
    assert not undocumented, "undocumented in the .proto:\n" + "\n".join(undocumented)

    # The text scan saw every field and enum value the compiler did (so none slipped past the regexes).
    def count(message) -> int:
        nested = sum(count(n) for n in message.nested_types if not n.GetOptions().map_entry)
        return len(message.fields) + nested + sum(len(e.values) for e in message.enum_types)

    compiled = sum(count(m) for m in pb.DESCRIPTOR.message_types_by_name.values())
    compiled += sum(len(e.values) for e in pb.DESCRIPTOR.enum_types_by_name.values())
    assert fields == compiled


def test_frame_layout_matches_the_contract():
    from emobridge.wire import pb

    assert len(ARKIT_NAMES) == 52 and len(EMOTIONS) == 7
    text = PROTO.read_text(encoding="utf-8")
    assert "package emobridge.v1;" in text and 'syntax = "proto3";' in text
    assert [v.name for v in pb.AudioEncoding.DESCRIPTOR.values] == [
        "AUDIO_ENCODING_UNSPECIFIED", "AUDIO_ENCODING_PCM_S16LE", "AUDIO_ENCODING_PCM_F32LE"]


def test_stubs_work_over_a_real_channel():
    """The generated servicer and stub talk over a localhost channel: unary and bidirectional streaming."""
    from concurrent import futures

    import grpc

    from emobridge.wire import pb, rpc

    class Echo(rpc.EmoBridgeServicer):
        def GetInfo(self, request, context):
            return pb.GetInfoResponse(model_name="echo", blendshape_names=ARKIT_NAMES)

        def Animate(self, request_iterator, context):
            yield pb.AnimateResponse(header=pb.StreamHeader(fps=60))
            sent = 0
            for request in request_iterator:
                if request.WhichOneof("kind") == "audio":
                    yield pb.AnimateResponse(frame=pb.Frame(index=sent, weights=[len(request.audio.data) / 1000] * 52))
                    sent += 1
            yield pb.AnimateResponse(end=pb.StreamEnd(frames_sent=sent, reason=pb.END_REASON_END_OF_AUDIO))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    rpc.add_EmoBridgeServicer_to_server(Echo(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = rpc.EmoBridgeStub(channel)
            assert list(stub.GetInfo(pb.GetInfoRequest(), timeout=10).blendshape_names) == list(ARKIT_NAMES)
            requests = [pb.AnimateRequest(config=pb.StreamConfig(sample_rate=16000))]
            requests += [pb.AnimateRequest(audio=pb.AudioChunk(data=b"\0" * 640)) for _ in range(3)]
            requests += [pb.AnimateRequest(end_of_audio=pb.EndOfAudio())]
            replies = list(stub.Animate(iter(requests), timeout=10))
            assert [r.WhichOneof("kind") for r in replies] == ["header", "frame", "frame", "frame", "end"]
            assert replies[-1].end.frames_sent == 3 and replies[1].frame.weights[0] == pytest.approx(0.64)
            with pytest.raises(grpc.RpcError) as err:
                stub.Bake(pb.BakeRequest(), timeout=10)  # not implemented by this servicer
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        server.stop(None)
