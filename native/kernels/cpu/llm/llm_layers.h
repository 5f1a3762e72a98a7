// Per-token layers of a Llama/Qwen2 decoder: RMSNorm, rotary position embedding, SwiGLU.
#pragma once
#include <cstdint>
#include <vector>

#include "hs/thread_pool.h"

namespace hs::llm {

// out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * weight, for t in [0, tokens); rows of `dim` floats.
void rms_norm(ThreadPool& pool, const float* x, int64_t tokens, int64_t dim, const float* weight, float eps, float* out);

// Rotates, in place, the first and second halves of every head (the "rotate_half" layout of
// Hugging Face Llama): for i < head_dim/2, angle = position * inv_freq[i],
// (a, b) -> ((a cos - b sin) * s, (b cos + a sin) * s) with s = attention_scaling.
// x: [tokens, heads, head_dim] with row stride `stride` floats per token.
void apply_rope(ThreadPool& pool, float* x, int64_t tokens, int64_t stride, int64_t heads, int64_t head_dim,
                const int32_t* positions, const std::vector<float>& inv_freq, float attention_scaling);

// out[i] = silu(gate[i]) * up[i] for i in [0, count), silu(g) = g / (1 + exp(-g)).
void swiglu(ThreadPool& pool, const float* gate, const float* up, int64_t count, float* out);

}  // namespace hs::llm
