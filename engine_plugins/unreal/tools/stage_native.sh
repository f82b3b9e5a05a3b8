#!/usr/bin/env bash
# Copies the native core (header + built library) into the plugin's ThirdParty module, where
# EmoBridgeNative.Build.cs expects it. Linux here; Win64/Mac: see EmoBridge/README.md.
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2   (from the repository root)
#   engine_plugins/unreal/tools/stage_native.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
build="${1:-$repo/build}"
dest="$here/../EmoBridge/Source/ThirdParty/EmoBridgeNative"
lib="$build/engine_plugins/native/libemobridge.so"
[ -f "$lib" ] || { echo "stage_native: $lib not found; build the native core first" >&2; exit 1; }
mkdir -p "$dest/include" "$dest/lib/Linux"
cp "$repo/engine_plugins/native/include/emobridge.h" "$dest/include/"
cp -L "$lib" "$dest/lib/Linux/libemobridge.so.0"
ln -sf libemobridge.so.0 "$dest/lib/Linux/libemobridge.so"
echo "stage_native: staged $(readlink -f "$lib") -> $dest/lib/Linux"
echo "stage_native: it needs at run time: $(readelf -d "$lib" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
