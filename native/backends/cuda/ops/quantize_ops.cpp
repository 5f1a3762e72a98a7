// QuantizeLinear and DequantizeLinear on CUDA (quantize.cuh): float32 values and scales, 8- and 16-bit
// quantised types (and int32 for DequantizeLinear), one scale for the tensor, one per index of `axis`
// or one per block of `block_size` (opset 21), with cpu::QuantAxis checking the shapes. So a QDQ
// model's activations stay on the device; the arithmetic between the pairs is float32.
#include <algorithm>

#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/quantize_params.h"
#include "kernels/cuda/quantize.cuh"

namespace hs::cuda::ops {
namespace {

constexpr std::initializer_list<DType> kQuantized = {DType::kUint8, DType::kInt8, DType::kUint16, DType::kInt16};

QuantScales device_scales(const cpu::QuantAxis& q) {
  QuantScales s;
  s.mode = q.mode == cpu::QuantAxis::Mode::kTensor ? QuantScales::Mode::kTensor
           : q.mode == cpu::QuantAxis::Mode::kAxis ? QuantScales::Mode::kAxis
                                                   : QuantScales::Mode::kBlocked;
  s.axis_len = q.layout.axis_len, s.inner = q.layout.inner;
  s.block = q.block, s.blocks = q.blocks;
  return s;
}

class QuantizeKernel : public CudaKernelBase {
 public:
  QuantizeKernel(const CudaKernelInfo& info, bool quantize)
      : quantize_(quantize), op_(quantize ? "QuantizeLinear" : "DequantizeLinear"), axis_(info.node.attr_int("axis", 1)),
        block_size_(info.node.attr_int("block_size", 0)), type_(cpu::quantize_output_type(info.node)) {
    init_status = quantize ? require_dtype(info, 0, {DType::kFloat32})
                           : require_dtype(info, 0, {DType::kUint8, DType::kInt8, DType::kUint16, DType::kInt16, DType::kInt32});
    if (init_status.is_ok()) init_status = require_dtype(info, 1, {DType::kFloat32});
    if (init_status.is_ok() && info.has_input(2)) {
      if (quantize) init_status = require_dtype(info, 2, kQuantized);
      else if (info.input_dtype(2) != info.input_dtype(0)) HS_CUDA_UNSUPPORTED("the zero point's dtype differs from x's");
    }
    if (init_status.is_ok() && quantize && !info.has_input(2) &&
        std::find(kQuantized.begin(), kQuantized.end(), type_) == kQuantized.end())
      HS_CUDA_UNSUPPORTED("QuantizeLinear to ", dtype_name(type_), " is not on CUDA");
    if (init_status.is_ok() && block_size_ < 0) HS_CUDA_UNSUPPORTED(op_, ": block_size must be >= 0");
  }

  DType output_dtype(int, const std::vector<DType>& inputs) const override {
    if (!quantize_) return DType::kFloat32;
    return inputs.size() > 2 && inputs[2] != DType::kUndefined ? inputs[2] : type_;
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    const DeviceTensor* scale = ctx.input(1);
    const DeviceTensor* zero_point = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    if (!x) HS_FAIL(kInvalidArgument, op_, ": x is missing");
    HS_RETURN_IF_ERROR(check_dtype(scale, DType::kFloat32, "scale"));
    const DType qtype = quantize_ ? (zero_point ? zero_point->dtype : type_) : x->dtype;
    if (quantize_) HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "x"));
    if (zero_point && zero_point->dtype != qtype)
      HS_FAIL(kType, op_, ": the zero point is ", dtype_name(zero_point->dtype), ", expected ", dtype_name(qtype));
    cpu::QuantAxis q;
    HS_RETURN_IF_ERROR(q.resolve(op_, x->shape, scale->shape, zero_point ? &zero_point->shape : nullptr, axis_, block_size_));
    auto y = ctx.output(0, quantize_ ? qtype : DType::kFloat32, x->shape);
    if (!y.is_ok()) return y.status();
    const void* zp = zero_point ? zero_point->data : nullptr;
    if (quantize_)
      return quantize_linear(x->as<float>(), scale->as<float>(), zp, qtype, y.value()->data, x->numel(), device_scales(q),
                             ctx.stream());
    return dequantize_linear(x->data, qtype, scale->as<float>(), zp, y.value()->as<float>(), x->numel(), device_scales(q),
                             ctx.stream());
  }

 private:
  bool quantize_;
  const char* op_;
  int64_t axis_, block_size_;
  DType type_;  // QuantizeLinear's output type without a zero point
};

struct QuantizeLinear : QuantizeKernel {
  explicit QuantizeLinear(const CudaKernelInfo& info) : QuantizeKernel(info, true) {}
};
struct DequantizeLinear : QuantizeKernel {
  explicit DequantizeLinear(const CudaKernelInfo& info) : QuantizeKernel(info, false) {}
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "QuantizeLinear", QuantizeLinear);
HS_REGISTER_CUDA_KERNEL("", "DequantizeLinear", DequantizeLinear);

}  // namespace hs::cuda::ops
