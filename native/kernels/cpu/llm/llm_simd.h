// Small vector helpers for the LLM kernels, dispatched once at run time: AVX2+FMA+F16C where the
// CPU has them (the addon is built without -march flags), portable scalar code elsewhere; the
// projection kernels also have an AVX-512 path.
#pragma once
#include <cstdint>

namespace hs::llm {

bool cpu_has_avx2();
bool cpu_has_avx512();  // AVX-512F (on top of AVX2+FMA+F16C)
bool cpu_has_avx512_bf16();  // AVX512_BF16 (on top of AVX-512F)

float dot(const float* a, const float* b, int64_t n);
// y += a * x
void axpy(float a, const float* x, float* y, int64_t n);

}  // namespace hs::llm
