#!/usr/bin/env bash
# The Engine's CUDA backend on a GPU host that has no Node.js (see ../shared/gpu/README.md): unpacks
# node and the test dependencies that bench/gpu/pack-engine.sh put in .device/, builds the addon with
# plain CMake for HS_ARCH (default 90a), runs the GPU test suites (test/gpu: every CUDA kernel, the
# fixture and example models, the conformance cases on the device, all against onnxruntime-node on
# fresh inputs with poisoned activations) and prints the CPU-vs-CUDA latency table.
#   bench/gpu/engine.sh        env: HS_ARCH, HS_COMMIT, OUT (log folder, default bench/results/tmp)
set -euo pipefail
cd "$(dirname "$0")/../.."
arch="${HS_ARCH:-90a}"
out_dir="${OUT:-bench/results/tmp}"
mkdir -p "$out_dir"
if ! command -v node > /dev/null; then
  python3 .device/unpack-node.py
  export PATH=/tmp/hs-node:$PATH
fi
if [ ! -e node_modules/vitest/package.json ]; then
  [ -L node_modules ] && rm node_modules  # a worktree's link to a checkout that is not here
  tar -xJf .device/node_modules.tar.xz
fi
[ -f lib/index.js ] || { echo "lib/ is missing: run bench/gpu/pack-engine.sh on the dev machine and bring lib/" >&2; exit 1; }

cmake -S . -B build-gpu-engine -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DCMAKE_JS_INC="$PWD/node_modules/node-api-headers/include" -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$PWD/build-gpu-engine/Release" \
  > "$out_dir/engine-build-log.txt" 2>&1
cmake --build build-gpu-engine -j "$(nproc)" >> "$out_dir/engine-build-log.txt" 2>&1 \
  || { tail -40 "$out_dir/engine-build-log.txt"; exit 1; }
grep -iE "warning" "$out_dir/engine-build-log.txt" || echo "build: no warnings"
export HS_ADDON_PATH="$PWD/build-gpu-engine/Release/highservice_native.node"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

status=0
node node_modules/vitest/vitest.mjs run test/gpu 2>&1 | tee "$out_dir/engine-tests-log.txt" || status=$?
node bench/gpu/engine-latency.mjs --runs 30 --out "$out_dir/engine-latency.md" 2>&1 | tee "$out_dir/engine-latency-log.txt"
exit "$status"
