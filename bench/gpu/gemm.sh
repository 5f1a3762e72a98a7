#!/usr/bin/env bash
# Builds libhs_gemm.so (bench/gpu/nvcc-lib.sh) from the GEMM kernels and their C ABI, then checks
# and times them against torch.matmul (bench/gpu/gemm.py).
#   bench/gpu/gemm.sh [gemm.py args...]   env: HS_ARCH (default 90a), OUT (log folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
out_dir="${OUT:-bench/results/tmp}"
mkdir -p "$out_dir"
bash bench/gpu/nvcc-lib.sh build-gpu/libhs_gemm.so \
  native/kernels/cuda/gemm.cu native/kernels/cuda/gemm_tc.cu native/kernels/cuda/gemm_capi.cu \
  2>&1 | tee "$out_dir/gemm-build-log.txt"
PYTHONUNBUFFERED=1 python3 bench/gpu/gemm.py --lib build-gpu/libhs_gemm.so \
  --table-out "$out_dir/gemm-table.md" "$@" 2>&1 | tee "$out_dir/gemm-log.txt"
