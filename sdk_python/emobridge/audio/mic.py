"""Microphone capture as 20 ms PCM16 chunks at 16 kHz (sounddevice / PortAudio), for live streaming.

``MicChunks`` opens an input stream whose callback puts each block in a bounded queue; iterating yields the
blocks as bytes until ``seconds`` of audio have been captured or ``stop()`` is called. A consumer that falls
behind loses the oldest blocks (counted in ``dropped``), never memory without bound.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator

from emobridge.audio.decode import SAMPLE_RATE, AudioError

CHUNK_SAMPLES = SAMPLE_RATE // 50  # 20 ms


def _sounddevice():
    try:
        import sounddevice
    except (ImportError, OSError) as err:  # OSError: the PortAudio library itself is missing
        raise AudioError(f"microphone input needs sounddevice and PortAudio ({err}); "
                         "install them with `pip install sounddevice` and `apt-get install libportaudio2`") from None
    return sounddevice


class MicChunks:
    """Iterate 20 ms PCM16 mono chunks from an input device; ``sent_times`` records when each was yielded."""

    def __init__(self, device: str | int | None = None, seconds: float | None = None, max_queue: int = 50) -> None:
        self.device = device
        self.seconds = seconds
        self.dropped = 0
        self.sent_times: list[float] = []
        self._queue: queue.Queue[bytes] = queue.Queue(max_queue)
        self._stop = threading.Event()
        self._stream = None

    def _callback(self, data, frames, time_info, status) -> None:
        block = bytes(data)
        try:
            self._queue.put_nowait(block)
        except queue.Full:  # the consumer is behind: drop the oldest block, keep the newest
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()
            self.dropped += 1
            self._queue.put_nowait(block)

    def start(self) -> MicChunks:
        sd = _sounddevice()
        try:
            self._stream = sd.RawInputStream(samplerate=SAMPLE_RATE, blocksize=CHUNK_SAMPLES, channels=1, dtype="int16",
                                             device=self.device, callback=self._callback)
            self._stream.start()
        except Exception as err:  # PortAudioError and ValueError for unknown devices
            raise AudioError(f"cannot open the microphone {self.device!r}: {err}") from None
        return self

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None

    def __iter__(self) -> Iterator[bytes]:
        if self._stream is None:
            self.start()
        captured = 0
        try:
            while not self._stop.is_set():
                if self.seconds is not None and captured >= self.seconds * SAMPLE_RATE:
                    break
                try:
                    block = self._queue.get(timeout=0.1)
                except queue.Empty:
                    continue
                captured += len(block) // 2
                self.sent_times.append(time.monotonic())
                yield block
        finally:
            self.close()
