// native/kernels/cuda/reduce.cu run on the host through cuda_sim (its launcher, translated): every
// ReduceOp (Sum, Mean, Max, Min, Prod, L1, L2, SumSquare, LogSumExp) against float64 references of
// the ONNX operators, over inner, outer, middle and scattered axes, all axes, none, rank-8 spaces,
// kept axes in permuted (transposed) output order and broadcast (stride-0) axes; output counts that
// leave the last block's warps partly idle, reductions shorter and longer than a warp; empty
// reductions (the identities), NaN and infinities, LogSumExp of values whose exp overflows float;
// and the launcher's argument checks. Built and run by data-kernels-sim.test.ts.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/cuda/reduce.cuh"
#include "sim_test.h"

using namespace hs;
using namespace hs::cuda;
using sim_test::check;

namespace {

struct OpInfo {
  ReduceOp op;
  const char* name;
  double rtol, atol_per_element;  // atol grows with the elements each output folds
};
const OpInfo kOps[] = {
    {ReduceOp::kSum, "sum", 1e-5, 1e-6},   {ReduceOp::kMean, "mean", 1e-5, 1e-8}, {ReduceOp::kMax, "max", 0, 0},
    {ReduceOp::kMin, "min", 0, 0},         {ReduceOp::kProd, "prod", 5e-5, 0},    {ReduceOp::kL1, "l1", 1e-5, 1e-6},
    {ReduceOp::kL2, "l2", 1e-5, 1e-6},     {ReduceOp::kSumSquare, "sum_square", 1e-5, 1e-6},
    {ReduceOp::kLogSumExp, "log_sum_exp", 1e-5, 1e-6},
};

std::string shape(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (int64_t d : dims) s += (s.size() > 1 ? "x" : "") + std::to_string(d);
  return s + "]";
}

std::string axes(const std::vector<int>& list) {
  std::string s = "{";
  for (int a : list) s += (s.size() > 1 ? "," : "") + std::to_string(a);
  return s + "}";
}

// The ONNX operator on one output's elements, in float64.
double reference(ReduceOp op, const std::vector<double>& xs) {
  const auto fold = [&](double init, auto f) { return std::accumulate(xs.begin(), xs.end(), init, f); };
  const bool any_nan = std::any_of(xs.begin(), xs.end(), [](double x) { return std::isnan(x); });
  switch (op) {
    case ReduceOp::kSum: return fold(0.0, std::plus<>());
    case ReduceOp::kMean: return xs.empty() ? NAN : fold(0.0, std::plus<>()) / (double)xs.size();
    case ReduceOp::kMax: return any_nan ? NAN : fold(-INFINITY, [](double a, double b) { return std::max(a, b); });
    case ReduceOp::kMin: return any_nan ? NAN : fold(INFINITY, [](double a, double b) { return std::min(a, b); });
    case ReduceOp::kProd: return fold(1.0, std::multiplies<>());
    case ReduceOp::kL1: return fold(0.0, [](double a, double b) { return a + std::fabs(b); });
    case ReduceOp::kL2: return std::sqrt(fold(0.0, [](double a, double b) { return a + b * b; }));
    case ReduceOp::kSumSquare: return fold(0.0, [](double a, double b) { return a + b * b; });
    case ReduceOp::kLogSumExp: {  // log(sum(exp(x))): -inf when empty or all -inf, +inf with a +inf
      const double max = reference(ReduceOp::kMax, xs);
      if (!std::isfinite(max)) return max;
      return max + std::log(fold(0.0, [&](double a, double b) { return a + std::exp(b - max); }));
    }
  }
  return NAN;
}

// A reduction of a logical tensor `dims` stored contiguously except for the `broadcast` axes (stored
// once, stride 0): `kept` axes in the order the outputs are laid out, `reduced` in the order the
// kernel walks them.
struct Reduction {
  std::vector<int64_t> dims;
  std::vector<int> kept, reduced, broadcast;

  std::vector<int64_t> strides() const {
    std::vector<int64_t> s(dims.size());
    int64_t next = 1;
    for (size_t a = dims.size(); a-- > 0;) {
      const bool once = std::count(broadcast.begin(), broadcast.end(), (int)a) > 0;
      s[a] = once ? 0 : next;
      next *= once ? 1 : dims[a];
    }
    return s;
  }
  int64_t stored() const {
    int64_t n = 1;
    for (size_t a = 0; a < dims.size(); ++a) n *= std::count(broadcast.begin(), broadcast.end(), (int)a) ? 1 : dims[a];
    return n;
  }
  int64_t outputs() const {
    int64_t n = 1;
    for (int a : kept) n *= dims[(size_t)a];
    return n;
  }
  std::string describe() const {
    return shape(dims) + " kept " + axes(kept) + " reduced " + axes(reduced) + (broadcast.empty() ? "" : " broadcast " + axes(broadcast));
  }
};

// Each output's elements, from a walk over every logical element of the tensor.
std::vector<std::vector<double>> elements_per_output(const Reduction& r, const std::vector<float>& x) {
  const std::vector<int64_t> strides = r.strides();
  std::vector<std::vector<double>> per_output((size_t)r.outputs());
  std::vector<int64_t> index(r.dims.size(), 0);
  const int64_t numel = std::accumulate(r.dims.begin(), r.dims.end(), int64_t{1}, std::multiplies<>());
  for (int64_t e = 0; e < numel; ++e) {
    int64_t offset = 0, out = 0;
    for (size_t a = 0; a < r.dims.size(); ++a) offset += index[a] * strides[a];
    for (int a : r.kept) out = out * r.dims[(size_t)a] + index[(size_t)a];
    per_output[(size_t)out].push_back(x[(size_t)offset]);
    for (size_t a = r.dims.size(); a-- > 0 && ++index[a] == r.dims[a];) index[a] = 0;
  }
  return per_output;
}

ReduceArgs args_of(const Reduction& r, const std::vector<float>& x, std::vector<float>& y, ReduceOp op) {
  const std::vector<int64_t> strides = r.strides();
  ReduceArgs a;
  a.x = x.data(), a.y = y.data(), a.op = op;
  for (int axis : r.kept) {
    a.kept.dims[a.kept.rank] = r.dims[(size_t)axis];
    a.kept_strides.s[a.kept.rank++] = strides[(size_t)axis];
  }
  for (int axis : r.reduced) {
    a.reduced.dims[a.reduced.rank] = r.dims[(size_t)axis];
    a.reduced_strides.s[a.reduced.rank++] = strides[(size_t)axis];
  }
  return a;
}

// Runs one op on x and compares with the reference.
void run_case(const Reduction& r, const OpInfo& op, const std::vector<float>& x, const std::string& label) {
  const std::string what = std::string(op.name) + " " + r.describe() + label;
  std::vector<float> y((size_t)r.outputs());
  sim_test::poison(y);
  const Status status = reduce_f32(args_of(r, x, y, op.op), nullptr);
  check(status.is_ok(), what + ": " + status.message());
  std::vector<double> want;
  size_t longest = 0;
  for (const auto& xs : elements_per_output(r, x)) {
    want.push_back(reference(op.op, xs));
    longest = std::max(longest, xs.size());
  }
  sim_test::close(y, want, op.rtol, op.atol_per_element * (double)(longest + 1), what);
}

// Every op on fresh inputs (Prod's near one in magnitude, so that long products stay in range).
void every_op(const Reduction& r) {
  for (const OpInfo& op : kOps) {
    auto x = op.op == ReduceOp::kProd ? sim_test::randoms((size_t)r.stored(), 0.8f, 1.25f) : sim_test::randoms((size_t)r.stored(), -3, 3);
    if (op.op == ReduceOp::kProd)
      for (float& v : x) v = sim_test::random_int(0, 1) ? -v : v;
    run_case(r, op, x, "");
  }
}

// Rows of special values, reduced along their length (40: a warp and a tail).
void special_values() {
  const Reduction rows{{6, 40}, {0}, {1}, {}};
  auto x = sim_test::randoms(6 * 40, -3, 3);
  x[0 * 40 + 7] = INFINITY;                                          // row 0: a +inf
  for (int j = 0; j < 40; ++j) x[1 * 40 + j] = -INFINITY;            // row 1: all -inf
  x[2 * 40 + 39] = -INFINITY;                                        // row 2: a -inf among finite values
  x[3 * 40 + 3] = INFINITY, x[3 * 40 + 30] = -INFINITY;              // row 3: both infinities
  x[4 * 40 + 33] = NAN;                                              // row 4: a NaN in the tail lanes
  x[5 * 40 + 0] = NAN, x[5 * 40 + 1] = INFINITY;                     // row 5: NaN before +inf
  for (const OpInfo& op : kOps) run_case(rows, op, x, " (infinities and NaN)");

  // exp(x) overflows float here; LogSumExp must subtract the maximum first.
  const Reduction large{{3, 50}, {0}, {1}, {}};
  auto big = sim_test::randoms(3 * 50, 85, 95);
  big[100] = -200;
  const OpInfo& log_sum_exp = *std::find_if(std::begin(kOps), std::end(kOps), [](const OpInfo& o) { return o.op == ReduceOp::kLogSumExp; });
  run_case(large, log_sum_exp, big, " (values near 90)");
}

// The identities: 0, NaN (Mean), -inf, +inf, 1, 0, 0, 0, -inf (LogSumExp), also with no input.
void empty_reductions() {
  const Reduction empty{{4, 0, 3}, {0, 2}, {1}, {}};
  const std::vector<float> none;
  for (const OpInfo& op : kOps) {
    run_case(empty, op, std::vector<float>(1, 0.f), " (empty)");
    std::vector<float> y(12);
    sim_test::poison(y);
    ReduceArgs a = args_of(empty, none, y, op.op);
    a.x = nullptr;
    check(reduce_f32(a, nullptr).is_ok(), std::string(op.name) + " of empty sets with no input");
    sim_test::close(y, std::vector<double>(12, reference(op.op, {})), 0, 0, std::string(op.name) + " of empty sets with no input");
  }
}

// No outputs write nothing (even to a null y); ranks out of range, a null output and a null input
// with elements to read give their Status, as does a grid past CUDA's limit.
void argument_checks() {
  const std::vector<float> x(8, 1.f);
  std::vector<float> y(8);
  sim_test::poison(y);
  ReduceArgs none = args_of(Reduction{{0, 5}, {0}, {1}, {}}, x, y, ReduceOp::kSum);
  check(reduce_f32(none, nullptr).is_ok(), "reduce with no outputs");
  none.y = nullptr;
  check(reduce_f32(none, nullptr).is_ok(), "reduce with no outputs, null y");
  check(std::all_of(y.begin(), y.end(), [](float v) { return std::isnan(v); }), "reduce with no outputs wrote nothing");

  const ReduceArgs ok = args_of(Reduction{{2, 4}, {0}, {1}, {}}, x, y, ReduceOp::kSum);
  for (int rank : {-1, kMaxDims + 1}) {
    ReduceArgs kept = ok, reduced = ok;
    kept.kept.rank = rank, reduced.reduced.rank = rank;
    sim_test::expect_code(reduce_f32(kept, nullptr), StatusCode::kShape, "reduce kept rank " + std::to_string(rank));
    sim_test::expect_code(reduce_f32(reduced, nullptr), StatusCode::kShape, "reduce reduced rank " + std::to_string(rank));
  }
  ReduceArgs no_y = ok, no_x = ok, huge = ok;
  no_y.y = nullptr, no_x.x = nullptr;
  sim_test::expect_code(reduce_f32(no_y, nullptr), StatusCode::kInvalidArgument, "reduce null y");
  sim_test::expect_code(reduce_f32(no_x, nullptr), StatusCode::kInvalidArgument, "reduce null x");
  huge.kept.rank = 2, huge.kept.dims[0] = int64_t{1} << 31, huge.kept.dims[1] = 8;  // 2^31 blocks of 8 outputs
  sim_test::expect_code(reduce_f32(huge, nullptr), StatusCode::kShape, "reduce past the grid");
  check(std::all_of(y.begin(), y.end(), [](float v) { return std::isnan(v); }), "refused reductions wrote nothing");
}

}  // namespace

int main() {
  every_op({{37, 300}, {0}, {1}, {}});             // inner axis; 37 outputs: the fifth block has 5 warps
  every_op({{300, 17}, {1}, {0}, {}});             // outer axis: each lane's reads a row apart
  every_op({{4, 45, 5}, {0, 2}, {1}, {}});         // middle axis
  every_op({{3, 4, 5, 6}, {1, 3}, {2, 0}, {}});    // scattered axes, 15 elements: lanes left idle
  every_op({{9, 33}, {0}, {1}, {}});               // a warp and one element; 9 outputs: a block of one warp
  every_op({{7, 9, 11}, {}, {0, 1, 2}, {}});       // every axis: one output of 693
  every_op({{5, 6}, {0, 1}, {}, {}});              // no axis: each output folds its own element
  every_op({{3, 5, 8}, {2, 0}, {1}, {1}});         // transposed outputs, a broadcast reduced axis
  every_op({{4, 3, 50}, {0, 1}, {2}, {0}});        // a broadcast kept axis
  every_op({{2, 3, 2, 2, 3, 2, 2, 2}, {5, 0, 7}, {6, 1, 3, 2, 4}, {}});        // rank 8, permuted
  every_op({{2, 3, 2, 2, 3, 2, 2, 2}, {}, {7, 3, 0, 5, 1, 6, 2, 4}, {2}});     // a rank-8 reduced space
  every_op({{2, 1, 2, 1, 3, 1, 2, 1}, {6, 4, 0, 7, 2, 5, 1, 3}, {}, {}});      // a rank-8 kept space
  special_values();
  empty_reductions();
  argument_checks();
  return sim_test::finish("reduce_sim");
}
