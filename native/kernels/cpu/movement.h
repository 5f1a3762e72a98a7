// Helpers shared by the data-movement kernels (Reshape, Transpose, Slice, Gather, Pad, ...):
// they move elements without computing on them, so they dispatch on the element size rather
// than on the dtype, and they read small integer tensors (shapes, axes, pads) with checks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/common.h"
#include "kernels/cpu/pad_index.h"

namespace hs::cpu {

// Calls f(tag), tag an unsigned integer with the dtype's element size, or returns ERR_TYPE
// for dtypes without fixed-size elements (strings).
template <typename F>
Status dispatch_by_size(DType t, const char* op, F&& f) {
  switch (dtype_size(t)) {
    case 1: return f(uint8_t{});
    case 2: return f(uint16_t{});
    case 4: return f(uint32_t{});
    case 8: return f(uint64_t{});
    default: break;
  }
  return Status(StatusCode::kType, str_cat(op, " does not support dtype ", dtype_name(t)));
}

// ERR_TYPE unless t is int32 or int64 (the index and shape dtypes of ONNX).
inline Status require_index_dtype(const Tensor& t, const char* op, const char* what) {
  if (t.dtype() != DType::kInt64 && t.dtype() != DType::kInt32)
    return Status(StatusCode::kType, str_cat(op, ": ", what, " must be int32 or int64, got ", dtype_name(t.dtype())));
  return Status::ok();
}

// The values of a 1-D int32/int64 tensor (shapes, axes, pads, repeats), or ERR_TYPE / ERR_SHAPE.
inline Status read_int_list(const Tensor& t, const char* op, const char* what, std::vector<int64_t>* out) {
  HS_RETURN_IF_ERROR(require_index_dtype(t, op, what));
  if (t.rank() != 1)
    return Status(StatusCode::kShape, str_cat(op, ": ", what, " must be 1-D, got shape ", shape_str(t.shape())));
  *out = t.to_int64_vector();
  return Status::ok();
}

// The value of a one-element int32/int64 tensor (a scalar or shape [1]).
inline Status read_int_scalar(const Tensor& t, const char* op, const char* what, int64_t* out) {
  HS_RETURN_IF_ERROR(require_index_dtype(t, op, what));
  if (t.numel() != 1 || t.rank() > 1)
    return Status(StatusCode::kShape, str_cat(op, ": ", what, " must be a scalar, got shape ", shape_str(t.shape())));
  *out = t.to_int64_vector()[0];
  return Status::ok();
}

// Normalises `axes` against `rank` in place; ERR_INVALID_ARGUMENT for an axis out of range or
// repeated.
inline Status normalize_axes(std::vector<int64_t>* axes, int64_t rank, const char* op) {
  std::vector<bool> seen((size_t)rank, false);
  for (int64_t& a : *axes) {
    if (a < -rank || a >= rank)
      return Status(StatusCode::kInvalidArgument, str_cat(op, ": axis ", a, " is out of range for rank ", rank));
    if (a < 0) a += rank;
    if (seen[(size_t)a]) return Status(StatusCode::kInvalidArgument, str_cat(op, ": axis ", a, " is repeated"));
    seen[(size_t)a] = true;
  }
  return Status::ok();
}

// Copies `parts` row blocks between the [outer, total] layout and per-part [outer, sizes[p]]
// layouts (sizes and offsets in bytes), in parallel; `gather` = true writes the whole from the
// parts (Concat), false the parts from the whole (Split). A null part is skipped. concat_split.cpp.
void copy_row_blocks(char* whole, const std::vector<char*>& parts, const std::vector<int64_t>& sizes,
                     int64_t outer, int64_t total, bool gather, ThreadPool& pool);

// Split's part sizes along its axis: `split` as given (attribute or input), else `outputs` equal
// parts (the last one shorter with opset 18's num_outputs); ERR_SHAPE unless they cover the axis.
// Also normalises the axis attribute. concat_split.cpp.
Status split_parts(const Shape& shape, int64_t axis_attr, int64_t outputs, bool num_outputs_attr,
                   std::vector<int64_t>* split, int64_t* axis);

// Pad's mode attribute, and its per-axis geometry from `pads` (begins then ends) over `axes` (all
// when empty): negative pads crop first, positive ones then pad what is left. pad.cpp.
Status parse_pad_mode(const std::string& mode, PadMode* out);
Status pad_axes(const Shape& shape, const std::vector<int64_t>& pads, std::vector<int64_t> axes, PadMode mode,
                std::vector<AxisPad>* out);

// DepthToSpace (DCR or CRD) and SpaceToDepth as one 6-D strided read of the NCHW input x: the
// view's dims and element strides, and the output shape; ERR_SHAPE when x does not fit the block.
// depth_space.cpp.
Status depth_to_space_view(const Shape& x, int64_t block, bool crd, Shape* dims, std::vector<int64_t>* strides, Shape* out);
Status space_to_depth_view(const Shape& x, int64_t block, Shape* dims, std::vector<int64_t>* strides, Shape* out);

// ERR_SHAPE unless every dimension is >= 0 (shapes read from tensors can hold anything).
inline Status check_dims(const Shape& shape, const char* op) {
  for (int64_t d : shape)
    if (d < 0) return Status(StatusCode::kShape, str_cat(op, ": negative dimension in output shape ", shape_str(shape)));
  return Status::ok();
}

}  // namespace hs::cpu
