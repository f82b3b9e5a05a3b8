#!/usr/bin/env bash
# The test command: set up (idempotent, see setup.sh), then run the whole suite.
# Tests that need ../shared (real recordings, the ICT head) skip cleanly when it is absent.
set -uo pipefail
cd "$(dirname "$0")"
./setup.sh || { echo "test.sh: set-up failed" >&2; exit 1; }

# The native client core (engine_plugins/native) is built first, so pytest's ctypes tests load it; its ctest
# suite (real sidecars: about a minute on 2 cores) runs after pytest. EMOBRIDGE_SKIP_NATIVE=1 skips both steps.
native=0
if [ "${EMOBRIDGE_SKIP_NATIVE:-0}" != 1 ]; then
  { cmake -S . -B build >/dev/null && cmake --build build -j2; } || { echo "test.sh: native build failed" >&2; native=1; }
fi

.venv/bin/python -m pytest "$@"
status=$?
# pytest exits 5 when it collected no tests (e.g. a -k filter that matches nothing): not a failure.
[ "$status" -eq 5 ] && status=0

if [ "${EMOBRIDGE_SKIP_NATIVE:-0}" != 1 ] && [ "$native" -eq 0 ]; then
  ctest --test-dir build --output-on-failure || native=1
fi
[ "$status" -eq 0 ] && status=$native
exit "$status"
