"""The floor of a Python gRPC sidecar: a bare grpc.aio bidi server with the sidecar's message pattern (a 640-byte
audio chunk in every 20 ms, 1.2 small frames out per chunk: one 60 fps stream) doing no other work, driven by
N real-time client streams from another process. Prints the server's CPU and CPU per message; compare with
`emobridge bench serve --streams N` (docs/sidecar.md). Usage: python benchmarks/grpc_floor.py N
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import sys
import time

import grpc

SECONDS = 8.0
CHUNKS_PER_S = 50
FRAMES_PER_CHUNK = 1.2  # 60 fps from 20 ms chunks


def _same(b: bytes) -> bytes:
    return b


async def _bidi(requests, context):
    owed = 0.0
    async for _ in requests:
        owed += FRAMES_PER_CHUNK
        while owed >= 1:
            owed -= 1
            yield b"x" * 300  # about a Frame message


async def _serve(port_queue) -> None:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "floor.Floor", {"Stream": grpc.stream_stream_rpc_method_handler(_bidi, _same, _same)}),))
    port_queue.put(server.add_insecure_port("127.0.0.1:0"))
    await server.start()
    await asyncio.sleep(SECONDS + 10)
    await server.stop(0)


def _server_main(port_queue) -> None:
    sys.setswitchinterval(0.0005)  # as `emobridge serve`
    asyncio.run(_serve(port_queue))


async def _drive(port: int, streams: int) -> int:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    call = channel.stream_stream("/floor.Floor/Stream", request_serializer=_same, response_deserializer=_same)

    async def one(i: int) -> int:
        await asyncio.sleep(i / CHUNKS_PER_S / streams)

        async def chunks():
            start = time.monotonic()
            for c in range(int(SECONDS * CHUNKS_PER_S)):
                wait = start + c / CHUNKS_PER_S - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                yield b"a" * 640

        return sum([1 async for _ in call(chunks())])

    frames = await asyncio.gather(*(one(i) for i in range(streams)))
    await channel.close()
    return sum(frames)


def _cpu_seconds(pid: int) -> float:
    from emobridge.cli.bench import _proc_usage  # what `bench serve` reads the server's CPU with

    return _proc_usage(pid)[0]


def main() -> None:
    streams = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    ports = mp.Queue()
    server = mp.Process(target=_server_main, args=(ports,))
    server.start()
    port = ports.get()
    cpu0, t0 = _cpu_seconds(server.pid), time.monotonic()
    frames = asyncio.run(_drive(port, streams))
    wall, cpu = time.monotonic() - t0, _cpu_seconds(server.pid) - cpu0
    server.terminate()
    messages = streams * SECONDS * CHUNKS_PER_S + frames
    print(f"{streams} streams: bare grpc.aio server {100 * cpu / wall:.0f}% CPU, {messages / wall:.0f} messages/s, "
          f"{1e6 * cpu / messages:.0f} us CPU per message")


if __name__ == "__main__":
    main()
