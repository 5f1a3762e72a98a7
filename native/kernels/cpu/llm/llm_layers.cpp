// RMSNorm (float accumulation per row), rotary embedding (angles computed in float32 like the
// reference implementation: angle = float(position) * inv_freq), and SwiGLU (silu(g) * u).
#include "llm_layers.h"

#include <cmath>

#include "llm_simd.h"

namespace hs::llm {

void rms_norm(ThreadPool& pool, const float* x, int64_t tokens, int64_t dim, const float* weight, float eps, float* out) {
  pool.parallel_for(tokens, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const float* row = x + t * dim;
      float* dst = out + t * dim;
      const float inv = 1.f / std::sqrt(dot(row, row, dim) / (float)dim + eps);
      for (int64_t i = 0; i < dim; ++i) dst[i] = row[i] * inv * weight[i];
    }
  });
}

void apply_rope(ThreadPool& pool, float* x, int64_t tokens, int64_t stride, int64_t heads, int64_t head_dim,
                const int32_t* positions, const std::vector<float>& inv_freq, float attention_scaling) {
  const int64_t half = head_dim / 2;
  pool.parallel_for(tokens, 4, [&](int64_t b, int64_t e) {
    std::vector<float> cos_v((size_t)half), sin_v((size_t)half);
    for (int64_t t = b; t < e; ++t) {
      const float pos = (float)positions[t];
      for (int64_t i = 0; i < half; ++i) {
        const float angle = pos * inv_freq[(size_t)i];
        cos_v[(size_t)i] = std::cos(angle) * attention_scaling;
        sin_v[(size_t)i] = std::sin(angle) * attention_scaling;
      }
      for (int64_t h = 0; h < heads; ++h) {
        float* v = x + t * stride + h * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const float a = v[i], c = v[i + half];
          v[i] = a * cos_v[(size_t)i] - c * sin_v[(size_t)i];
          v[i + half] = c * cos_v[(size_t)i] + a * sin_v[(size_t)i];
        }
      }
    }
  });
}

void swiglu(ThreadPool& pool, const float* gate, const float* up, int64_t count, float* out) {
  pool.parallel_for(count, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float g = gate[i];
      out[i] = g / (1.f + std::exp(-g)) * up[i];
    }
  });
}

}  // namespace hs::llm
