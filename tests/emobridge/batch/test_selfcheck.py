"""The per-line lip-sync self-check passes real bakes and catches broken ones."""

import numpy as np

from emobridge.audio import load_audio
from emobridge.bake import bake
from emobridge.batch.selfcheck import lipsync_selfcheck


def test_a_bake_passes_and_a_shifted_or_frozen_one_fails(clips):
    audio = load_audio(clips / "hello.wav")
    anim = bake(audio, text=(clips / "hello.txt").read_text(), progress=False)
    check = lipsync_selfcheck(anim, audio)
    assert check["lipsync_ok"] is True and check["jaw_corr"] >= 0.3 and check["open_speech"] > 0.08
    anim.frames = np.roll(anim.frames, int(anim.fps), axis=0)  # one second late
    assert lipsync_selfcheck(anim, audio)["lipsync_ok"] is False
    anim.frames[:] = anim.frames[0]
    assert lipsync_selfcheck(anim, audio)["lipsync_ok"] is False


def test_silence_has_nothing_to_check():
    silence = np.zeros(16000, np.float32)
    assert lipsync_selfcheck(bake(silence, progress=False), silence)["lipsync_ok"] is None
