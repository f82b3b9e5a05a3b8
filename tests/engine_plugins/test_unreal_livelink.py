"""The zero-plugin Unreal route, proven without Unreal: the sidecar's Live Link Face v6 packets, read by a C++
decoder that follows the rules of Unreal's Apple ARKit Live Link source (engine_plugins/unreal/tests/
livelink_face_decoder.cpp), and the capture replay tool (engine_plugins/unreal/tools/replay_livelink.py)."""

from __future__ import annotations

import importlib.util
import math
import socket
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location(
    "unreal_harness", Path(__file__).resolve().parents[2] / "engine_plugins" / "unreal" / "tests" / "harness.py")
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

UUID = "0F6B2E7A-3C4D-4E5F-8A9B-0C1D2E3F4A5B"
UUID_BYTES = UUID.encode()


@pytest.fixture(scope="module")
def decoder(tmp_path_factory) -> Path:
    if harness.compiler() is None:
        pytest.skip("no C++ compiler (g++) to build the engine-faithful decoder")
    return harness.compile_cpp([harness.DECODER_SRC], tmp_path_factory.mktemp("decoder") / "livelink_face_decoder")


@pytest.fixture(scope="module")
def replay():
    return harness.replay_module()


def raw_packet(version=6, device=UUID_BYTES, subject=b"NPC1", frame=1000, subframe=0.0, rate=(60, 1), count=61,
               values=None, extra=b"", device_len=None, subject_len=None) -> bytes:
    """A packet built field by field (independent of emobridge.livelink), so malformed ones can be made too."""
    values = np.arange(61, dtype=np.float32) / 64 if values is None else np.asarray(values, np.float32)
    return b"".join([
        struct.pack(">B", version),
        struct.pack(">i", len(device) if device_len is None else device_len), device,
        struct.pack(">i", len(subject) if subject_len is None else subject_len), subject,
        struct.pack(">ifiiB", frame, subframe, rate[0], rate[1], count),
        values.astype(">f4").tobytes(), extra])


def decode_raw(decoder: Path, tmp_path: Path, packet: bytes, *extra: str) -> dict:
    path = tmp_path / "packet.bin"
    path.write_bytes(packet)
    records, summary = harness.decode(decoder, path, "--raw", *extra)
    assert summary["packets"] == 1
    return records[0]


def test_decoder_accepts_well_formed_packets_and_reads_every_field(decoder, tmp_path):
    from emobridge.livelink import FrameTime, decode_packet, encode_packet

    weights = np.linspace(0, 1, 52)
    packet = encode_packet(weights, FrameTime(123456, 0.25, 30000, 1001), "NPC1", UUID, head=(0.1, -0.2, 0.3))
    rec = decode_raw(decoder, tmp_path, packet)
    assert rec["accepted"] and rec["version"] == 6 and rec["count"] == 61 and rec["trailing"] == 0
    assert rec["device_id"] == UUID and rec["subject"] == "NPC1" and rec["bytes"] == 270 + 36 + 4
    assert (rec["frame"], rec["subframe"], rec["rate"]) == (123456, 0.25, [30000, 1001])
    ours = decode_packet(packet)  # the Python decoder agrees bit for bit
    assert np.array_equal(np.float32(rec["values"]), ours.curves)
    assert np.array_equal(np.float32(rec["values"][:52]), weights.astype(np.float32))
    assert np.allclose(np.array(rec["values"][52:55]) * math.pi, (0.1, -0.2, 0.3), atol=1e-6)


@pytest.mark.parametrize("device", [b"", b"phone", UUID.encode(), b"D" * 100, "iPhone de Zoé".encode()])
def test_device_id_length_is_not_checked_by_the_engine(decoder, tmp_path, device):
    """The engine reads the device id as any FString (an empty one becomes NAME_None); only the Live Link Face
    app happens to send 36-character UUIDs. Every length that fits the receive buffer is accepted."""
    rec = decode_raw(decoder, tmp_path, raw_packet(device=device))
    assert rec["accepted"], rec
    assert rec["device_id"] == (device.decode() or "None")


@pytest.mark.parametrize("packet, why", [
    (raw_packet(version=5), "packet version 5"),
    (raw_packet(version=7), "packet version 7"),
    (raw_packet(device=b"", subject=b"", count=60, values=np.zeros(60)), "not longer than MIN"),  # 266 bytes
    (raw_packet(count=60, values=np.zeros(61)), "count 60"),
    (raw_packet(count=62, values=np.zeros(62)), "count 62"),
    (raw_packet()[:-1], "overflow reading the 61 curve values"),          # one byte short
    (raw_packet(device_len=-1), "overflow reading the header"),
    (raw_packet(subject_len=10_000), "overflow reading the header"),       # length past the end
    (raw_packet(device=b"", subject=b"")[:266], "not longer than MIN"),   # 1+16+1+244+2*sizeof(TCHAR) = 266
    (raw_packet(device=b"x" * 1100), "larger than the engine's receive buffer"),  # > 1286 bytes
])
def test_decoder_drops_what_the_engine_drops(decoder, tmp_path, packet, why):
    rec = decode_raw(decoder, tmp_path, packet)
    assert not rec["accepted"] and why in rec["reason"], rec


def test_engine_quirks_trailing_bytes_nul_and_tchar_width(decoder, tmp_path):
    rec = decode_raw(decoder, tmp_path, raw_packet(extra=b"\x00" * 7))
    assert rec["accepted"] and rec["trailing"] == 7  # bytes after the 61st value are ignored, not an error
    rec = decode_raw(decoder, tmp_path, raw_packet(subject=b"NPC\x001"))
    assert rec["accepted"] and rec["subject"] == "NPC"  # the FString is read as a C string
    smallest = raw_packet(device=b"", subject=b"")  # 270 bytes: > MIN with a 2-byte TCHAR, not with a 4-byte one
    assert decode_raw(decoder, tmp_path, smallest)["accepted"]
    assert not decode_raw(decoder, tmp_path, smallest, "--tchar", "4")["accepted"]
    # our encoder never writes more than 774 bytes: inside the receive buffer even with a 1-byte TCHAR
    from emobridge.livelink import MAX_PACKET_BYTES, FrameTime, encode_packet
    biggest = encode_packet(np.zeros(52), FrameTime(0), "S" * (MAX_PACKET_BYTES - 270 - 36), UUID)
    assert len(biggest) == MAX_PACKET_BYTES
    assert decode_raw(decoder, tmp_path, biggest, "--tchar", "1")["accepted"]


@pytest.mark.slow
def test_sidecar_packets_decode_exactly_like_the_engine_and_match_the_grpc_frames(decoder, replay, tmp_path):
    """A real `emobridge serve --livelink 127.0.0.1:PORT --subject NPC1`, examples/hello.wav streamed through it:
    every frame the gRPC stream returns arrives as one packet the engine would accept, with the same weights."""
    import soundfile as sf

    from emobridge.client import EmoBridgeClient, chunks_of

    audio, rate = sf.read(harness.HELLO_WAV, dtype="float32")
    assert rate == 16000
    capture = harness.UdpCapture()
    with harness.sidecar(capture.port, "NPC1") as port, EmoBridgeClient(f"127.0.0.1:{port}") as client:
        frames = list(client.stream(chunks_of(audio), fps=60))
        packets = capture.finish()
    path = tmp_path / "hello.ebll"
    replay.write_capture(path, packets)
    records, summary = harness.decode(decoder, path)

    assert len(frames) == 240  # 4.0 s at 60 fps
    assert summary == {"summary": True, "packets": 240, "accepted": 240, "dropped": 0}
    device_ids = {r["device_id"] for r in records}
    assert len(device_ids) == 1 and len(device_ids.pop()) == 36  # one device: a UUID, like the iPhone app
    assert {r["subject"] for r in records} == {"NPC1"}
    assert {(r["version"], r["count"], r["trailing"], tuple(r["rate"])) for r in records} == {(6, 61, 0, (60, 1))}
    # frame k sits on frame origin + k; FrameTime.at leaves float noise (~1e-14 of a frame) in a few subframes
    assert max(r["subframe"] for r in records) < 1e-6
    numbers = np.array([r["frame"] for r in records])
    assert np.all(np.diff(numbers) == 1)  # one frame number per frame at the stream's 60 fps
    indices = np.array([f.index for f in frames])
    assert np.array_equal(numbers - numbers[0], indices - indices[0])
    values = np.array([r["values"] for r in records], np.float32)
    weights = np.array([list(f.weights) for f in frames], np.float32)
    head = np.array([[f.head.yaw, f.head.pitch, f.head.roll] for f in frames], np.float64)
    assert np.array_equal(values[:, :52], weights)  # float32-identical
    assert np.abs(values[:, 52:55] * math.pi - head).max() < 1e-6
    eyes = np.array([[f.left_eye.yaw, f.left_eye.pitch, f.left_eye.roll, f.right_eye.yaw, f.right_eye.pitch,
                      f.right_eye.roll] for f in frames], np.float64)
    assert np.abs(values[:, 55:] * math.pi - eyes).max() < 1e-6 and np.abs(eyes).max() > 0.005  # the gaze, as sent
    assert weights.max() > 0.05  # the clip is speech: the mouth really moves


def test_committed_capture_fixture_decodes(decoder, replay):
    """engine_plugins/unreal/tools/captures/hello_npc1.ebll: examples/hello.wav through the bundled model, streamed
    in real time (so its timing is 60 packets/s), for replay into Unreal without running the model."""
    if not harness.FIXTURE.exists():
        pytest.skip("no capture fixture")
    assert harness.FIXTURE.stat().st_size < 100_000
    records, summary = harness.decode(decoder, harness.FIXTURE)
    assert summary["packets"] == summary["accepted"] == 240
    assert {r["subject"] for r in records} == {"NPC1"}
    assert np.all(np.diff([r["frame"] for r in records]) == 1)
    times = np.array([t for t, _ in replay.read_capture(harness.FIXTURE)])
    assert 3.5 < times[-1] - times[0] < 4.5  # recorded at the stream's real-time pace


def _synthetic_capture(count=30, fps=60.0):
    from emobridge.livelink import LiveLinkSender

    with LiveLinkSender("127.0.0.1", 9, subject="Replay", device_id=UUID, fps=fps, start_frame=500) as sender:
        rng = np.random.default_rng(0)
        return [(i / fps, sender.packet(rng.random(52), head=(0.01 * i, 0.0, 0.0))) for i in range(count)]


def test_replay_sends_a_capture_at_its_recorded_timing(decoder, replay, tmp_path):
    packets = _synthetic_capture()
    src = tmp_path / "take.ebll"
    assert replay.write_capture(src, packets) == 30
    assert replay.read_capture(src) == packets
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    got = {}
    thread = threading.Thread(target=lambda: got.setdefault("p", replay.record(sock=sink, idle=2.0, first_timeout=30)))
    thread.start()
    started = time.monotonic()
    assert replay.main(["play", str(src), "--target", f"127.0.0.1:{sink.getsockname()[1]}"]) == 0
    elapsed = time.monotonic() - started
    thread.join(30)
    sink.close()
    received = got["p"]
    assert [p for _, p in received] == [p for _, p in packets]  # byte-identical, in order
    assert 29 / 60 - 0.02 <= elapsed < 29 / 60 + 0.5  # paced: 29 intervals of 1/60 s
    dst = tmp_path / "received.ebll"
    replay.write_capture(dst, received)
    records, summary = harness.decode(decoder, dst)
    assert summary["accepted"] == 30 and [r["frame"] for r in records] == list(range(500, 530))
    assert {r["subject"] for r in records} == {"Replay"}


def test_replay_reads_pcap_captures(replay, tmp_path):
    """Wireshark/tcpdump captures of a real phone replay too: Ethernet + IPv4 + UDP to port 11111 only."""
    packets = _synthetic_capture(count=3)

    def frame(payload: bytes, dport: int) -> bytes:
        udp = struct.pack(">HHHH", 50000, dport, 8 + len(payload), 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([10, 0, 0, 2]),
                         bytes([10, 0, 0, 1])) + udp
        return b"\x00" * 12 + b"\x08\x00" + ip

    records = [(1000.0 + t, frame(p, 11111)) for t, p in packets] + [(1000.5, frame(b"other", 5353))]
    blob = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for t, data in records:
        blob += struct.pack("<IIII", int(t), round((t % 1) * 1e6), len(data), len(data)) + data
    path = tmp_path / "phone.pcap"
    path.write_bytes(blob)
    got = replay.read_capture(path)
    assert [p for _, p in got] == [p for _, p in packets]
    assert np.allclose([t for t, _ in got], [t for t, _ in packets], atol=2e-6)
    assert replay.main(["info", str(path)]) == 0


def test_replay_cli_rejects_bad_input(replay, tmp_path, capsys):
    bad = tmp_path / "bad.ebll"
    bad.write_bytes(b"not a capture")
    assert replay.main(["info", str(bad)]) == 1
    assert "neither an EBLLCAP1 capture nor a libpcap file" in capsys.readouterr().err
    bad.write_bytes(replay.MAGIC + struct.pack(">dI", 0.0, 100) + b"short")
    assert replay.main(["play", str(bad)]) == 1
    assert "ends inside packet 0" in capsys.readouterr().err
