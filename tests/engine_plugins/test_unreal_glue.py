"""The Unreal plugin's non-UE parts: EmoBridgeGlue.h (compiled with g++ here, no engine), the plugin descriptor and
build rules, a static check that the UE glue calls only what emobridge.h declares, and a type check of the component
against a stand-in for the engine's headers. With the native core built
(build/engine_plugins/native/libemobridge.so), the glue also streams through it against a real sidecar and must
produce exactly the curves the sidecar's Live Link Face packets carry for the same stream."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location(
    "unreal_harness", Path(__file__).resolve().parents[2] / "engine_plugins" / "unreal" / "tests" / "harness.py")
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

PLUGIN = harness.UNREAL / "EmoBridge"


@pytest.fixture(scope="module")
def glue(tmp_path_factory) -> Path:
    """glue_check without the native library (the names mode)."""
    if harness.compiler() is None:
        pytest.skip("no C++ compiler (g++)")
    out = tmp_path_factory.mktemp("glue") / "glue_check"
    return harness.compile_cpp([harness.GLUE_SRC], out, ["-DGLUE_CHECK_NO_NATIVE", f"-I{harness.GLUE_INCLUDE}",
                                                         f"-I{harness.NATIVE_INCLUDE}"])


def test_live_link_property_names_are_unreals_arkit_curve_names(glue):
    from emobridge.livelink import CURVE_NAMES

    names = subprocess.run([str(glue), "names"], capture_output=True, text=True, check=True).stdout.split()
    assert names == list(CURVE_NAMES) and len(names) == 61


def test_plugin_descriptor_and_build_rules():
    doc = json.loads((PLUGIN / "EmoBridge.uplugin").read_text())
    modules = {m["Name"]: m for m in doc["Modules"]}
    assert modules["EmoBridge"]["Type"] == "Runtime" and modules["EmoBridgeEditor"]["Type"] == "Editor"
    assert {p["Name"] for p in doc["Plugins"]} >= {"LiveLink", "AudioCapture"}
    for module in modules:
        assert (PLUGIN / "Source" / module / f"{module}.Build.cs").exists()
    third_party = (PLUGIN / "Source" / "ThirdParty" / "EmoBridgeNative" / "EmoBridgeNative.Build.cs").read_text()
    assert "ModuleType.External" in third_party and '"native", "include"' in third_party  # falls back to the repo header
    for platform in ("Win64", "Linux", "Mac"):
        assert f"UnrealTargetPlatform.{platform}" in third_party
    runtime = (PLUGIN / "Source" / "EmoBridge" / "EmoBridge.Build.cs").read_text()
    assert '"EmoBridgeNative"' in runtime and '"LiveLinkInterface"' in runtime


def test_ue_glue_calls_only_the_c_abi():
    """The UE-facing C++ talks to the sidecar only through emobridge.h, and every eb_ name it uses exists there."""
    declared = set(re.findall(r"\b(eb_\w+)\s*\(", (harness.NATIVE_INCLUDE / "emobridge.h").read_text()))
    sources = [p for p in (PLUGIN / "Source").rglob("*") if p.suffix in (".h", ".cpp")]
    assert len(sources) >= 10
    used = set()
    for path in sources:
        text = path.read_text()
        assert not re.search(r"#include\s*[<\"](grpc|google/protobuf)", text), f"{path.name} reaches past the C ABI"
        used |= set(re.findall(r"\b(eb_\w+)\s*\(", text))
    assert used and used <= declared, used - declared


# The engine headers the runtime module's component and Blueprint library include, each a stand-in here.
STAND_IN_HEADERS = ("CoreMinimal.h", "Components/ActorComponent.h", "Components/AudioComponent.h", "AudioCaptureCore.h",
                    "Kismet/GameplayStatics.h", "Kismet/BlueprintFunctionLibrary.h", "Sound/SoundWave.h",
                    "Modules/ModuleManager.h", "ILiveLinkSource.h", "LiveLinkTypes.h", "Misc/QualifiedFrameTime.h",
                    "Containers/Array.h", "Containers/Map.h", "Containers/StringConv.h", "UObject/NameTypes.h",
                    "GameFramework/Actor.h", "Animation/AnimData/IAnimationDataController.h",
                    "Animation/AnimSequence.h", "AssetRegistry/AssetRegistryModule.h", "Misc/Paths.h",
                    "UObject/Package.h")
# Each .generated.h gives its classes' GENERATED_BODY(), as the engine's does: with the Super a UCLASS that uses it
# derives from (the editor's header also holds a USTRUCT, so it declares none).
GENERATED = {"EmoBridgeComponent.generated.h": "using Super = UActorComponent; private:",
             "EmoBridgeBlueprintLibrary.generated.h": "using Super = UBlueprintFunctionLibrary; private:",
             "EmoBridgeBakeLibrary.generated.h": ""}


def test_component_type_checks_against_an_engine_stand_in(tmp_path):
    """EmoBridgeComponent.cpp, EmoBridgeBlueprintLibrary.cpp and the editor's EmoBridgeBakeLibrary.cpp compile
    (g++ -fsyntax-only) against tests/standin/UnrealStandIn.h: the UE code agrees with its own headers, emobridge.h
    and EmoBridgeGlue.h. The stand-in is written from the plugin's own calls, so this does not check Unreal's API."""
    if harness.compiler() is None:
        pytest.skip("no C++ compiler (g++)")
    stand_in = harness.UNREAL / "tests" / "standin"
    for header in STAND_IN_HEADERS:
        (tmp_path / header).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / header).write_text('#include "UnrealStandIn.h"\n')
    for header, body in GENERATED.items():
        (tmp_path / header).write_text(f'#include "UnrealStandIn.h"\n#undef GENERATED_BODY\n'
                                       f"#define GENERATED_BODY() public: {body}\n")
    module, editor = PLUGIN / "Source" / "EmoBridge", PLUGIN / "Source" / "EmoBridgeEditor"
    run = subprocess.run([harness.compiler(), "-std=c++17", "-fsyntax-only", "-Wall", "-Werror", f"-I{tmp_path}",
                          f"-I{stand_in}", f"-I{module / 'Public'}", f"-I{module / 'Private'}", f"-I{editor / 'Public'}",
                          f"-I{harness.NATIVE_INCLUDE}", str(module / "Private" / "EmoBridgeComponent.cpp"),
                          str(module / "Private" / "EmoBridgeBlueprintLibrary.cpp"),
                          str(editor / "Private" / "EmoBridgeBakeLibrary.cpp")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]


def _glue_check(tmp_path):
    """The engine-free glue compiled against the built native core (skips when either is missing)."""
    libdir = harness.native_library_dir()
    if harness.compiler() is None or libdir is None:
        pytest.skip("needs g++ and the native core built (cmake -S . -B build && cmake --build build)")
    return harness.compile_cpp([harness.GLUE_SRC], tmp_path / "glue_check", [
        f"-I{harness.GLUE_INCLUDE}", f"-I{harness.NATIVE_INCLUDE}", f"-L{libdir}", "-lemobridge",
        f"-Wl,-rpath,{libdir}"])


@pytest.mark.slow
def test_glue_through_the_native_core_equals_the_sidecars_live_link_packets(tmp_path):
    """What the plugin's Live Link source would push for a stream == what the sidecar's Live Link Face packets (read
    like the engine reads them) carry for that same stream: the plugin route and the zero-plugin route agree."""
    check = _glue_check(tmp_path)
    decoder = harness.compile_cpp([harness.DECODER_SRC], tmp_path / "decoder")
    capture = harness.UdpCapture()
    with harness.sidecar(capture.port, "NPC1") as port:
        run = subprocess.run([str(check), "stream", f"127.0.0.1:{port}", str(harness.HELLO_WAV), "happy=0.6"],
                             capture_output=True, text=True, timeout=180)
        packets = capture.finish()
    assert run.returncode == 0, run.stderr
    frames = [json.loads(line) for line in run.stdout.splitlines()]
    path = tmp_path / "stream.ebll"
    harness.replay_module().write_capture(path, packets)
    records, summary = harness.decode(decoder, path)
    assert len(frames) == 240 and summary["accepted"] == 240
    assert [f["index"] for f in frames] == list(range(240))
    assert [r["frame"] - records[0]["frame"] for r in records] == list(range(240))
    ours = np.array([f["values"] for f in frames], np.float32)
    engine = np.array([r["values"] for r in records], np.float32)
    assert np.array_equal(ours[:, :52], engine[:, :52])  # weights: float32-identical
    assert np.abs(ours[:, 52:] - engine[:, 52:]).max() < 1e-6  # rotations: radians/pi from float32 vs float64
    assert np.abs(ours[:, 52:55]).max() * math.pi > 1e-3  # the head really moves


@pytest.mark.slow
def test_valence_arousal_reaches_the_sidecar_as_the_point(tmp_path):
    """SetValenceArousal's route (eb_stream_set_valence_arousal, right after the open as the component does): a
    negative valence arrives, and the frames carry the sidecar's own mapping of it, from the first frame."""
    from emobridge.emotion import emotion_from_valence_arousal

    check = _glue_check(tmp_path)
    capture = harness.UdpCapture()
    with harness.sidecar(capture.port, "NPC1") as port:
        run = subprocess.run([str(check), "stream", f"127.0.0.1:{port}", str(harness.HELLO_WAV), "va=-0.8,0.6"],
                             capture_output=True, text=True, timeout=180)
        capture.finish()
    assert run.returncode == 0, run.stderr
    emotion = np.array([json.loads(line)["emotion"] for line in run.stdout.splitlines()], np.float32)
    assert emotion.shape == (240, 7)
    np.testing.assert_allclose(emotion, np.tile(emotion_from_valence_arousal(-0.8, 0.6), (240, 1)), atol=1e-5)


@pytest.mark.slow
def test_clip_player_lands_gameplay_emotion_where_it_is_heard(tmp_path):
    """bBakeWholeClip's route (ClipPlayer over eb_clip, ABI 5), ticking at 60 Hz of real time: each tick shows the
    frame for its elapsed time; happy set at 1.0 s and sad at 2.5 s are baked in at those times, so the face is
    neutral before 1.0 s and changes within a re-bake's round trip of each change; the clip then finishes."""
    check = _glue_check(tmp_path)
    with harness.sidecar() as port:
        run = subprocess.run([str(check), "clip", f"127.0.0.1:{port}", str(harness.HELLO_WAV), "happy=1@1.0",
                              "sad=1@2.5"], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and "finished" in run.stderr, run.stderr
    frames = [json.loads(line) for line in run.stdout.splitlines()]
    tick = np.array([f["tick"] for f in frames])
    index = np.array([f["index"] for f in frames])
    happy, sad = (np.array([f["emotion"][k] for f in frames]) for k in (0, 1))
    assert len(frames) > 200 and tick.max() < 4.0  # one frame per tick once the first bake is back
    assert np.array_equal(index, np.floor(tick * 60 + 1e-6).astype(int))  # the frame due at each tick
    assert happy[tick < 1.0].max() == 0 and sad[tick < 2.5].max() == 0
    assert happy[(tick > 1.25) & (tick < 2.5)].min() > 0  # baked in within 0.25 s (a bake of 4 s takes ~20 ms)
    assert sad[tick > 3.0].min() > 0.85 and happy[tick > 3.0].max() < 0.1
