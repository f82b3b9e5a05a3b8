"""The self-contained native bundle (engine_plugins/native/tools/bundle_native.sh) and the two engine scripts
that place it: Unity's Tools~/install_native.sh and Unreal's tools/stage_native.sh.

A bundle must load every library but the process's own runtime (glibc, libstdc++) from its own folder, under
names an engine ships as plugins (ending in .so), and stream from a real sidecar that way.
Skipped when libemobridge has not been built (test.sh builds it).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIB = REPO / "build/engine_plugins/native/libemobridge.so"
BUNDLE = REPO / "engine_plugins/native/tools/bundle_native.sh"
UNITY_INSTALL = REPO / "engine_plugins/unity/com.emobridge.unity/Tools~/install_native.sh"
UNREAL_STAGE = REPO / "engine_plugins/unreal/tools/stage_native.sh"
RUNTIME = re.compile(r"^(linux-vdso|ld-linux|libc|libm|libstdc\+\+|libgcc_s)\.so")

pytestmark = pytest.mark.skipif(not LIB.is_file(), reason="libemobridge is not built (see test.sh)")


def _harness():
    """engine_plugins/unreal/tests/harness.py: the real sidecar the engine tests start (see test_native_ctypes.py)."""
    spec = importlib.util.spec_from_file_location("unreal_harness", REPO / "engine_plugins/unreal/tests/harness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _resolved(library: Path) -> dict[str, str]:
    """soname -> the path the loader picks (ldd), for every library it loads but the process's runtime."""
    out = subprocess.run(["ldd", str(library)], capture_output=True, text=True, check=True).stdout
    pairs = re.findall(r"^\s*(\S+) => (\S+)", out, re.M)
    return {name: path for name, path in pairs if not RUNTIME.match(name)}


def _assert_self_contained(folder: Path, main: str) -> None:
    loaded = _resolved(folder / main)
    assert len(loaded) > 10  # gRPC, protobuf, abseil, OpenSSL...
    assert all(Path(path).parent == folder.resolve() for path in loaded.values()), loaded
    assert all(name.endswith(".so") for name in loaded), loaded


def test_bundle_loads_every_library_from_its_folder(tmp_path):
    run = subprocess.run([str(BUNDLE), str(LIB), str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    _assert_self_contained(tmp_path, "libemobridge.so.0")
    assert re.search(r"needs GLIBC_2\.\d+ and libstdc\+\+ with GLIBCXX_3\.4\.\d+", run.stdout), run.stdout
    assert len(list(tmp_path.iterdir())) == 1 + len(_resolved(LIB))  # one private copy of each, nothing more


def test_bundle_refuses_a_library_without_origin_rpath(tmp_path):
    plain = tmp_path / "libplain.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-x", "c", "-", "-o", str(plain)], input="int f(void){return 1;}",
                   text=True, check=True)
    run = subprocess.run([str(BUNDLE), str(plain), str(tmp_path / "out")], capture_output=True, text=True)
    assert run.returncode == 1 and "DT_RPATH" in run.stderr


def test_bundle_without_arguments_prints_its_usage():
    run = subprocess.run([str(BUNDLE)], capture_output=True, text=True)
    assert run.returncode == 2 and "bundle_native.sh LIB DEST" in run.stderr


def test_unity_install_gives_every_library_a_plugin_meta(tmp_path):
    run = subprocess.run([str(UNITY_INSTALL), str(REPO / "build"), str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    _assert_self_contained(tmp_path, "libemobridge.so")  # DllImport("emobridge") looks for this name
    libraries = sorted(tmp_path.glob("*.so"))
    metas = {lib.name: (tmp_path / (lib.name + ".meta")).read_text() for lib in libraries}
    guids = {re.search(r"^guid: ([0-9a-f]{32})$", meta, re.M).group(1) for meta in metas.values()}
    assert len(guids) == len(libraries) > 10
    assert all("Standalone: Linux64" in meta and "PluginImporter" in meta for meta in metas.values())


def test_unreal_stage_fills_the_thirdparty_module(tmp_path):
    run = subprocess.run([str(UNREAL_STAGE), str(REPO / "build"), str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    lib_dir = tmp_path / "lib" / "Linux"
    assert (tmp_path / "include" / "emobridge.h").is_file()
    assert os.readlink(lib_dir / "libemobridge.so") == "libemobridge.so.0"
    _assert_self_contained(lib_dir, "libemobridge.so.0")
    build_cs = (REPO / "engine_plugins/unreal/EmoBridge/Source/ThirdParty/EmoBridgeNative/"
                "EmoBridgeNative.Build.cs").read_text()
    assert 'Directory.GetFiles(LibDir, "*.so")' in build_cs  # stages every bundled library with the game


def test_a_bundle_streams_from_a_sidecar_with_its_own_libraries(tmp_path):
    subprocess.run([str(BUNDLE), str(LIB), str(tmp_path)], capture_output=True, check=True)
    # A fresh interpreter, as engines load the library (see test_native_ctypes.py on why not this process).
    child = f"""
import sys, wave
sys.path.insert(0, {str(REPO / "engine_plugins/native/python")!r})
import emobridge_native as native
with wave.open({str(REPO / "examples/hello.wav")!r}) as w:
    rate, pcm = w.getframerate(), w.readframes(w.getnframes())
with native.Client(sys.argv[1]) as client:
    stream = client.stream(sample_rate=rate, seed=3, frame_queue_capacity=1024)
    frames = native.stream_pcm16(stream, pcm, rate)
    print("frames", len(frames), stream.state)
print("\\n".join(sorted({{line.split()[-1] for line in open("/proc/self/maps") if "grpc" in line or "protobuf" in line}})))
"""
    with _harness().sidecar() as port:
        run = subprocess.run([sys.executable, "-c", child, f"127.0.0.1:{port}"], capture_output=True, text=True,
                             timeout=300, env={**os.environ, "EMOBRIDGE_NATIVE_LIB": str(tmp_path / "libemobridge.so.0")})
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert lines[0] == "frames 240 ended", run.stdout
    assert len(lines) > 3 and all(Path(path).parent == tmp_path for path in lines[1:]), lines
