"""The Unity package (engine_plugins/unity/com.emobridge.unity) without Unity: its pure C# core compiled
with mcs and its NUnit tests run by nunit-console against a real sidecar through the real libemobridge,
plus a compile check of the UnityEngine-facing scripts against a signatures-only stand-in.

All of that is Tests/run_mono_tests.sh; this runs it in CI. Skipped when mono/nunit-console are missing
(setup.sh installs them) or libemobridge has not been built (test.sh builds it into build/ first).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "engine_plugins/unity/com.emobridge.unity"
SCRIPT = PACKAGE / "Tests/run_mono_tests.sh"


def _build_dir() -> Path:
    lib = os.environ.get("EMOBRIDGE_NATIVE_LIB")  # the same override as the ctypes tests
    return Path(lib).resolve().parents[2] if lib else REPO / "build"


@pytest.mark.slow
@pytest.mark.skipif(not all(shutil.which(t) for t in ("mcs", "mono", "nunit-console")),
                    reason="mono-devel / nunit-console not installed (setup.sh installs them)")
@pytest.mark.skipif(not (_build_dir() / "engine_plugins/native/libemobridge.so").is_file(),
                    reason="libemobridge is not built (see test.sh)")
def test_unity_core_nunit_and_compile_check(tmp_path):
    env = dict(os.environ, EMOBRIDGE_MONO_OUT=str(tmp_path))
    env.pop("EMOBRIDGE_SIDECAR", None)  # the script starts its own
    proc = subprocess.run([str(SCRIPT), str(_build_dir())], env=env, capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert "Failures: 0" in output and "Errors: 0" in output, output[-6000:]


def test_shared_data_copies_have_not_drifted():
    """The package's copies of face_tables.json and the rig profiles equal their sources; every asset has a .meta."""
    proc = subprocess.run(["python3", str(PACKAGE / "Tools~/sync_shared_data.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
