// native/kernels/cuda/movement.cu run on the host through cuda_sim (its own launchers, translated):
// strided_copy of 1, 2, 4 and 8-byte elements over index spaces of rank 0..kMaxDims that permute,
// step through, reverse and broadcast (stride 0) the axes of a contiguous source, checked exactly
// against the source read through its multi-index; strided_convert from float32 to float16 and
// bfloat16 against a round-to-nearest-even search of the target's representable values (ties,
// subnormals, overflow, infinities, NaN) and back against the formats' definitions; gather with
// int32 and int64 indices, negative ones counted from the end, out-of-range ones zeroed and
// flagged. Sizes cross the 256-thread blocks; empty spaces write nothing; bad arguments give their
// Status. Built and run by data-kernels-sim.test.ts.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/cuda/movement.cuh"
#include "sim_test.h"

using namespace hs;
using namespace hs::cuda;
using sim_test::check;

namespace {

std::string shape(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (int64_t d : dims) s += (s.size() > 1 ? "x" : "") + std::to_string(d);
  return s + "]";
}

// Unsigned integers of each element width stand for every dtype of that width; all-ones bits mark
// an element not written, so inputs stay below them.
template <class T>
constexpr T kUnwritten = std::numeric_limits<T>::max();

template <class T>
std::vector<T> random_elements(size_t n) {
  std::vector<T> v(n);
  for (T& x : v) x = (T)sim_test::random_int(0, (int64_t)std::min<uint64_t>(kUnwritten<T> - 1, INT64_MAX));
  return v;
}

// Reports the first element that differs from the reference.
template <class T>
void expect_equal(const std::vector<T>& got, const std::vector<T>& want, const std::string& what) {
  const auto diff = std::mismatch(got.begin(), got.end(), want.begin());
  if (diff.first == got.end()) return;
  const size_t at = (size_t)(diff.first - got.begin());
  check(false, what + ": element " + std::to_string(at) + " is " + std::to_string((uint64_t)got[at]) + ", want " +
                   std::to_string((uint64_t)want[at]));
}

// An index space reading a contiguous source tensor: output axis d walks source axis
// source_axis[d] from `start` in steps of `step` (0 broadcasts one element, negative reverses).
struct View {
  std::vector<int64_t> dims, source_dims;
  std::vector<int> source_axis;
  std::vector<int64_t> start, step;

  int64_t numel() const { return std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>()); }
  int64_t source_numel() const {
    return std::accumulate(source_dims.begin(), source_dims.end(), int64_t{1}, std::multiplies<>());
  }
};

// Output axis d reads source axis perm[d] as modes[d] says: 'p' plain, 's' every third element, 'r'
// reversed, 'b' broadcast; the source axis has up to max_unread unread elements either side.
View make_view(const std::vector<int64_t>& dims, const std::vector<int>& perm, const std::string& modes, int64_t max_unread = 2) {
  View v{dims, std::vector<int64_t>(dims.size()), perm, std::vector<int64_t>(dims.size()), std::vector<int64_t>(dims.size())};
  for (size_t d = 0; d < dims.size(); ++d) {
    const int64_t before = sim_test::random_int(0, max_unread), after = sim_test::random_int(0, max_unread);
    const int64_t step = modes[d] == 's' ? 3 : modes[d] == 'r' ? -1 : modes[d] == 'b' ? 0 : 1;
    const int64_t span = step == 0 ? 1 : std::abs(step) * (dims[d] - 1) + 1;
    v.source_dims[(size_t)perm[d]] = before + span + after;
    v.start[d] = step < 0 ? before + span - 1 : before;
    v.step[d] = step;
  }
  return v;
}

View random_view(int rank) {
  std::vector<int64_t> dims((size_t)rank);
  const int64_t largest = rank == 1 ? 600 : rank == 2 ? 40 : 4;
  int64_t budget = 600;  // elements, so that a launch stays a few blocks
  for (int64_t& d : dims) budget /= (d = sim_test::random_int(1, std::clamp<int64_t>(budget, 1, largest)));
  std::vector<int> perm((size_t)rank);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), sim_test::rng());
  std::string modes;
  for (int d = 0; d < rank; ++d) modes += "psrb"[sim_test::random_int(0, 3)];
  return make_view(dims, perm, modes);
}

std::string describe(const View& v) {
  std::string perm, steps;
  for (size_t d = 0; d < v.dims.size(); ++d) {
    perm += std::to_string(v.source_axis[d]);
    steps += (d ? "," : "") + std::to_string(v.step[d]);
  }
  return shape(v.dims) + " from " + shape(v.source_dims) + " axes " + perm + " steps " + steps;
}

// The source offsets of the output elements in order, from each element's source multi-index.
std::vector<int64_t> source_offsets(const View& v) {
  const size_t rank = v.dims.size();
  std::vector<int64_t> offsets, index(rank, 0), source_index(rank);
  for (int64_t i = 0; i < v.numel(); ++i) {
    for (size_t d = 0; d < rank; ++d) source_index[(size_t)v.source_axis[d]] = v.start[d] + v.step[d] * index[d];
    int64_t offset = 0;
    for (size_t a = 0; a < rank; ++a) offset = offset * v.source_dims[a] + source_index[a];
    offsets.push_back(offset);
    for (size_t d = rank; d-- > 0 && ++index[d] == v.dims[d];) index[d] = 0;
  }
  return offsets;
}

// The launcher's description of the view: the first element read and the element strides.
struct Launch {
  IndexSpace space;
  Strides strides;
  int64_t first = 0;
};

Launch launch_of(const View& v) {
  const size_t rank = v.dims.size();
  std::vector<int64_t> contiguous(rank, 1);
  for (size_t a = rank; a-- > 1;) contiguous[a - 1] = contiguous[a] * v.source_dims[a];
  Launch l;
  l.space.rank = (int)rank;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t axis_stride = contiguous[(size_t)v.source_axis[d]];
    l.space.dims[d] = v.dims[d];
    l.strides.s[d] = v.step[d] * axis_stride;
    l.first += v.start[d] * axis_stride;
  }
  return l;
}

template <class T>
void copy_case(const View& v) {
  const std::string what = "strided_copy " + std::to_string(sizeof(T)) + "-byte " + describe(v);
  const auto source = random_elements<T>((size_t)v.source_numel());
  std::vector<T> out((size_t)v.numel(), kUnwritten<T>), want;
  for (int64_t offset : source_offsets(v)) want.push_back(source[(size_t)offset]);
  const Launch l = launch_of(v);
  const Status status = strided_copy(sizeof(T), source.data() + l.first, l.strides, out.data(), l.space, nullptr);
  check(status.is_ok(), what + ": " + status.message());
  expect_equal(out, want, what);
}

template <class T>
void copy_cases() {
  copy_case<T>(make_view({}, {}, ""));                              // rank 0: one element
  copy_case<T>(make_view({1000}, {0}, "p"));                        // four blocks, the last partial
  copy_case<T>(make_view({37, 29}, {1, 0}, "pp"));                  // transpose
  copy_case<T>(make_view({2, 5, 3, 8}, {0, 2, 1, 3}, "pppp"));      // [B, S, H, D] to [B, H, S, D]
  copy_case<T>(make_view({40, 7}, {0, 1}, "sr"));                   // slice with step 3, reversed slice
  copy_case<T>(make_view({5, 7, 3}, {0, 1, 2}, "bpb"));             // expand [1, 7, 1]
  copy_case<T>(make_view({2, 3, 2, 2, 3, 2, 2, 2}, {7, 3, 0, 5, 1, 6, 2, 4}, "psrbprsp"));  // kMaxDims
  for (int rank = 1; rank <= kMaxDims; ++rank) copy_case<T>(random_view(rank));
}

// Empty spaces write nothing, even through null pointers; a rank or element size out of range and a
// null operand give their Status.
void copy_argument_cases() {
  std::vector<uint32_t> in(4, 7), out(4, kUnwritten<uint32_t>);
  IndexSpace empty;
  empty.rank = 3;
  empty.dims[0] = 4, empty.dims[1] = 0, empty.dims[2] = 5;
  const Strides strides;
  check(strided_copy(4, in.data(), strides, out.data(), empty, nullptr).is_ok(), "strided_copy of an empty space");
  check(strided_copy(4, nullptr, strides, nullptr, empty, nullptr).is_ok(), "strided_copy of an empty space, null operands");
  check(strided_convert(DType::kFloat32, in.data(), strides, DType::kFloat16, out.data(), empty, nullptr).is_ok(),
        "strided_convert of an empty space");
  check(out == std::vector<uint32_t>(4, kUnwritten<uint32_t>), "empty spaces wrote nothing");

  IndexSpace four;
  four.rank = 1, four.dims[0] = 4;
  Strides unit;
  unit.s[0] = 1;
  IndexSpace too_deep = four, negative = four;
  too_deep.rank = kMaxDims + 1, negative.rank = -1;
  sim_test::expect_code(strided_copy(4, in.data(), unit, out.data(), too_deep, nullptr), StatusCode::kShape, "strided_copy rank 9");
  sim_test::expect_code(strided_copy(4, in.data(), unit, out.data(), negative, nullptr), StatusCode::kShape, "strided_copy rank -1");
  for (size_t size : {0, 3, 16})
    sim_test::expect_code(strided_copy(size, in.data(), unit, out.data(), four, nullptr), StatusCode::kType,
                "strided_copy element size " + std::to_string(size));
  sim_test::expect_code(strided_copy(4, nullptr, unit, out.data(), four, nullptr), StatusCode::kInvalidArgument, "strided_copy null in");
  sim_test::expect_code(strided_copy(4, in.data(), unit, nullptr, four, nullptr), StatusCode::kInvalidArgument, "strided_copy null out");
  check(out == std::vector<uint32_t>(4, kUnwritten<uint32_t>), "refused copies wrote nothing");
}

// A 16-bit float format: sign, exp_bits of exponent, mant_bits of mantissa.
struct Format {
  const char* name;
  DType dtype;
  int exp_bits, mant_bits;

  uint16_t inf_bits() const { return (uint16_t)(((1u << exp_bits) - 1) << mant_bits); }
  // The value of non-negative bits up to inf_bits(); inf_bits() gives the power of two past the
  // largest finite value, where rounding turns to infinity.
  double magnitude(uint16_t bits) const {
    const int bias = (1 << (exp_bits - 1)) - 1;
    const int exp = bits >> mant_bits, mant = bits & ((1 << mant_bits) - 1);
    return exp == 0 ? std::ldexp(mant, 1 - bias - mant_bits) : std::ldexp((1 << mant_bits) + mant, exp - bias - mant_bits);
  }
  double value(uint16_t bits) const {
    const uint16_t abs = bits & 0x7fff;
    const double m = abs < inf_bits() ? magnitude(abs) : abs == inf_bits() ? INFINITY : NAN;
    return bits & 0x8000 ? -m : m;
  }
  bool is_nan(uint16_t bits) const { return (bits & 0x7fff) > inf_bits(); }
  // x rounded to the nearest representable value, ties to the even mantissa.
  uint16_t round(float x) const {
    if (std::isnan(x)) return (uint16_t)(inf_bits() + 1);
    const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    const double a = std::fabs((double)x);
    uint16_t lo = 0, hi = inf_bits();  // the largest bits whose magnitude is at most a, by bisection
    if (a >= magnitude(hi)) return (uint16_t)(sign | hi);
    while (hi - lo > 1) {
      const uint16_t mid = (uint16_t)((lo + hi) / 2);
      (magnitude(mid) <= a ? lo : hi) = mid;
    }
    const double below = a - magnitude(lo), above = magnitude(hi) - a;
    return (uint16_t)(sign | (below < above || (below == above && lo % 2 == 0) ? lo : hi));
  }
};
const Format kHalf{"float16", DType::kFloat16, 5, 10}, kBFloat16{"bfloat16", DType::kBFloat16, 8, 7};

std::vector<float> conversion_inputs(const Format& f, size_t n) {
  std::vector<float> v = {0.f, -0.f, INFINITY, -INFINITY, NAN, 1.f, -1.f, 65504.f, 65519.f, 65520.f, 65536.f, -70000.f,
                          5.9604645e-8f, 2.9802322e-8f, 2.99e-8f, 1e-45f, 1.1754944e-38f, 3.3895314e38f, 3.39e38f,
                          std::numeric_limits<float>::max(), -std::numeric_limits<float>::max()};
  while (v.size() < n / 2) {  // midpoints between neighbouring values (ties), and either side of them
    const uint16_t bits = (uint16_t)sim_test::random_int(0, f.inf_bits() - 1);
    const float tie = (float)((f.magnitude(bits) + f.magnitude(bits + 1)) / 2);
    const float sign = sim_test::random_int(0, 1) ? -1.f : 1.f;
    v.push_back(sign * tie);
    v.push_back(sign * std::nextafter(tie, sim_test::random_int(0, 1) ? INFINITY : 0.f));
  }
  while (v.size() < n) {  // any float bits: every magnitude, subnormals, NaN payloads
    const uint32_t bits = (uint32_t)sim_test::random_int(0, UINT32_MAX);
    float x;
    std::memcpy(&x, &bits, 4);
    v.push_back(x);
  }
  return v;
}

void convert_from_float_case(const Format& f, const View& v) {
  const std::string what = std::string("strided_convert float32 to ") + f.name + " " + describe(v);
  const auto source = conversion_inputs(f, (size_t)v.source_numel());
  std::vector<uint16_t> out((size_t)v.numel(), kUnwritten<uint16_t>);
  const Launch l = launch_of(v);
  const Status status = strided_convert(DType::kFloat32, source.data() + l.first, l.strides, f.dtype, out.data(), l.space, nullptr);
  check(status.is_ok(), what + ": " + status.message());
  const auto offsets = source_offsets(v);
  for (size_t i = 0; i < out.size(); ++i) {
    const float x = source[(size_t)offsets[i]];
    const uint16_t want = f.round(x);
    if (f.is_nan(want) ? f.is_nan(out[i]) : out[i] == want) continue;
    char line[160];
    std::snprintf(line, sizeof line, ": element %zu (%.9g) gives bits 0x%04x, want 0x%04x", i, (double)x, out[i], want);
    check(false, what + line);
    return;
  }
}

// Source bits (repeated to fill the source): every exponent with either sign and four mantissas (zero, one, the top bit, all ones).
std::vector<uint16_t> format_patterns(const Format& f) {
  std::vector<uint16_t> v;
  const unsigned top = 1u << (f.mant_bits - 1), all = (1u << f.mant_bits) - 1;
  for (unsigned sign : {0u, 0x8000u})
    for (unsigned exp = 0; exp < (1u << f.exp_bits); ++exp)
      for (unsigned mant : {0u, 1u, top, all}) v.push_back((uint16_t)(sign | exp << f.mant_bits | mant));
  return v;
}

void convert_to_float_case(const Format& f, const View& v) {
  const std::string what = std::string("strided_convert ") + f.name + " to float32 " + describe(v);
  const auto patterns = format_patterns(f);
  std::vector<uint16_t> source((size_t)v.source_numel());
  for (size_t i = 0; i < source.size(); ++i) source[i] = patterns[i % patterns.size()];
  std::vector<float> out((size_t)v.numel());
  sim_test::poison(out);
  const Launch l = launch_of(v);
  const Status status = strided_convert(f.dtype, source.data() + l.first, l.strides, DType::kFloat32, out.data(), l.space, nullptr);
  check(status.is_ok(), what + ": " + status.message());
  const auto offsets = source_offsets(v);
  for (size_t i = 0; i < out.size(); ++i) {
    const uint16_t bits = source[(size_t)offsets[i]];
    const double want = f.value(bits);
    if (std::isnan(want) ? std::isnan(out[i]) : (double)out[i] == want && std::signbit(out[i]) == std::signbit(want)) continue;
    char line[160];
    std::snprintf(line, sizeof line, ": element %zu (bits 0x%04x) is %.9g, want %.9g", i, bits, (double)out[i], want);
    check(false, what + line);
    return;
  }
}

void convert_cases() {
  for (const Format* f : {&kHalf, &kBFloat16}) {
    convert_from_float_case(*f, make_view({3, 7, 30}, {2, 0, 1}, "ppp"));  // 630 elements: three blocks
    convert_from_float_case(*f, make_view({4, 5, 6}, {0, 1, 2}, "brs"));
    convert_from_float_case(*f, make_view({}, {}, ""));
    convert_to_float_case(*f, make_view({f == &kHalf ? 16 : 64, f == &kHalf ? 16 : 32}, {1, 0}, "rp", 0));  // every pattern once
    convert_to_float_case(*f, make_view({3, 5, 4}, {1, 2, 0}, "sbp"));
  }
  // Only float32 to and from the 16-bit floats is offered; other pairs, ranks past kMaxDims and null
  // operands are refused.
  std::vector<float> in(4, 1.f), out(4);
  IndexSpace four;
  four.rank = 1, four.dims[0] = 4;
  Strides unit;
  unit.s[0] = 1;
  const std::pair<DType, DType> unsupported[] = {{DType::kFloat32, DType::kFloat32}, {DType::kFloat16, DType::kBFloat16},
                                                 {DType::kFloat16, DType::kFloat16}, {DType::kInt32, DType::kFloat32},
                                                 {DType::kFloat32, DType::kInt64}, {DType::kFloat64, DType::kFloat16}};
  for (auto [from, to] : unsupported)
    sim_test::expect_code(strided_convert(from, in.data(), unit, to, out.data(), four, nullptr), StatusCode::kType,
                std::string("strided_convert ") + dtype_name(from) + " to " + dtype_name(to));
  IndexSpace too_deep = four;
  too_deep.rank = kMaxDims + 1;
  sim_test::expect_code(strided_convert(DType::kFloat32, in.data(), unit, DType::kFloat16, out.data(), too_deep, nullptr), StatusCode::kShape,
              "strided_convert rank 9");
  sim_test::expect_code(strided_convert(DType::kFloat16, nullptr, unit, DType::kFloat32, out.data(), four, nullptr),
              StatusCode::kInvalidArgument, "strided_convert null in");
  sim_test::expect_code(strided_convert(DType::kFloat32, in.data(), unit, DType::kBFloat16, nullptr, four, nullptr),
              StatusCode::kInvalidArgument, "strided_convert null out");
}

// gather over data [outer, axis_dim, inner] with `count` indices of type I, in range (negative ones
// too) unless `out_of_range`, which puts extreme indices at a few positions.
template <class T, class I>
void gather_case(int64_t outer, int64_t axis_dim, int64_t inner, int64_t count, bool out_of_range) {
  const std::string what = "gather " + std::to_string(sizeof(T)) + "-byte data " + shape({outer, axis_dim, inner}) + " with " +
                           std::to_string(count) + (sizeof(I) == 8 ? " int64" : " int32") + " indices" +
                           (out_of_range ? " (some out of range)" : "");
  const auto data = random_elements<T>((size_t)(outer * axis_dim * inner));
  std::vector<I> indices((size_t)count);
  for (I& idx : indices) idx = (I)sim_test::random_int(-axis_dim, axis_dim - 1);
  if (out_of_range) {
    const I bad[] = {(I)axis_dim, (I)(-axis_dim - 1), std::numeric_limits<I>::max(), std::numeric_limits<I>::min()};
    for (size_t k = 0; k < std::size(bad) && k < indices.size(); ++k) indices[(size_t)sim_test::random_int(0, count - 1)] = bad[k];
  }
  std::vector<T> out((size_t)(outer * count * inner), kUnwritten<T>), want;
  bool any_bad = false;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < count; ++j) {
      const int64_t idx = (int64_t)indices[(size_t)j], row = idx < 0 ? idx + axis_dim : idx;
      const bool bad = row < 0 || row >= axis_dim;
      any_bad |= bad;
      for (int64_t i = 0; i < inner; ++i) want.push_back(bad ? T(0) : data[(size_t)((o * axis_dim + row) * inner + i)]);
    }
  int error_flag = 0;
  const Status status = gather(sizeof(T), data.data(), indices.data(), sizeof(I) == 8, out.data(), outer, axis_dim, inner,
                               count, &error_flag, nullptr);
  check(status.is_ok(), what + ": " + status.message());
  expect_equal(out, want, what);
  check(error_flag == (any_bad ? 1 : 0), what + ": error flag " + std::to_string(error_flag));
}

template <class T>
void gather_cases() {
  gather_case<T, int64_t>(3, 5, 7, 4, false);
  gather_case<T, int32_t>(3, 5, 7, 4, false);
  gather_case<T, int64_t>(2, 50, 3, 100, false);  // 600 outputs: three blocks, the last partial
  gather_case<T, int32_t>(1, 9, 1, 300, true);    // axis 0 of a vector
  gather_case<T, int64_t>(40, 6, 1, 5, true);     // the last axis
  gather_case<T, int32_t>(2, 1, 5, 1, false);
}

// Empty outputs write nothing and leave the flag alone; no data rows makes every index out of range;
// a bad element size or a null operand gives its Status.
void gather_argument_cases() {
  const std::vector<int64_t> indices = {0, -1, 2};
  const std::vector<uint32_t> data(12, 5);
  std::vector<uint32_t> out(12, kUnwritten<uint32_t>);
  int flag = 0;
  for (auto [outer, inner, count] : {std::tuple{0, 4, 3}, std::tuple{3, 0, 3}, std::tuple{3, 4, 0}})
    check(gather(4, nullptr, nullptr, true, nullptr, outer, 1, inner, count, nullptr, nullptr).is_ok() &&
              gather(4, data.data(), indices.data(), true, out.data(), outer, 1, inner, count, &flag, nullptr).is_ok(),
          "gather with no outputs " + shape({outer, inner, count}));
  check(out == std::vector<uint32_t>(12, kUnwritten<uint32_t>) && flag == 0, "gather with no outputs wrote nothing");
  check(gather(4, data.data(), indices.data(), true, out.data(), 2, 0, 2, 3, &flag, nullptr).is_ok(), "gather from an empty axis");
  check(out == std::vector<uint32_t>(12, 0) && flag == 1, "gather from an empty axis: zeros and the error flag");
  for (size_t size : {0, 3, 16})
    sim_test::expect_code(gather(size, data.data(), indices.data(), true, out.data(), 1, 4, 1, 3, &flag, nullptr), StatusCode::kType,
                "gather element size " + std::to_string(size));
  sim_test::expect_code(gather(4, nullptr, indices.data(), true, out.data(), 1, 4, 1, 3, &flag, nullptr), StatusCode::kInvalidArgument,
              "gather null data");
  sim_test::expect_code(gather(4, data.data(), nullptr, true, out.data(), 1, 4, 1, 3, &flag, nullptr), StatusCode::kInvalidArgument,
              "gather null indices");
  sim_test::expect_code(gather(4, data.data(), indices.data(), true, nullptr, 1, 4, 1, 3, &flag, nullptr), StatusCode::kInvalidArgument,
              "gather null out");
  sim_test::expect_code(gather(4, data.data(), indices.data(), true, out.data(), 1, 4, 1, 3, nullptr, nullptr), StatusCode::kInvalidArgument,
              "gather null error flag");
}

}  // namespace

int main() {
  copy_cases<uint8_t>();
  copy_cases<uint16_t>();
  copy_cases<uint32_t>();
  copy_cases<uint64_t>();
  copy_argument_cases();
  convert_cases();
  gather_cases<uint8_t>();
  gather_cases<uint16_t>();
  gather_cases<uint32_t>();
  gather_cases<uint64_t>();
  gather_argument_cases();
  return sim_test::finish("movement_sim");
}
