// The CUDA operator contract, the device twin of hs/kernel.h. A factory sees the node, its
// constants and what shape inference knows of its inputs at build time, and either makes a kernel
// or returns a Status saying why it cannot (an op, attribute or dtype it does not cover): the node
// then runs on the CPU backend, and engine info lists it with that reason. compute() enqueues work
// on the context's stream and returns without waiting for it.
#pragma once
#include <cuda_runtime_api.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/device_tensor.h"
#include "core/passes/symbolic_shape.h"
#include "hs/graph.h"
#include "hs/status.h"

namespace hs::cuda {

struct CudaKernelInfo {
  const Node& node;
  int64_t opset;
  const std::map<std::string, Tensor>& initializers;
  std::vector<passes::ValueType> inputs;  // per node input; dtype kUndefined when unknown or omitted
  std::string precision = "fp32";         // the engine's: "fp32" | "fp16" | "bf16"
  int sm = 0;                             // the device's compute capability (86 = 8.6); 0 when unknown

  // Input i when it is a constant known at build time, else nullptr.
  const Tensor* constant_input(size_t i) const {
    if (i >= node.inputs.size() || node.inputs[i].empty()) return nullptr;
    auto it = initializers.find(node.inputs[i]);
    return it == initializers.end() ? nullptr : &it->second;
  }
  DType input_dtype(size_t i) const { return i < inputs.size() ? inputs[i].dtype : DType::kUndefined; }
  bool has_input(size_t i) const { return i < node.inputs.size() && !node.inputs[i].empty(); }
};

class CudaKernelContext {
 public:
  virtual ~CudaKernelContext() = default;
  virtual int num_inputs() const = 0;
  // Input i on the device; nullptr when omitted or not there (inputs read with Access::kHost, and
  // Access::kMetadata inputs that live on the host).
  virtual const DeviceTensor* input(int i) const = 0;
  // Input i on the host: the Access::kHost inputs, and Access::kMetadata inputs that live there.
  virtual const Tensor* host_input(int i) const = 0;
  virtual int num_outputs() const = 0;
  virtual bool output_wanted(int i) const = 0;
  // Allocates output i in the context's arena (uninitialised); ERR_CUDA_OOM when it cannot.
  virtual Result<DeviceTensor*> output(int i, DType dtype, const Shape& shape) = 0;
  // Sets output i to a view of existing device memory (Reshape, Squeeze, ...).
  virtual void set_output(int i, DeviceTensor view) = 0;
  // Sets output i's host side (Shape, Size: values known from metadata alone; or the host view of
  // an input that lives on both sides, next to its device view).
  virtual void set_host_output(int i, Tensor tensor) = 0;
  // Device scratch memory that lives until the step's work is done.
  virtual Result<void*> scratch(size_t bytes) = 0;
  virtual cudaStream_t stream() const = 0;
  // A device int that kernels set to 1 on a data-dependent error (an index out of range); the
  // context turns it into a rejected run after the stream synchronises.
  virtual int* error_flag() const = 0;
};

class CudaOpKernel {
 public:
  virtual ~CudaOpKernel() = default;
  virtual Status compute(CudaKernelContext& ctx) const = 0;
  // Where the kernel reads an input: on the device (the default); on the host (shapes, axes, pads
  // given as tensors: a device-made value read there is a counted download); or only its dtype and
  // shape (views), which leaves it wherever it is.
  enum class Access { kDevice, kHost, kMetadata };
  virtual Access input_access(int input) const {
    (void)input;
    return Access::kDevice;
  }
  // The dtype of output `output` given the inputs' (kUndefined where unknown): input 0's unless the
  // kernel says otherwise. The plan carries dtypes through nodes shape inference does not type
  // (the fused ones) with it.
  virtual DType output_dtype(int output, const std::vector<DType>& inputs) const {
    (void)output;
    return inputs.empty() ? DType::kUndefined : inputs[0];
  }
  // The dtype a constant input is stored in on the device, converted once when the plan uploads
  // it (GEMM weights in fp16/bf16 precision); kUndefined keeps its own. Where the device readers
  // of one constant disagree, it keeps its own, so compute() must accept that too.
  virtual DType device_constant_dtype(int input) const {
    (void)input;
    return DType::kUndefined;
  }
  // Tactics: the implementations a kernel can run with, the default first (none: just one). The
  // plan times them on the device at build and selects one before any run; select_tactic takes
  // only a name from tactics().
  virtual std::vector<std::string> tactics() const { return {}; }
  virtual Status select_tactic(const std::string& name) {
    return Status(StatusCode::kInvalidArgument, str_cat("no tactic '", name, "' here"));
  }
  virtual std::string tactic() const { return ""; }
  // Metadata kernels: whether the outputs are host values whatever input 0's place (Shape, Size)
  // rather than views that stay where input 0 is (Reshape, Squeeze, ...).
  virtual bool writes_host_values() const { return false; }
};

using CudaKernelFactory = std::function<Result<std::unique_ptr<CudaOpKernel>>(const CudaKernelInfo&)>;

// Registers the CUDA kernel of op_type in domain ("" = ai.onnx, "hs" = ours).
bool register_cuda_kernel(const std::string& domain, const std::string& op_type, CudaKernelFactory factory);
const CudaKernelFactory* find_cuda_kernel(const std::string& domain, const std::string& op_type);

// A factory for kernels constructed from (const CudaKernelInfo&) that report problems through an
// `init_status` member: a failed status means "no CUDA kernel for this node".
template <typename K>
CudaKernelFactory make_cuda_factory() {
  return [](const CudaKernelInfo& info) -> Result<std::unique_ptr<CudaOpKernel>> {
    auto k = std::make_unique<K>(info);
    if (!k->init_status.is_ok()) return k->init_status;
    return std::unique_ptr<CudaOpKernel>(std::move(k));
  };
}

struct CudaKernelBase : CudaOpKernel {
  Status init_status;
};

}  // namespace hs::cuda

#define HS_CUDA_CONCAT_INNER(a, b) a##b
#define HS_CUDA_CONCAT(a, b) HS_CUDA_CONCAT_INNER(a, b)
// HS_REGISTER_CUDA_KERNEL("", "Relu", UnaryKernel);
#define HS_REGISTER_CUDA_KERNEL(domain, op, K)                                        \
  static const bool HS_CUDA_CONCAT(hs_cuda_kernel_reg_, __COUNTER__) =                 \
      ::hs::cuda::register_cuda_kernel(domain, op, ::hs::cuda::make_cuda_factory<K>())
// Fails a kernel's construction (the node falls back to the CPU) with a reason.
#define HS_CUDA_UNSUPPORTED(...) \
  init_status = ::hs::Status(::hs::StatusCode::kUnsupportedOp, ::hs::str_cat(__VA_ARGS__))
