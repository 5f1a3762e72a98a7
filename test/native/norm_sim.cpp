// native/kernels/cuda/norm.cu run on the host through cuda_sim (its own launchers, translated): layer
// normalisation (and its mean / inverse std outputs), group and instance normalisation, batch normalisation, LRN, softmax and log-softmax over rows (scale and a broadcast mask)
// and over a strided axis, against float64 references on fresh random inputs, over shapes that
// cross the kernels' block and warp sizes. Built and run by norm-sim.test.ts.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/cuda/norm.cuh"
#include "sim_test.h"

using namespace hs::cuda;
using sim_test::check;
using sim_test::close;

namespace {

std::string shape(std::initializer_list<int64_t> dims) {
  std::string s;
  for (int64_t d : dims) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

// Layer normalisation, with its per-row mean and 1 / std outputs.
void layer_norm_case(int64_t rows, int64_t cols, bool with_bias) {
  const auto x = sim_test::randoms(rows * cols, -3, 5), scale = sim_test::randoms(cols), bias = sim_test::randoms(cols);
  std::vector<float> y(rows * cols), mean_out(rows), inv_out(rows);
  sim_test::poison(y);
  sim_test::poison(mean_out);
  sim_test::poison(inv_out);
  const float eps = 1e-5f;
  const std::string what = "layer_norm " + shape({rows, cols}) + (with_bias ? " bias" : "");
  check(layer_norm_f32(x.data(), scale.data(), with_bias ? bias.data() : nullptr, y.data(), rows, cols, eps, nullptr,
                       mean_out.data(), inv_out.data()).is_ok(), what);
  std::vector<double> want(rows * cols), want_mean(rows), want_inv(rows);
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < cols; ++j) mean += x[r * cols + j];
    mean /= cols;
    for (int64_t j = 0; j < cols; ++j) var += (x[r * cols + j] - mean) * (x[r * cols + j] - mean);
    var /= cols;
    want_mean[r] = mean, want_inv[r] = 1 / std::sqrt(var + eps);
    for (int64_t j = 0; j < cols; ++j)
      want[r * cols + j] = (x[r * cols + j] - mean) * want_inv[r] * scale[j] + (with_bias ? bias[j] : 0.0);
  }
  close(y, want, 1e-4, 1e-5, what);
  close(mean_out, want_mean, 1e-5, 1e-6, what + " mean");
  close(inv_out, want_inv, 1e-4, 0, what + " inv_std");
}

// Group normalisation of x [batch, groups * group_channels, spatial] (instance normalisation: one
// channel per group), scale and bias per channel or per group.
void group_norm_case(int64_t batch, int64_t groups, int64_t group_channels, int64_t spatial, bool per_channel) {
  const int64_t channels = groups * group_channels, cols = group_channels * spatial, params = per_channel ? channels : groups;
  const auto x = sim_test::randoms(batch * channels * spatial, -3, 5), scale = sim_test::randoms(params),
             bias = sim_test::randoms(params);
  std::vector<float> y(x.size());
  sim_test::poison(y);
  const float eps = 1e-5f;
  const std::string what = "group_norm " + shape({batch, groups, group_channels, spatial}) + (per_channel ? " per channel" : " per group");
  check(group_norm_f32(x.data(), scale.data(), bias.data(), y.data(), batch, groups, group_channels, spatial, per_channel, eps,
                       nullptr).is_ok(), what);
  std::vector<double> want(x.size());
  for (int64_t r = 0; r < batch * groups; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < cols; ++j) mean += x[r * cols + j];
    mean /= cols;
    for (int64_t j = 0; j < cols; ++j) var += (x[r * cols + j] - mean) * (x[r * cols + j] - mean);
    var /= cols;
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t a = per_channel ? (r % groups) * group_channels + j / spatial : r % groups;
      want[r * cols + j] = (x[r * cols + j] - mean) / std::sqrt(var + eps) * scale[a] + bias[a];
    }
  }
  close(y, want, 1e-4, 1e-5, what);
}

void batch_norm_case(int64_t batch, int64_t channels, int64_t spatial) {
  const auto x = sim_test::randoms(batch * channels * spatial, -2, 2), scale = sim_test::randoms(channels),
             bias = sim_test::randoms(channels), mean = sim_test::randoms(channels), var = sim_test::randoms(channels, 0.1f, 2.f);
  std::vector<float> y(x.size());
  sim_test::poison(y);
  const float eps = 1e-3f;
  const std::string what = "batch_norm " + shape({batch, channels, spatial});
  check(batch_norm_f32(x.data(), scale.data(), bias.data(), mean.data(), var.data(), y.data(), batch, channels, spatial, eps, nullptr).is_ok(), what);
  std::vector<double> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t c = (int64_t)i / spatial % channels;
    want[i] = (x[i] - mean[c]) / std::sqrt((double)var[c] + eps) * scale[c] + bias[c];
  }
  close(y, want, 1e-5, 1e-5, what);
}

void lrn_case(int64_t batch, int64_t channels, int64_t spatial, int64_t size, float beta) {
  const auto x = sim_test::randoms(batch * channels * spatial, -3, 3);
  std::vector<float> y(x.size());
  sim_test::poison(y);
  const float alpha = 0.3f, bias = 1.5f;
  const std::string what = "lrn " + shape({batch, channels, spatial}) + " size " + std::to_string(size);
  check(lrn_f32(x.data(), y.data(), batch, channels, spatial, size, alpha, beta, bias, nullptr).is_ok(), what);
  std::vector<double> want(x.size());
  for (size_t e = 0; e < x.size(); ++e) {
    const int64_t c = (int64_t)e / spatial % channels, plane = (int64_t)e - c * spatial;
    double sum = 0;
    for (int64_t w = std::max<int64_t>(0, c - (size - 1) / 2); w <= std::min(channels - 1, c + size / 2); ++w)
      sum += (double)x[plane + w * spatial] * x[plane + w * spatial];
    want[e] = x[e] / std::pow(bias + alpha / size * sum, (double)beta);
  }
  close(y, want, 1e-5, 1e-6, what);
}

// The mask is [mask_rows_outer, 1 or mask_rows_inner, cols] broadcast over rows = outer x inner.
void softmax_rows_case(int64_t outer, int64_t inner, int64_t cols, bool log, float scale, bool masked, bool mask_per_inner) {
  const int64_t rows = outer * inner;
  const auto x = sim_test::randoms(rows * cols, -4, 4);
  const int64_t mask_inner = mask_per_inner ? inner : 1;
  auto mask = sim_test::randoms(outer * mask_inner * cols, -3, 1);
  for (float& m : mask)
    if (m < -2.5f) m = -INFINITY;  // masked-out keys, as attention masks write them
  for (int64_t r = 0; r < outer * mask_inner; ++r) mask[r * cols] = 0.f;  // every row keeps a key
  RowMask rm;
  if (masked) {
    rm.data = mask.data();
    rm.rows.rank = 2;
    rm.rows.dims[0] = outer;
    rm.rows.dims[1] = inner;
    rm.row_strides.s[0] = mask_inner * cols;
    rm.row_strides.s[1] = mask_per_inner ? cols : 0;
    rm.col_stride = 1;
  }
  std::vector<float> y(rows * cols);
  sim_test::poison(y);
  const std::string what = std::string(log ? "log_softmax" : "softmax") + " rows " + shape({outer, inner, cols}) +
                           (masked ? (mask_per_inner ? " mask" : " broadcast mask") : "") + " scale " + std::to_string(scale);
  check(softmax_rows_f32(x.data(), y.data(), rows, cols, log, scale, rm, nullptr).is_ok(), what);
  std::vector<double> want(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float* m = mask.data() + (r / inner) * mask_inner * cols + (mask_per_inner ? r % inner * cols : 0);
    std::vector<double> v(cols);
    double mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < cols; ++j) mx = std::max(mx, v[j] = (double)x[r * cols + j] * scale + (masked ? m[j] : 0.0));
    for (int64_t j = 0; j < cols; ++j) sum += std::exp(v[j] - mx);
    for (int64_t j = 0; j < cols; ++j) want[r * cols + j] = log ? v[j] - mx - std::log(sum) : std::exp(v[j] - mx) / sum;
  }
  close(y, want, 1e-4, 1e-6, what);
}

void softmax_axis_case(int64_t outer, int64_t axis, int64_t inner, bool log) {
  const auto x = sim_test::randoms(outer * axis * inner, -4, 4);
  std::vector<float> y(x.size());
  sim_test::poison(y);
  const std::string what = std::string(log ? "log_softmax" : "softmax") + " axis " + shape({outer, axis, inner});
  check(softmax_axis_f32(x.data(), y.data(), outer, axis, inner, log, nullptr).is_ok(), what);
  std::vector<double> want(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t a) { return (o * axis + a) * inner + i; };
      double mx = -INFINITY, sum = 0;
      for (int64_t a = 0; a < axis; ++a) mx = std::max(mx, (double)x[at(a)]);
      for (int64_t a = 0; a < axis; ++a) sum += std::exp(x[at(a)] - mx);
      for (int64_t a = 0; a < axis; ++a) want[at(a)] = log ? x[at(a)] - mx - std::log(sum) : std::exp(x[at(a)] - mx) / sum;
    }
  close(y, want, 1e-4, 1e-6, what);
}

}  // namespace

int main() {
  for (int64_t cols : {1, 7, 256, 300, 1000}) layer_norm_case(3, cols, cols != 7);
  group_norm_case(2, 3, 1, 35, true);  // instance normalisation
  group_norm_case(1, 5, 1, 300, true);
  group_norm_case(2, 4, 3, 49, true);
  group_norm_case(3, 2, 5, 20, false);
  lrn_case(2, 7, 13, 3, 0.75f);
  lrn_case(1, 5, 40, 4, 0.6f);  // an even window: one more channel after than before
  batch_norm_case(2, 3, 5);
  batch_norm_case(1, 7, 331);
  for (int64_t cols : {1, 5, 32, 77}) {
    softmax_rows_case(3, 5, cols, false, 1.f, false, false);  // 15 rows: two blocks of 8 warps, the last part full
    softmax_rows_case(2, 3, cols, true, 0.125f, true, true);
    softmax_rows_case(2, 4, cols, false, 0.5f, true, false);
  }
  softmax_axis_case(2, 5, 3, false);
  softmax_axis_case(3, 17, 100, true);  // 300 columns: two blocks, the second partial
  return sim_test::finish("norm_sim");
}
