// What the quantisation operators (quantize.cpp, matmul_integer.cpp, conv_integer.cpp) share: where
// an element's scale and zero point are, rounding and saturation, and checks of their operands.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/dense_dtype.h"

namespace hs::cpu {

// One scale for the tensor, one per index of an axis, or one per block of indices along it
// (opset 21: the scale has x's shape with that axis divided into ceil(length / block) blocks).
struct QuantAxis {
  enum class Mode { kTensor, kAxis, kBlocked };
  Mode mode = Mode::kTensor;
  AxisLayout layout;  // x around the axis
  int64_t block = 1, blocks = 1;

  // Checks the scale's (and zero point's) shape against x's and picks the mode.
  // zero_point: its shape, nullptr when absent.
  Status resolve(const char* op, const Shape& x, const Shape& scale, const Shape* zero_point, int64_t axis,
                 int64_t block_size);

  // The scale of element (o, a, i) of x's [outer, axis, inner] layout.
  int64_t scale_index(int64_t o, int64_t a, int64_t i) const {
    switch (mode) {
      case Mode::kTensor: return 0;
      case Mode::kAxis: return a;
      case Mode::kBlocked: return (o * blocks + a / block) * layout.inner + i;
    }
    return 0;
  }
};

// QuantizeLinear's output type without a zero point: the output_dtype attribute (opset 21), else
// uint8; kUndefined for a code that names no dtype.
DType quantize_output_type(const Node& node);

// f(T{}) for the quantised types uint8, int8, uint16 and int16; ERR_TYPE for others.
template <typename F>
Status dispatch_quantized(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::kUint8: return f(uint8_t{});
    case DType::kInt8: return f(int8_t{});
    case DType::kUint16: return f(uint16_t{});
    case DType::kInt16: return f(int16_t{});
    default: HS_FAIL(kType, op, " does not support the quantised type ", dtype_name(t));
  }
}

// saturate(round_half_even(v) + zero_point) in Q; NaN gives the zero point (converting NaN to an
// integer is undefined).
template <typename Q>
Q saturate_round(float v, float zero_point) {
  float q = std::nearbyint(v);  // the default rounding mode: to nearest, ties to even
  if (std::isnan(q)) q = 0.f;
  const float lo = (float)std::numeric_limits<Q>::min(), hi = (float)std::numeric_limits<Q>::max();
  return (Q)std::min(hi, std::max(lo, q + zero_point));
}

// Element i of a uint8 or int8 tensor.
inline int32_t int8_value(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kUint8 ? (int32_t)t.data<uint8_t>()[i] : (int32_t)t.data<int8_t>()[i];
}

// An integer operator's operand: uint8 or int8, its zero point (if any) the same type.
inline Status check_int8_operand(const char* op, const char* what, const Tensor& t, const Tensor* zp) {
  if (t.dtype() != DType::kUint8 && t.dtype() != DType::kInt8)
    HS_FAIL(kType, op, ": ", what, " must be uint8 or int8, got ", dtype_name(t.dtype()));
  if (zp && zp->dtype() != t.dtype())
    HS_FAIL(kType, op, ": ", what, "'s zero point is ", dtype_name(zp->dtype()), ", ", what, " is ", dtype_name(t.dtype()));
  return Status::ok();
}

// A zero point or scale (absent, or) with one value, or one per row / column / channel (`per`).
inline Status check_one_or_per(const char* op, const char* what, const Tensor* t, int64_t count, const char* per) {
  if (!t || (t->numel() == 1 && t->rank() <= 1) || (t->rank() == 1 && t->dim(0) == count)) return Status::ok();
  HS_FAIL(kShape, op, ": ", what, " must be a scalar or have ", count, " values (one per ", per, "), got ", t->shape());
}

}  // namespace hs::cpu
