#!/usr/bin/env bash
# Builds and tests the Unity package without Unity (what CI runs; see ../README.md "What was tested where"):
#   1. the shared-data copies match their sources and every asset has a .meta (Tools~/sync_shared_data.py --check);
#   2. the pure C# core (Runtime/Core, no UnityEngine) compiles with mcs;
#   3. its NUnit tests run with nunit-console against a real sidecar through the real libemobridge;
#   4. Runtime/, Editor/ and Samples~/ compile against Tests/CompileCheck/UnityEngineStandIn.cs
#      (a signatures-only stand-in for UnityEngine/UnityEditor: it type-checks, it does not run Unity).
#
# usage: Tests/run_mono_tests.sh [NATIVE_BUILD_DIR]   (default: <repo>/build; built with CMake if needed)
# env:   EMOBRIDGE_MONO_OUT (work dir, default a temp dir), EMOBRIDGE_SIDECAR (use a running sidecar instead
#        of starting one), NUNIT_ARGS (extra nunit-console arguments, e.g. -run=EmoBridge.Tests.RigMapperTests)
set -euo pipefail
PACKAGE="$(cd "$(dirname "$0")/.." && pwd)"
REPO="$(cd "$PACKAGE/../../.." && pwd)"
# Absolute: the tests run from $OUT, where a relative build path would not find libemobridge.
BUILD="$(realpath -m "${1:-$REPO/build}")"
OUT="${EMOBRIDGE_MONO_OUT:-$(mktemp -d /tmp/emobridge-unity-XXXXXX)}"
mkdir -p "$OUT"
PY="$REPO/.venv/bin/python"
for tool in mcs mono nunit-console; do
  command -v "$tool" >/dev/null || { echo "run_mono_tests: $tool not found (apt-get install mono-devel libnunit-cil-dev nunit-console)" >&2; exit 2; }
done

step() { echo "== $*"; }

step "shared data copies and .meta files"
"$PY" "$PACKAGE/Tools~/sync_shared_data.py" --check

LIB="$BUILD/engine_plugins/native/libemobridge.so"
if [ ! -f "$LIB" ]; then
  step "building libemobridge in $BUILD"
  cmake -S "$REPO" -B "$BUILD" >/dev/null
  cmake --build "$BUILD" -j2 --target emobridge
fi

NUNIT="$(ls /usr/lib/cli/nunit.framework-2.*/nunit.framework.dll 2>/dev/null | head -1)"
[ -n "$NUNIT" ] || NUNIT="$(find /usr/lib -name nunit.framework.dll 2>/dev/null | head -1)"
MCS=(mcs -nologo -warnaserror+ -target:library)

step "mcs: EmoBridge.Core (no UnityEngine)"
"${MCS[@]}" -unsafe -out:"$OUT/EmoBridge.Core.dll" "$PACKAGE"/Runtime/Core/*.cs
step "mcs: EmoBridge.Core.Tests"
"${MCS[@]}" -r:"$OUT/EmoBridge.Core.dll" -r:"$NUNIT" -out:"$OUT/EmoBridge.Core.Tests.dll" "$PACKAGE"/Tests/Core/*.cs
cp "$NUNIT" "$OUT/"

step "mcs: UnityEngine stand-in, then Runtime, Editor and Samples~ against it"
"${MCS[@]}" -nowarn:67,649 -out:"$OUT/UnityEngine.dll" "$PACKAGE/Tests/CompileCheck/UnityEngineStandIn.cs"
"${MCS[@]}" -r:"$OUT/UnityEngine.dll" -r:"$OUT/EmoBridge.Core.dll" -out:"$OUT/EmoBridge.Runtime.dll" "$PACKAGE"/Runtime/*.cs
"${MCS[@]}" -r:"$OUT/UnityEngine.dll" -r:"$OUT/EmoBridge.Core.dll" -r:"$OUT/EmoBridge.Runtime.dll" -out:"$OUT/EmoBridge.Editor.dll" "$PACKAGE"/Editor/*.cs
"${MCS[@]}" -r:"$OUT/UnityEngine.dll" -r:"$OUT/EmoBridge.Core.dll" -r:"$OUT/EmoBridge.Runtime.dll" -out:"$OUT/EmoBridge.Samples.dll" "$PACKAGE"/Samples~/*/*.cs

step "expected values from the Python SDK"
"$PY" "$PACKAGE/Tests/make_expected.py" "$OUT/expected.json"

sidecar_pid=""
cleanup() { [ -n "$sidecar_pid" ] && kill "$sidecar_pid" 2>/dev/null && wait "$sidecar_pid" 2>/dev/null; true; }
trap cleanup EXIT
if [ -z "${EMOBRIDGE_SIDECAR:-}" ]; then
  port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  step "starting the sidecar on 127.0.0.1:$port"
  "$REPO/.venv/bin/emobridge" serve --port "$port" --host 127.0.0.1 --device cpu >"$OUT/sidecar.log" 2>&1 &
  sidecar_pid=$!
  export EMOBRIDGE_SIDECAR="127.0.0.1:$port"
  "$PY" - "$EMOBRIDGE_SIDECAR" "$sidecar_pid" <<'PYEOF'
import os, sys, time
from emobridge.client import EmoBridgeClient
address, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 120
while True:
    try:
        with EmoBridgeClient(address, timeout=1) as client:
            client.info()
        break
    except Exception:
        try:
            alive = open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] != "Z"
        except OSError:
            alive = False
        if not alive or time.monotonic() > deadline:
            sys.exit("the sidecar did not start (see sidecar.log)")
        time.sleep(0.2)
PYEOF
fi

step "nunit-console (libemobridge from $(dirname "$LIB"))"
export EMOBRIDGE_PACKAGE="$PACKAGE" EMOBRIDGE_EXPECTED="$OUT/expected.json" EMOBRIDGE_HELLO_WAV="$REPO/examples/hello.wav"
export LD_LIBRARY_PATH="$(dirname "$LIB")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cd "$OUT"
# shellcheck disable=SC2086
nunit-console -nologo -labels -xml="$OUT/TestResult.xml" ${NUNIT_ARGS:-} "$OUT/EmoBridge.Core.Tests.dll"
