#!/usr/bin/env bash
# Makes the native core self-contained for shipping (Linux): copies libemobridge and every library it loads
# that a player's machine may lack (gRPC, protobuf, abseil, upb, re2, c-ares, OpenSSL, zlib) into one folder.
#   engine_plugins/native/tools/bundle_native.sh LIB DEST [NAME]
#     LIB   the built library (build/engine_plugins/native/libemobridge.so)
#     DEST  folder to fill (created; files of an earlier bundle are overwritten)
#     NAME  file name for libemobridge in DEST (default libemobridge.so.0, its SONAME)
# Each copied library gets a plain .so name (libgrpc.so.29 -> libgrpc-29.so; patchelf rewrites the SONAMEs and
# the references to them): engines only ship files ending in .so as plugins, and a private name never
# resolves to a same-named library the engine or the system has already loaded. libemobridge carries
# DT_RPATH=$ORIGIN (CMakeLists.txt), so it and its dependencies load from DEST.
# Not bundled: glibc and the C++ runtime, which every desktop Linux has and which must be the process's own;
# the script prints the versions of them the bundle needs.
# Used by Unity's Tools~/install_native.sh and Unreal's tools/stage_native.sh.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
lib="$1" dest="$2" name="${3:-libemobridge.so.0}"
[ -f "$lib" ] || { echo "bundle_native: $lib not found; build the native core first" >&2; exit 1; }
command -v patchelf >/dev/null || { echo "bundle_native: needs patchelf (apt-get install patchelf)" >&2; exit 1; }
readelf -d "$lib" | grep -q 'RPATH.*\$ORIGIN' || {
  echo "bundle_native: $lib has no DT_RPATH \$ORIGIN, so it would not find the bundled libraries; rebuild it" \
       "with this repository's CMakeLists.txt" >&2; exit 1; }
missing=$(ldd "$lib" | awk '/not found/ {print $1}')
[ -z "$missing" ] || { echo "bundle_native: $lib needs libraries this machine lacks: $missing" >&2; exit 1; }

# The process's own runtime: never bundled (a second copy of glibc or libstdc++ in one process breaks it).
base='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libutil|libresolv|libstdc\+\+|libgcc_s)\.so'
private() { local stem="${1%%.so*}" version="${1#*.so}"; echo "$stem${version:+-${version#.}}.so"; }

mkdir -p "$dest"
cp -L "$lib" "$dest/$name"
files=("$dest/$name") renames=()
while read -r soname path; do
  [[ "$soname" =~ $base ]] && continue
  cp -L "$path" "$dest/$(private "$soname")"
  chmod u+w "$dest/$(private "$soname")"
  patchelf --set-soname "$(private "$soname")" "$dest/$(private "$soname")"
  files+=("$dest/$(private "$soname")") renames+=(--replace-needed "$soname" "$(private "$soname")")
done < <(ldd "$lib" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}')
for f in "${files[@]}"; do
  patchelf "${renames[@]}" "$f"   # a library that does not need one of these names is left as it was
done

# Check the result the way the loader reads it: every library but the base runtime resolves inside DEST.
outside=$(ldd "$dest/$name" | awk '$2 == "=>" {print $1, $3}' | grep -Ev "$base" \
          | awk -v d="$(cd "$dest" && pwd -P)/" 'index($2, d) != 1 {print $1 " -> " $2}' || true)
[ -z "$outside" ] || { echo "bundle_native: these still load from outside $dest:" >&2; echo "$outside" >&2; exit 1; }

needs() { objdump -T "${files[@]}" | grep -o "$1_[0-9.]*" | sort -uV | tail -1 || true; }
echo "bundle_native: $dest: $name + $((${#files[@]} - 1)) libraries, $(du -chL "${files[@]}" | tail -1 | cut -f1)"
echo "bundle_native: the player's machine needs $(needs GLIBC) and libstdc++ with $(needs GLIBCXX), x86_64"
