// native/kernels/cuda/elementwise.cu and native/kernels/cuda/to_16bit.cu run on the host through
// cuda_sim (their own launchers, translated): every unary op (with its alpha / beta), the binary ops
// on float32, int32 and int64 (the flat path, and the strided one with broadcast and transposed
// operands of rank 0 to 4; Mod with either sign rule), the logical ops on bool bytes, Not and the
// float classifications (IsNaN, IsInf by sign), the comparisons, Where on 1-, 2-, 4- and 8-byte elements, Cast between
// float32, int32, int64 and bool, and the fp32 -> fp16 / bf16 rounding, against float64 or exact
// references written from the headers' contracts and ONNX semantics (a NaN propagates as in numpy),
// on fresh random inputs and edge values, over sizes that cross the 256-thread blocks. Size 0 writes
// nothing, a negative count (the one impossible launch the launchers let through) is an error
// Status, unsupported types and ranks are refused. to_16bit.cu's grid (4096 blocks) is crossed into
// its grid-stride loop's second step; elementwise.cu's (524280 blocks of 256) is too large to cross
// here. Built and run by elementwise-sim.test.ts.
#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/cuda/elementwise.cuh"
#include "kernels/cuda/to_16bit.cuh"
#include "sim_test.h"

using namespace hs;
using namespace hs::cuda;
using sim_test::check;

namespace {

using Dims = std::vector<int64_t>;
using BoolByte = uint8_t;  // how a bool tensor's elements are stored

// Tolerances, relative: exact, one float32 rounding (2^-24, with a margin), a libm function or a
// short chain of roundings (about 5 ulp). kBelowNormal absorbs results under float32's normal range.
constexpr double kExact = 0, kRounded = 1.2e-7, kFewUlp = 6e-7, kBelowNormal = 1e-37;

int64_t numel(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::string shape(const Dims& dims) {
  if (dims.empty()) return "scalar";
  std::string s;
  for (int64_t d : dims) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

template <class T>
std::string text(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    char s[32];
    std::snprintf(s, sizeof s, "%.9g", (double)v);
    return s;
  } else {
    return std::to_string(+v);
  }
}

// Outputs start as NaN (floats) or 0xA5 bytes (the rest; neither 0 nor 1 as a bool), so an element
// that the kernel does not write fails.
template <class T>
void poison(std::vector<T>& v) {
  if constexpr (std::is_floating_point_v<T>) sim_test::poison(v);
  else std::memset(v.data(), 0xA5, v.size() * sizeof(T));
}

template <class T>
bool same_bytes(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// Equal everywhere (a NaN where the reference has one); reports the first difference.
template <class T>
void expect_equal(const std::vector<T>& got, const std::vector<T>& want, const std::string& what) {
  for (size_t i = 0; i < want.size(); ++i) {
    bool same = got[i] == want[i];
    if constexpr (std::is_floating_point_v<T>) same = same || (std::isnan(got[i]) && std::isnan(want[i]));
    if (!same) {
      check(false, what + ": element " + std::to_string(i) + " is " + text(got[i]) + ", want " + text(want[i]));
      return;
    }
  }
}

// ONNX Round: halves to even.
double round_half_even(double v) {
  const double floor = std::floor(v), fraction = v - floor;
  if (fraction != 0.5) return fraction < 0.5 ? floor : floor + 1;
  return std::fmod(floor, 2.0) == 0 ? floor : floor + 1;
}

// An operand in the output's index space: per output axis the output's size, or 1 where it is
// broadcast (stride 0); stored row-major, or with its axes reversed (a transpose: not flat).
struct Operand {
  Operand(Dims dims, bool transposed = false) : dims(std::move(dims)), transposed(transposed) {}
  Dims dims;
  bool transposed;
};

std::string describe(const Operand& o) { return shape(o.dims) + (o.transposed ? " transposed" : ""); }

Dims storage_strides(const Operand& o) {
  Dims strides(o.dims.size());
  int64_t step = 1;
  for (size_t k = 0; k < o.dims.size(); ++k) {
    const size_t d = o.transposed ? k : o.dims.size() - 1 - k;
    strides[d] = o.dims[d] == 1 ? 0 : step;
    step *= o.dims[d];
  }
  return strides;
}

Strides kernel_strides(const Operand& o) {
  const Dims strides = storage_strides(o);
  Strides s;
  std::copy(strides.begin(), strides.end(), s.s);
  return s;
}

IndexSpace index_space(const Dims& dims) {
  IndexSpace space;
  space.rank = (int)dims.size();
  std::copy(dims.begin(), dims.end(), space.dims);
  return space;
}

// Where each output element, in order, reads the operand: an odometer over the output's index.
std::vector<int64_t> read_positions(const Dims& out, const Operand& o) {
  const Dims strides = storage_strides(o);
  Dims index(out.size(), 0);
  std::vector<int64_t> positions;
  for (int64_t i = 0; i < numel(out); ++i) {
    int64_t at = 0;
    for (size_t d = 0; d < out.size(); ++d) at += index[d] * strides[d];
    positions.push_back(at);
    for (size_t d = out.size(); d-- > 0;) {
      if (++index[d] < out[d]) break;
      index[d] = 0;
    }
  }
  return positions;
}

struct BinaryShape {
  Dims out;
  Operand a, b;
  std::string name() const { return shape(out) + " (a " + describe(a) + ", b " + describe(b) + ")"; }
};

// Both operands contiguous (the flat kernel), then broadcast and transposed ones (the strided kernel).
const std::vector<BinaryShape> kFlatShapes = {
    {{300}, {{300}}, {{300}}},
    {{2, 1, 150}, {{2, 1, 150}}, {{2, 1, 150}}},
    {{}, {{}}, {{}}},
};
const std::vector<BinaryShape> kStridedShapes = {
    {{260}, {{260}}, {{1}}},
    {{17, 19}, {{17, 1}}, {{1, 19}}},
    {{9, 31}, {{9, 31}, true}, {{1, 31}}},
    {{2, 3, 5, 9}, {{2, 1, 5, 1}}, {{1, 3, 1, 9}}},
};

// ---- unary_f32

struct UnaryCase {
  UnaryOp op;
  const char* name;
  float lo, hi;              // the random inputs' range
  std::vector<float> edges;  // inputs besides NaN, 0 and -0
  float alpha, beta;
  double rtol, atol;
  double (*reference)(double x, double alpha, double beta);
};

double clamp_or_nan(double v, double lo, double hi) { return std::isnan(v) ? v : std::min(std::max(v, lo), hi); }
double softplus(double x) { return std::log1p(std::exp(x)); }

// In UnaryOp's order; alpha / beta where the op has them (Selu: alpha, gamma), else ignored.
const std::vector<UnaryCase> kUnaryCases = {
    {UnaryOp::kRelu, "Relu", -5, 5, {}, 0, 0, kExact, 0, [](double x, double, double) { return x < 0 ? 0 : x; }},
    {UnaryOp::kSigmoid, "Sigmoid", -30, 30, {-90}, 0, 0, kFewUlp, kBelowNormal, [](double x, double, double) { return 1 / (1 + std::exp(-x)); }},
    {UnaryOp::kTanh, "Tanh", -10, 10, {}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::tanh(x); }},
    {UnaryOp::kErf, "Erf", -4, 4, {}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::erf(x); }},
    {UnaryOp::kSqrt, "Sqrt", 0, 100, {-1, INFINITY}, 0, 0, kRounded, 0, [](double x, double, double) { return std::sqrt(x); }},
    {UnaryOp::kExp, "Exp", -80, 80, {100, -110}, 0, 0, kFewUlp, kBelowNormal, [](double x, double, double) { return std::exp(x); }},
    {UnaryOp::kLog, "Log", 0, 100, {-1, 1, INFINITY}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::log(x); }},
    {UnaryOp::kAbs, "Abs", -5, 5, {}, 0, 0, kExact, 0, [](double x, double, double) { return std::fabs(x); }},
    {UnaryOp::kNeg, "Neg", -5, 5, {}, 0, 0, kExact, 0, [](double x, double, double) { return -x; }},
    {UnaryOp::kReciprocal, "Reciprocal", -5, 5, {}, 0, 0, kRounded, 0, [](double x, double, double) { return 1 / x; }},
    {UnaryOp::kFloor, "Floor", -5, 5, {-1.5f, 2, -2}, 0, 0, kExact, 0, [](double x, double, double) { return std::floor(x); }},
    {UnaryOp::kCeil, "Ceil", -5, 5, {-1.5f, 2, -2}, 0, 0, kExact, 0, [](double x, double, double) { return std::ceil(x); }},
    {UnaryOp::kLeakyRelu, "LeakyRelu", -5, 5, {}, 0.1f, 0, kRounded, 0, [](double x, double a, double) { return x < 0 ? a * x : x; }},
    {UnaryOp::kElu, "Elu", -5, 5, {-20}, 1.3f, 0, kFewUlp, 0, [](double x, double a, double) { return x < 0 ? a * std::expm1(x) : x; }},
    // x * alpha + beta cancels where it crosses 0: an absolute error of its two roundings.
    {UnaryOp::kHardSigmoid, "HardSigmoid", -5, 5, {-2.5f, 2.5f}, 0.2f, 0.5f, kRounded, 1.2e-7,
     [](double x, double a, double b) { return clamp_or_nan(a * x + b, 0, 1); }},
    // ONNX HardSwish: alpha 1/6, beta 0.5; the gate's roundings (x / 6 + 0.5 cancels at -3) times |x| <= 3.
    {UnaryOp::kHardSwish, "HardSwish", -5, 5, {-3, 3}, 0, 0, kRounded, 4e-7,
     [](double x, double, double) { return x * clamp_or_nan(x / 6 + 0.5, 0, 1); }},
    {UnaryOp::kSoftplus, "Softplus", -30, 30, {20, 20.5f, -100}, 0, 0, kFewUlp, kBelowNormal, [](double x, double, double) { return softplus(x); }},
    {UnaryOp::kSilu, "Silu", -30, 30, {}, 0, 0, kFewUlp, 0, [](double x, double, double) { return x / (1 + std::exp(-x)); }},
    {UnaryOp::kClip, "Clip", -5, 5, {-0.7f, 2.1f, -INFINITY, INFINITY}, -0.7f, 2.1f, kExact, 0,
     [](double x, double a, double b) { return clamp_or_nan(x, a, b); }},
    {UnaryOp::kSin, "Sin", -10, 10, {}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::sin(x); }},
    {UnaryOp::kCos, "Cos", -10, 10, {}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::cos(x); }},
    {UnaryOp::kSoftsign, "Softsign", -10, 10, {}, 0, 0, kFewUlp, 0, [](double x, double, double) { return x / (1 + std::fabs(x)); }},
    {UnaryOp::kIdentity, "Identity", -5, 5, {INFINITY}, 0, 0, kExact, 0, [](double x, double, double) { return x; }},
    {UnaryOp::kRound, "Round", -10, 10, {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 3.49999976f, 4194304.5f}, 0, 0, kExact, 0,
     [](double x, double, double) { return round_half_even(x); }},
    {UnaryOp::kSign, "Sign", -5, 5, {1e-40f, -1e-40f}, 0, 0, kExact, 0, [](double x, double, double) { return x > 0 ? 1 : x < 0 ? -1 : x; }},
    {UnaryOp::kTan, "Tan", -1.5f, 1.5f, {}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::tan(x); }},
    {UnaryOp::kAsin, "Asin", -1, 1, {1, -1, 1.5f}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::asin(x); }},
    {UnaryOp::kAcos, "Acos", -1, 1, {1, -1, 1.5f}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::acos(x); }},
    {UnaryOp::kAtan, "Atan", -10, 10, {}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::atan(x); }},
    {UnaryOp::kSinh, "Sinh", -10, 10, {}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::sinh(x); }},
    {UnaryOp::kCosh, "Cosh", -10, 10, {}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::cosh(x); }},
    {UnaryOp::kAsinh, "Asinh", -10, 10, {}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::asinh(x); }},
    {UnaryOp::kAcosh, "Acosh", 1, 10, {1, 0.5f}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::acosh(x); }},
    {UnaryOp::kAtanh, "Atanh", -1, 1, {1, -1, 2}, 0, 0, kFewUlp, 0, [](double x, double, double) { return std::atanh(x); }},
    {UnaryOp::kSelu, "Selu", -5, 5, {-20}, 1.67326319f, 1.05070102f, kFewUlp, 0,
     [](double x, double a, double g) { return g * (x > 0 ? x : a * std::expm1(x)); }},
    // ONNX: max(0, x) + min(0, alpha (exp(x / alpha) - 1)), written so that a NaN propagates.
    {UnaryOp::kCelu, "Celu", -5, 5, {-20}, 1.7f, 0, kFewUlp, 0, [](double x, double a, double) { return x > 0 ? x : a * std::expm1(x / a); }},
    {UnaryOp::kThresholdedRelu, "ThresholdedRelu", -5, 5, {0.9f}, 0.9f, 0, kExact, 0, [](double x, double a, double) { return x > a ? x : 0; }},
    {UnaryOp::kMish, "Mish", -30, 30, {20.5f, -100}, 0, 0, kFewUlp, kBelowNormal, [](double x, double, double) { return x * std::tanh(softplus(x)); }},
    {UnaryOp::kScale, "Scale", -5, 5, {INFINITY}, 0.25f, 0, kExact, 0, [](double x, double a, double) { return a * x; }},
    {UnaryOp::kGelu, "Gelu", -10, 10, {-30, 30}, 0, 0, kFewUlp, 1e-6,  // 1 + erf cancels for x << 0
     [](double x, double, double) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }},
    {UnaryOp::kGeluTanh, "GeluTanh", -10, 10, {-30, 30}, 0, 0, kFewUlp, 1e-6,
     [](double x, double, double) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }},
    {UnaryOp::kShrink, "Shrink", -5, 5, {0.7f, -0.7f}, 0.7f, 0.2f, kRounded, 0,
     [](double x, double l, double b) { return x < -l ? x + b : x > l ? x - b : 0; }},
};

void unary_case(const UnaryCase& c, int64_t n) {
  std::vector<float> x = sim_test::randoms(n, c.lo, c.hi);
  const std::vector<float> edges = [&] {
    std::vector<float> all = {NAN, 0.f, -0.f};
    all.insert(all.end(), c.edges.begin(), c.edges.end());
    return all;
  }();
  std::copy(edges.begin(), edges.end(), x.begin());
  std::vector<float> y(n);
  poison(y);
  const std::string what = std::string("unary ") + c.name + " " + std::to_string(n);
  sim_test::expect_code(unary_f32(c.op, c.alpha, c.beta, x.data(), y.data(), n, nullptr), StatusCode::kOk, what);
  std::vector<double> want(n);
  for (int64_t i = 0; i < n; ++i) {
    const double exact = c.reference(x[i], c.alpha, c.beta);
    want[i] = std::fabs(exact) > FLT_MAX ? std::copysign(INFINITY, exact) : exact;  // past float32's range: its infinity
  }
  sim_test::close(y, want, c.rtol, c.atol, what);
}

// ---- binary

double float_binary_reference(BinaryOp op, double a, double b) {
  const bool nan = std::isnan(a) || std::isnan(b);
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kDiv: return a / b;
    case BinaryOp::kPow: return std::pow(a, b);
    case BinaryOp::kMax: return nan ? NAN : std::max(a, b);
    case BinaryOp::kMin: return nan ? NAN : std::min(a, b);
    case BinaryOp::kPRelu: return a < 0 ? a * b : a;
    case BinaryOp::kFmod: return std::fmod(a, b);
    case BinaryOp::kMod:
    case BinaryOp::kAnd:
    case BinaryOp::kOr:
    case BinaryOp::kXor: break;  // not float ops
  }
  return NAN;
}

// Random operands with a NaN in each that has room for one; Pow's exponents include 2 (the kernel
// squares) and 3 (a negative base's odd power).
std::vector<float> float_operand(BinaryOp op, bool second, int64_t n) {
  std::vector<float> v = op == BinaryOp::kPow ? sim_test::randoms(n, second ? -3 : -1, second ? 3 : 4) : sim_test::randoms(n, -4, 4);
  if (op == BinaryOp::kPow && second)
    for (int64_t i = 0; i + 1 < n; i += 4) v[i] = 2, v[i + 1] = 3;
  if (n >= 8) v[second ? 6 : 5] = NAN;
  return v;
}

void float_binary_case(BinaryOp op, const char* name, const BinaryShape& s) {
  const std::vector<float> a = float_operand(op, false, numel(s.a.dims)), b = float_operand(op, true, numel(s.b.dims));
  std::vector<float> out(numel(s.out));
  poison(out);
  const std::string what = std::string("binary float32 ") + name + " " + s.name();
  sim_test::expect_code(binary(op, DType::kFloat32, a.data(), kernel_strides(s.a), b.data(), kernel_strides(s.b), out.data(), index_space(s.out), nullptr),
                StatusCode::kOk, what);
  const std::vector<int64_t> from_a = read_positions(s.out, s.a), from_b = read_positions(s.out, s.b);
  std::vector<double> want(out.size());
  for (size_t i = 0; i < want.size(); ++i) want[i] = float_binary_reference(op, a[from_a[i]], b[from_b[i]]);
  sim_test::close(out, want, op == BinaryOp::kPow ? kFewUlp : kRounded, 0, what);
}

// Exact in int64 for the operands below; Div truncates toward zero, and by 0 gives 0 (elementwise.cu's choice).
int64_t int_binary_reference(BinaryOp op, int64_t a, int64_t b) {
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kDiv: {
      if (b == 0) return 0;
      const int64_t magnitude = (a < 0 ? -a : a) / (b < 0 ? -b : b);
      return (a < 0) != (b < 0) ? -magnitude : magnitude;
    }
    case BinaryOp::kMax: return std::max(a, b);
    case BinaryOp::kMin: return std::min(a, b);
    case BinaryOp::kFmod:  // the dividend's sign, as C's %; by 0 gives 0
    case BinaryOp::kMod: {  // the divisor's sign, as Python's %
      if (b == 0) return 0;
      const int64_t truncated = a - int_binary_reference(BinaryOp::kDiv, a, b) * b;
      return op == BinaryOp::kMod && truncated != 0 && (truncated < 0) != (b < 0) ? truncated + b : truncated;
    }
    case BinaryOp::kPow:
    case BinaryOp::kPRelu:
    case BinaryOp::kAnd:
    case BinaryOp::kOr:
    case BinaryOp::kXor: break;
  }
  return 0;
}

// Operands whose exact results fit T; int64 ones past 32 bits. Divisors are small, zero included.
template <class T>
std::vector<T> int_operand(BinaryOp op, bool second, int64_t n) {
  const bool wide = sizeof(T) == 8;
  const bool divides = op == BinaryOp::kDiv || op == BinaryOp::kMod || op == BinaryOp::kFmod;
  const int64_t limit = divides && second ? 9 : op == BinaryOp::kMul ? (wide ? 1ll << 30 : 1 << 14) : (wide ? 1ll << 40 : 1 << 29);
  std::vector<T> v(n);
  for (T& x : v) x = (T)sim_test::random_int(-limit, limit);
  return v;
}

template <class T>
void int_binary_case(BinaryOp op, const char* name, DType dtype, const BinaryShape& s) {
  const std::vector<T> a = int_operand<T>(op, false, numel(s.a.dims)), b = int_operand<T>(op, true, numel(s.b.dims));
  std::vector<T> out(numel(s.out));
  poison(out);
  const std::string what = std::string("binary ") + dtype_name(dtype) + " " + name + " " + s.name();
  sim_test::expect_code(binary(op, dtype, a.data(), kernel_strides(s.a), b.data(), kernel_strides(s.b), out.data(), index_space(s.out), nullptr),
                StatusCode::kOk, what);
  const std::vector<int64_t> from_a = read_positions(s.out, s.a), from_b = read_positions(s.out, s.b);
  std::vector<T> want(out.size());
  for (size_t i = 0; i < want.size(); ++i) want[i] = (T)int_binary_reference(op, a[from_a[i]], b[from_b[i]]);
  expect_equal(out, want, what);
}

// ---- compare

// Few distinct values, so that ties are common: floats with a NaN, int64s that may agree in their
// low 32 bits only.
template <class T>
std::vector<T> compare_operand(int64_t n) {
  std::vector<T> v(n);
  for (T& x : v) x = sizeof(T) == 8 ? (T)(sim_test::random_int(-1, 1) * (1ll << 32) + sim_test::random_int(-2, 2)) : (T)sim_test::random_int(-3, 3);
  if constexpr (std::is_floating_point_v<T>) v[1] = NAN;
  return v;
}

template <class T>
BoolByte compare_reference(CompareOp op, T x, T y) {
  switch (op) {
    case CompareOp::kEqual: return x == y;
    case CompareOp::kLess: return x < y;
    case CompareOp::kLessOrEqual: return x <= y;
    case CompareOp::kGreater: return x > y;
    case CompareOp::kGreaterOrEqual: return x >= y;
  }
  return 2;
}

template <class T>
void compare_case(CompareOp op, const char* name, DType dtype, const BinaryShape& s) {
  const std::vector<T> a = compare_operand<T>(numel(s.a.dims)), b = compare_operand<T>(numel(s.b.dims));
  std::vector<BoolByte> out(numel(s.out));
  poison(out);
  const std::string what = std::string("compare ") + dtype_name(dtype) + " " + name + " " + s.name();
  sim_test::expect_code(compare(op, dtype, a.data(), kernel_strides(s.a), b.data(), kernel_strides(s.b), out.data(), index_space(s.out), nullptr),
                StatusCode::kOk, what);
  const std::vector<int64_t> from_a = read_positions(s.out, s.a), from_b = read_positions(s.out, s.b);
  std::vector<BoolByte> want(out.size());
  for (size_t i = 0; i < want.size(); ++i) want[i] = compare_reference(op, a[from_a[i]], b[from_b[i]]);
  expect_equal(out, want, what);
}

// ---- logical ops and classifications (bool bytes out)

void logic_case(BinaryOp op, const char* name, const BinaryShape& s) {
  auto operand = [](int64_t n) {
    std::vector<BoolByte> v(n);
    for (BoolByte& x : v) x = (BoolByte)sim_test::random_int(0, 1);
    return v;
  };
  const std::vector<BoolByte> a = operand(numel(s.a.dims)), b = operand(numel(s.b.dims));
  std::vector<BoolByte> out(numel(s.out));
  poison(out);
  const std::string what = std::string("binary bool ") + name + " " + s.name();
  sim_test::expect_code(binary(op, DType::kBool, a.data(), kernel_strides(s.a), b.data(), kernel_strides(s.b), out.data(), index_space(s.out), nullptr),
                StatusCode::kOk, what);
  const std::vector<int64_t> from_a = read_positions(s.out, s.a), from_b = read_positions(s.out, s.b);
  std::vector<BoolByte> want(out.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const bool x = a[from_a[i]], y = b[from_b[i]];
    want[i] = op == BinaryOp::kAnd ? (x && y) : op == BinaryOp::kOr ? (x || y) : (x != y);
  }
  expect_equal(out, want, what);
}

void to_bool_cases(int64_t n) {
  std::vector<BoolByte> flags(n), out(n), want(n);
  for (BoolByte& f : flags) f = (BoolByte)sim_test::random_int(0, 1);
  poison(out);
  sim_test::expect_code(to_bool(ToBoolOp::kNot, flags.data(), out.data(), n, nullptr), StatusCode::kOk, "Not");
  for (int64_t i = 0; i < n; ++i) want[i] = !flags[i];
  expect_equal(out, want, "Not");

  std::vector<float> x = sim_test::randoms(n, -FLT_MAX, FLT_MAX);
  const float edges[] = {NAN, -NAN, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 0.f, -0.f, 1e-45f};
  std::copy(std::begin(edges), std::end(edges), x.begin());
  const std::pair<ToBoolOp, const char*> ops[] = {{ToBoolOp::kIsNaN, "IsNaN"}, {ToBoolOp::kIsInf, "IsInf"},
                                                  {ToBoolOp::kIsPosInf, "IsInf(+)"}, {ToBoolOp::kIsNegInf, "IsInf(-)"}};
  for (const auto& [op, name] : ops) {
    poison(out);
    sim_test::expect_code(to_bool(op, x.data(), out.data(), n, nullptr), StatusCode::kOk, name);
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      want[i] = op == ToBoolOp::kIsNaN ? std::isnan(v) : op == ToBoolOp::kIsInf ? std::isinf(v)
              : op == ToBoolOp::kIsPosInf ? (std::isinf(v) && v > 0) : (std::isinf(v) && v < 0);
    }
    expect_equal(out, want, name);
  }
}

// ---- where

struct WhereShape {
  Dims out;
  Operand cond, x, y;
};

template <class T>
void where_case(const WhereShape& s) {
  std::vector<BoolByte> cond(numel(s.cond.dims));
  for (BoolByte& c : cond) c = (BoolByte)sim_test::random_int(0, 1);
  std::vector<T> x(numel(s.x.dims)), y(numel(s.y.dims)), out(numel(s.out));
  for (T& v : x) v = (T)sim_test::random_int(INT64_MIN, INT64_MAX);
  for (T& v : y) v = (T)sim_test::random_int(INT64_MIN, INT64_MAX);
  poison(out);
  const std::string what = "where " + std::to_string(sizeof(T)) + "-byte " + shape(s.out) + " (cond " + describe(s.cond) + ", x " +
                           describe(s.x) + ", y " + describe(s.y) + ")";
  sim_test::expect_code(where(sizeof(T), cond.data(), kernel_strides(s.cond), x.data(), kernel_strides(s.x), y.data(), kernel_strides(s.y), out.data(),
                      index_space(s.out), nullptr),
                StatusCode::kOk, what);
  const std::vector<int64_t> from_c = read_positions(s.out, s.cond), from_x = read_positions(s.out, s.x), from_y = read_positions(s.out, s.y);
  std::vector<T> want(out.size());
  for (size_t i = 0; i < want.size(); ++i) want[i] = cond[from_c[i]] ? x[from_x[i]] : y[from_y[i]];
  expect_equal(out, want, what);
}

// ---- cast

// Cast's contract on one value: to bool is != 0; integers to float round to nearest (one rounding:
// a long double holds any int64); floats truncate toward zero; integers narrow modulo 2^32.
template <class To, class From>
To cast_reference(From x, DType to) {
  if (to == DType::kBool) return To(x != From(0));
  if constexpr (std::is_floating_point_v<To>) {
    return (To)(long double)x;
  } else if constexpr (std::is_floating_point_v<From>) {
    return (To)std::trunc((double)x);
  } else {
    const int64_t low = sizeof(To) == 8 ? (int64_t)x : (int64_t)((uint64_t)(int64_t)x & 0xffffffffu);
    return (To)(sizeof(To) == 4 && low >= (1ll << 31) ? low - (1ll << 32) : low);
  }
}

// Random inputs that the cast to `to` is defined on (floats within the target's range), edges first.
template <class From>
std::vector<From> cast_inputs(DType to, int64_t n) {
  std::vector<From> v(n);
  std::vector<From> edges;
  if constexpr (std::is_same_v<From, BoolByte>) {
    for (From& x : v) x = (From)sim_test::random_int(0, 1);
  } else if constexpr (std::is_floating_point_v<From>) {
    const std::vector<float> r = sim_test::randoms(n, -3000, 3000);
    v.assign(r.begin(), r.end());
    if constexpr (std::is_same_v<From, double>)  // doubles that float32 rounds (to even, to 0, to infinity)
      for (size_t i = 0; i < v.size(); i += 3) v[i] += 1e-9 * (double)i;
    edges = {0.f, -0.f, 0.5f, -0.5f, 0.99999994f, -1.99999988f, 2.5f, -7.75f, 16777216.f, 2147483520.f, -2147483648.f};
    if constexpr (std::is_same_v<From, double>)
      if (to == DType::kFloat32 || to == DType::kBool) edges.insert(edges.end(), {1.0000000596046448, 1e-300, 3.5e38, -1e39});
    if (to == DType::kInt64) edges.insert(edges.end(), {1e15f, -9.2e18f});
    if (to == DType::kBool || to == DType::kFloat32) edges.insert(edges.end(), {NAN, INFINITY, -INFINITY, FLT_TRUE_MIN});
  } else {
    using Limits = std::numeric_limits<From>;
    for (From& x : v) x = (From)sim_test::random_int(Limits::min(), Limits::max());
    edges = {0, 1, -1, Limits::min(), Limits::max(), 16777217, -16777219};
    if constexpr (sizeof(From) == 8) edges.insert(edges.end(), {(1ll << 32) + 5, -(1ll << 32) - 7, (1ll << 53) + 1, (1ll << 62) + (1ll << 38) + 1});
  }
  std::copy(edges.begin(), edges.end(), v.begin());
  return v;
}

template <class From, class To>
void cast_case(DType from, DType to, int64_t n) {
  const std::vector<From> x = cast_inputs<From>(to, n);
  std::vector<To> y(n);
  poison(y);
  const std::string what = std::string("cast ") + dtype_name(from) + " -> " + dtype_name(to) + " " + std::to_string(n);
  check(cast_supported(from, to), what + ": not supported");
  sim_test::expect_code(cast(from, x.data(), to, y.data(), n, nullptr), StatusCode::kOk, what);
  std::vector<To> want(n);
  for (int64_t i = 0; i < n; ++i) want[i] = cast_reference<To>(x[i], to);
  expect_equal(y, want, what);
}

template <class From>
void casts_from(DType from, int64_t n) {
  cast_case<From, float>(from, DType::kFloat32, n);
  cast_case<From, double>(from, DType::kFloat64, n);
  cast_case<From, int32_t>(from, DType::kInt32, n);
  cast_case<From, int64_t>(from, DType::kInt64, n);
  cast_case<From, BoolByte>(from, DType::kBool, n);
}

// ---- float_to_16bit

// A 16-bit binary format: `mantissa` stored bits, exponent bias `bias`.
struct Format16 {
  const char* name;
  GemmElem elem;
  int mantissa, bias;
  uint16_t infinity() const { return (uint16_t)(((1 << (15 - mantissa)) - 1) << mantissa); }
  bool is_nan(uint16_t bits) const { return (bits & infinity()) == infinity() && (bits & ((1 << mantissa) - 1)) != 0; }
};
constexpr Format16 kHalf{"float16", GemmElem::kF16, 10, 15}, kBFloat16{"bfloat16", GemmElem::kBF16, 7, 127};

// x rounded to nearest even in `f`, as its bits, in float64 arithmetic (any NaN stands for NaN).
uint16_t round_to(const Format16& f, float x) {
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  if (std::isnan(x)) return sign | f.infinity() | 1;
  if (std::isinf(x)) return sign | f.infinity();
  const double magnitude = std::fabs((double)x), smallest_normal = std::ldexp(1.0, 1 - f.bias);
  const int exponent = std::max(magnitude == 0 ? 0 : std::ilogb(magnitude), 1 - f.bias);
  const double step = std::ldexp(1.0, exponent - f.mantissa);
  const double rounded = round_half_even(magnitude / step) * step;
  if (rounded >= std::ldexp(2.0, f.bias)) return sign | f.infinity();
  if (rounded < smallest_normal) return sign | (uint16_t)(rounded / std::ldexp(smallest_normal, -f.mantissa));
  const int e = std::ilogb(rounded);
  return sign | (uint16_t)((e + f.bias) << f.mantissa) | (uint16_t)(rounded / std::ldexp(1.0, e - f.mantissa) - (1 << f.mantissa));
}

float float_from_bits(uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, 4);
  return x;
}

// Every class of float: the edges, random bit patterns (NaNs, infinities, subnormals), magnitudes
// from 2^-30 to 2^17, and exact ties between neighbours of float16 (low 13 bits 0x1000, in its
// normal range) and of bfloat16 (low 16 bits 0x8000).
std::vector<float> to_16bit_inputs(int64_t n) {
  const float edges[] = {0.f, -0.f, 1.f, 65504.f, std::nextafter(65520.f, 0.f), 65520.f, -65520.f, 0x1p-14f, 0x1p-24f, 0x1p-25f, 0x3p-25f, 0x1p-26f,
                         1 + 0x1p-11f, 1 + 0x3p-11f, -(1 + 0x1p-11f), 1 + 0x1p-8f, 1 + 0x3p-8f, float_from_bits(0x7f7f8000), INFINITY, -INFINITY,
                         NAN, -NAN, FLT_MAX, -FLT_MAX, FLT_MIN, FLT_TRUE_MIN};
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = (uint32_t)sim_test::random_int(0, UINT32_MAX);
    const float sign = bits & 1 ? -1.f : 1.f, magnitude = std::exp2(sim_test::randoms(1, -30, 17)[0]);
    switch (i % 4) {
      case 0: x[i] = float_from_bits(bits); break;
      case 1: x[i] = sign * magnitude; break;
      case 2: x[i] = float_from_bits(((uint32_t)sim_test::random_int(0x38800000, 0x477fe000) & ~0x1fffu) | 0x1000u | (bits & 0x80000000u)); break;
      case 3: x[i] = float_from_bits((bits & 0xffff0000u) | 0x8000u); break;
    }
  }
  std::copy(std::begin(edges), std::end(edges), x.begin());
  return x;
}

void to_16bit_case(const Format16& f, int64_t n) {
  const std::vector<float> x = to_16bit_inputs(n);
  std::vector<uint16_t> y(n);
  poison(y);
  const std::string what = std::string("float_to_16bit ") + f.name + " " + std::to_string(n);
  sim_test::expect_code(float_to_16bit(x.data(), f.elem, y.data(), n, nullptr), StatusCode::kOk, what);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t want = round_to(f, x[i]);
    if (f.is_nan(want) ? !f.is_nan(y[i]) : y[i] != want) {
      char line[160];
      std::snprintf(line, sizeof line, ": element %lld, %.9g (0x%08x), is 0x%04x, want 0x%04x", (long long)i, (double)x[i],
                    std::bit_cast<uint32_t>(x[i]), y[i], want);
      check(false, what + line);
      return;
    }
  }
}

// ---- size 0, refusals and the impossible launch: the outputs stay as they were

void empty_and_refused_cases() {
  std::vector<float> a = sim_test::randoms(8), b = sim_test::randoms(8), out(8);
  std::vector<BoolByte> cond(8, 1), flags(8);
  poison(out);
  poison(flags);
  const std::vector<float> untouched = out;
  const std::vector<BoolByte> untouched_flags = flags;
  const Operand full({3, 0, 5});
  const Strides s = kernel_strides(full);
  const IndexSpace empty = index_space({3, 0, 5}), negative = index_space({-3});
  IndexSpace too_deep = index_space({1});
  too_deep.rank = kMaxDims + 1;
  const Strides contiguous = kernel_strides(Operand({8}));

  sim_test::expect_code(unary_f32(UnaryOp::kExp, 0, 0, a.data(), out.data(), 0, nullptr), StatusCode::kOk, "unary size 0");
  sim_test::expect_code(binary(BinaryOp::kAdd, DType::kFloat32, a.data(), s, b.data(), s, out.data(), empty, nullptr), StatusCode::kOk, "binary 3x0x5");
  sim_test::expect_code(compare(CompareOp::kLess, DType::kFloat32, a.data(), s, b.data(), s, flags.data(), empty, nullptr), StatusCode::kOk, "compare 3x0x5");
  sim_test::expect_code(where(4, cond.data(), s, a.data(), s, b.data(), s, out.data(), empty, nullptr), StatusCode::kOk, "where 3x0x5");
  sim_test::expect_code(cast(DType::kFloat32, a.data(), DType::kBool, flags.data(), 0, nullptr), StatusCode::kOk, "cast size 0");
  sim_test::expect_code(float_to_16bit(a.data(), GemmElem::kF16, out.data(), 0, nullptr), StatusCode::kOk, "float_to_16bit size 0");

  sim_test::expect_code(binary(BinaryOp::kPow, DType::kInt32, a.data(), contiguous, b.data(), contiguous, out.data(), index_space({8}), nullptr),
                StatusCode::kType, "binary int32 Pow");
  sim_test::expect_code(binary(BinaryOp::kAnd, DType::kFloat32, a.data(), contiguous, b.data(), contiguous, out.data(), index_space({8}), nullptr),
                StatusCode::kType, "binary float32 And");
  sim_test::expect_code(binary(BinaryOp::kMod, DType::kFloat32, a.data(), contiguous, b.data(), contiguous, out.data(), index_space({8}), nullptr),
                StatusCode::kType, "binary float32 Mod (fmod = 0)");
  sim_test::expect_code(binary(BinaryOp::kAdd, DType::kBool, a.data(), contiguous, b.data(), contiguous, out.data(), index_space({8}), nullptr),
                StatusCode::kType, "binary bool Add");
  sim_test::expect_code(binary(BinaryOp::kAdd, DType::kFloat16, a.data(), contiguous, b.data(), contiguous, out.data(), index_space({8}), nullptr),
                StatusCode::kType, "binary float16");
  sim_test::expect_code(binary(BinaryOp::kAdd, DType::kFloat32, a.data(), s, b.data(), s, out.data(), too_deep, nullptr), StatusCode::kInvalidArgument,
                "binary rank 9");
  sim_test::expect_code(compare(CompareOp::kEqual, DType::kBool, a.data(), contiguous, b.data(), contiguous, flags.data(), index_space({8}), nullptr),
                StatusCode::kType, "compare bool");
  sim_test::expect_code(where(3, cond.data(), contiguous, a.data(), contiguous, b.data(), contiguous, out.data(), index_space({2}), nullptr),
                StatusCode::kType, "where 3-byte elements");
  check(cast_supported(DType::kFloat32, DType::kFloat16) && !cast_supported(DType::kFloat16, DType::kInt32) &&
            !cast_supported(DType::kUint8, DType::kFloat32),
        "cast_supported: 16-bit floats to and from float32 only, no uint8");
  sim_test::expect_code(cast(DType::kFloat16, a.data(), DType::kInt32, out.data(), 8, nullptr), StatusCode::kType, "cast float16 to int32");
  sim_test::expect_code(float_to_16bit(a.data(), GemmElem::kF32, out.data(), 8, nullptr), StatusCode::kInvalidArgument, "float_to_16bit to float32");

  // A negative count makes a grid of no blocks (or more than 2^31): the device refuses the launch.
  sim_test::expect_code(cast(DType::kFloat32, a.data(), DType::kFloat32, out.data(), -1, nullptr), StatusCode::kCuda, "cast of -1 elements");
  sim_test::expect_code(binary(BinaryOp::kAdd, DType::kFloat32, a.data(), contiguous, b.data(), contiguous, out.data(), negative, nullptr), StatusCode::kCuda,
                "binary over -3 elements");
  check(same_bytes(out, untouched) && same_bytes(flags, untouched_flags), "size 0, refused or failed launches wrote to their outputs");
}

// Cast float32 -> float16 / bfloat16 gives float_to_16bit's bits (checked against an exact reference
// by to_16bit_case), and back to float32 gives each 16-bit value exactly (it fits a float).
void cast_16bit_case(const Format16& f, DType dtype, int64_t n) {
  const std::vector<float> x = sim_test::randoms(n, -70000, 70000);
  std::vector<uint16_t> narrow(n), want(n);
  std::vector<float> wide(n), rounded(n);
  poison(narrow);
  poison(wide);
  const std::string what = std::string("cast float32 <-> ") + f.name;
  check(cast_supported(DType::kFloat32, dtype) && cast_supported(dtype, DType::kFloat32), what + ": not supported");
  sim_test::expect_code(cast(DType::kFloat32, x.data(), dtype, narrow.data(), n, nullptr), StatusCode::kOk, what);
  sim_test::expect_code(float_to_16bit(x.data(), f.elem, want.data(), n, nullptr), StatusCode::kOk, what + " reference");
  expect_equal(narrow, want, what + " (narrowing)");
  sim_test::expect_code(cast(dtype, narrow.data(), DType::kFloat32, wide.data(), n, nullptr), StatusCode::kOk, what + " back");
  for (int64_t i = 0; i < n; ++i) {
    // The 16-bit value's float32 bits: float16 through its exponent and mantissa, bfloat16 shifted.
    const uint16_t h = narrow[(size_t)i];
    if (dtype == DType::kBFloat16) {
      const uint32_t bits = (uint32_t)h << 16;
      std::memcpy(&rounded[(size_t)i], &bits, 4);
    } else {
      const int e = (h >> 10) & 31, m = h & 1023;
      const float mag = e == 31 ? (m ? NAN : INFINITY) : e == 0 ? std::ldexp((float)m, -24) : std::ldexp((float)(m | 1024), e - 25);
      rounded[(size_t)i] = (h & 0x8000) ? -mag : mag;
    }
  }
  expect_equal(wide, rounded, what + " (widening)");
}

}  // namespace

int main() {
  check(kUnaryCases.size() == (size_t)UnaryOp::kShrink + 1, "a UnaryOp without a case");
  for (size_t i = 0; i < kUnaryCases.size(); ++i) {
    check(kUnaryCases[i].op == (UnaryOp)i, std::string("unary cases out of UnaryOp's order at ") + kUnaryCases[i].name);
    unary_case(kUnaryCases[i], 300);  // two blocks, the second part full
  }

  const std::pair<BinaryOp, const char*> float_ops[] = {{BinaryOp::kAdd, "Add"}, {BinaryOp::kSub, "Sub"}, {BinaryOp::kMul, "Mul"},
                                                         {BinaryOp::kDiv, "Div"}, {BinaryOp::kPow, "Pow"}, {BinaryOp::kMax, "Max"},
                                                         {BinaryOp::kMin, "Min"}, {BinaryOp::kPRelu, "PRelu"}, {BinaryOp::kFmod, "Fmod"}};
  for (const auto& [op, name] : float_ops) {
    for (const BinaryShape& s : kFlatShapes) float_binary_case(op, name, s);
    for (const BinaryShape& s : kStridedShapes) float_binary_case(op, name, s);
  }
  const std::vector<BinaryShape> int_shapes = {kFlatShapes[0], kStridedShapes[2], kStridedShapes[3]};
  for (const auto& [op, name] : float_ops) {
    if (op == BinaryOp::kPow || op == BinaryOp::kPRelu) continue;  // float only
    for (const BinaryShape& s : int_shapes) {
      int_binary_case<int32_t>(op, name, DType::kInt32, s);
      int_binary_case<int64_t>(op, name, DType::kInt64, s);
    }
  }
  for (const BinaryShape& s : int_shapes) {
    int_binary_case<int32_t>(BinaryOp::kMod, "Mod", DType::kInt32, s);
    int_binary_case<int64_t>(BinaryOp::kMod, "Mod", DType::kInt64, s);
  }
  const std::pair<BinaryOp, const char*> logic_ops[] = {{BinaryOp::kAnd, "And"}, {BinaryOp::kOr, "Or"}, {BinaryOp::kXor, "Xor"}};
  for (const auto& [op, name] : logic_ops) {
    logic_case(op, name, kFlatShapes[0]);
    logic_case(op, name, kStridedShapes[3]);
  }
  to_bool_cases(300);

  const std::pair<CompareOp, const char*> compare_ops[] = {{CompareOp::kEqual, "Equal"}, {CompareOp::kLess, "Less"},
                                                            {CompareOp::kLessOrEqual, "LessOrEqual"}, {CompareOp::kGreater, "Greater"},
                                                            {CompareOp::kGreaterOrEqual, "GreaterOrEqual"}};
  for (const auto& [op, name] : compare_ops) {
    compare_case<float>(op, name, DType::kFloat32, kStridedShapes[3]);
    compare_case<int32_t>(op, name, DType::kInt32, kStridedShapes[3]);
    compare_case<int64_t>(op, name, DType::kInt64, kStridedShapes[3]);
  }
  compare_case<float>(CompareOp::kLess, "Less", DType::kFloat32, kStridedShapes[2]);

  const WhereShape where_shapes[] = {{{2, 3, 5, 9}, {{2, 1, 5, 9}}, {{1, 3, 5, 1}}, {{1, 1, 1, 9}}},
                                     {{13, 23}, {{13, 23}}, {{13, 23}, true}, {{1, 1}}}};
  for (const WhereShape& s : where_shapes) {
    where_case<uint8_t>(s);
    where_case<uint16_t>(s);
    where_case<uint32_t>(s);
    where_case<uint64_t>(s);
  }

  casts_from<float>(DType::kFloat32, 300);
  casts_from<double>(DType::kFloat64, 300);
  casts_from<int32_t>(DType::kInt32, 300);
  casts_from<int64_t>(DType::kInt64, 300);
  casts_from<BoolByte>(DType::kBool, 300);

  cast_16bit_case(kHalf, DType::kFloat16, 1000);
  cast_16bit_case(kBFloat16, DType::kBFloat16, 1000);

  to_16bit_case(kHalf, 1000);  // four blocks, the last part full
  to_16bit_case(kBFloat16, 1000);
  to_16bit_case(kHalf, 4096 * 256 + 1000);  // the grid's 4096 blocks, and a second grid-stride step

  empty_and_refused_cases();
  return sim_test::finish("elementwise_sim");
}
