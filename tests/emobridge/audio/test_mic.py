"""emobridge.audio.mic: 20 ms chunks from a (fake) PortAudio input stream, bounded queue, clear errors."""

from __future__ import annotations

import sys
import threading
import time
import types

import numpy as np
import pytest

from emobridge.audio import AudioError
from emobridge.audio.mic import CHUNK_SAMPLES, MicChunks


def fake_sounddevice(samples: np.ndarray, speed: float = 1.0) -> types.ModuleType:
    """A stand-in for sounddevice whose RawInputStream plays ``samples`` (int16) in 20 ms blocks."""

    class RawInputStream:
        def __init__(self, samplerate, blocksize, channels, dtype, device, callback):
            assert (samplerate, blocksize, channels, dtype) == (16000, CHUNK_SAMPLES, 1, "int16")
            if device == "missing":
                raise ValueError("No input device matching 'missing'")
            self.callback, self.blocksize, self.running = callback, blocksize, False

        def start(self):
            self.running = True

            def play():
                for i in range(0, len(samples), self.blocksize):
                    if not self.running:
                        return
                    block = samples[i:i + self.blocksize]
                    self.callback(block.tobytes(), len(block), None, None)
                    time.sleep(0.02 / speed)

            threading.Thread(target=play, daemon=True).start()

        def stop(self):
            self.running = False

        def close(self):
            pass

    module = types.ModuleType("sounddevice")
    module.RawInputStream = RawInputStream
    return module


def test_chunks_arrive_in_order_until_the_duration(monkeypatch):
    samples = (np.arange(16000) % 1000).astype(np.int16)
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(samples, speed=10))
    mic = MicChunks(seconds=0.5)
    chunks = list(mic)
    assert len(chunks) == 25 and all(len(c) == 2 * CHUNK_SAMPLES for c in chunks)
    assert b"".join(chunks) == samples[:8000].tobytes()
    assert len(mic.sent_times) == 25


def test_a_slow_consumer_drops_old_blocks_instead_of_growing(monkeypatch):
    samples = np.zeros(16000, np.int16)
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(samples, speed=50))
    mic = MicChunks(max_queue=5)
    mic.start()
    time.sleep(0.5)
    assert mic._queue.qsize() <= 5 and mic.dropped > 0
    mic.close()


def test_missing_device_or_portaudio_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(np.zeros(10, np.int16)))
    with pytest.raises(AudioError, match="cannot open the microphone 'missing'"):
        MicChunks("missing").start()
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails as when PortAudio is absent
    with pytest.raises(AudioError, match="libportaudio2"):
        MicChunks().start()
