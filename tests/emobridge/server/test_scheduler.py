"""emobridge.server.scheduler: one batched model call per tick for every ready stream, results scattered back."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from emobridge.model import FaceModel
from emobridge.server.metrics import ServerMetrics
from emobridge.server.scheduler import Scheduler
from emobridge.server.session import Limits, Session
from emobridge.wire import pb


class CountingModel:
    """A FaceModel that records the batch size of every step call."""

    def __init__(self, model: FaceModel) -> None:
        self.model, self.calls = model, []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def step(self, mel, cond, state):
        self.calls.append(len(mel))
        return self.model.step(mel, cond, state)


def _session(model, seed: int, happy: float, limits: Limits | None = None) -> Session:
    config = pb.StreamConfig(sample_rate=16000, encoding=pb.AUDIO_ENCODING_PCM_S16LE, fps=60.0, seed=seed,
                             initial_emotion=pb.Emotion(intensities={"happy": happy}))
    return Session.from_config(config, model, limits or Limits())


def _pcm(speech, scale: float) -> bytes:
    return (speech * scale * 32767).round().astype("<i2").tobytes()


@pytest.mark.parametrize("folder", ["tiny_model_dir", "tiny_evidence_model_dir"])
def test_one_batched_call_per_tick_equals_streams_run_alone(folder, request, speech):
    model = CountingModel(FaceModel(request.getfixturevalue(folder), device="cpu"))
    sessions = [_session(model, seed=i, happy=0.3 * i) for i in range(3)]
    alone = [_session(model.model, seed=i, happy=0.3 * i) for i in range(3)]

    async def run():
        scheduler = Scheduler(model, ServerMetrics())
        for s in sessions:
            scheduler.add(s)
        for i, s in enumerate(sessions):
            s.push_audio(_pcm(speech, 1.0 - 0.2 * i))
            s.end_audio()
        out = [[] for _ in sessions]
        while any(s.ready() for s in sessions):
            await scheduler.tick([s for s in sessions if s.ready()])
            for o, s in zip(out, sessions, strict=True):
                o.extend(s.outbox)
                s.outbox.clear()
        await scheduler.stop()
        return out, scheduler.metrics

    out, metrics = asyncio.run(run())
    assert set(model.calls) == {3}, "every tick steps all three streams in one call"
    assert metrics.batch.count == len(model.calls) and metrics.batch.sum == 3 * len(model.calls)
    for i, s in enumerate(alone):
        s.push_audio(_pcm(speech, 1.0 - 0.2 * i))
        s.end_audio()
        frames = []
        while True:
            frames.extend(s.outbox)
            s.outbox.clear()
            if not s.ready():
                break
            x = s.take_step()
            face, state = model.model.step(x.mel[None], x.cond[None], s.state[None])
            from emobridge.model.output import to_arkit

            s.accept_step(to_arkit(face[0]), state[0], x.arrival)
        np.testing.assert_allclose([f.weights for f in out[i]], [f.weights for f in frames], atol=1e-5)
        assert len(out[i]) == 96


def test_a_full_outbox_pauses_only_its_own_stream_and_removed_streams_drop_out(tiny_model_dir, speech):
    model = CountingModel(FaceModel(tiny_model_dir, device="cpu"))
    limits = Limits(max_outbound_frames=10, max_pending_seconds=10)
    slow, fast, gone = (_session(model, seed=i, happy=0.0, limits=limits) for i in range(3))

    async def run():
        scheduler = Scheduler(model, min_tick_s=0.0)  # counts frames over ~0.2 s: no tick floor
        scheduler.start()
        for s in (slow, fast, gone):
            scheduler.add(s)
            s.push_audio(_pcm(speech, 1.0))
        scheduler.remove(gone)
        got = []
        for _ in range(200):
            got.extend(fast.outbox)
            fast.outbox.clear()
            scheduler.wake()
            await asyncio.sleep(0.001)
        await scheduler.stop()
        return got

    got = asyncio.run(run())
    assert len(slow.outbox) <= 10 + 2 and slow.frames_run < fast.frames_run  # paused, bounded
    assert len(got) > 50
    assert gone.frames_run == 0


def test_a_failing_model_call_fails_its_streams_not_the_scheduler(tiny_model_dir, speech):
    model = CountingModel(FaceModel(tiny_model_dir, device="cpu"))
    session = _session(model, seed=0, happy=0.0)
    broken = {"on": True}
    real_step = model.step

    def step(mel, cond, state):
        if broken["on"]:
            raise RuntimeError("device lost")
        return real_step(mel, cond, state)

    model.step = step

    async def run():
        scheduler = Scheduler(model)
        scheduler.start()
        scheduler.add(session)
        session.push_audio(_pcm(speech, 1.0))
        scheduler.wake()
        await asyncio.sleep(0.2)
        broken["on"] = False
        healthy = _session(model, seed=1, happy=0.0)
        scheduler.add(healthy)
        healthy.push_audio(_pcm(speech, 1.0))
        scheduler.wake()
        await asyncio.sleep(0.3)
        await scheduler.stop()
        return healthy

    healthy = asyncio.run(run())
    assert session.error is not None and session.error.code == "INTERNAL" and "device lost" in str(session.error)
    assert healthy.error is None and healthy.frames_run > 0


class SlowDeviceModel(CountingModel):
    """A FaceModel that claims a GPU (so the scheduler steps it in a worker thread) and takes 20 ms a step."""

    device = "cuda"

    def step(self, mel, cond, state):
        import time

        time.sleep(0.02)
        return super().step(mel, cond, state)


def test_a_threaded_step_is_timed_apart_from_the_loop_that_resumes_it(tiny_model_dir, speech):
    import time

    model = SlowDeviceModel(FaceModel(tiny_model_dir, device="cpu"))
    session = _session(model, seed=0, happy=0.0)
    session.push_audio(_pcm(speech, 1.0))

    async def run():
        scheduler = Scheduler(model, ServerMetrics())
        scheduler.add(session)
        loop = asyncio.get_running_loop()
        loop.call_later(0.005, time.sleep, 0.3)  # the loop is busy from 5 ms to 305 ms, long past the step's end
        await scheduler.tick([session])
        await scheduler.stop()
        return scheduler.metrics

    metrics = asyncio.run(run())
    assert model.calls == [1]
    compute, resume, whole = metrics.step_compute_seconds.sum, metrics.step_resume_seconds.sum, metrics.step_seconds.sum
    assert 0.02 <= compute < 0.2, "the model call alone, on the worker thread"
    assert resume >= 0.1, "the loop was still blocked when the call ended"
    assert whole >= compute + resume - 1e-3
