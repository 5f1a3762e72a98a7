#!/usr/bin/env bash
# Builds libhs_kernels.so with nvcc directly (the GPU hosts have no Node.js for the CMake configure
# step), then checks and times the attention kernels (bench/gpu/attention.py).
#   bench/gpu/attention.sh [attention.py args...]   env: HS_ARCH (default 90a), HS_COMMIT, OUT (log folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
arch="${HS_ARCH:-90a}"
out_dir="${OUT:-bench/results/tmp}"
mkdir -p build-gpu "$out_dir"
nvcc -std=c++17 -O3 --expt-relaxed-constexpr -Xptxas=-warn-spills -Xcompiler=-fPIC,-Wall,-Wextra -shared \
  -gencode="arch=compute_${arch},code=sm_${arch}" -Inative/include -Inative \
  native/kernels/cuda/flash_attention.cu native/kernels/cuda/paged_attention.cu \
  native/kernels/cuda/attention_capi.cu -o build-gpu/libhs_kernels.so
PYTHONUNBUFFERED=1 python3 bench/gpu/attention.py --lib build-gpu/libhs_kernels.so \
  --table-out "$out_dir/attention-table.md" "$@" 2>&1 | tee "$out_dir/attention-log.txt"
