#!/usr/bin/env bash
# Every GPU check and benchmark, one script per topic; run on a GPU host from the project root.
# Each script runs even when an earlier one failed (a first run on a device should report everything);
# the exit status is the first failure's. Under the device tool's 10-minute limit per command, run
# the scripts one per call instead.
set -uo pipefail
cd "$(dirname "$0")/../.."
status=0
run() {
  "$@"
  local s=$?
  if [ "$s" != 0 ]; then
    echo "run.sh: $* failed with status $s" >&2
    [ "$status" = 0 ] && status=$s
  fi
}
run bash bench/gpu/attention.sh "$@"
run bash bench/gpu/gemm.sh
run bash bench/gpu/engine.sh
# engine.sh ran all of test/gpu, test/gpu/llm-cuda.test.ts included.
run env HS_LLM_TESTS=0 bash bench/gpu/llm.sh
run bash bench/gpu/serving.sh
exit "$status"
