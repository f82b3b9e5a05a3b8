#!/usr/bin/env python3
"""Record and replay Live Link Face UDP packets, so Unreal can be tested without running the model.

    # record what a sidecar sends (run the sidecar with --livelink 127.0.0.1:11112)
    python3 replay_livelink.py record take.ebll --listen 127.0.0.1:11112 --seconds 10
    # replay it into Unreal's Apple ARKit Live Link source, at the recorded timing
    python3 replay_livelink.py play take.ebll --target 192.168.1.20:11111 [--speed 1] [--loop 3]
    # what is in a capture
    python3 replay_livelink.py info take.ebll

Capture file (.ebll): the 8 bytes ``EBLLCAP1``, then one record per UDP datagram: float64 big-endian
arrival time in seconds since the capture started, uint32 big-endian payload length L, then the L
payload bytes exactly as received. ``play`` also reads classic libpcap files (``.pcap``, e.g. from
Wireshark or ``tcpdump -w``; Ethernet, Linux cooked or raw IP link types; IPv4/IPv6 UDP), keeping
the datagrams sent to ``--pcap-port`` (default 11111).

Standard library only (no emobridge import): an Unreal developer can copy this one file.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

MAGIC = b"EBLLCAP1"
RECORD = struct.Struct(">dI")
DEFAULT_PORT = 11111


class CaptureError(ValueError):
    """A file that is not a readable capture."""


def write_capture(path: str | Path, packets: Iterable[tuple[float, bytes]]) -> int:
    """Write (arrival seconds, payload) pairs as an .ebll capture; returns the number written."""
    count = 0
    with open(path, "wb") as out:
        out.write(MAGIC)
        for t, payload in packets:
            out.write(RECORD.pack(float(t), len(payload)))
            out.write(payload)
            count += 1
    return count


def read_capture(path: str | Path, pcap_port: int = DEFAULT_PORT) -> list[tuple[float, bytes]]:
    """(arrival seconds from the first packet's capture start, payload) of every packet of an .ebll or .pcap file."""
    data = Path(path).read_bytes()
    if data[:8] == MAGIC:
        return _read_ebll(data)
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        return _read_pcap(data, pcap_port)
    raise CaptureError(f"{path}: neither an EBLLCAP1 capture nor a libpcap file")


def _read_ebll(data: bytes) -> list[tuple[float, bytes]]:
    packets, pos = [], len(MAGIC)
    while pos < len(data):
        if len(data) - pos < RECORD.size:
            raise CaptureError(f"capture ends inside the header of record {len(packets)}")
        t, length = RECORD.unpack_from(data, pos)
        pos += RECORD.size
        if len(data) - pos < length:
            raise CaptureError(f"capture ends inside packet {len(packets)}")
        packets.append((t, data[pos:pos + length]))
        pos += length
    return packets


def _read_pcap(data: bytes, port: int) -> list[tuple[float, bytes]]:
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nanos = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    if len(data) < 24:
        raise CaptureError("pcap file ends inside its header")
    linktype = struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF
    packets, pos, start = [], 24, None
    while pos + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack_from(endian + "IIII", data, pos)
        pos += 16
        frame = data[pos:pos + incl]
        pos += incl
        payload = _udp_payload(frame, linktype, port)
        if payload is None:
            continue
        t = sec + frac / (1e9 if nanos else 1e6)
        start = t if start is None else start
        packets.append((t - start, payload))
    return packets


def _udp_payload(frame: bytes, linktype: int, port: int) -> bytes | None:
    """The UDP payload of a captured frame sent to ``port``, or None."""
    if linktype == 1:  # Ethernet (skip 802.1Q tags)
        off, ethertype = 14, struct.unpack_from(">H", frame, 12)[0] if len(frame) >= 14 else 0
        while ethertype == 0x8100 and len(frame) >= off + 4:
            ethertype, off = struct.unpack_from(">H", frame, off + 2)[0], off + 4
    elif linktype == 113:  # Linux cooked (SLL)
        off, ethertype = 16, struct.unpack_from(">H", frame, 14)[0] if len(frame) >= 16 else 0
    elif linktype in (101, 12, 14):  # raw IP
        off, ethertype = 0, {4: 0x0800, 6: 0x86DD}.get(frame[0] >> 4 if frame else 0, 0)
    elif linktype == 0:  # BSD loopback: 4-byte address family in host order
        off, family = 4, (struct.unpack_from("<I", frame, 0)[0] if len(frame) >= 4 else 0)
        ethertype = 0x0800 if family == 2 else 0x86DD if family in (24, 28, 30) else 0
    else:
        return None
    ip = frame[off:]
    if ethertype == 0x0800 and len(ip) >= 20 and ip[9] == 17:
        udp = ip[(ip[0] & 0x0F) * 4:]
    elif ethertype == 0x86DD and len(ip) >= 40 and ip[6] == 17:
        udp = ip[40:]
    else:
        return None
    if len(udp) < 8 or struct.unpack_from(">H", udp, 2)[0] != port:
        return None
    length = struct.unpack_from(">H", udp, 4)[0]
    return udp[8:length] if length >= 8 else None


def record(listen: tuple[str, int] | None = None, seconds: float | None = None, count: int | None = None,
           idle: float | None = None, sock: socket.socket | None = None, first_timeout: float | None = None,
           clock: Callable[[], float] = time.monotonic) -> list[tuple[float, bytes]]:
    """Receive datagrams on ``listen`` (or on an already bound ``sock``) and return (seconds since the first, payload).

    Stops when ``count`` have arrived, ``seconds`` have passed since the first, nothing has arrived for ``idle``
    seconds after the first, or (with ``first_timeout``) when the first does not come in that long."""
    own = sock is None
    if own:
        family = socket.AF_INET6 if ":" in listen[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind(listen)
    packets: list[tuple[float, bytes]] = []
    start = None
    begun = clock()
    try:
        while count is None or len(packets) < count:
            now = clock()
            if start is None:
                timeout = 1.0 if first_timeout is None else begun + first_timeout - now
            else:
                timeout = idle
                if seconds is not None:
                    left = start + seconds - now
                    timeout = left if timeout is None else min(timeout, left)
            if timeout is not None and timeout <= 0:
                break
            sock.settimeout(timeout)
            try:
                payload = sock.recv(65535)
            except TimeoutError:
                if start is None and first_timeout is None:
                    continue  # keep waiting for the first packet
                break
            now = clock()
            start = now if start is None else start
            packets.append((now - start, payload))
    finally:
        if own:
            sock.close()
    return packets


def play(packets: list[tuple[float, bytes]], target: tuple[str, int], speed: float = 1.0, loops: int = 1,
         clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> int:
    """Send the packets to ``target`` at their recorded times (divided by ``speed``; 0 = as fast as possible).
    Returns the number sent. Frame numbers inside the packets are sent as recorded."""
    family, kind, proto, _, address = socket.getaddrinfo(target[0], target[1], type=socket.SOCK_DGRAM)[0]
    sent = 0
    with socket.socket(family, kind, proto) as sock:
        for _ in range(max(1, loops)):
            start = clock()
            first = packets[0][0] if packets else 0.0
            for t, payload in packets:
                if speed > 0:
                    wait = start + (t - first) / speed - clock()
                    if wait > 0:
                        sleep(wait)
                sock.sendto(payload, address)
                sent += 1
    return sent


def _host_port(text: str, default_host: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return (host.strip("[]") or default_host), int(port)


def _summary(packets: list[tuple[float, bytes]]) -> str:
    if not packets:
        return "0 packets"
    sizes = sorted(len(p) for _, p in packets)
    span = packets[-1][0] - packets[0][0]
    rate = (len(packets) - 1) / span if span > 0 else 0.0
    return (f"{len(packets)} packets over {span:.3f} s ({rate:.1f} packets/s), "
            f"{sizes[0]}..{sizes[-1]} bytes, {sum(sizes)} bytes in all")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="capture UDP datagrams to an .ebll file")
    rec.add_argument("output", type=Path)
    rec.add_argument("--listen", type=lambda s: _host_port(s, "0.0.0.0"), default=("0.0.0.0", DEFAULT_PORT),
                     help="HOST:PORT to listen on (default 0.0.0.0:11111; Unreal must not hold that port)")
    rec.add_argument("--seconds", type=float, help="stop this long after the first packet")
    rec.add_argument("--count", type=int, help="stop after this many packets")
    rec.add_argument("--idle", type=float, default=2.0, help="stop when nothing arrives for this long (default 2 s)")
    ply = sub.add_parser("play", help="send a capture (.ebll or .pcap) to Unreal at its recorded timing")
    ply.add_argument("capture", type=Path)
    ply.add_argument("--target", type=lambda s: _host_port(s, "127.0.0.1"), default=("127.0.0.1", DEFAULT_PORT),
                     help="HOST:PORT of Unreal's Apple ARKit Live Link source (default 127.0.0.1:11111)")
    ply.add_argument("--speed", type=float, default=1.0, help="playback speed (default 1; 0 = no pacing)")
    ply.add_argument("--loop", type=int, default=1, help="play this many times (default 1)")
    ply.add_argument("--pcap-port", type=int, default=DEFAULT_PORT, help="UDP port to take from a .pcap (default 11111)")
    inf = sub.add_parser("info", help="summarise a capture")
    inf.add_argument("capture", type=Path)
    inf.add_argument("--pcap-port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    try:
        if args.command == "record":
            packets = record(args.listen, args.seconds, args.count, args.idle)
            write_capture(args.output, packets)
            print(f"recorded {_summary(packets)} -> {args.output}")
        elif args.command == "play":
            packets = read_capture(args.capture, args.pcap_port)
            if not packets:
                raise CaptureError(f"{args.capture}: no packets")
            print(f"playing {_summary(packets)} to {args.target[0]}:{args.target[1]}", flush=True)
            sent = play(packets, args.target, args.speed, args.loop)
            print(f"sent {sent} packets")
        else:
            print(_summary(read_capture(args.capture, args.pcap_port)))
    except (CaptureError, OSError) as err:
        print(f"replay_livelink: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
