"""emobridge.rig: the 52 ARKit names in every accepted spelling, mirroring and the 15 visemes."""

from __future__ import annotations

import pytest

from emobridge.phonetics.phones import ARPABET
from emobridge.rig import (
    ARKIT_INDEX,
    ARKIT_NAMES,
    NUM_BLENDSHAPES,
    PHONE_TO_VISEME,
    VISEMES,
    UnknownBlendshapeError,
    arkit_raw_name,
    canonical_name,
    face_tables,
    mirror_name,
    pascal_name,
    viseme_for_phone,
)


def test_fifty_two_unique_names_in_order() -> None:
    assert NUM_BLENDSHAPES == len(ARKIT_NAMES) == 52
    assert len(set(ARKIT_NAMES)) == 52
    assert ARKIT_NAMES[0] == "eyeBlinkLeft" and ARKIT_NAMES[-1] == "tongueOut"
    assert all(ARKIT_INDEX[name] == i for i, name in enumerate(ARKIT_NAMES))
    for name in ("jawOpen", "mouthClose", "browInnerUp", "cheekPuff", "noseSneerRight", "mouthSmileLeft"):
        assert name in ARKIT_INDEX


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("eyeBlink_L", "eyeBlinkLeft"),
        ("eyeBlink_R", "eyeBlinkRight"),
        ("EyeBlinkLeft", "eyeBlinkLeft"),
        ("eyeBlinkLeft", "eyeBlinkLeft"),
        ("eye_blink_left", "eyeBlinkLeft"),
        ("blendShape.eyeBlink_L", "eyeBlinkLeft"),
        ("  JawOpen ", "jawOpen"),
        ("mouthSmile_R", "mouthSmileRight"),
        ("MouthLeft", "mouthLeft"),     # a sided shape of its own, not "mouth" + side
        ("mouth_L", "mouthLeft"),
        ("browInnerUp", "browInnerUp"),
        ("TongueOut", "tongueOut"),
    ],
)
def test_canonical_name_spellings(spelling: str, canonical: str) -> None:
    assert canonical_name(spelling) == canonical


@pytest.mark.parametrize("name", ARKIT_NAMES)
def test_every_name_round_trips_through_all_spellings(name: str) -> None:
    assert canonical_name(name) == name
    assert canonical_name(pascal_name(name)) == name
    assert canonical_name(arkit_raw_name(name)) == name
    assert pascal_name(name)[0].isupper() and pascal_name(name)[1:] == name[1:]


def test_raw_and_pascal_spellings() -> None:
    assert arkit_raw_name("eyeBlinkLeft") == "eyeBlink_L"
    assert arkit_raw_name("EyeLookInRight") == "eyeLookIn_R"
    assert arkit_raw_name("jawOpen") == "jawOpen"
    assert pascal_name("eyeBlink_L") == "EyeBlinkLeft"


@pytest.mark.parametrize("bad", ["eyeBlink", "smile", "", "eyeBlinkMiddle", "jawOpen2x", "blendShape."])
def test_unknown_names(bad: str) -> None:
    with pytest.raises(UnknownBlendshapeError) as info:
        canonical_name(bad)
    assert repr(bad) in str(info.value) and "52" in str(info.value)
    assert isinstance(info.value, KeyError)
    with pytest.raises(UnknownBlendshapeError):
        mirror_name(bad)


def test_mirror_name() -> None:
    assert mirror_name("eyeBlinkLeft") == "eyeBlinkRight"
    assert mirror_name("eyeBlink_R") == "eyeBlinkLeft"
    assert mirror_name("MouthLeft") == "mouthRight"
    assert mirror_name("eyeLookInLeft") == "eyeLookInRight"
    assert mirror_name("jawOpen") == "jawOpen"
    assert mirror_name("browInnerUp") == "browInnerUp"


@pytest.mark.parametrize("name", ARKIT_NAMES)
def test_mirror_is_an_involution_within_the_rig(name: str) -> None:
    other = mirror_name(name)
    assert other in ARKIT_INDEX
    assert mirror_name(other) == name
    assert (other == name) == (not name.endswith(("Left", "Right")))


def test_sided_names_come_in_pairs() -> None:
    left = [n for n in ARKIT_NAMES if n.endswith("Left")]
    right = [n for n in ARKIT_NAMES if n.endswith("Right")]
    assert len(left) == len(right) == 20  # and 12 centre shapes (jawOpen, browInnerUp, tongueOut, ...)
    assert sorted(mirror_name(n) for n in left) == sorted(right)


def test_fifteen_visemes() -> None:
    assert len(VISEMES) == 15 and len(set(VISEMES)) == 15
    assert VISEMES[0] == "sil"
    assert tuple(face_tables()["oculus_visemes"]) == VISEMES


@pytest.mark.parametrize("phone", sorted(ARPABET))
def test_every_arpabet_phone_has_a_viseme(phone: str) -> None:
    assert phone in PHONE_TO_VISEME
    assert viseme_for_phone(phone) in VISEMES
    assert viseme_for_phone(phone) != "sil"


def test_viseme_table_only_uses_known_phones_and_visemes() -> None:
    assert set(PHONE_TO_VISEME) == ARPABET | {"SIL"}
    assert set(PHONE_TO_VISEME.values()) == set(VISEMES)  # every viseme is reachable


@pytest.mark.parametrize(
    ("phone", "viseme"),
    [("P", "PP"), ("b", "PP"), ("M", "PP"), ("F", "FF"), ("TH", "TH"), ("S", "SS"), ("AA1", "aa"), ("ah0", "aa"),
     ("IY2", "ih"), ("UW", "ou"), ("OW0", "oh"), ("SIL", "sil"), ("+NSN+", "sil"), ("XYZ", "sil"), ("", "sil")],
)
def test_viseme_for_phone(phone: str, viseme: str) -> None:
    assert viseme_for_phone(phone) == viseme
