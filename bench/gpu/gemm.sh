#!/usr/bin/env bash
# Builds libhs_gemm.so with nvcc directly (the GPU hosts have no Node.js for the CMake configure
# step) from the GEMM kernels and their C ABI, then checks and times them against torch.matmul
# (bench/gpu/gemm.py).
#   bench/gpu/gemm.sh [gemm.py args...]   env: HS_ARCH (default 90a), OUT (log folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
arch="${HS_ARCH:-90a}"
out_dir="${OUT:-bench/results/tmp}"
mkdir -p build-gpu "$out_dir"
nvcc -std=c++17 -O3 --expt-relaxed-constexpr -Xptxas=-warn-spills -Xcompiler=-fPIC,-Wall,-Wextra -shared \
  -gencode="arch=compute_${arch},code=sm_${arch}" -Inative/include -Inative \
  native/kernels/cuda/gemm.cu native/kernels/cuda/gemm_tc.cu native/kernels/cuda/gemm_capi.cu \
  -o build-gpu/libhs_gemm.so 2>&1 | tee "$out_dir/gemm-build-log.txt"
PYTHONUNBUFFERED=1 python3 bench/gpu/gemm.py --lib build-gpu/libhs_gemm.so \
  --table-out "$out_dir/gemm-table.md" "$@" 2>&1 | tee "$out_dir/gemm-log.txt"
