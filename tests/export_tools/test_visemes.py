"""Visemes from ARKit frames: rows sum to 1, p/b/m read as PP, open vowels as aa, rest is sil."""

import json

import numpy as np
import pytest

from emobridge.audio import load_audio
from emobridge.phonetics import align_transcript
from emobridge.rig import PHONE_TO_VISEME, VISEMES
from emobridge.rig.profile import load_profile
from emobridge_export import ExportError
from emobridge_export.visemes import export_visemes, visemes_of

from .conftest import EXAMPLES


def test_rows_are_mixtures_and_rest_is_silence():
    v = visemes_of(np.zeros((4, 52)))
    assert np.allclose(v[:, 0], 1.0) and np.allclose(v.sum(axis=1), 1.0)


def test_bilabials_read_as_pp_and_open_vowels_mostly_as_aa(baked):
    v = visemes_of(baked.frames)
    assert np.allclose(v.sum(axis=1), 1.0) and v.min() >= 0
    phones, _ = align_transcript(load_audio(EXAMPLES / "hello.wav"), (EXAMPLES / "hello.txt").read_text())
    top = {}
    for p in phones:
        if p.label != "SIL" and p.duration >= 0.05:
            mid = int((p.start + p.end) / 2 * baked.fps)
            top.setdefault(PHONE_TO_VISEME[p.label], []).append(VISEMES[int(np.argmax(v[mid]))])
    assert top["PP"] and all(t == "PP" for t in top["PP"])
    assert np.mean([t == "aa" for t in top["aa"]]) >= 0.5


def test_csv_and_json_files(baked, tmp_path):
    rows = export_visemes(baked, tmp_path / "v.csv").read_text().splitlines()
    assert rows[0] == "time," + ",".join(VISEMES) and len(rows) == len(baked.frames) + 1
    doc = json.loads(export_visemes(baked, tmp_path / "v.json").read_text())
    assert doc["visemes"] == list(VISEMES) and len(doc["frames"]) == len(baked.frames)
    with pytest.raises(ExportError, match="--rig does not apply"):
        export_visemes(baked, tmp_path / "x.csv", rig=load_profile("arkit"))
