#!/usr/bin/env bash
# The ptxas resource report (registers, spills, barriers, stack) of the attention kernels for every
# arch of the build (CMakeLists.txt: 75 80 90 90a), with ptxas's performance warnings (such as C7520,
# serialised wgmma) and the spill total in the header.
#   bash bench/gpu/ptxas-report.sh > bench/results/attention-resources.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
report=""
for src in flash_attention flash_attention_sm90 paged_attention; do
  for arch in 75 80 90 90a; do
    report+=$'\n'"## $src.cu sm_$arch"$'\n'
    report+=$(nvcc -std=c++17 -O3 --expt-relaxed-constexpr -Xptxas -v -c \
                -gencode="arch=compute_${arch},code=sm_${arch}" -Inative/include -Inative \
                "native/kernels/cuda/$src.cu" -o /dev/null 2>&1 |
              sed -n -e 's/^ptxas info    : Function properties for \(.*\)/\1/p' -e '/bytes stack frame/p' \
                     -e 's/^ptxas info    : \((C[0-9]*) Potential Performance Loss.*\)/\1/p' \
                     -e 's/^ptxas info    : \(Used .*\)/\1/p' |
              c++filt | sed -e 's/hs::cuda::(anonymous namespace):://g')
    report+=$'\n'
  done
done
spilling=$(grep -c -E '[1-9][0-9]* bytes spill (stores|loads)' <<<"$report" || true)
perf_warnings=$(grep -c 'Potential Performance Loss' <<<"$report" || true)
echo "# ptxas resource report of the attention kernels (nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'), -O3, -Xptxas -v), all archs of the build."
if [ "$spilling" = 0 ]; then
  echo "# Regenerate: bash bench/gpu/ptxas-report.sh. No kernel spills (0 bytes spill stores/loads everywhere)."
else
  echo "# Regenerate: bash bench/gpu/ptxas-report.sh. SPILLS in $spilling kernels (lines with nonzero spill bytes)."
fi
echo "# ptxas performance warnings (e.g. C7520, serialised wgmma): $perf_warnings."
printf '%s' "$report"
