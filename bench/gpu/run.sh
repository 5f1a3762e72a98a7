#!/usr/bin/env bash
# Every GPU check and benchmark, one script per topic; run on a GPU host from the project root. Each
# script runs even when an earlier one failed; the exit status is the last failure's. (Under the device
# tool's 10-minute limit per command, run the scripts one per call instead.)
set -uo pipefail
cd "$(dirname "$0")/../.."
status=0
bash bench/gpu/attention.sh "$@" || status=$?
bash bench/gpu/gemm.sh || status=$?
bash bench/gpu/engine.sh || status=$?
bash bench/gpu/serving.sh || status=$?
exit "$status"
