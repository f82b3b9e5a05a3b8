"""ARKit-52 rig: canonical blendshape names, name normalisation and the 15 Oculus visemes.

The tables live in ``emobridge/face_tables.json``, the one data file every language reads or
generates from; this module only loads and indexes them.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def face_tables() -> dict[str, Any]:
    """The shared face tables (ARKit names, visemes, emotion basis, ...), loaded once."""
    return json.loads(resources.files("emobridge").joinpath("face_tables.json").read_text("utf-8"))


ARKIT_NAMES: tuple[str, ...] = tuple(face_tables()["arkit_names"])
ARKIT_INDEX: dict[str, int] = {name: i for i, name in enumerate(ARKIT_NAMES)}
NUM_BLENDSHAPES = len(ARKIT_NAMES)
VISEMES: tuple[str, ...] = tuple(face_tables()["oculus_visemes"])
PHONE_TO_VISEME: dict[str, str] = dict(face_tables()["phone_to_viseme"])

_BY_KEY = {re.sub(r"[^a-z]", "", name.lower()): name for name in ARKIT_NAMES}


class UnknownBlendshapeError(KeyError):
    """A blendshape name that is not one of the 52 ARKit names in any accepted spelling."""

    def __str__(self) -> str:
        return str(self.args[0])


def _key(name: str) -> str:
    """Spelling-independent key: eyeBlink_L, EyeBlinkLeft, eye_blink_left -> 'eyeblinkleft'."""
    key = re.sub(r"[^a-z]", "", re.sub(r"_([LR])$", lambda m: "left" if m[1] == "L" else "right", name.strip()).lower())
    return key


def canonical_name(name: str) -> str:
    """Canonical camelCase ARKit name for any common spelling.

    Accepts ARKit raw (``eyeBlink_L``), PascalCase (``EyeBlinkLeft``, Live Link Face CSV / Unreal),
    camelCase (``eyeBlinkLeft``), snake case (``eye_blink_left``) and a leading ``blendShape.`` prefix.
    """
    stripped = name.split(".")[-1]
    found = _BY_KEY.get(_key(stripped))
    if found is None:
        raise UnknownBlendshapeError(f"unknown blendshape name {name!r}: not one of the 52 ARKit names")
    return found


def pascal_name(name: str) -> str:
    """PascalCase spelling used by Live Link Face CSV and Unreal curves (``EyeBlinkLeft``)."""
    canonical = canonical_name(name)
    return canonical[0].upper() + canonical[1:]


def arkit_raw_name(name: str) -> str:
    """ARKit raw spelling with _L/_R suffixes (``eyeBlink_L``), as in ARKit's own blendShapes keys."""
    canonical = canonical_name(name)
    for side, suffix in (("Left", "_L"), ("Right", "_R")):
        if canonical.endswith(side):
            return canonical[: -len(side)] + suffix
    return canonical


def mirror_name(name: str) -> str:
    """The same shape on the other side of the face (non-sided names map to themselves)."""
    canonical = canonical_name(name)
    if canonical.endswith("Left"):
        return canonical[:-4] + "Right"
    if canonical.endswith("Right"):
        return canonical[:-5] + "Left"
    return canonical


def viseme_for_phone(phone: str) -> str:
    """Oculus viseme of an ARPAbet phone (stress digits ignored); unknown phones map to 'sil'."""
    return PHONE_TO_VISEME.get(re.sub(r"\d", "", phone.upper()), "sil")
