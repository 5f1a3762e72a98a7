#include "backends/cuda/cuda_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "backends/cuda/device_memory.h"
#include "core/passes/passes.h"
#include "hs/devices.h"
#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {

constexpr size_t kWeightAlign = 256;

// The build-time types of a node's inputs, from shape inference.
std::vector<passes::ValueType> input_types(const Node& node, const passes::TypeMap& types) {
  std::vector<passes::ValueType> out;
  for (const std::string& name : node.inputs) {
    auto it = name.empty() ? types.end() : types.find(name);
    out.push_back(it == types.end() ? passes::ValueType{} : it->second);
  }
  return out;
}

// How many leading outputs of a CPU node have its input 0's dtype, for the CPU operators that
// shape inference leaves untyped.
size_t same_dtype_outputs(const Node& node) {
  static const std::set<std::string> all = {"Tile", "Pad", "Resize", "Split", "GatherElements", "GatherND",
                                            "ScatterND", "ScatterElements", "Trilu", "DepthToSpace",
                                            "SpaceToDepth", "ConvTranspose", "ReverseSequence"};
  if (!node.domain.empty() && node.domain != "ai.onnx") return 0;
  if (all.count(node.op_type)) return node.outputs.size();
  return node.op_type == "TopK" ? 1 : 0;  // values; the indices are int64
}

// Operators whose output is as large as the shape they read says: they make data, not shapes, so
// they stay on the device even when every input is shape arithmetic.
const std::set<std::string> kMakesDataFromShape = {"ConstantOfShape", "Expand", "Tile"};

// Where a value can be read without a copy.
struct Where {
  bool host = false, device = false;
};

}  // namespace

const DeviceTensor* CudaPlan::weight(int slot) const {
  return slot >= 0 && slot < (int)weights_.size() && weights_[slot].data ? &weights_[slot] : nullptr;
}

Result<std::shared_ptr<const CudaPlan>> CudaPlan::create(std::shared_ptr<const ExecutionPlan> plan, int device,
                                                         ThreadPool& pool, const std::string& precision) {
  auto cp = std::shared_ptr<CudaPlan>(new CudaPlan());
  cp->plan_ = std::move(plan);
  cp->device_ = device;
  for (const CudaDeviceInfo& d : cuda_info().devices)
    if (d.index == device) cp->report_.device_name = d.name, cp->report_.sm = d.sm;
  HS_RETURN_IF_ERROR(cp->upload(cp->place(pool, precision)));
  HS_RETURN_IF_ERROR(cp->choose_tactics());
  return std::shared_ptr<const CudaPlan>(cp);
}

BackendReport CudaPlan::placement(std::shared_ptr<const ExecutionPlan> plan, ThreadPool& pool) {
  CudaPlan cp;
  cp.plan_ = std::move(plan);
  cp.place(pool, "fp32");
  return cp.report_;
}

std::vector<int> CudaPlan::place(ThreadPool& pool, const std::string& precision) {
  const ExecutionPlan* plan = plan_.get();
  const Graph& graph = plan->graph();
  report_.device = "cuda";
  precision_ = precision;
  BuildOptions options;
  BuildReport scratch_report;
  passes::PassContext pctx{options, scratch_report, pool, {}};
  passes::infer_shapes(graph, pctx);

  // Place every step. Shape arithmetic (a node whose inputs are Shape / Size outputs, values computed
  // from them alone, or constants) stays on the host with its CPU kernel, as TensorRT keeps shape
  // tensors: its few integers would otherwise go up for a device kernel and come back down for the
  // Reshape or Slice that reads them, two copies and a stream sync each, and no CUDA graph.
  const auto& steps = plan->steps();
  kernels_.resize(steps.size());
  step_inputs_.resize(steps.size());
  std::vector<bool> is_constant(plan->num_slots(), false), shape_valued(plan->num_slots(), false);
  for (auto& [s, t] : plan->constant_slots()) is_constant[s] = true;
  for (int s : plan->input_slots()) is_constant[s] = false;  // an initializer a feed may replace
  for (size_t i = 0; i < steps.size(); ++i) {
    const Node& node = *steps[i].node;
    std::string reason;
    const CudaKernelFactory* factory = find_cuda_kernel(node.domain, node.op_type);
    bool reads_shapes = false, reads_only_shapes = steps[i].subplans.empty();
    for (int s : steps[i].inputs) {
      if (s < 0) continue;
      reads_shapes = reads_shapes || shape_valued[s];
      reads_only_shapes = reads_only_shapes && (shape_valued[s] || is_constant[s]);
    }
    if (reads_shapes && reads_only_shapes && !kMakesDataFromShape.count(node.op_type)) {
      report_.host_shape_nodes.push_back(node.describe());
    } else if (!steps[i].subplans.empty()) {
      reason = "control flow runs on the CPU";
    } else if (!factory) {
      reason = str_cat("no CUDA kernel for ", node.domain.empty() ? "" : node.domain + ":", node.op_type);
    } else {
      CudaKernelInfo kinfo{node, 0, graph.initializers, input_types(node, pctx.types), precision, report_.sm};
      step_inputs_[i] = kinfo.inputs;
      auto op = graph.opsets.find(node.domain == "ai.onnx" ? "" : node.domain);
      kinfo.opset = op == graph.opsets.end() ? 1 : op->second;
      auto kernel = (*factory)(kinfo);
      if (kernel.is_ok()) kernels_[i] = kernel.take();
      else reason = kernel.status().message();
    }
    // Carry dtypes through nodes shape inference does not type (fused ops, data movement), so the
    // device kernels after them can be placed.
    const size_t typed_outputs = kernels_[i] ? node.outputs.size() : same_dtype_outputs(node);
    std::vector<DType> in;
    for (const passes::ValueType& t : input_types(node, pctx.types)) in.push_back(t.dtype);
    for (size_t o = 0; o < typed_outputs && !in.empty(); ++o) {
      if (node.outputs[o].empty()) continue;
      passes::ValueType& t = pctx.types[node.outputs[o]];
      if (t.dtype == DType::kUndefined) t.dtype = kernels_[i] ? kernels_[i]->output_dtype((int)o, in) : in[0];
    }
    if (!kernels_[i] && !reason.empty()) report_.cpu_nodes.push_back({node.describe(), reason});
    const bool shape_outputs = kernels_[i] ? kernels_[i]->writes_host_values() : reason.empty();
    for (int s : steps[i].outputs)
      if (s >= 0) shape_valued[s] = shape_outputs;
  }

  // Walk the values: which constants the device reads, and how many copies a run makes.
  std::vector<Where> where(plan->num_slots());
  std::set<int> device_constants;
  // Values that are a graph input's values (the input, or a view of it): a device kernel reading
  // one on the host makes a run's host work depend on more than the input shapes.
  std::vector<bool> input_valued(plan->num_slots(), false);
  bool host_reads_input_values = false;
  for (auto& [s, t] : plan->constant_slots()) where[s].host = true;
  for (int s : plan->input_slots()) where[s].host = true, input_valued[s] = true;
  for (size_t i = 0; i < steps.size(); ++i) {
    const CudaOpKernel* k = kernels_[i].get();
    const auto& ins = steps[i].inputs;
    using Access = CudaOpKernel::Access;
    for (size_t j = 0; j < ins.size(); ++j) {
      const int s = ins[j];
      if (s < 0) continue;
      const bool node_input = j < steps[i].node->inputs.size();
      if (k && node_input && k->input_access((int)j) == Access::kMetadata) continue;
      const bool on_device = k && node_input && k->input_access((int)j) == Access::kDevice;
      if (k && node_input && k->input_access((int)j) == Access::kHost && input_valued[s]) host_reads_input_values = true;
      if (on_device && is_constant[s]) {
        device_constants.insert(s);
        where[s].device = true;
      } else if (on_device && !where[s].device) {
        where[s].device = true;
        ++report_.host_to_device;
        const bool graph_input = std::find(plan->input_slots().begin(), plan->input_slots().end(), s) !=
                                 plan->input_slots().end();
        if (!graph_input) ++report_.fallback_host_to_device;
      } else if (!on_device && !where[s].host) {
        where[s].host = true;
        ++report_.device_to_host;
        ++report_.fallback_device_to_host;
      }
    }
    // CPU steps and Shape/Size write host values, views stay where their input is, and every
    // other device kernel writes device values.
    Where out{false, true};
    bool view_of_input = false;
    if (!k || k->writes_host_values()) {
      out = Where{true, false};
    } else if (!ins.empty() && ins[0] >= 0 && k->input_access(0) == Access::kMetadata) {
      out = where[ins[0]];
      view_of_input = input_valued[ins[0]];
    }
    for (int s : steps[i].outputs)
      if (s >= 0) where[s] = out, input_valued[s] = view_of_input;
  }
  for (int s : plan->output_slots())
    if (!where[s].host) ++report_.device_to_host, where[s].host = true;
  graphable_ = report_.cpu_nodes.empty() && report_.fallback_device_to_host == 0 && report_.fallback_host_to_device == 0 &&
               !host_reads_input_values;
  for (int s : plan->input_slots())
    if (where[s].device) device_inputs_.push_back(s);

  return std::vector<int>(device_constants.begin(), device_constants.end());
}

namespace {

// The dtype device readers want constant slot s in: one 16-bit type they all ask for, else its own.
DType wanted_dtype(const ExecutionPlan& plan, const std::vector<std::unique_ptr<CudaOpKernel>>& kernels, int s,
                   DType own) {
  if (own != DType::kFloat32) return own;
  DType want = DType::kUndefined;
  const auto& steps = plan.steps();
  for (size_t i = 0; i < steps.size(); ++i) {
    const CudaOpKernel* k = kernels[i].get();
    for (size_t j = 0; k && j < steps[i].inputs.size() && j < steps[i].node->inputs.size(); ++j) {
      if (steps[i].inputs[j] != s || k->input_access((int)j) != CudaOpKernel::Access::kDevice) continue;
      const DType d = k->device_constant_dtype((int)j);
      if (d == DType::kUndefined || (want != DType::kUndefined && want != d)) return own;
      want = d;
    }
  }
  return want == DType::kFloat16 || want == DType::kBFloat16 ? want : own;
}

// A float32 tensor rounded to float16 or bfloat16 (round to nearest even).
Tensor to_16bit(const Tensor& t, DType to) {
  Tensor out = Tensor::empty(to, t.shape());
  const float* src = t.data<float>();
  uint16_t* dst = out.data<uint16_t>();
  for (int64_t i = 0; i < t.numel(); ++i) dst[i] = to == DType::kFloat16 ? float_to_half(src[i]) : float_to_bf16(src[i]);
  return out;
}

}  // namespace

Status CudaPlan::upload(const std::vector<int>& device_constants) {
  const ExecutionPlan* plan = plan_.get();
  std::map<int, Tensor> device_copy;  // the constants as they go to the device
  for (auto& [s, t] : plan->constant_slots()) {
    if (std::find(device_constants.begin(), device_constants.end(), s) == device_constants.end()) continue;
    if (t.dtype() == DType::kString)
      return Status(StatusCode::kType, str_cat("constant '", plan->slot_name(s), "' is a string tensor; it cannot go to the device"));
    const DType want = wanted_dtype(*plan, kernels_, s, t.dtype());
    device_copy.emplace(s, want == t.dtype() ? t : to_16bit(t, want));
  }
  size_t total = 0;
  for (auto& [s, t] : device_copy) total += (t.nbytes() + kWeightAlign - 1) / kWeightAlign * kWeightAlign;
  weights_.resize(plan->num_slots());
  if (total == 0) return Status::ok();
  HS_CUDA_CHECK(cudaSetDevice(device_));
  void* block = nullptr;
  HS_CUDA_CHECK(device_alloc(&block, total));
  std::shared_ptr<void> owner(block, [total](void* p) { device_free(p, total); });
  size_t offset = 0;
  for (auto& [s, t] : device_copy) {
    void* dst = static_cast<char*>(block) + offset;
    if (t.nbytes()) HS_CUDA_CHECK(cudaMemcpy(dst, t.raw(), t.nbytes(), cudaMemcpyHostToDevice));
    weights_[s] = DeviceTensor{t.dtype(), t.shape(), dst, owner};
    offset += (t.nbytes() + kWeightAlign - 1) / kWeightAlign * kWeightAlign;
  }
  return Status::ok();
}

}  // namespace hs::cuda
