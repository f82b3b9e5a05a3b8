#!/usr/bin/env sh
# Install the node tools the export tests use (the Khronos glTF-Validator) into export_tools/node.
# CI calls this once; tests that need it skip cleanly when it has not run.
set -eu
cd "$(dirname "$0")/node"
if ! command -v npm >/dev/null 2>&1; then
  echo "install_node_deps.sh: npm not found; install Node.js >= 16 first" >&2
  exit 1
fi
npm ci --no-audit --no-fund
