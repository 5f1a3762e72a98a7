#!/usr/bin/env bash
# Every GPU check and benchmark, one script per topic; run on a GPU host from the project root.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash bench/gpu/attention.sh "$@"
bash bench/gpu/gemm.sh
bash bench/gpu/engine.sh
