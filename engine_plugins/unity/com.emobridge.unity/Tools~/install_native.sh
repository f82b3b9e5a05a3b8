#!/usr/bin/env bash
# Puts the built native core into the package as a Unity native plugin, self-contained: libemobridge.so and
# the gRPC, protobuf, OpenSSL... libraries it loads (engine_plugins/native/tools/bundle_native.sh), each with
# its import settings (Editor + Linux64 player), so a player runs on machines without gRPC installed.
#   Tools~/install_native.sh [BUILD_DIR [PLUGIN_DIR]]   (defaults <repo>/build and Runtime/Plugins/x86_64;
#   build it first: cmake -S <repo> -B build && cmake --build build -j2 --target emobridge)
# Linux x86_64 only here. On Windows/macOS build the same CMake target there and put emobridge.dll /
# emobridge.bundle in Runtime/Plugins/x86_64 (Unity's Plugin Inspector sets the platform).
# The binaries and their .meta are not committed (.gitignore).
set -euo pipefail
PACKAGE="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$PACKAGE/../../../build}"
DEST="${2:-$PACKAGE/Runtime/Plugins/x86_64}"
LIB="$BUILD/engine_plugins/native/libemobridge.so"
BUNDLE="$PACKAGE/../../native/tools/bundle_native.sh"
# DllImport("emobridge") looks for libemobridge.so; nothing links against its SONAME, so the name is free.
"$BUNDLE" "$LIB" "$DEST" libemobridge.so

for so in "$DEST"/*.so; do
  [ -f "$so" ] || continue
  GUID="$(printf 'com.emobridge.unity/Runtime/Plugins/x86_64/%s' "$(basename "$so")" | md5sum | cut -c1-32)"
cat > "$so.meta" <<META
fileFormatVersion: 2
guid: $GUID
PluginImporter:
  externalObjects: {}
  serializedVersion: 2
  iconMap: {}
  executionOrder: {}
  defineConstraints: []
  isPreloaded: 0
  isOverridable: 0
  isExplicitlyReferenced: 0
  validateReferences: 1
  platformData:
  - first:
      : Any
    second:
      enabled: 0
      settings:
        Exclude Editor: 0
        Exclude Linux64: 0
        Exclude OSXUniversal: 1
        Exclude Win: 1
        Exclude Win64: 1
  - first:
      Editor: Editor
    second:
      enabled: 1
      settings:
        CPU: x86_64
        DefaultValueInitialized: true
        OS: Linux
  - first:
      Standalone: Linux64
    second:
      enabled: 1
      settings:
        CPU: x86_64
  userData: 
  assetBundleName: 
  assetBundleVariant: 
META
done
echo "installed $DEST/libemobridge.so with its libraries, each with a .meta"
