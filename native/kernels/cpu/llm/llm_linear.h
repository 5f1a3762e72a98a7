// y = x W^T (+ bias) for the LLM's projection layers, with W in any WeightType.
#pragma once
#include <cstdint>

#include "hs/thread_pool.h"
#include "llm_weights.h"

namespace hs::llm {

// x: [m, w.cols] float32 rows with stride w.cols; y: [m, w.rows]; bias: w.rows floats or null.
void linear(ThreadPool& pool, const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y);

}  // namespace hs::llm
