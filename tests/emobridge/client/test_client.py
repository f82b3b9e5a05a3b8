"""emobridge.client: blocking and asyncio clients against a real sidecar."""

from __future__ import annotations

import asyncio

import grpc
import numpy as np
import pytest

from emobridge.client import AsyncEmoBridgeClient, EmoBridgeClient, chunks_of, emotion_message, emotion_update


def test_emotion_message_forms():
    assert dict(emotion_message({"happy": 0.5}).intensities) == {"happy": 0.5}
    msg = emotion_message("joy=0.7,surprise")
    assert msg.intensities["happy"] == pytest.approx(0.7) and msg.intensities["surprise"] == 1.0
    va = emotion_message({"valence": 0.5, "arousal": 0.2})
    assert va.HasField("valence") and va.arousal == pytest.approx(0.2)
    assert not emotion_message(None).intensities


def test_sync_stream_equals_bake_and_mid_stream_emotion(server, speech):
    chunks = chunks_of(speech)
    items = chunks[:20] + [emotion_update("sad=0.9", transition_seconds=0.0, time_seconds=0.4)] + chunks[20:]
    with EmoBridgeClient(server.address, timeout=30) as client:
        stream = client.stream(items, seed=9, emotion="happy=0.5")
        frames = list(stream)
        anim = client.bake(np.frombuffer(b"".join(chunks), "<i2").astype(np.float32) / 32768.0,
                           emotion=[(0.0, "happy=0.5", 0.0), (0.4, "sad=0.9", 0.0)], seed=9)
    assert stream.end.frames_sent == len(frames) == len(anim.frames)
    np.testing.assert_allclose([f.weights for f in frames], anim.frames, atol=1e-4)
    emotion = np.array([f.emotion for f in frames])
    np.testing.assert_allclose(emotion, anim.emotion, atol=1e-6)
    assert emotion[23, 1] == 0 and emotion[24, 1] == pytest.approx(0.9)  # a cut at 0.4 s = frame 24


def test_async_client_info_bake_and_stream(server, speech):
    async def run():
        async with AsyncEmoBridgeClient(server.address, timeout=30) as client:
            info = await client.info()

            async def items():
                for chunk in chunks_of(speech):
                    yield chunk
                    await asyncio.sleep(0)

            stream = client.stream(items(), seed=1)
            frames = [f async for f in stream]
            anim = await client.bake(np.frombuffer(b"".join(chunks_of(speech)), "<i2").astype(np.float32) / 32768.0,
                                     seed=1)
            return info, stream, frames, anim

    info, stream, frames, anim = asyncio.run(run())
    assert info.limits.max_streams == 6
    assert stream.header.stream_id and stream.end.frames_sent == len(frames) == 96
    np.testing.assert_allclose([f.weights for f in frames], anim.frames, atol=1e-4)


def test_errors_surface_as_rpc_errors(server):
    with EmoBridgeClient(server.address, timeout=10) as client, pytest.raises(grpc.RpcError) as err:
        list(client.stream([b"\0\0"], sample_rate=12345))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
