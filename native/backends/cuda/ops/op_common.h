// Helpers shared by the CUDA op adapters (native/backends/cuda/ops): dtype gates for factories,
// index spaces and broadcast strides for the launchers, and the fused activation attributes.
#pragma once
#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <string>

#include "backends/cuda/cuda_kernel.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/common.h"
#include "kernels/cuda/layout.h"

namespace hs::cuda::ops {

// ok when input i's build-time dtype is one of `allowed`; else the reason the node stays on the CPU.
inline Status require_dtype(const CudaKernelInfo& info, size_t i, std::initializer_list<DType> allowed) {
  const DType t = info.input_dtype(i);
  for (DType a : allowed)
    if (t == a) return Status::ok();
  if (t == DType::kUndefined)
    return Status(StatusCode::kUnsupportedOp, str_cat("the dtype of input ", i, " is unknown at build time"));
  return Status(StatusCode::kUnsupportedOp, str_cat("input ", i, " is ", dtype_name(t), ", which the CUDA kernel does not take"));
}

// ok when input i has a known dtype of 1, 2, 4 or 8 bytes (what the data-movement kernels move).
inline Status require_numeric(const CudaKernelInfo& info, size_t i) {
  const DType t = info.input_dtype(i);
  if (t == DType::kUndefined) HS_FAIL(kUnsupportedOp, "the dtype of input ", i, " is unknown at build time");
  const size_t size = dtype_size(t);
  if (t == DType::kString || (size != 1 && size != 2 && size != 4 && size != 8))
    HS_FAIL(kUnsupportedOp, "input ", i, " is ", dtype_name(t), ", which the CUDA kernel does not take");
  return Status::ok();
}

// The run-time twin: ERR_TYPE naming the dtype when shape inference guessed wrong.
inline Status check_dtype(const DeviceTensor* t, DType want, const char* what) {
  if (!t) HS_FAIL(kInvalidArgument, what, " is missing");
  if (t->dtype != want) HS_FAIL(kType, what, " must be ", dtype_name(want), ", got ", dtype_name(t->dtype));
  return Status::ok();
}

inline Status index_space(const Shape& shape, IndexSpace* out) {
  if (shape.size() > (size_t)kMaxDims) HS_FAIL(kShape, "rank ", shape.size(), " exceeds the CUDA kernels' ", kMaxDims);
  out->rank = (int)shape.size();
  for (size_t d = 0; d < shape.size(); ++d) out->dims[d] = shape[d];
  return Status::ok();
}

// Two-input elementwise ops (arithmetic, comparisons): the build-time gate on input 0's dtype (one of
// `allowed`) and input 1 sharing it.
inline Status require_same_dtype_pair(const CudaKernelInfo& info, std::initializer_list<DType> allowed) {
  HS_RETURN_IF_ERROR(require_dtype(info, 0, allowed));
  if (info.input_dtype(1) != info.input_dtype(0))
    return Status(StatusCode::kUnsupportedOp, str_cat("inputs of different dtypes (", dtype_name(info.input_dtype(0)),
                                                      ", ", dtype_name(info.input_dtype(1)), ")"));
  return Status::ok();
}

// Their run-time operands: both inputs, of one dtype, and the shape and index space they broadcast to.
struct BroadcastPair {
  const DeviceTensor* a;
  const DeviceTensor* b;
  Shape out;
  IndexSpace space;
};

inline Status broadcast_pair(CudaKernelContext& ctx, BroadcastPair* p) {
  p->a = ctx.input(0);
  p->b = ctx.input(1);
  if (!p->a || !p->b) HS_FAIL(kInvalidArgument, "both inputs are required");
  if (p->a->dtype != p->b->dtype)
    HS_FAIL(kType, "inputs must share a dtype, got ", dtype_name(p->a->dtype), " and ", dtype_name(p->b->dtype));
  HS_RETURN_IF_ERROR(cpu::broadcast_shapes(p->a->shape, p->b->shape, &p->out));
  return index_space(p->out, &p->space);
}

// Strides reading a contiguous tensor of shape `in` broadcast (right-aligned) to `out`.
inline Strides broadcast_strides(const Shape& in, const Shape& out) {
  Strides s;
  int64_t stride = 1;
  const size_t off = out.size() - in.size();
  for (size_t i = in.size(); i-- > 0;) {
    s.s[off + i] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return s;
}

inline Strides contiguous_strides(const Shape& shape) { return broadcast_strides(shape, shape); }

// The bits of a float32, for the fill-style launchers that take an element as its bytes.
inline uint32_t float_bits(float v) {
  uint32_t bits = 0;
  std::memcpy(&bits, &v, sizeof v);
  return bits;
}

inline int64_t normalize_axis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

static_assert(static_cast<int>(Act::kGeluTanh) == static_cast<int>(cpu::ActivationKind::kGeluTanh) &&
                  static_cast<int>(Act::kSilu) == static_cast<int>(cpu::ActivationKind::kSilu),
              "Act mirrors cpu::ActivationKind");

// The fused operators' `activation` attributes as a CUDA epilogue.
inline Status parse_epilogue(const Node& node, bool allow_gelu, Epilogue* out) {
  cpu::Activation act;
  HS_RETURN_IF_ERROR(cpu::parse_activation(node, allow_gelu, &act));
  // Only graphs built for the CPU carry it (fuse_conv.cpp); such a node stays on the CPU here.
  if (act.affine) return Status(StatusCode::kUnsupportedOp, "output_affine has no CUDA epilogue");
  out->act = static_cast<Act>(static_cast<int>(act.kind));
  out->alpha = act.alpha;
  out->beta = act.beta;
  return Status::ok();
}

}  // namespace hs::cuda::ops
