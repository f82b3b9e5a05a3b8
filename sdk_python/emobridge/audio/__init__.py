"""Audio in: decoding files and network chunks, resampling to 16 kHz mono, levels, log-mel features
and the streaming buffer that reproduces them chunk by chunk.

Everything downstream (alignment, models, baking) sees float32 mono at ``SAMPLE_RATE``; this package
is the only place that knows about containers, encodings, channel counts and other sample rates.
"""

from emobridge.audio.decode import SAMPLE_RATE, AudioError, decode_pcm, load_audio, resample
from emobridge.audio.features import HOP, N_MELS, WIN, StreamingLogMel, log_mel
from emobridge.audio.levels import is_silent, peak_dbfs

__all__ = [
    "HOP",
    "N_MELS",
    "SAMPLE_RATE",
    "WIN",
    "AudioError",
    "StreamingLogMel",
    "decode_pcm",
    "is_silent",
    "load_audio",
    "log_mel",
    "peak_dbfs",
    "resample",
]
