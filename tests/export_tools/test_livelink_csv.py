"""Live Link Face CSV: exact round trip, timecodes, reading by header name (swapped columns), errors."""

import csv

import numpy as np
import pytest

from emobridge.animation import Animation
from emobridge.livelink.packet import CURVE_NAMES
from emobridge.rig.eyes import eye_rotations
from emobridge.rig.profile import load_profile
from emobridge_export import ExportError
from emobridge_export.livelink_csv import export_livelink_csv, parse_timecode, read_livelink_csv, timecode


def test_round_trip_is_exact(baked, tmp_path):
    path = export_livelink_csv(baked, tmp_path / "take.csv")
    back = read_livelink_csv(path, fps=baked.fps)
    assert back.frames.shape == baked.frames.shape
    assert np.abs(back.frames - baked.frames).max() <= 1e-6
    assert np.abs(back.head_rotation - baked.head_rotation).max() <= 1e-6
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["Timecode", "BlendshapeCount", *CURVE_NAMES] and len(rows[0]) == 63
    assert rows[1][:2] == ["00:00:00:00.000", "61"] and rows[2][0] == "00:00:00:01.000"
    eyes = np.array([[float(v) for v in row[2 + 55:]] for row in rows[1:]])
    np.testing.assert_allclose(eyes, np.concatenate(eye_rotations(baked.frames), axis=1), atol=1e-6)
    assert np.abs(eyes).max() > 0.005  # the take's gaze turns the eyes


def test_timecodes():
    assert timecode(3723.5, 60) == "01:02:03:30.000"
    assert timecode(1.0 + 2.5 / 30, 30) == "00:00:01:02.500"
    assert parse_timecode("01:02:03:30.000", 60) == pytest.approx(3723.5)
    assert parse_timecode("12:39:32:46.166", 60) == pytest.approx(12 * 3600 + 39 * 60 + 32 + 46.166 / 60)
    with pytest.raises(ExportError, match="HH:MM:SS:FF"):
        parse_timecode("12:39", 60)


def test_reads_a_take_with_swapped_columns_and_other_spellings(baked, tmp_path):
    path = export_livelink_csv(baked, tmp_path / "take.csv")
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    order = list(range(len(rows[0])))
    order[5], order[40] = order[40], order[5]      # swap two blendshape columns
    order[2], order[60] = order[60], order[2]      # and a blendshape with a rotation
    rows = [[row[i] for i in order] for row in rows]
    rows[0] = [h.lower() if i % 2 else h.upper() for i, h in enumerate(rows[0])]  # any case
    swapped = tmp_path / "swapped.csv"
    with open(swapped, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    back = read_livelink_csv(swapped, fps=baked.fps)
    assert np.abs(back.frames - baked.frames).max() <= 1e-6
    assert np.abs(back.head_rotation - baked.head_rotation).max() <= 1e-6


def test_untracked_rows_are_skipped_and_bad_takes_are_refused(tmp_path):
    anim = Animation(fps=60.0, frames=np.full((3, 52), 0.25, np.float32))
    path = export_livelink_csv(anim, tmp_path / "t.csv")
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace(",61,", ",0,", 1)
    path.write_text("\n".join(lines) + "\n")
    assert len(read_livelink_csv(path).frames) == 2
    for text, words in [("", "empty file"), ("Timecode,Foo\n00:00:00:00.000,1\n", "no ARKit"),
                        ("Timecode,BlendshapeCount,JawOpen\n00:00:00:00.000,61,abc\n", "not a number"),
                        ("Timecode,BlendshapeCount,JawOpen\n00:00:00:01.000,61,0.1\n00:00:00:00.000,61,0.1\n",
                         "do not advance"),
                        ("Timecode,BlendshapeCount,JawOpen\n00:00:00:00.000,61\n", "values for 3 columns")]:
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(ExportError, match=words):
            read_livelink_csv(bad)
    with pytest.raises(ExportError, match="cannot read"):
        read_livelink_csv(tmp_path / "missing.csv")


def test_rig_profiles_do_not_apply(baked, tmp_path):
    with pytest.raises(ExportError, match="--rig does not apply"):
        export_livelink_csv(baked, tmp_path / "x.csv", rig=load_profile("ict_facekit"))
