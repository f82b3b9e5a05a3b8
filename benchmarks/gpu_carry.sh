#!/usr/bin/env bash
# Packs what benchmarks/gpu_bench.sh needs on the lent GPU machine (Python 3.12, no network) into .devpkg/
# (git-ignored): the wheels its image lacks, at this venv's versions, and libemobridge with the Debian gRPC
# libraries it links. The device command that uses it is in docs/sidecar.md, "On a GPU".
set -euo pipefail
cd "$(dirname "$0")/.."
N=build/engine_plugins/native
[ -f "$N/eb_bench_streams" ] || { echo "gpu_carry: build the native core first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
grep -qx '/.devpkg/' .git/info/exclude 2>/dev/null || echo '/.devpkg/' >> .git/info/exclude
rm -rf .devpkg && mkdir -p .devpkg/whl
pins=()
for p in grpcio grpcio-tools protobuf grpcio-health-checking grpcio-reflection soundfile cffi pycparser; do
  pins+=("$p==$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('$p'))")")
done
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
  -d .devpkg/whl "${pins[@]}"
libs="$(mktemp -d)"
# Everything it links except what any Linux has (libc, libstdc++, zlib, OpenSSL).
ldd "$N/libemobridge.so" "$N/eb_bench_streams" | awk '/=>/ {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libstdc\+\+|libgcc_s|libz|libssl|libcrypto)\.so|libemobridge' | xargs -I{} cp -L {} "$libs/"
cp -P "$N"/libemobridge.so* "$N/eb_bench_streams" "$libs/"
tar cf - -C "$libs" . | xz -T2 -6 > .devpkg/native.tar.xz
rm -rf "$libs"
du -sh .devpkg
