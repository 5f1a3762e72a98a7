// Numbers to strings: floats print the fewest significant digits that read back as the same value
// (float16/bfloat16 print their float32 value), in printf %g's layout (see float_to_string), NaN
// as "NaN" and infinities as "INF" / "-INF", the spellings onnxruntime and the ONNX test data use;
// integers print in decimal and bools as "1" / "0".
// Strings to numbers: floats parse decimal and scientific notation, "NaN" and "INF" / "Inf" /
// "infinity" in any case with an optional sign (as strtod, which onnxruntime calls); a value too
// large for the target becomes an infinity, too small a zero. Integers and bools parse decimal
// integers (a bool is whether it is non-zero). The whole string must be the number: "1.5x" or ""
// is an error, not a silent 0.
// Each element is independent: both directions run in parallel chunks over the elements.
#include "kernels/cpu/cast_string.h"

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "kernels/cpu/elementwise.h"

namespace hs::cpu {
namespace {

constexpr int64_t kStringGrain = 1024;

// The shortest round-trip digits (std::to_chars), laid out as onnxruntime's printf "%.8g" (float)
// or "%.17g" (double) lays them out: fixed for decimal exponents from -4 to below that precision,
// scientific otherwise. So where onnxruntime's text is itself the shortest, the texts agree.
template <typename F>
std::string float_to_string(F v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-INF" : "INF";
  constexpr int kFixedBelowExponent = std::is_same_v<F, double> ? 17 : 8;
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);  // -d.ddde+XX
  if (ec != std::errc()) return std::string();
  const std::string sci(buf, end);
  const size_t e = sci.find('e');
  int exponent = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exponent);
  if (e == std::string::npos || exponent < -4 || exponent >= kFixedBelowExponent) return sci;
  const bool negative = sci[0] == '-';
  std::string digits;
  for (size_t i = negative ? 1 : 0; i < e; ++i)
    if (sci[i] != '.') digits.push_back(sci[i]);
  std::string fixed = negative ? "-" : "";
  if (exponent < 0) return fixed + "0." + std::string((size_t)(-exponent - 1), '0') + digits;
  const size_t whole = (size_t)exponent + 1;
  if (digits.size() < whole) digits.append(whole - digits.size(), '0');
  fixed += digits.substr(0, whole);
  if (digits.size() > whole) fixed += "." + digits.substr(whole);
  return fixed;
}

template <typename I>
std::string int_to_string(I v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

// The digits of `s` after an optional '+' (from_chars takes '-' itself but not '+').
const char* skip_plus(const std::string& s) {
  const char* b = s.data();
  if (s.size() > 1 && b[0] == '+' && b[1] != '-' && b[1] != '+') ++b;
  return b;
}

template <typename F>
bool parse_float(const std::string& s, F* out) {
  const char* b = skip_plus(s);
  const char* e = s.data() + s.size();
  if (b == e) return false;
  auto [p, ec] = std::from_chars(b, e, *out);
  if (p != e) return false;
  if (ec == std::errc::result_out_of_range) {  // saturate to infinity or zero, as strtod does
    *out = (F)std::strtod(s.c_str(), nullptr);
    return true;
  }
  return ec == std::errc();
}

template <typename I>
bool parse_int(const std::string& s, I* out) {
  const char* b = skip_plus(s);
  const char* e = s.data() + s.size();
  auto [p, ec] = std::from_chars(b, e, *out);
  return b != e && p == e && ec == std::errc();
}

// One string -> one element of storage type StorageType<T>.
template <typename T>
bool parse_element(const std::string& s, StorageType<T>* out) {
  if constexpr (std::is_same_v<T, bool>) {
    int64_t v = 0;
    if (!parse_int(s, &v)) return false;
    *out = v != 0;
    return true;
  } else if constexpr (is_half<T>::value) {
    float v = 0;
    if (!parse_float(s, &v)) return false;
    *out = from_float<T>(v);
    return true;
  } else if constexpr (std::is_floating_point_v<T>) {
    return parse_float(s, out);
  } else {
    return parse_int(s, out);
  }
}

template <typename T>
std::string format_element(StorageType<T> v) {
  if constexpr (std::is_same_v<T, bool>) return v ? "1" : "0";
  else if constexpr (is_half<T>::value) return float_to_string(to_float(v));
  else if constexpr (std::is_floating_point_v<T>) return float_to_string(v);
  else return int_to_string(v);
}

}  // namespace

Status cast_to_strings(const Tensor& x, Tensor* y, ThreadPool& pool) {
  std::string* dst = y->string_data();
  if (!dst || y->numel() != x.numel()) HS_FAIL(kInternal, "Cast: string output does not match the input");
  return dispatch_only<kAll>(x.dtype(), "Cast to string", [&](auto tag) -> Status {
    using T = decltype(tag);
    const StorageType<T>* src = x.data<StorageType<T>>();
    pool.parallel_for(x.numel(), kStringGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) dst[i] = format_element<T>(src[i]);
    });
    return Status::ok();
  });
}

Status cast_from_strings(const Tensor& x, Tensor* y, ThreadPool& pool) {
  const std::string* src = x.string_data();
  if (!src || y->numel() != x.numel()) HS_FAIL(kInternal, "Cast: string input does not match the output");
  return dispatch_only<kAll>(y->dtype(), "Cast from string", [&](auto tag) -> Status {
    using T = decltype(tag);
    StorageType<T>* dst = y->data<StorageType<T>>();
    std::atomic<int64_t> first_bad{x.numel()};
    pool.parallel_for(x.numel(), kStringGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        if (parse_element<T>(src[i], dst + i)) continue;
        int64_t seen = first_bad.load();
        while (i < seen && !first_bad.compare_exchange_weak(seen, i)) {}
        return;
      }
    });
    const int64_t bad = first_bad.load();
    if (bad < x.numel())
      HS_FAIL(kInvalidArgument, "Cast: element ", bad, " ('", src[bad].substr(0, 64), "') cannot be read as ",
              dtype_name(y->dtype()));
    return Status::ok();
  });
}

}  // namespace hs::cpu
