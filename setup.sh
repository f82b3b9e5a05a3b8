#!/usr/bin/env bash
# One-step set-up on a fresh Debian machine: system packages, a virtual env in .venv,
# the emobridge package (editable) and its test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(flite festival festvox-us-slt-hts festvox-kallpc16k espeak-ng sox libsndfile1 ffmpeg libportaudio2
  # a TTS voice the corpus never uses: benchmarks/closure_probe.py --held-out-voice
  festvox-kdlpc16k
  # the native client core (engine_plugins/native): C++ compiler, CMake, gRPC C++ and protoc with its gRPC plugin
  cmake g++ pkg-config libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # its self-contained bundle for shipping (engine_plugins/native/tools/bundle_native.sh renames the libraries)
  patchelf
  # the Unity package's tests without Unity (engine_plugins/unity): mcs, mono and NUnit 2
  mono-devel libnunit-cil-dev nunit-console)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: warning: apt-get not found; install these yourself: ${missing[*]}" >&2
  fi
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "setuptools<81" wheel
.venv/bin/python -m pip install -q -e "sdk_python[dev,train,mic,batch]" -e "export_tools[dev]"
.venv/bin/python -m emobridge.wire
# The Khronos glTF-Validator (npm) for the export tests; Node.js from Debian when it is missing.
if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if command -v npm >/dev/null 2>&1 && [ ! -d export_tools/node/node_modules/gltf-validator ]; then
  sh export_tools/install_node_deps.sh >/dev/null || echo "setup: warning: npm install of gltf-validator failed" >&2
fi
echo "setup: ready. Try: .venv/bin/emobridge --help"
