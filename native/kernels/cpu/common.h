// Shared helpers for CPU kernels: axis handling, broadcasting, strides, and dtype dispatch.
// Half types (float16, bfloat16) are stored as hs::Half / hs::BFloat16 and computed in float.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "hs/kernel.h"
#include "hs/thread_pool.h"

namespace hs::cpu {

// Axis in [-rank, rank) -> [0, rank), or an ERR_INVALID_ARGUMENT Status.
inline Status normalize_axis(int64_t axis, int64_t rank, int64_t* out) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return Status(StatusCode::kInvalidArgument, str_cat("axis ", axis, " is out of range for rank ", rank));
  *out = axis < 0 ? axis + rank : axis;
  return Status::ok();
}

// Numpy-style broadcast of two shapes, or ERR_SHAPE.
inline Status broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  size_t r = std::max(a.size(), b.size());
  out->assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      return Status(StatusCode::kShape, str_cat("shapes ", a, " and ", b, " cannot broadcast"));
    (*out)[i] = da == 1 ? db : da;
  }
  return Status::ok();
}

// Row-major strides of a shape.
inline std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

// Strides to read `in` (right-aligned to out's rank) as if broadcast to `out` (0 on broadcast axes).
inline std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> s(out.size(), 0);
  std::vector<int64_t> is = strides_of(in);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) s[off + i] = in[i] == 1 ? 0 : is[i];
  return s;
}

inline float to_float(float v) { return v; }
inline float to_float(Half v) { return half_to_float(v.bits); }
inline float to_float(BFloat16 v) { return bf16_to_float(v.bits); }
template <typename T> T from_float(float v);
template <> inline float from_float<float>(float v) { return v; }
template <> inline Half from_float<Half>(float v) { return Half{float_to_half(v)}; }
template <> inline BFloat16 from_float<BFloat16>(float v) { return BFloat16{float_to_bf16(v)}; }

template <typename T> struct is_half : std::false_type {};
template <> struct is_half<Half> : std::true_type {};
template <> struct is_half<BFloat16> : std::true_type {};

// The C++ type of a dtype, for dispatch: dispatch(dtype, [&](auto tag) { using T = decltype(tag); ... }).
// Returns ERR_TYPE for dtypes outside the set the caller allows.
enum TypeSet : unsigned {
  kFloats = 1,      // float32, float64, float16, bfloat16
  kSignedInts = 2,  // int8, int16, int32, int64
  kUnsignedInts = 4,// uint8, uint16, uint32, uint64
  kBoolType = 8,
  kNumeric = kFloats | kSignedInts | kUnsignedInts,
  kAll = kNumeric | kBoolType,
};

template <typename F>
Status dispatch(DType t, unsigned allowed, const char* what, F&& f) {
  auto deny = [&]() { return Status(StatusCode::kType, str_cat(what, " does not support dtype ", dtype_name(t))); };
  switch (t) {
    case DType::kFloat32: if (allowed & kFloats) return f(float{}); break;
    case DType::kFloat64: if (allowed & kFloats) return f(double{}); break;
    case DType::kFloat16: if (allowed & kFloats) return f(Half{}); break;
    case DType::kBFloat16: if (allowed & kFloats) return f(BFloat16{}); break;
    case DType::kInt8: if (allowed & kSignedInts) return f(int8_t{}); break;
    case DType::kInt16: if (allowed & kSignedInts) return f(int16_t{}); break;
    case DType::kInt32: if (allowed & kSignedInts) return f(int32_t{}); break;
    case DType::kInt64: if (allowed & kSignedInts) return f(int64_t{}); break;
    case DType::kUint8: if (allowed & kUnsignedInts) return f(uint8_t{}); break;
    case DType::kUint16: if (allowed & kUnsignedInts) return f(uint16_t{}); break;
    case DType::kUint32: if (allowed & kUnsignedInts) return f(uint32_t{}); break;
    case DType::kUint64: if (allowed & kUnsignedInts) return f(uint64_t{}); break;
    case DType::kBool: if (allowed & kBoolType) return f(bool{}); break;
    default: break;
  }
  return deny();
}

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::kFloat32; }
template <> constexpr DType dtype_of<double>() { return DType::kFloat64; }
template <> constexpr DType dtype_of<Half>() { return DType::kFloat16; }
template <> constexpr DType dtype_of<BFloat16>() { return DType::kBFloat16; }
template <> constexpr DType dtype_of<int8_t>() { return DType::kInt8; }
template <> constexpr DType dtype_of<int16_t>() { return DType::kInt16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::kInt32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::kInt64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::kUint8; }
template <> constexpr DType dtype_of<uint16_t>() { return DType::kUint16; }
template <> constexpr DType dtype_of<uint32_t>() { return DType::kUint32; }
template <> constexpr DType dtype_of<uint64_t>() { return DType::kUint64; }
template <> constexpr DType dtype_of<bool>() { return DType::kBool; }

// Input i or an ERR_INVALID_MODEL Status when a required input is missing.
inline Status require_input(const KernelContext& ctx, int i, const char* op, const Tensor** out) {
  *out = ctx.input(i);
  if (!*out) return Status(StatusCode::kInvalidModel, str_cat(op, " needs input ", i));
  return Status::ok();
}

}  // namespace hs::cpu
