#!/usr/bin/env bash
# The LLM engine's CUDA forward on a GPU host (set up like engine.sh: node, node_modules and lib/
# from pack-engine.sh, the packed addon or one built here):
#   1. test/gpu/llm-cuda.test.ts: logits against the float64 reference on tiny models, the cache
#      paths (decode steps, chunked prefill, prefix-cache hit, a mixed batch), the engine end to end,
#      typed errors, OOM at load, device memory after dispose (skipped with HS_LLM_TESTS=0, as run.sh
#      does after engine.sh has run all of test/gpu);
#   2. llm.py: last-token logits against Hugging Face transformers loading the same files;
#   3. `highservice bench llm --device cuda` at concurrency 1, 8, 32 on the random 'small' Llama,
#      with its bfloat16 weights and again with int8 weights (--weights int8).
# Writes $OUT/llm-cuda.md (device line, date, commit, both tables) and the logs beside it.
#   bench/gpu/llm.sh   env: HS_ARCH, HS_COMMIT, OUT (default bench/results/tmp), HS_LLM_TESTS (default 1),
#                      HS_LLM_SIZE (small | tiny, default small), HS_LLM_REQUESTS (default 64),
#                      HS_MEMCHECK=1 (also the cache-path cases under compute-sanitizer memcheck)
set -euo pipefail
cd "$(dirname "$0")/../.."
out_dir="${OUT:-bench/results/tmp}"
mkdir -p "$out_dir"
source bench/gpu/addon-env.sh

status=0
if [ "${HS_LLM_TESTS:-1}" = 1 ]; then
  node node_modules/vitest/vitest.mjs run test/gpu/llm-cuda.test.ts 2>&1 | tee "$out_dir/llm-tests-log.txt" || status=$?
fi
if [ "${HS_MEMCHECK:-0}" = 1 ]; then
  # Out-of-bounds device accesses of the LLM kernels and launchers, on the cache-path cases.
  compute-sanitizer --tool memcheck --target-processes all --error-exitcode 3 \
    node node_modules/vitest/vitest.mjs run test/gpu/llm-cuda.test.ts -t "KV cache paths" 2>&1 | tee "$out_dir/llm-memcheck-log.txt" || status=$?
fi
python3 bench/gpu/llm.py --out "$out_dir/llm-hf-compare.md" 2>&1 | tee "$out_dir/llm-hf-log.txt" || status=$?
for weights in auto int8; do
  node lib/cli/main.js bench llm --device cuda --size "${HS_LLM_SIZE:-small}" --concurrency 1,8,32 --weights "$weights" \
    --requests "${HS_LLM_REQUESTS:-64}" 2>&1 | tee "$out_dir/llm-bench-$weights-log.txt" || status=$?
done

{
  echo "# LLM engine on CUDA"
  echo
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit: ${HS_COMMIT:-unknown}"
  echo "device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2> /dev/null || echo unknown)"
  echo
  if [ -f "$out_dir/llm-hf-compare.md" ]; then cat "$out_dir/llm-hf-compare.md"; else echo "(no transformers comparison: see llm-hf-log.txt)"; fi
  echo
  for weights in auto int8; do
    echo "## highservice bench llm --device cuda --weights $weights"
    echo
    echo '```'
    cat "$out_dir/llm-bench-$weights-log.txt"
    echo '```'
    echo
  done
} > "$out_dir/llm-cuda.md"
echo "bench/gpu/llm.sh: $out_dir/llm-cuda.md (status $status)"
exit "$status"
