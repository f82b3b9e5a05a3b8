#!/usr/bin/env bash
# The test command: set up (idempotent, see setup.sh), then run the whole suite.
# Tests that need ../shared (real recordings, the ICT head) skip cleanly when it is absent.
set -uo pipefail
cd "$(dirname "$0")"
./setup.sh || { echo "test.sh: set-up failed" >&2; exit 1; }
.venv/bin/python -m pytest "$@"
status=$?
# pytest exits 5 when it collected no tests (e.g. a -k filter that matches nothing): not a failure.
[ "$status" -eq 5 ] && status=0
exit "$status"
