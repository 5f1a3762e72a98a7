// The input layout of the direct and implicit-GEMM 2-D convolutions: each input channel copied
// into zero-padded "phase planes" in which every kernel tap reads a contiguous run.
//
// For stride (sh, sw), plane (ph, pw) of a channel holds padded rows ph, ph + sh, ... and padded
// columns pw, pw + sw, ..., each row `row_len` wide. Kernel tap (kh, kw) of output pixel (oh, ow)
// then sits at
//     tap_offset[kh, kw] + q,   q = oh * row_len + ow,
// where tap_offset selects the plane ((kh*dh) % sh, (kw*dw) % sw) and adds
// ((kh*dh) / sh) * row_len + (kw*dw) / sw. So for consecutive q every tap reads consecutive
// floats: the output is computed over q in [0, out_h * row_len), of which the last
// row_len - out_w columns of each row are junk, and copied out row by row. Only the phases some
// tap reads are built (a 1x1 stride-2 kernel reads one plane of four).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace hs::cpu {

struct Conv2dShape {
  int64_t in_h, in_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int64_t out_h, out_w;
};

class PhasePlanes {
  static int64_t ceil_div(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

 public:
  explicit PhasePlanes(const Conv2dShape& s) : s_(s) {
    row_len_ = s.out_w + ((s.kernel_w - 1) * s.dilation_w) / s.stride_w;
    plane_rows_ = s.out_h + ((s.kernel_h - 1) * s.dilation_h) / s.stride_h;
    plane_size_ = plane_rows_ * row_len_;
    row_phase_.assign((size_t)s.stride_h, -1);
    col_phase_.assign((size_t)s.stride_w, -1);
    int64_t row_phases = 0;
    for (int64_t kh = 0; kh < s.kernel_h; ++kh) {
      int64_t& phase = row_phase_[kh * s.dilation_h % s.stride_h];
      if (phase < 0) phase = row_phases++;
    }
    for (int64_t kw = 0; kw < s.kernel_w; ++kw) {
      int64_t& phase = col_phase_[kw * s.dilation_w % s.stride_w];
      if (phase < 0) phase = col_phases_++;
    }
    phases_ = row_phases * col_phases_;
    for (int64_t kh = 0; kh < s.kernel_h; ++kh)
      for (int64_t kw = 0; kw < s.kernel_w; ++kw) {
        const int64_t dy = kh * s.dilation_h, dx = kw * s.dilation_w;
        const int64_t plane = row_phase_[dy % s.stride_h] * col_phases_ + col_phase_[dx % s.stride_w];
        tap_offset_.push_back(plane * plane_size_ + (dy / s.stride_h) * row_len_ + dx / s.stride_w);
      }
  }

  int64_t row_len() const { return row_len_; }
  // Floats of one channel's planes.
  int64_t channel_size() const { return phases_ * plane_size_; }
  // Outputs computed per channel (the last row's junk columns left out).
  int64_t flat_outputs() const { return (s_.out_h - 1) * row_len_ + s_.out_w; }
  // Per kernel tap (kh-major), its offset within a channel's planes.
  const std::vector<int64_t>& tap_offsets() const { return tap_offset_; }

  // Writes one channel's planes (channel_size() floats) from its [in_h, in_w] input plane.
  inline __attribute__((always_inline)) void build_channel(const float* x, float* dst) const {
    for (int64_t pw = 0; pw < s_.stride_w; ++pw) {
      if (col_phase_[pw] < 0) continue;
      // Columns j of this phase read input column j * stride_w + first; [j_begin, j_end) are inside.
      const int64_t first = pw - s_.pad_left;
      const int64_t j_begin = std::min(row_len_, first >= 0 ? 0 : ceil_div(-first, s_.stride_w));
      const int64_t j_end = std::clamp<int64_t>(ceil_div(s_.in_w - first, s_.stride_w), j_begin, row_len_);
      for (int64_t ph = 0; ph < s_.stride_h; ++ph) {
        if (row_phase_[ph] < 0) continue;
        float* plane = dst + (row_phase_[ph] * col_phases_ + col_phase_[pw]) * plane_size_;
        for (int64_t i = 0; i < plane_rows_; ++i) {
          float* out = plane + i * row_len_;
          const int64_t ih = i * s_.stride_h + ph - s_.pad_top;
          if (ih < 0 || ih >= s_.in_h) {
            for (int64_t j = 0; j < row_len_; ++j) out[j] = 0.f;
            continue;
          }
          const float* in = x + ih * s_.in_w + first;
          for (int64_t j = 0; j < j_begin; ++j) out[j] = 0.f;
          if (s_.stride_w == 1) {
            for (int64_t j = j_begin; j < j_end; ++j) out[j] = in[j];
          } else if (s_.stride_w == 2) {  // a constant stride the compiler vectorises
            for (int64_t j = j_begin; j < j_end; ++j) out[j] = in[2 * j];
          } else {
            for (int64_t j = j_begin; j < j_end; ++j) out[j] = in[j * s_.stride_w];
          }
          for (int64_t j = j_end; j < row_len_; ++j) out[j] = 0.f;
        }
      }
    }
  }

 private:
  Conv2dShape s_;
  int64_t row_len_ = 0, plane_rows_ = 0, plane_size_ = 0, phases_ = 0, col_phases_ = 0;
  std::vector<int64_t> row_phase_, col_phase_;  // phase number per (offset mod stride), -1 unused
  std::vector<int64_t> tap_offset_;
};

}  // namespace hs::cpu
