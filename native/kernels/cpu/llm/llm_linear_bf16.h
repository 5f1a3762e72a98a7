// y = x W^T (+ bias) with bf16 operands and float32 accumulation: the projections of matmul
// precision 'bf16', W in the kBFloat16Pairs layout of llm_weights.h.
#pragma once
#include <cstdint>

#include "hs/thread_pool.h"
#include "llm_weights.h"

namespace hs::llm {

// x: [m, w.cols] float32 rows (rounded to bf16 here); y: [m, w.rows]; bias: w.rows floats or null.
void linear_bf16(ThreadPool& pool, const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y);

// The kernel linear_bf16 runs: "avx512bf16" (vdpbf16ps), else the emulations "avx2" or "scalar",
// which give the same bits. HS_LLM_BF16_KERNEL=avx2|scalar forces an emulation (tests, benches).
const char* bf16_kernel_name();

}  // namespace hs::llm
