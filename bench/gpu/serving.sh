#!/usr/bin/env bash
# The serving bench (bench/serving/serving-bench.mjs) with our engines on the GPU: the MLP and the
# example CNN, direct engine.run, the DynamicBatcher, `highservice serve` with 0, 1 and 4 CPU
# workers, and the plain fastify + onnxruntime-node server (CPU) at concurrency 1, 16 and 64.
#   bench/gpu/serving.sh   env: OUT (default bench/results/tmp), HS_COMMIT, and addon-env.sh's
set -euo pipefail
cd "$(dirname "$0")/../.."
out_dir="${OUT:-bench/results/tmp}"
mkdir -p "$out_dir"
source bench/gpu/addon-env.sh
node bench/serving/serving-bench.mjs --device cuda --threads 2 --streams 4 --workers 1,4 --time 1000 \
  --out "$out_dir/serving-gpu.md" 2>&1 | tee "$out_dir/serving-gpu-log.txt"
echo "commit: ${HS_COMMIT:-unknown}" >> "$out_dir/serving-gpu.md"
