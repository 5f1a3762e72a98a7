// native/kernels/cuda/pool.cu run on the host through cuda_sim (its launcher, translated): MaxPool and
// AveragePool (padding excluded or, with count_include_pad, counted) over 2-D and 1-D windows with
// strides, dilations, asymmetric pads and ceil-mode output sizes (windows hanging past the padded
// end), against a float64 reference that materialises each padded plane as ONNX's reference does;
// NaN propagation, all-negative inputs under padding, outputs crossing the 256-thread blocks, random
// geometries, empty outputs and the launcher's argument checks. Built and run by
// data-kernels-sim.test.ts.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/cuda/pool.cuh"
#include "sim_test.h"

using namespace hs;
using namespace hs::cuda;
using sim_test::check;

namespace {

// One spatial axis of a pooling window.
struct Axis {
  int64_t in, kernel, stride = 1, dilation = 1, pad_begin = 0, pad_end = 0;
  bool ceil_mode = false;

  // ONNX's output size; in ceil mode a last window starting past the input and its begin pad is dropped.
  int64_t out() const {
    const int64_t span = in + pad_begin + pad_end - ((kernel - 1) * dilation + 1);
    if (span < 0) return 0;
    int64_t n = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
    if (ceil_mode && (n - 1) * stride >= in + pad_begin) --n;
    return n;
  }
  std::string describe() const {
    return std::to_string(in) + " k" + std::to_string(kernel) + " s" + std::to_string(stride) + " d" + std::to_string(dilation) +
           " p" + std::to_string(pad_begin) + "," + std::to_string(pad_end) + (ceil_mode ? " ceil" : "");
  }
};

struct Pool {
  int64_t planes;
  Axis h, w;
  bool max, count_include_pad = false;

  std::string describe() const {
    return std::string(max ? "max" : count_include_pad ? "average (pads counted)" : "average") + " pool " +
           std::to_string(planes) + " planes, h " + h.describe() + ", w " + w.describe();
  }
};

// A padded plane's cell: an input value, or padding.
struct Cell {
  double value = 0;
  bool input = false;
};

// Each output from the padded plane: the window's cells are those at o * stride + k * dilation that
// the padded plane has (a window hanging past its end is cut there); max and the plain average take
// the input cells, count_include_pad divides by every cell.
std::vector<double> reference(const Pool& p, const std::vector<float>& x) {
  const int64_t ph = p.h.in + p.h.pad_begin + p.h.pad_end, pw = p.w.in + p.w.pad_begin + p.w.pad_end;
  std::vector<double> y;
  for (int64_t plane = 0; plane < p.planes; ++plane) {
    std::vector<Cell> padded((size_t)(ph * pw));
    for (int64_t i = 0; i < p.h.in; ++i)
      for (int64_t j = 0; j < p.w.in; ++j)
        padded[(size_t)((i + p.h.pad_begin) * pw + j + p.w.pad_begin)] = {x[(size_t)((plane * p.h.in + i) * p.w.in + j)], true};
    for (int64_t oh = 0; oh < p.h.out(); ++oh)
      for (int64_t ow = 0; ow < p.w.out(); ++ow) {
        double max = -INFINITY, sum = 0;
        int64_t inputs = 0, cells = 0;
        for (int64_t kh = 0; kh < p.h.kernel; ++kh)
          for (int64_t kw = 0; kw < p.w.kernel; ++kw) {
            const int64_t r = oh * p.h.stride + kh * p.h.dilation, c = ow * p.w.stride + kw * p.w.dilation;
            if (r >= ph || c >= pw) continue;
            ++cells;
            const Cell& cell = padded[(size_t)(r * pw + c)];
            if (!cell.input) continue;
            ++inputs;
            sum += cell.value;
            max = std::isnan(max) || std::isnan(cell.value) ? NAN : std::max(max, cell.value);
          }
        y.push_back(p.max ? max : sum / (double)(p.count_include_pad ? cells : inputs));
      }
  }
  return y;
}

PoolArgs args_of(const Pool& p, const std::vector<float>& x, std::vector<float>& y) {
  PoolArgs a;
  a.x = x.data(), a.y = y.data(), a.planes = p.planes;
  const Axis* axes[2] = {&p.h, &p.w};
  for (int d = 1; d < kPoolAxes; ++d) {  // a 2-D pool: depth stays of length 1
    const Axis& ax = *axes[d - 1];
    a.in[d] = ax.in, a.out[d] = ax.out(), a.kernel[d] = ax.kernel, a.stride[d] = ax.stride, a.dilation[d] = ax.dilation;
    a.pad_begin[d] = ax.pad_begin, a.pad_end[d] = ax.pad_end;
  }
  a.max = p.max, a.count_include_pad = p.count_include_pad;
  return a;
}

void pool_case(const Pool& p, std::vector<float> x, const std::string& label = "") {
  const std::string what = p.describe() + label;
  std::vector<float> y((size_t)(p.planes * p.h.out() * p.w.out()));
  sim_test::poison(y);
  const Status status = pool_f32(args_of(p, x, y), nullptr);
  check(status.is_ok(), what + ": " + status.message());
  sim_test::close(y, reference(p, x), p.max ? 0 : 1e-5, p.max ? 0 : 1e-6, what);
}

std::vector<float> input_of(const Pool& p, float lo = -3, float hi = 3) {
  return sim_test::randoms((size_t)(p.planes * p.h.in * p.w.in), lo, hi);
}

// Max, average and average counting pads on one geometry.
void every_mode(int64_t planes, const Axis& h, const Axis& w) {
  for (const auto& [max, include] : {std::pair{true, false}, std::pair{false, false}, std::pair{false, true}}) {
    const Pool p{planes, h, w, max, include};
    pool_case(p, input_of(p));
  }
}

Axis random_axis(bool one_d) {
  if (one_d) return {1, 1};
  Axis a{sim_test::random_int(1, 12), sim_test::random_int(1, 4), sim_test::random_int(1, 3), sim_test::random_int(1, 2)};
  const int64_t reach = (a.kernel - 1) * a.dilation + 1;
  a.pad_begin = sim_test::random_int(0, reach - 1), a.pad_end = sim_test::random_int(0, reach - 1);
  a.ceil_mode = sim_test::random_int(0, 1);
  a.in = std::max(a.in, reach - a.pad_begin - a.pad_end);  // at least one window
  return a;
}

void geometry_cases() {
  every_mode(2, {9, 3}, {11, 3});                                   // plain 3x3
  every_mode(3, {10, 3, 2, 1, 1, 1}, {13, 3, 2, 1, 1, 1});          // stride 2, pad 1
  every_mode(2, {8, 3, 2, 1, 1, 1, true}, {9, 2, 2, 1, 0, 0, true});  // ceil mode: last windows past the padded end
  every_mode(2, {5, 2, 2, 1, 1, 1, true}, {7, 3, 3, 1, 1, 1, true});  // ceil mode dropping a window in the end pad
  every_mode(2, {11, 2, 1, 2, 1, 0}, {12, 3, 2, 3, 2, 1});          // dilations, asymmetric pads
  every_mode(2, {6, 3, 2, 1, 0, 2}, {8, 3, 2, 1, 2, 0, true});      // only an end pad; only a begin pad, ceil mode
  every_mode(4, {1, 1}, {50, 4, 3, 1, 2, 2});                       // 1-D
  every_mode(4, {1, 1}, {20, 3, 2, 2, 2, 1, true});                 // 1-D, dilated, ceil mode
  every_mode(300, {7, 7}, {7, 7});                                  // global window: 300 outputs, two blocks
  every_mode(2, {9, 1, 2}, {10, 1, 2});                             // 1x1 subsampling
  every_mode(3, {15, 3, 1, 1, 1, 1}, {19, 3, 1, 1, 1, 1});          // 855 outputs: four blocks, the last partial
  for (int i = 0; i < 12; ++i) {
    const bool one_d = i % 4 == 3;
    const Pool p{sim_test::random_int(1, 3), random_axis(one_d), random_axis(false), i % 3 == 0, i % 2 == 0};
    pool_case(p, input_of(p), " (random)");
  }
}

// Padding never wins a max of negative values; NaN reaches every window over it, in both pools.
void value_cases() {
  const Pool negative{2, {6, 3, 2, 1, 2, 2}, {7, 3, 1, 1, 1, 2}, true};
  pool_case(negative, input_of(negative, -5, -1), " (negative inputs)");
  for (bool max : {true, false}) {
    const Pool p{2, {8, 3, 2, 1, 1, 1}, {9, 2, 1, 1, 0, 1}, max};
    auto x = input_of(p);
    x[3 * 9 + 4] = NAN, x[72 + 7 * 9 + 8] = NAN, x[72 + 0] = NAN;
    pool_case(p, x, " (NaN inputs)");
  }
}

// No outputs write nothing (even through null pointers); a null operand and a grid past CUDA's limit
// give their Status.
void argument_checks() {
  const Pool p{2, {4, 2}, {4, 2}, true};
  const auto x = input_of(p);
  std::vector<float> y(18);
  sim_test::poison(y);
  PoolArgs none = args_of(p, x, y);
  none.planes = 0;
  check(pool_f32(none, nullptr).is_ok(), "pool with no planes");
  none = args_of(p, x, y);
  none.out[1] = 0;
  check(pool_f32(none, nullptr).is_ok(), "pool with no output rows");
  none.x = nullptr, none.y = nullptr;
  check(pool_f32(none, nullptr).is_ok(), "pool with no outputs, null operands");
  PoolArgs no_x = args_of(p, x, y), no_y = no_x, huge = no_x;
  no_x.x = nullptr, no_y.y = nullptr;
  sim_test::expect_code(pool_f32(no_x, nullptr), StatusCode::kInvalidArgument, "pool null x");
  sim_test::expect_code(pool_f32(no_y, nullptr), StatusCode::kInvalidArgument, "pool null y");
  huge.planes = int64_t{1} << 38;  // 2^38 planes of 9 outputs: past 2^31 - 1 blocks of 256
  sim_test::expect_code(pool_f32(huge, nullptr), StatusCode::kShape, "pool past the grid");
  check(std::all_of(y.begin(), y.end(), [](float v) { return std::isnan(v); }), "refused or empty pools wrote nothing");
}

}  // namespace

int main() {
  geometry_cases();
  value_cases();
  argument_checks();
  return sim_test::finish("pool_sim");
}
