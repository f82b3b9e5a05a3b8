#!/usr/bin/env bash
# The face-core acceptance through the real command line: `emobridge bake --text` then the shared
# evaluator, per clip of ../shared/data/speech/ljspeech. Usage: benchmarks/face_core_cli.sh [EMOTION]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${EMOBRIDGE_SHARED:-../shared}"
EMOTION="${1:-neutral}"
OUT="$(mktemp -d)"
while IFS=$'\t' read -r id text; do
  .venv/bin/emobridge bake "$SHARED/data/speech/ljspeech/$id.wav" --text "$text" --emotion "$EMOTION" -o "$OUT/$id.json" >/dev/null 2>&1
  .venv/bin/python "$SHARED/tools/lipsync_eval.py" --anim "$OUT/$id.json" --audio "$SHARED/data/speech/ljspeech/$id.wav" --text "$text"
done < "$SHARED/data/speech/ljspeech/transcripts.tsv"
