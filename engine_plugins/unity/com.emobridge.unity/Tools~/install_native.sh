#!/usr/bin/env bash
# Copies the built native core into the package as a Unity native plugin, with its import settings:
#   Tools~/install_native.sh [BUILD_DIR]     (default <repo>/build; build it first:
#   cmake -S <repo> -B build && cmake --build build -j2 --target emobridge)
# Linux x86_64 only here (libemobridge.so). On Windows/macOS build the same CMake target there and put
# emobridge.dll / emobridge.bundle in Runtime/Plugins/x86_64 (Unity's Plugin Inspector sets the platform).
# The binary and its .meta are not committed (.gitignore).
set -euo pipefail
PACKAGE="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$PACKAGE/../../../build}"
LIB="$BUILD/engine_plugins/native/libemobridge.so"
[ -f "$LIB" ] || { echo "install_native: $LIB not found; build it first (see the header of this script)" >&2; exit 1; }
DEST="$PACKAGE/Runtime/Plugins/x86_64"
cp -L "$LIB" "$DEST/libemobridge.so"   # -L: the real file, not the soname symlink chain
GUID="$(printf 'com.emobridge.unity/Runtime/Plugins/x86_64/libemobridge.so' | md5sum | cut -c1-32)"
cat > "$DEST/libemobridge.so.meta" <<META
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
echo "installed $DEST/libemobridge.so (links the system's gRPC: libgrpc++ must be installed where it runs)"
