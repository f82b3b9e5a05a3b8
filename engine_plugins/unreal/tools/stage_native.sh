#!/usr/bin/env bash
# Copies the native core (header + built library, self-contained: engine_plugins/native/tools/bundle_native.sh
# adds the gRPC, protobuf, OpenSSL... libraries it loads) into the plugin's ThirdParty module, where
# EmoBridgeNative.Build.cs expects it and stages every file next to the game binaries. Linux here; Win64/Mac:
# see EmoBridge/README.md.
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2   (from the repository root)
#   engine_plugins/unreal/tools/stage_native.sh [BUILD_DIR [MODULE_DIR]]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
build="${1:-$repo/build}"
dest="${2:-$here/../EmoBridge/Source/ThirdParty/EmoBridgeNative}"
mkdir -p "$dest/include"
cp "$repo/engine_plugins/native/include/emobridge.h" "$dest/include/"
"$repo/engine_plugins/native/tools/bundle_native.sh" "$build/engine_plugins/native/libemobridge.so" "$dest/lib/Linux"
ln -sf libemobridge.so.0 "$dest/lib/Linux/libemobridge.so"   # the name the linker is given
