#!/usr/bin/env bash
# Builds libhs_kernels.so (bench/gpu/nvcc-lib.sh), then checks and times the attention kernels
# (bench/gpu/attention.py).
#   bench/gpu/attention.sh [attention.py args...]   env: HS_ARCH (default 90a), HS_COMMIT, OUT (log folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
out_dir="${OUT:-bench/results/tmp}"
mkdir -p "$out_dir"
bash bench/gpu/nvcc-lib.sh build-gpu/libhs_kernels.so \
  native/kernels/cuda/flash_attention.cu native/kernels/cuda/paged_attention.cu native/kernels/cuda/attention_capi.cu
PYTHONUNBUFFERED=1 python3 bench/gpu/attention.py --lib build-gpu/libhs_kernels.so \
  --table-out "$out_dir/attention-table.md" "$@" 2>&1 | tee "$out_dir/attention-log.txt"
