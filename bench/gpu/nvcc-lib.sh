#!/usr/bin/env bash
# Builds a shared library of CUDA kernels with nvcc directly (the GPU hosts have no Node.js for the
# CMake configure step), for HS_ARCH (default 90a), with the spill report on.
#   bench/gpu/nvcc-lib.sh OUTPUT.so SOURCE.cu...
set -euo pipefail
out="$1"
shift
arch="${HS_ARCH:-90a}"
mkdir -p "$(dirname "$out")"
nvcc -std=c++17 -O3 --expt-relaxed-constexpr -Xptxas=-warn-spills -Xcompiler=-fPIC,-Wall,-Wextra -shared \
  -gencode="arch=compute_${arch},code=sm_${arch}" -Inative/include -Inative "$@" -o "$out"
