// The CPU operator contract. A kernel is created once per node at build time from the node's
// attributes (so an unsupported attribute fails the load, naming the node), then computed at run
// time with the actual input tensors: it derives output shapes from them and allocates its outputs
// through the context, which reuses buffers whose values are dead.
#pragma once
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "hs/graph.h"
#include "hs/status.h"
#include "hs/tensor.h"

namespace hs {

class ThreadPool;
class SubgraphRunner;

struct KernelInfo {
  const Node& node;
  int64_t opset;  // the ai.onnx (or node domain's) opset version the model imports
  const std::map<std::string, Tensor>* initializers = nullptr;  // the graph's constant tensors

  // Input i when it is a constant (an initializer) known at build time, else nullptr: kernels use
  // it to pack weights once.
  const Tensor* constant_input(size_t i) const {
    if (!initializers || i >= node.inputs.size() || node.inputs[i].empty()) return nullptr;
    auto it = initializers->find(node.inputs[i]);
    return it == initializers->end() ? nullptr : &it->second;
  }
};

class KernelContext {
 public:
  virtual ~KernelContext() = default;
  virtual int num_inputs() const = 0;
  // nullptr for an omitted optional input (and for a sequence or optional value: see input_value).
  virtual const Tensor* input(int i) const = 0;
  // Input i as a value of any kind; nullptr when omitted. For kernels that take containers.
  virtual const Value* input_value(int i) const = 0;
  virtual int num_outputs() const = 0;
  // Allocates output i (uninitialised) and returns it.
  virtual Tensor* output(int i, DType dtype, const Shape& shape) = 0;
  // Sets output i to an existing tensor (views: Reshape, Identity, ...).
  virtual void set_output(int i, Tensor tensor) = 0;
  // Sets output i to a value of any kind (sequences, optionals).
  virtual void set_output_value(int i, Value value) = 0;
  virtual bool output_wanted(int i) const = 0;
  virtual ThreadPool& pool() const = 0;
  // For control-flow kernels: runs a subgraph attribute with the given bound inputs.
  virtual SubgraphRunner* subgraphs() const = 0;
};

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  virtual Status compute(KernelContext& ctx) const = 0;

  // What the kernel's inputs may be beyond numeric tensors. The plan refuses any other input
  // with ERR_TYPE (at load where it knows the input's type, else before compute), so a kernel
  // never reads std::string elements or a sequence it was not written for.
  virtual bool takes_strings() const { return false; }
  virtual bool takes_containers() const { return false; }  // sequences and optionals
};

// kernel.compute(ctx), with a failed allocation inside it (OutOfMemory from an output or a
// std::vector that cannot grow) returned as ERR_OUT_OF_MEMORY instead of unwinding further. For
// CPU and CUDA kernels alike.
template <typename Kernel, typename Context>
Status run_kernel(const Kernel& kernel, Context& ctx) {
  try {
    return kernel.compute(ctx);
  } catch (const std::bad_alloc& e) {
    return Status(StatusCode::kOutOfMemory, e.what());
  } catch (const std::length_error&) {
    return Status(StatusCode::kOutOfMemory, "a buffer's size is over the allocator's limit");
  }
}

using KernelFactory = std::function<Result<std::unique_ptr<OpKernel>>(const KernelInfo&)>;

// Registers a kernel for op_type in domain ("" = ai.onnx, "hs" = ours).
bool register_kernel(const std::string& domain, const std::string& op_type, KernelFactory factory);
const KernelFactory* find_kernel(const std::string& domain, const std::string& op_type);
std::vector<std::string> registered_ops();

// A factory for kernels whose constructor takes (const KernelInfo&) and reports problems through
// a `Status init_status` member (ok by default).
template <typename K>
KernelFactory make_factory() {
  return [](const KernelInfo& info) -> Result<std::unique_ptr<OpKernel>> {
    auto k = std::make_unique<K>(info);
    if (!k->init_status.is_ok()) return k->init_status;
    return std::unique_ptr<OpKernel>(std::move(k));
  };
}

// Base with the init_status member the factory reads.
struct KernelBase : OpKernel {
  Status init_status;
};

}  // namespace hs

#define HS_CONCAT_INNER(a, b) a##b
#define HS_CONCAT(a, b) HS_CONCAT_INNER(a, b)
// HS_REGISTER_KERNEL("", "Relu", ReluKernel);
#define HS_REGISTER_KERNEL(domain, op, K) \
  static const bool HS_CONCAT(hs_kernel_reg_, __COUNTER__) = ::hs::register_kernel(domain, op, ::hs::make_factory<K>())
