// 2-D convolution computed directly on AVX2 hosts: the weights packed once in panels of 16 output
// channels, the output pixels the broadcast side. See conv_direct.cpp.
#pragma once
#include <cstdint>
#include <memory>

#include "hs/tensor.h"
#include "kernels/cpu/conv_implicit_gemm.h"

namespace hs::cpu {

constexpr int64_t kDirectConvPanel = 16;  // output channels per weight panel (two AVX2 vectors)
inline int64_t conv2d_direct_panels(int64_t out_channels) { return (out_channels + kDirectConvPanel - 1) / kDirectConvPanel; }

// Weights [out_channels, k] (k = channels * kernel_h * kernel_w) as panels of 16 output channels:
// weight (m, i) at panels[(m / 16) * k * 16 + i * 16 + m % 16], zero past out_channels.
class DirectConvWeights {
 public:
  // Empty when the memory cannot be allocated.
  static DirectConvWeights pack(const float* w, int64_t out_channels, int64_t k);
  bool empty() const { return !data_; }
  int64_t out_channels() const { return out_channels_; }
  int64_t k() const { return k_; }
  const float* data() const { return static_cast<const float*>(data_->data()); }

 private:
  int64_t out_channels_ = 0, k_ = 0;
  std::shared_ptr<Buffer> data_;
};

// Whether conv2d_direct runs here: AVX2 + FMA hosts whose GEMM has no AVX-512 kernel (AVX-512
// hosts keep the implicit GEMM with its 512-bit kernel; the two were not compared there);
// HS_GEMM_KERNEL=avx2 selects it on AVX-512 hosts too.
bool conv2d_direct_available();

// Whether the direct convolution suits this many output channels (per group): all but a full panel
// followed by a half-empty one (17-24 channels), which the implicit GEMM's 6-row tiles cover
// exactly or nearly (bench/kernels/conv_bench.cpp, 24 channels: the direct one 0.86-0.94x of it;
// 8, 40, 56 channels: 1.03-1.13x).
inline bool conv2d_direct_suits(int64_t out_channels) { return out_channels <= 16 || out_channels > 24; }

// y = act(conv(x, w) + bias + residual) for a non-pointwise 2-D convolution, single-threaded (the
// caller splits images, groups, bands of rows (conv2d_row_band) or panels), for the output channels
// of panels [panel_begin, panel_end) (16 channels each; by default all). `c.weights` is not read.
void conv2d_direct(const ImplicitConv2d& c, const DirectConvWeights& w, int64_t panel_begin = 0,
                   int64_t panel_end = INT64_MAX);

}  // namespace hs::cpu
