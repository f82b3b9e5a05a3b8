"""Writes the expected values the C# tests compare against, computed by the Python SDK (the reference
implementation): rig profiles applied to frames, emotion parsing, valence/arousal mapping, the critically
damped emotion follower and eye rotations from the eyeLook weights. Run by Tests/run_mono_tests.sh with the
repo's venv:

    .venv/bin/python Tests/make_expected.py OUT.json
"""

from __future__ import annotations

import json
import sys

import numpy as np

from emobridge.emotion.space import emotion_from_valence_arousal, parse_emotion_string
from emobridge.emotion.transition import DampedEmotion
from emobridge.rig import ARKIT_NAMES, pascal_name
from emobridge.rig.eyes import eye_rotations
from emobridge.rig.profile import RigProfile, builtin_profiles, load_profile

# Exercises every profile feature: rename, split, combine mean/max/sum, gain, offset, clamp, spellings.
CUSTOM = {"name": "test rig", "shapes": {
    "Jaw": {"from": "jawOpen", "gain": 0.8},
    "BrowL": {"from": "browInnerUp"}, "BrowR": {"from": "browInnerUp"},
    "Smile": {"from": ["mouthSmile_L", "MouthSmileRight"], "combine": "mean"},
    "Blink": {"from": ["eyeBlinkLeft", "eye_blink_right"], "combine": "max"},
    "Squint": {"from": ["eyeSquintLeft", "eyeSquintRight", "cheekSquintLeft"], "combine": "sum", "max": 0.9},
    "Sneer": {"from": "blendShape.noseSneerLeft", "offset": -0.1, "min": 0.05, "max": 0.8},
    "Tongue": "tongueOut"}}


def main(out: str) -> None:
    rng = np.random.default_rng(7)
    frames = rng.uniform(0.0, 1.0, size=(24, 52)).astype(np.float32)
    frames[0] = 0.0
    frames[1] = 1.0
    rigs = {name: load_profile(name) for name in builtin_profiles()}
    rigs["custom"] = RigProfile.from_dict(CUSTOM, "custom")
    emotions = ["happy=0.7", "joy", "anger=0.5,sad=0.25", "pain=1", "cheekiness=0.8,happy=0.9", "neutral", "",
                "Surprised=0.3", "out_of_breath"]
    va = [[0.8, 0.45], [-0.7, -0.45], [0.0, 0.0], [0.3, 0.9], [-1.0, 0.0], [0.1, -0.2], [1.0, 1.0], [-0.8, 0.6]]
    follower = DampedEmotion()
    happy = parse_emotion_string("happy=1")
    follower.set_target(happy, 0.5)
    damped = [follower.step(1 / 60).tolist() for _ in range(60)]
    follower.set_target(parse_emotion_string("sad=0.6"), 0.3)  # mid-transition retarget bends, never pops
    damped += [follower.step(1 / 60).tolist() for _ in range(30)]
    # A small animation JSON with names in PascalCase and shuffled, as another tool might write it.
    order = rng.permutation(52)
    anim = {"fps": 30, "blendshape_names": [pascal_name(ARKIT_NAMES[i]) for i in order],
            "frames": [[float(f[i]) for i in order] for f in frames[:6]],
            "head_rotation": [[0.01 * k, -0.02 * k, 0.005 * k] for k in range(6)]}
    doc = {
        "frames": frames.tolist(),
        "custom_profile": json.dumps(CUSTOM),
        "rig": {name: rig.apply(frames).tolist() for name, rig in rigs.items()},
        "emotion_strings": {text: parse_emotion_string(text).tolist() for text in emotions},
        "valence_arousal": [[v, a, emotion_from_valence_arousal(v, a).tolist()] for v, a in va],
        "damped": damped,
        "animation": json.dumps(anim),
        "eyes": np.concatenate(eye_rotations(frames), axis=1).tolist(),  # left then right yaw, pitch, roll
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f)


if __name__ == "__main__":
    main(sys.argv[1])
