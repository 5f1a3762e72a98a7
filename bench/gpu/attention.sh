#!/usr/bin/env bash
# Builds libhs_kernels.so (bench/gpu/nvcc-lib.sh), shows that its sm_90a prefill kernel holds wgmma
# (HGMMA in the SASS, where cuobjdump is installed), then checks and times the attention kernels,
# the FA2-style and the Hopper prefill side by side (bench/gpu/attention.py).
#   bench/gpu/attention.sh [attention.py args...]   env: HS_ARCH (default 90a), HS_COMMIT, OUT (log folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
out_dir="${OUT:-bench/results/tmp}"
mkdir -p "$out_dir"
lib=build-gpu/libhs_kernels.so
bash bench/gpu/nvcc-lib.sh "$lib" \
  native/kernels/cuda/flash_attention.cu native/kernels/cuda/flash_attention_sm90.cu \
  native/kernels/cuda/prefill_kernel_choice.cpp native/kernels/cuda/paged_attention.cu \
  native/kernels/cuda/attention_capi.cu 2>&1 | tee "$out_dir/attention-build.txt"
if command -v cuobjdump >/dev/null; then
  echo "HGMMA instructions in the SASS of $lib: $(cuobjdump -sass "$lib" | grep -c HGMMA || true)" |
    tee -a "$out_dir/attention-build.txt"
fi
PYTHONUNBUFFERED=1 python3 bench/gpu/attention.py --lib "$lib" \
  --table-out "$out_dir/attention-table.md" "$@" 2>&1 | tee "$out_dir/attention-log.txt"
