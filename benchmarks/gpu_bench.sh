#!/usr/bin/env bash
# The GPU rows of quality.md in one run, on a machine with onnxruntime-gpu: a CUDA check, live streams
# through the native client for each WORKERSxSTREAMS given (serve --workers), then the streaming step cost
# per batch and offline bake throughput. Usage: benchmarks/gpu_bench.sh OUTDIR [WORKERSxSTREAMS...]
# (default 16x1000 1x128 1x64). python3 must import emobridge and onnxruntime-gpu, and the native stream
# driver must be at build/engine_plugins/native/eb_bench_streams. Each step is time-limited and independent,
# so one failure leaves the others' numbers; logs go to OUTDIR. SERVE_EXTRA adds options to every serve run,
# e.g. SERVE_EXTRA="--server-cpus 0-11 --driver-cpus 12-15" keeps the driver off the server's cores;
# OFFLINE=0 skips the step and bake rows (serve runs only).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${1:?usage: benchmarks/gpu_bench.sh OUTDIR [WORKERSxSTREAMS...]}"
shift
RUNS=("$@")
((${#RUNS[@]})) || RUNS=(16x1000 1x128 1x64)
PY="${PYTHON:-python3}"
DEVICE="${DEVICE:-cuda}"  # DEVICE=cpu rehearses the script on a machine without a GPU
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
ulimit -n 65536 2>/dev/null || true  # a thousand client connections and their servers

step() {  # step LOG SECONDS CMD...: run, print the end of its output and append all of it to OUT/LOG.log
  local log="$1" limit="$2"
  shift 2
  echo "=== $*"
  timeout "$limit" "$@" 2>&1 | tee -a "$OUT/$log.log" | tail -n 12
  echo "=== exit ${PIPESTATUS[0]}"
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
step cuda 120 "$PY" -c "import onnxruntime as o; from emobridge.model import FaceModel; \
print(o.__version__, o.get_available_providers()); print('FaceModel device:', FaceModel(device='$DEVICE').device)"
for run in "${RUNS[@]}"; do
  step serve 240 "$PY" -m emobridge bench serve --device "$DEVICE" --client native --workers "${run%x*}" \
    --streams "${run#*x}" --duration 10 ${SERVE_EXTRA:-}
done
[ "${OFFLINE:-1}" = 0 ] && exit 0
step step 180 "$PY" -m emobridge bench step --device "$DEVICE" --batches 1,8,32,128,512,1024,2048,4096 --steps 200
step bake 180 "$PY" -m emobridge bench bake --device "$DEVICE" --seconds 120 --repeat 3
step bake 180 "$PY" -m emobridge bench bake --device "$DEVICE" --seconds 60 --batch 256 --repeat 3
