// native/kernels/cuda/norm.cu run on the host through cuda_sim (its own launchers, translated): layer
// normalisation (and its mean / inverse std outputs), instance normalisation, batch normalisation, softmax and log-softmax over rows (scale and a broadcast mask)
// and over a strided axis, against float64 references on fresh random inputs, over shapes that
// cross the kernels' block and warp sizes. Built and run by norm-sim.test.ts.
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

// Layer normalisation (with its per-row mean and 1 / std outputs) and, with channels > 0, instance
// normalisation: rows of [batch, channels] with scale and bias per channel.
void row_norm_case(int64_t rows, int64_t cols, bool with_bias, int64_t channels = 0) {
  const int64_t affine = channels > 0 ? channels : cols;
  const auto x = sim_test::randoms(rows * cols, -3, 5), scale = sim_test::randoms(affine), bias = sim_test::randoms(affine);
  std::vector<float> y(rows * cols), mean_out(rows), inv_out(rows);
  sim_test::poison(y);
  sim_test::poison(mean_out);
  sim_test::poison(inv_out);
  const float eps = 1e-5f;
  const std::string what = std::string(channels ? "instance_norm " : "layer_norm ") + shape({rows, cols}) + (with_bias ? " bias" : "");
  if (channels)
    check(instance_norm_f32(x.data(), scale.data(), bias.data(), y.data(), rows / channels, channels, cols, eps, nullptr).is_ok(), what);
  else
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
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t a = channels ? r % channels : j;
      want[r * cols + j] = (x[r * cols + j] - mean) * want_inv[r] * scale[a] + (with_bias ? bias[a] : 0.0);
    }
  }
  close(y, want, 1e-4, 1e-5, what);
  if (channels) return;
  close(mean_out, want_mean, 1e-5, 1e-6, what + " mean");
  close(inv_out, want_inv, 1e-4, 0, what + " inv_std");
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
  for (int64_t cols : {1, 7, 256, 300, 1000}) row_norm_case(3, cols, cols != 7);
  row_norm_case(2 * 3, 35, true, 3);
  row_norm_case(1 * 5, 300, true, 5);
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
