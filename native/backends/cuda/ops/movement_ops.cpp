// Transpose, Slice, Expand (strided copies: a permutation, a start and step, a broadcast are source
// strides), Concat and Split (one 2-D memcpy per input or output) and Gather on CUDA, for any numeric dtype of 1, 2, 4
// or 8 bytes, Tile, DepthToSpace and SpaceToDepth (strided copies too), Pad, Trilu, ConstantOfShape
// and Range. Slice's starts/ends/axes/steps, Expand's shape, Split's sizes and
// ConstantOfShape's shape are read on the host.
#include <algorithm>
#include <cstring>

#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/common.h"
#include "kernels/cpu/movement.h"
#include "kernels/cpu/range_count.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/movement.cuh"

namespace hs::cuda::ops {
namespace {

Status host_ints(const Tensor* t, const char* what, std::vector<int64_t>* out) {
  if (!t) HS_FAIL(kInvalidModel, what, " is required");
  if (t->dtype() != DType::kInt64 && t->dtype() != DType::kInt32) HS_FAIL(kType, what, " must be int32 or int64");
  *out = t->to_int64_vector();
  return Status::ok();
}

class Transpose : public CudaKernelBase {
 public:
  explicit Transpose(const CudaKernelInfo& info) : perm_(info.node.attr_ints("perm")) { init_status = require_numeric(info, 0); }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidModel, "Transpose needs input 0");
    const int64_t rank = x->rank();
    std::vector<int64_t> perm = perm_;
    if (perm.empty())
      for (int64_t d = rank - 1; d >= 0; --d) perm.push_back(d);
    std::vector<bool> seen((size_t)rank, false);
    if ((int64_t)perm.size() != rank) HS_FAIL(kInvalidArgument, "perm ", perm, " does not match rank ", rank);
    for (int64_t& p : perm) {
      p = normalize_axis(p, rank);
      if (p < 0 || p >= rank || seen[(size_t)p]) HS_FAIL(kInvalidArgument, "perm ", perm_, " is not a permutation");
      seen[(size_t)p] = true;
    }
    Shape out;
    for (int64_t p : perm) out.push_back(x->shape[(size_t)p]);
    IndexSpace space;
    HS_RETURN_IF_ERROR(index_space(out, &space));
    const Strides in = contiguous_strides(x->shape);
    Strides strides;
    for (int64_t d = 0; d < rank; ++d) strides.s[d] = in.s[perm[(size_t)d]];
    auto y = ctx.output(0, x->dtype, out);
    if (!y.is_ok()) return y.status();
    return strided_copy(dtype_size(x->dtype), x->data, strides, y.value()->data, space, ctx.stream());
  }

 private:
  std::vector<int64_t> perm_;
};

class Slice : public CudaKernelBase {
 public:
  explicit Slice(const CudaKernelInfo& info) : from_inputs_(info.opset >= 10) {
    init_status = require_numeric(info, 0);
    if (!from_inputs_) {
      starts_ = info.node.attr_ints("starts");
      ends_ = info.node.attr_ints("ends");
      axes_ = info.node.attr_ints("axes");
    }
  }
  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidModel, "Slice needs input 0");
    std::vector<int64_t> starts = starts_, ends = ends_, axes = axes_, steps;
    if (from_inputs_) {
      HS_RETURN_IF_ERROR(host_ints(ctx.host_input(1), "starts", &starts));
      HS_RETURN_IF_ERROR(host_ints(ctx.host_input(2), "ends", &ends));
      if (ctx.num_inputs() > 3 && ctx.host_input(3)) HS_RETURN_IF_ERROR(host_ints(ctx.host_input(3), "axes", &axes));
      if (ctx.num_inputs() > 4 && ctx.host_input(4)) HS_RETURN_IF_ERROR(host_ints(ctx.host_input(4), "steps", &steps));
    }
    const int64_t rank = x->rank();
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back((int64_t)i);
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
      HS_FAIL(kInvalidArgument, "starts, ends, axes and steps must have the same length");
    Shape out = x->shape;
    const Strides in = contiguous_strides(x->shape);
    Strides strides = in;
    int64_t offset = 0;
    std::vector<bool> seen((size_t)rank, false);
    for (size_t i = 0; i < starts.size(); ++i) {
      const int64_t a = normalize_axis(axes[i], rank);
      if (a < 0 || a >= rank || seen[(size_t)a]) HS_FAIL(kInvalidArgument, "axes ", axes, " are invalid for rank ", rank);
      seen[(size_t)a] = true;
      const int64_t d = x->shape[(size_t)a], step = steps[i];
      if (step == 0) HS_FAIL(kInvalidArgument, "Slice steps must not be 0");
      int64_t s = starts[i], e = ends[i];
      if (s < 0) s += d;
      if (e < 0) e += d;
      int64_t len;
      if (d == 0) {
        len = 0;
      } else if (step > 0) {
        s = std::clamp<int64_t>(s, 0, d);
        e = std::clamp<int64_t>(e, 0, d);
        len = e > s ? (e - s - 1) / step + 1 : 0;
      } else {
        s = std::clamp<int64_t>(s, 0, d - 1);
        e = std::clamp<int64_t>(e, -1, d - 1);
        len = s > e ? (s - e - 1) / -step + 1 : 0;
      }
      out[(size_t)a] = len;
      if (len > 0) offset += s * in.s[a];
      strides.s[a] = in.s[a] * step;
    }
    IndexSpace space;
    HS_RETURN_IF_ERROR(index_space(out, &space));
    auto y = ctx.output(0, x->dtype, out);
    if (!y.is_ok()) return y.status();
    const char* base = static_cast<const char*>(x->data) + offset * (int64_t)dtype_size(x->dtype);
    return strided_copy(dtype_size(x->dtype), base, strides, y.value()->data, space, ctx.stream());
  }

 private:
  bool from_inputs_;
  std::vector<int64_t> starts_, ends_, axes_;
};

class Expand : public CudaKernelBase {
 public:
  explicit Expand(const CudaKernelInfo& info) { init_status = require_numeric(info, 0); }
  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidModel, "Expand needs input 0");
    std::vector<int64_t> shape;
    HS_RETURN_IF_ERROR(host_ints(ctx.host_input(1), "shape", &shape));
    Shape out;
    HS_RETURN_IF_ERROR(cpu::broadcast_shapes(x->shape, shape, &out));
    IndexSpace space;
    HS_RETURN_IF_ERROR(index_space(out, &space));
    auto y = ctx.output(0, x->dtype, out);
    if (!y.is_ok()) return y.status();
    return strided_copy(dtype_size(x->dtype), x->data, broadcast_strides(x->shape, out), y.value()->data, space,
                        ctx.stream());
  }
};

class Concat : public CudaKernelBase {
 public:
  explicit Concat(const CudaKernelInfo& info) : axis_(info.node.attr_int("axis", 0)) {
    for (size_t i = 0; i < info.node.inputs.size() && init_status.is_ok(); ++i) init_status = require_numeric(info, i);
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* first = ctx.input(0);
    if (!first) HS_FAIL(kInvalidModel, "Concat needs at least one input");
    const int64_t rank = first->rank(), axis = normalize_axis(axis_, rank);
    if (axis < 0 || axis >= rank) HS_FAIL(kInvalidArgument, "axis ", axis_, " is out of range for rank ", rank);
    Shape out = first->shape;
    out[(size_t)axis] = 0;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const DeviceTensor* t = ctx.input(i);
      if (!t || t->dtype != first->dtype || t->rank() != rank) HS_FAIL(kShape, "Concat inputs must share dtype and rank");
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis && t->shape[(size_t)d] != first->shape[(size_t)d])
          HS_FAIL(kShape, "Concat input ", i, " ", t->shape, " does not match ", first->shape, " off axis ", axis);
      out[(size_t)axis] += t->shape[(size_t)axis];
    }
    auto y = ctx.output(0, first->dtype, out);
    if (!y.is_ok()) return y.status();
    const size_t esize = dtype_size(first->dtype);
    const int64_t outer = shape_numel(Shape(out.begin(), out.begin() + axis));
    const int64_t inner = shape_numel(Shape(out.begin() + axis + 1, out.end()));
    const size_t dst_pitch = (size_t)(out[(size_t)axis] * inner) * esize;
    size_t at = 0;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const DeviceTensor* t = ctx.input(i);
      const size_t width = (size_t)(t->shape[(size_t)axis] * inner) * esize;
      if (width && outer)
        HS_CUDA_CHECK(cudaMemcpy2DAsync(static_cast<char*>(y.value()->data) + at, dst_pitch, t->data, width, width,
                                        (size_t)outer, cudaMemcpyDeviceToDevice, ctx.stream()));
      at += width;
    }
    return Status::ok();
  }

 private:
  int64_t axis_;
};

// Split: Concat the other way, one 2-D copy per output; part sizes as the CPU kernel takes them.
class Split : public CudaKernelBase {
 public:
  explicit Split(const CudaKernelInfo& info)
      : axis_(info.node.attr_int("axis", 0)), split_from_input_(info.opset >= 13),
        num_outputs_attr_(info.node.attr("num_outputs") != nullptr) {
    if (!split_from_input_) attr_split_ = info.node.attr_ints("split");
    init_status = require_numeric(info, 0);
  }
  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidModel, "Split needs input 0");
    std::vector<int64_t> split = attr_split_;
    if (split_from_input_ && ctx.num_inputs() > 1 && ctx.host_input(1))
      HS_RETURN_IF_ERROR(cpu::read_int_list(*ctx.host_input(1), "Split", "split", &split));
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(cpu::split_parts(x->shape, axis_, ctx.num_outputs(), num_outputs_attr_, &split, &axis));
    const size_t esize = dtype_size(x->dtype);
    const int64_t outer = shape_numel(Shape(x->shape.begin(), x->shape.begin() + axis));
    const int64_t inner = shape_numel(Shape(x->shape.begin() + axis + 1, x->shape.end()));
    const size_t src_pitch = (size_t)(x->shape[(size_t)axis] * inner) * esize;
    size_t at = 0;
    for (int i = 0; i < ctx.num_outputs(); ++i) {
      const size_t width = (size_t)(split[(size_t)i] * inner) * esize;
      Shape shape = x->shape;
      shape[(size_t)axis] = split[(size_t)i];
      if (ctx.output_wanted(i)) {
        auto y = ctx.output(i, x->dtype, shape);
        if (!y.is_ok()) return y.status();
        if (width && outer)
          HS_CUDA_CHECK(cudaMemcpy2DAsync(y.value()->data, width, static_cast<const char*>(x->data) + at, src_pitch, width,
                                          (size_t)outer, cudaMemcpyDeviceToDevice, ctx.stream()));
      }
      at += width;
    }
    return Status::ok();
  }

 private:
  int64_t axis_;
  bool split_from_input_, num_outputs_attr_;
  std::vector<int64_t> attr_split_;
};

// ConstantOfShape: the shape (input 0) read on the host, the one-element `value` (float 0 by
// default) filled on the device.
class ConstantOfShape : public CudaKernelBase {
 public:
  explicit ConstantOfShape(const CudaKernelInfo& info) {
    const Attribute* a = info.node.attr("value");
    const Tensor value = a ? a->t : Tensor::zeros(DType::kFloat32, {1});
    const size_t size = value.defined() ? dtype_size(value.dtype()) : 0;
    if (!value.defined() || value.numel() != 1 || (size != 1 && size != 2 && size != 4 && size != 8)) {
      HS_CUDA_UNSUPPORTED("ConstantOfShape: value must be a one-element numeric tensor");
      return;
    }
    dtype_ = value.dtype();
    std::memcpy(&bits_, value.raw(), size);
  }
  Access input_access(int) const override { return Access::kHost; }
  DType output_dtype(int, const std::vector<DType>&) const override { return dtype_; }

  Status compute(CudaKernelContext& ctx) const override {
    std::vector<int64_t> shape;
    HS_RETURN_IF_ERROR(host_ints(ctx.host_input(0), "shape", &shape));
    HS_RETURN_IF_ERROR(cpu::check_dims(shape, "ConstantOfShape"));
    auto y = ctx.output(0, dtype_, shape);
    if (!y.is_ok()) return y.status();
    return fill(dtype_size(dtype_), bits_, y.value()->data, shape_numel(shape), ctx.stream());
  }

 private:
  DType dtype_ = DType::kFloat32;
  uint64_t bits_ = 0;
};

// Tile: the input read through the view [r0, d0, r1, d1, ...] with strides [0, s0, 0, s1, ...] (as
// the CPU kernel reads it), one strided copy; inputs of rank <= kMaxDims / 2.
// Range: start, limit and delta read on the host (cpu::range_count, the CPU kernel's count), the
// values made on the device.
class Range : public CudaKernelBase {
 public:
  explicit Range(const CudaKernelInfo& info) { init_status = require_dtype(info, 0, {DType::kFloat32, DType::kInt32, DType::kInt64}); }
  Access input_access(int) const override { return Access::kHost; }

  Status compute(CudaKernelContext& ctx) const override {
    const Tensor* t[3];
    for (int i = 0; i < 3; ++i) {
      t[i] = i < ctx.num_inputs() ? ctx.host_input(i) : nullptr;
      if (!t[i]) HS_FAIL(kInvalidModel, "Range needs start, limit and delta");
      if (t[i]->numel() != 1 || t[i]->rank() > 1) HS_FAIL(kShape, "Range: start, limit and delta must be scalars");
      if (t[i]->dtype() != t[0]->dtype()) HS_FAIL(kType, "Range: start, limit and delta must have one dtype");
    }
    const DType dtype = t[0]->dtype();
    int64_t count = 0;
    auto counted = [&](auto tag) -> Status {
      using T = decltype(tag);
      const T start = t[0]->data<T>()[0], limit = t[1]->data<T>()[0], delta = t[2]->data<T>()[0];
      if (delta == 0) HS_FAIL(kInvalidArgument, "Range: delta is 0");
      count = cpu::range_count(start, limit, delta);
      return Status::ok();
    };
    if (dtype == DType::kFloat32) HS_RETURN_IF_ERROR(counted(float{}));
    else if (dtype == DType::kInt32) HS_RETURN_IF_ERROR(counted(int32_t{}));
    else if (dtype == DType::kInt64) HS_RETURN_IF_ERROR(counted(int64_t{}));
    else HS_FAIL(kType, "Range: dtype ", dtype_name(dtype), " is not on CUDA");
    auto y = ctx.output(0, dtype, {count});
    if (!y.is_ok()) return y.status();
    uint64_t start_bits = 0, delta_bits = 0;
    std::memcpy(&start_bits, t[0]->raw(), dtype_size(dtype));
    std::memcpy(&delta_bits, t[2]->raw(), dtype_size(dtype));
    return arange(dtype, start_bits, delta_bits, y.value()->data, count, ctx.stream());
  }
};

class Tile : public CudaKernelBase {
 public:
  explicit Tile(const CudaKernelInfo& info) {
    init_status = require_numeric(info, 0);
    const passes::ValueType& x = info.inputs.empty() ? passes::ValueType{} : info.inputs[0];
    if (init_status.is_ok() && (!x.has_rank || x.rank() > kMaxDims / 2))
      HS_CUDA_UNSUPPORTED("the CUDA Tile takes inputs of known rank up to ", kMaxDims / 2);
  }
  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidModel, "Tile needs input 0");
    std::vector<int64_t> repeats;
    HS_RETURN_IF_ERROR(host_ints(ctx.host_input(1), "repeats", &repeats));
    if ((int64_t)repeats.size() != x->rank()) HS_FAIL(kShape, "Tile: ", repeats.size(), " repeats do not fit input shape ", x->shape);
    if (2 * x->rank() > kMaxDims) HS_FAIL(kShape, "Tile: rank ", x->rank(), " exceeds the CUDA kernel's ", kMaxDims / 2);
    const Strides in = contiguous_strides(x->shape);
    IndexSpace space;
    Strides strides;
    Shape out;
    for (int64_t d = 0; d < x->rank(); ++d) {
      if (repeats[(size_t)d] < 0) HS_FAIL(kShape, "Tile: negative repeat in ", repeats);
      space.dims[2 * d] = repeats[(size_t)d], space.dims[2 * d + 1] = x->shape[(size_t)d];
      strides.s[2 * d] = 0, strides.s[2 * d + 1] = in.s[d];
      out.push_back(repeats[(size_t)d] * x->shape[(size_t)d]);
    }
    space.rank = (int)(2 * x->rank());
    auto y = ctx.output(0, x->dtype, out);
    if (!y.is_ok()) return y.status();
    return strided_copy(dtype_size(x->dtype), x->data, strides, y.value()->data, space, ctx.stream());
  }
};

// DepthToSpace and SpaceToDepth: the CPU kernel's 6-D strided view (cpu::depth_to_space_view,
// space_to_depth_view) as one strided copy.
template <bool kToSpace>
class DepthSpace : public CudaKernelBase {
 public:
  explicit DepthSpace(const CudaKernelInfo& info) : block_(info.node.attr_int("blocksize", 0)) {
    init_status = require_numeric(info, 0);
    const std::string mode = info.node.attr_string("mode", "DCR");
    crd_ = mode == "CRD";
    if (kToSpace && mode != "DCR" && mode != "CRD") HS_CUDA_UNSUPPORTED("mode '", mode, "' is not supported");
    if (block_ < 1) HS_CUDA_UNSUPPORTED("blocksize ", block_, " must be positive");
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidModel, "input 0 is required");
    Shape dims, out;
    std::vector<int64_t> view_strides;
    HS_RETURN_IF_ERROR(kToSpace ? cpu::depth_to_space_view(x->shape, block_, crd_, &dims, &view_strides, &out)
                                : cpu::space_to_depth_view(x->shape, block_, &dims, &view_strides, &out));
    IndexSpace space;
    HS_RETURN_IF_ERROR(index_space(dims, &space));
    Strides strides;
    for (size_t d = 0; d < view_strides.size(); ++d) strides.s[d] = view_strides[d];
    auto y = ctx.output(0, x->dtype, out);
    if (!y.is_ok()) return y.status();
    return strided_copy(dtype_size(x->dtype), x->data, strides, y.value()->data, space, ctx.stream());
  }

 private:
  int64_t block_;
  bool crd_ = false;
};

// Pad: pads, constant_value and axes (opset >= 11 inputs) read on the host, the geometry the CPU
// kernel's (cpu::pad_axes); before opset 11 the float `value` attribute, so float32 data there.
class Pad : public CudaKernelBase {
 public:
  explicit Pad(const CudaKernelInfo& info) : from_inputs_(info.opset >= 11) {
    init_status = cpu::parse_pad_mode(info.node.attr_string("mode", "constant"), &mode_);
    if (init_status.is_ok()) init_status = from_inputs_ ? require_numeric(info, 0) : require_dtype(info, 0, {DType::kFloat32});
    if (!from_inputs_) {
      attr_pads_ = info.node.attr_ints("pads");
      const float value = info.node.attr_float("value", 0.0f);
      uint32_t bits;
      std::memcpy(&bits, &value, sizeof bits);
      attr_bits_ = bits;
    }
  }
  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidModel, "Pad needs input 0");
    auto host = [&](int i) { return i < ctx.num_inputs() ? ctx.host_input(i) : nullptr; };
    std::vector<int64_t> pads = attr_pads_, axes;
    PadArgs a;
    a.mode = mode_;
    a.value_bits = attr_bits_;
    if (from_inputs_) {
      HS_RETURN_IF_ERROR(host_ints(host(1), "pads", &pads));
      if (host(3)) HS_RETURN_IF_ERROR(host_ints(host(3), "axes", &axes));
      if (const Tensor* v = host(2); v && v->numel() > 0) {
        if (v->dtype() != x->dtype) HS_FAIL(kType, "Pad: constant_value is ", dtype_name(v->dtype()), ", data is ", dtype_name(x->dtype));
        if (v->numel() != 1) HS_FAIL(kShape, "Pad: constant_value must be a scalar, got shape ", v->shape());
        std::memcpy(&a.value_bits, v->raw(), dtype_size(v->dtype()));
      }
    }
    std::vector<cpu::AxisPad> axis_pads;
    HS_RETURN_IF_ERROR(cpu::pad_axes(x->shape, pads, axes, mode_, &axis_pads));
    if (axis_pads.size() > (size_t)kMaxDims) HS_FAIL(kShape, "Pad: rank ", axis_pads.size(), " exceeds the CUDA kernel's ", kMaxDims);
    Shape out;
    a.rank = (int)axis_pads.size();
    for (int d = 0; d < a.rank; ++d) {
      a.axes[d] = axis_pads[(size_t)d];
      a.in_dims[d] = x->rank() ? x->shape[(size_t)d] : 1;
      if (x->rank()) out.push_back(a.axes[d].out_len());
    }
    auto y = ctx.output(0, x->dtype, out);
    if (!y.is_ok()) return y.status();
    return pad(dtype_size(x->dtype), x->data, y.value()->data, a, ctx.stream());
  }

 private:
  bool from_inputs_;
  cpu::PadMode mode_ = cpu::PadMode::kConstant;
  std::vector<int64_t> attr_pads_;
  uint64_t attr_bits_ = 0;
};

// Trilu: k (input 1, default 0) read on the host; the CPU kernel's clamp keeps it in range.
class Trilu : public CudaKernelBase {
 public:
  explicit Trilu(const CudaKernelInfo& info) : upper_(info.node.attr_int("upper", 1) != 0) {
    init_status = require_numeric(info, 0);
  }
  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidModel, "Trilu needs input 0");
    if (x->rank() < 2) HS_FAIL(kShape, "Trilu: input must have rank >= 2, got shape ", x->shape);
    int64_t k = 0;
    if (ctx.num_inputs() > 1 && ctx.host_input(1)) HS_RETURN_IF_ERROR(cpu::read_int_scalar(*ctx.host_input(1), "Trilu", "k", &k));
    auto y = ctx.output(0, x->dtype, x->shape);
    if (!y.is_ok()) return y.status();
    const int64_t rows = x->shape[x->shape.size() - 2], cols = x->shape.back();
    k = std::min(std::max(k, -rows - 1), cols + 1);
    const int64_t matrices = rows > 0 && cols > 0 ? x->numel() / (rows * cols) : 0;
    return trilu(dtype_size(x->dtype), x->data, y.value()->data, matrices, rows, cols, k, upper_, ctx.stream());
  }

 private:
  bool upper_;
};

class Gather : public CudaKernelBase {
 public:
  explicit Gather(const CudaKernelInfo& info) : axis_(info.node.attr_int("axis", 0)) {
    init_status = require_numeric(info, 0);
    if (init_status.is_ok()) init_status = require_dtype(info, 1, {DType::kInt64, DType::kInt32});
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* data = ctx.input(0);
    const DeviceTensor* idx = ctx.input(1);
    if (!data || !idx) HS_FAIL(kInvalidModel, "Gather needs data and indices");
    if (idx->dtype != DType::kInt64 && idx->dtype != DType::kInt32) HS_FAIL(kType, "indices must be int32 or int64");
    const int64_t rank = data->rank(), axis = normalize_axis(axis_, rank);
    if (axis < 0 || axis >= rank) HS_FAIL(kInvalidArgument, "axis ", axis_, " is out of range for rank ", rank);
    Shape out(data->shape.begin(), data->shape.begin() + axis);
    out.insert(out.end(), idx->shape.begin(), idx->shape.end());
    out.insert(out.end(), data->shape.begin() + axis + 1, data->shape.end());
    auto y = ctx.output(0, data->dtype, out);
    if (!y.is_ok()) return y.status();
    const int64_t outer = shape_numel(Shape(data->shape.begin(), data->shape.begin() + axis));
    const int64_t inner = shape_numel(Shape(data->shape.begin() + axis + 1, data->shape.end()));
    return gather(dtype_size(data->dtype), data->data, idx->data, idx->dtype == DType::kInt64, y.value()->data, outer,
                  data->shape[(size_t)axis], inner, idx->numel(), ctx.error_flag(), ctx.stream());
  }

 private:
  int64_t axis_;
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "Transpose", Transpose);
HS_REGISTER_CUDA_KERNEL("", "Slice", Slice);
HS_REGISTER_CUDA_KERNEL("", "Expand", Expand);
HS_REGISTER_CUDA_KERNEL("", "Concat", Concat);
HS_REGISTER_CUDA_KERNEL("", "Split", Split);
HS_REGISTER_CUDA_KERNEL("", "ConstantOfShape", ConstantOfShape);
HS_REGISTER_CUDA_KERNEL("", "Range", Range);
HS_REGISTER_CUDA_KERNEL("", "Trilu", Trilu);
HS_REGISTER_CUDA_KERNEL("", "Tile", Tile);
HS_REGISTER_CUDA_KERNEL("", "Pad", Pad);
HS_REGISTER_CUDA_KERNEL("", "Gather", Gather);
using DepthToSpace = DepthSpace<true>;
using SpaceToDepth = DepthSpace<false>;
HS_REGISTER_CUDA_KERNEL("", "DepthToSpace", DepthToSpace);
HS_REGISTER_CUDA_KERNEL("", "SpaceToDepth", SpaceToDepth);

}  // namespace hs::cuda::ops
