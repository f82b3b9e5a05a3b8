#!/usr/bin/env bash
# Packs what benchmarks/gpu_bench.sh needs on the lent GPU machine (Python 3.12, no network) into .devpkg/
# (git-ignored): the wheels its image lacks, at this venv's versions, and libemobridge with the gRPC
# libraries it loads. The device command that uses it is in docs/sidecar.md, "On a GPU".
set -euo pipefail
cd "$(dirname "$0")/.."
N=build/engine_plugins/native
[ -f "$N/eb_bench_streams" ] || { echo "gpu_carry: build the native core first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
grep -qx '/.devpkg/' .git/info/exclude 2>/dev/null || echo '/.devpkg/' >> .git/info/exclude
rm -rf .devpkg && mkdir -p .devpkg/whl
pins=()
for p in grpcio grpcio-tools protobuf grpcio-health-checking grpcio-reflection soundfile cffi pycparser threadpoolctl; do
  pins+=("$p==$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('$p'))")")
done
download() {  # download DIR REQUIREMENT...: wheels for the device's Python 3.12
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
    -d "$@"
}
download .devpkg/whl "${pins[@]}"
# The bilabial evidence's acoustic model. PyPI's newest cp312 wheel (5.0.4 in 2026-12) carries the same en-us
# model files (means, variances, sendump, mdef, feat.params) as 5.1.1, checked with cmp. At 29 MB it does not fit
# in one device call beside .ortgpu/p4 and the rest (64 MiB a call), so it gets a folder, and a call, of its own.
download .devpkg/big "pocketsphinx>=5,<6"
libs="$(mktemp -d)"
# libemobridge self-contained (engine_plugins/native/tools/bundle_native.sh), and the driver that links it.
engine_plugins/native/tools/bundle_native.sh "$N/libemobridge.so" "$libs"
cp "$N/eb_bench_streams" "$libs/"
tar cf - -C "$libs" . | xz -T2 -6 > .devpkg/native.tar.xz
rm -rf "$libs"
du -sh .devpkg
