// Direct 2-D convolution for AVX2 hosts.
//
// The input is copied into phase planes (conv_phase_planes.h), where kernel tap k (channel,
// kh, kw) of the output pixel at flat plane index q reads planes[offset[k] + q]. A micro-tile is
// 6 output pixels x 16 output channels: for each k it loads the panel's 16 weights (two vectors,
// contiguous, packed at build time), broadcasts each of the 6 pixels' input value (each pixel
// has its own pointer, so tiles run across row ends without computing junk columns) and does 12
// FMAs into 12 accumulators that start from the bias. A last panel of 8 channels or fewer (24 output
// channels, say) runs 8 pixels x 8 channels instead, so that no FMA goes to the empty half. Tiles
// are stored pixel-major for a chunk of
// pixels, which then goes to y's channel rows through 8 x 8 transposes, adding the residual; the
// activation runs over each finished chunk of a channel's row while it is in cache.
//
// Against the implicit GEMM (weights broadcast, 16 pixels loaded in place per k) this reads the
// weights aligned and in order, needs no row-end tests or result copy, and on AVX2 runs the 3x3
// layers of small images near the FMA peak (bench/results/cpu-engine.md).
#include "kernels/cpu/conv_direct.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/transpose8_avx2.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hs::cpu {
namespace {

constexpr int64_t kPanel = kDirectConvPanel;
constexpr int kPixels = 6;       // output pixels per micro-tile (12 accumulators of 16 registers)
constexpr int kHalfPixels = 8;   // the same for a half panel (8 channels; 8 pointers leave room in the registers)
constexpr int64_t kChunk = 240;  // output pixels per chunk (their input rows stay in L1/L2 across panels)

struct Scratch {
  std::vector<float> planes, tile;  // tile: a chunk's results, [pixel][16 channels]
  std::vector<int64_t> offsets;
};

#if defined(__x86_64__)
// out[r * 16 + j] = bias[j] + sum_k panel[k][j] * base[r][offset[k]] for the tile's 6 pixels.
__attribute__((target("avx2,fma"))) void tile_6x16(const float* panel, int64_t k, const int64_t* offsets,
                                                    const float* const base[kPixels], const float* bias, float* out) {
  const __m256 b0 = _mm256_load_ps(bias), b1 = _mm256_load_ps(bias + 8);
  __m256 acc[kPixels][2];
#pragma GCC unroll 6
  for (int r = 0; r < kPixels; ++r) acc[r][0] = b0, acc[r][1] = b1;
  for (int64_t i = 0; i < k; ++i) {
    const __m256 w0 = _mm256_load_ps(panel + i * kPanel), w1 = _mm256_load_ps(panel + i * kPanel + 8);
    const int64_t o = offsets[i];
#pragma GCC unroll 6
    for (int r = 0; r < kPixels; ++r) {
      const __m256 x = _mm256_broadcast_ss(base[r] + o);
      acc[r][0] = _mm256_fmadd_ps(x, w0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, w1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < kPixels; ++r) {
    _mm256_store_ps(out + r * kPanel, acc[r][0]);
    _mm256_store_ps(out + r * kPanel + 8, acc[r][1]);
  }
}

// The first 8 channels of tile_6x16's sums, for 8 pixels: a half-empty last panel.
__attribute__((target("avx2,fma"))) void tile_8x8(const float* panel, int64_t k, const int64_t* offsets,
                                                    const float* const base[kHalfPixels], const float* bias, float* out) {
  const __m256 b0 = _mm256_load_ps(bias);
  __m256 acc[kHalfPixels];
#pragma GCC unroll 8
  for (int r = 0; r < kHalfPixels; ++r) acc[r] = b0;
  for (int64_t i = 0; i < k; ++i) {
    const __m256 w0 = _mm256_load_ps(panel + i * kPanel);
    const int64_t o = offsets[i];
#pragma GCC unroll 8
    for (int r = 0; r < kHalfPixels; ++r) acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(base[r] + o), w0, acc[r]);
  }
#pragma GCC unroll 8
  for (int r = 0; r < kHalfPixels; ++r) _mm256_store_ps(out + r * kPanel, acc[r]);
}

// Channels [0, mn) of a chunk's results, [pixels][16] in `tile`, to their rows y[j * ldy + p]
// (plus residual z, same layout as y), 8 pixels x 8 channels at a time.
__attribute__((target("avx2"))) void store_chunk(const float* tile, int64_t pixels, int64_t mn, const float* z,
                                                 float* y, int64_t ldy) {
  const int64_t full = pixels / 8 * 8;
  // 8 channel rows at a time: their stores stay within the L1's 8 ways though the rows lie a
  // multiple of 4 KiB apart.
  for (int64_t j0 = 0; j0 < mn; j0 += 8)
    for (int64_t p = 0; p < full; p += 8) {
      __m256 v[8];
      for (int r = 0; r < 8; ++r) v[r] = _mm256_load_ps(tile + (p + r) * kPanel + j0);
      transpose8(v);
      for (int64_t j = j0; j < std::min(mn, j0 + 8); ++j) {
        __m256 out = v[j - j0];
        if (z) out = _mm256_add_ps(out, _mm256_loadu_ps(z + j * ldy + p));
        _mm256_storeu_ps(y + j * ldy + p, out);
      }
    }
  for (int64_t j = 0; j < mn; ++j)
    for (int64_t p = full; p < pixels; ++p) y[j * ldy + p] = tile[p * kPanel + j] + (z ? z[j * ldy + p] : 0.f);
}
#endif

}  // namespace

DirectConvWeights DirectConvWeights::pack(const float* w, int64_t out_channels, int64_t k) {
  DirectConvWeights packed;
  packed.out_channels_ = out_channels;
  packed.k_ = k;
  const int64_t panels = conv2d_direct_panels(out_channels);
  const size_t bytes = sizeof(float) * (size_t)(panels * k * kPanel);
  packed.data_ = Buffer::allocate(bytes);  // 64-byte aligned: one panel row is one cache line
  if (!packed.data_) return DirectConvWeights();
  float* dst = static_cast<float*>(packed.data_->data());
  std::memset(dst, 0, bytes);
  for (int64_t m = 0; m < out_channels; ++m)
    for (int64_t i = 0; i < k; ++i) dst[(m / kPanel) * k * kPanel + i * kPanel + m % kPanel] = w[m * k + i];
  return packed;
}

bool conv2d_direct_available() { return simd_level() == SimdLevel::kAvx2; }

void conv2d_direct(const ImplicitConv2d& c, const DirectConvWeights& w, int64_t panel_begin, int64_t panel_end) {
#if defined(__x86_64__)
  thread_local Scratch scratch;
  const Conv2dShape& s = c.shape;
  const int64_t taps = s.kernel_h * s.kernel_w, k = c.channels * taps;
  const PhasePlanes layout(s);
  const int64_t channel_size = layout.channel_size(), row_len = layout.row_len();
  scratch.planes.resize((size_t)(c.channels * channel_size));
  scratch.offsets.resize((size_t)k);
  float* planes = scratch.planes.data();
  const std::vector<int64_t>& tap_offsets = layout.tap_offsets();
  for (int64_t ch = 0; ch < c.channels; ++ch) {
    layout.build_channel(c.x + ch * c.x_channel_stride, planes + ch * channel_size);
    for (int64_t t = 0; t < taps; ++t) scratch.offsets[ch * taps + t] = ch * channel_size + tap_offsets[t];
  }

  const int64_t pixels = s.out_h * s.out_w;
  panel_end = std::min(panel_end, conv2d_direct_panels(c.out_channels));
  alignas(32) float bias[kPanel];
  scratch.tile.resize((size_t)((kChunk + kHalfPixels) * kPanel + 8));  // + room to align to 32 bytes
  float* tile = scratch.tile.data() + (-(reinterpret_cast<uintptr_t>(scratch.tile.data()) / 4) & 7);
  for (int64_t p0 = 0; p0 < pixels; p0 += kChunk) {
    const int64_t p1 = std::min(pixels, p0 + kChunk);
    for (int64_t panel = panel_begin; panel < panel_end; ++panel) {
      const int64_t m0 = panel * kPanel, mn = std::min(kPanel, c.out_channels - m0);
      for (int64_t j = 0; j < kPanel; ++j) bias[j] = c.bias && j < mn ? c.bias[m0 + j] : 0.f;
      const bool half = mn <= 8;
      const int pixels_per_tile = half ? kHalfPixels : kPixels;
      for (int64_t p = p0; p < p1; p += pixels_per_tile) {
        // The tile's pixels, row by row; past the chunk's end they repeat its last one (computed, not stored).
        const float* base[kHalfPixels];
        int64_t oh = p / s.out_w, ow = p - oh * s.out_w;
        for (int r = 0; r < pixels_per_tile; ++r) {
          base[r] = planes + oh * row_len + ow;
          if (p + r + 1 < p1 && ++ow == s.out_w) ow = 0, ++oh;
        }
        const float* weights = w.data() + panel * k * kPanel;
        if (half) tile_8x8(weights, k, scratch.offsets.data(), base, bias, tile + (p - p0) * kPanel);
        else tile_6x16(weights, k, scratch.offsets.data(), base, bias, tile + (p - p0) * kPanel);
      }
      float* y = c.y + m0 * c.y_channel_stride + p0;
      store_chunk(tile, p1 - p0, mn, c.residual ? c.residual + m0 * c.y_channel_stride + p0 : nullptr, y, c.y_channel_stride);
      for (int64_t j = 0; j < mn; ++j) apply_activation(c.activation, y + j * c.y_channel_stride, p1 - p0);
    }
  }
#else
  (void)c;
  (void)w;
  (void)panel_begin;
  (void)panel_end;
#endif
}

}  // namespace hs::cpu
