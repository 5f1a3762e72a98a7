// Einsum on CUDA, float32. The CPU kernel's plan (kernels/cpu/einsum_equation.h: label sizes, input
// axes with diagonals folded into strides, labels summed out of one input before anything else,
// contraction left to right) made of device primitives: a strided reduction sums labels out, the
// strided batched GEMM (with MatMul's tactics) contracts a pair, and a strided copy or reduction
// writes the output. A GEMM reads its operands in place when their matrix axes merge into one stride
// each, else after one permuting copy; intermediate results live in the step's scratch memory.
#include <optional>

#include "backends/cuda/ops/gemm_tactic.h"
#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/einsum_equation.h"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/movement.cuh"
#include "kernels/cuda/reduce.cuh"

namespace hs::cuda::ops {
namespace {

using cpu::EinsumAxes;

struct DeviceOperand {
  EinsumAxes axes;
  const float* data = nullptr;
};

std::vector<int> concat(const std::vector<int>& a, const std::vector<int>& b, const std::vector<int>& c) {
  std::vector<int> out = a;
  out.insert(out.end(), b.begin(), b.end());
  out.insert(out.end(), c.begin(), c.end());
  return out;
}

int64_t size_of(const EinsumAxes& op, const std::vector<int>& labels) {
  int64_t n = 1;
  for (int label : labels) n *= op.dims[op.find(label)];
  return n;
}

// The index space of `labels` (in that order) and the strides that read them from `op`.
Status space_of(const EinsumAxes& op, const std::vector<int>& labels, IndexSpace* space, Strides* strides) {
  if (labels.size() > (size_t)kMaxDims)
    HS_FAIL(kShape, "Einsum: ", labels.size(), " axes in one step exceed the CUDA kernels' ", kMaxDims);
  space->rank = (int)labels.size();
  for (size_t i = 0; i < labels.size(); ++i) {
    const int at = op.find(labels[i]);
    space->dims[i] = op.dims[at];
    strides->s[i] = op.strides[at];
  }
  return Status::ok();
}

// out (contiguous, axes `labels`, each one of op's) = op summed over its other labels; with nothing
// to sum a strided copy (a permutation, diagonal or broadcast).
Status sum_into(const DeviceOperand& op, const std::vector<int>& labels, float* out, cudaStream_t stream) {
  std::vector<int> summed;
  for (int label : op.axes.labels)
    if (std::find(labels.begin(), labels.end(), label) == labels.end()) summed.push_back(label);
  ReduceArgs r;
  HS_RETURN_IF_ERROR(space_of(op.axes, labels, &r.kept, &r.kept_strides));
  if (summed.empty()) return strided_copy(sizeof(float), op.data, r.kept_strides, out, r.kept, stream);
  HS_RETURN_IF_ERROR(space_of(op.axes, summed, &r.reduced, &r.reduced_strides));
  r.x = op.data, r.y = out, r.op = ReduceOp::kSum;
  return reduce_f32(r, stream);
}

// Contiguous axes `labels`, sized as in `from`.
EinsumAxes contiguous_axes(const EinsumAxes& from, const std::vector<int>& labels) {
  EinsumAxes out;
  out.labels = labels;
  for (int label : labels) out.dims.push_back(from.dims[from.find(label)]);
  out.strides = cpu::strides_of(out.dims);
  return out;
}

// A contiguous operand with axes `labels` in scratch memory.
Result<DeviceOperand> scratch_operand(const EinsumAxes& from, const std::vector<int>& labels, CudaKernelContext& ctx) {
  DeviceOperand out;
  out.axes = contiguous_axes(from, labels);
  auto mem = ctx.scratch(std::max<size_t>(1, (size_t)shape_numel(out.axes.dims)) * sizeof(float));
  if (!mem.is_ok()) return mem.status();
  out.data = static_cast<const float*>(mem.value());
  return out;
}

// `op` summed down to (or permuted into) `labels`, in scratch memory.
Result<DeviceOperand> reduced_to(const DeviceOperand& op, const std::vector<int>& labels, CudaKernelContext& ctx) {
  auto out = scratch_operand(op.axes, labels, ctx);
  if (!out.is_ok()) return out.status();
  HS_RETURN_IF_ERROR(sum_into(op, labels, const_cast<float*>(out.value().data), ctx.stream()));
  return out;
}

// The stride of `labels` (in that order) read from `op` as one flattened axis, when they merge into
// one (size-1 axes go anywhere); none when they do not.
std::optional<int64_t> merged_stride(const EinsumAxes& op, const std::vector<int>& labels) {
  std::optional<int64_t> inner;
  int64_t next = 0;
  for (size_t k = labels.size(); k-- > 0;) {
    const int at = op.find(labels[k]);
    if (op.dims[at] == 1) continue;
    if (!inner) inner = op.strides[at];
    else if (op.strides[at] != next) return std::nullopt;
    next = op.strides[at] * op.dims[at];
  }
  return inner.value_or(0);
}

class EinsumKernel : public CudaKernelBase {
 public:
  explicit EinsumKernel(const CudaKernelInfo& info) {
    const Attribute* equation = info.node.attr("equation");
    if (!equation) {
      HS_CUDA_UNSUPPORTED("missing attribute equation");
      return;
    }
    for (size_t i = 0; i < info.node.inputs.size() && init_status.is_ok(); ++i)
      init_status = require_dtype(info, i, {DType::kFloat32});
    if (init_status.is_ok()) init_status = cpu::parse_einsum_terms(equation->s, &terms_);
    tactics_.init(info, true);
  }

  std::vector<std::string> tactics() const override { return tactics_.candidates(); }
  Status select_tactic(const std::string& name) override { return tactics_.select(name); }
  std::string tactic() const override { return tactics_.selected(); }

  Status compute(CudaKernelContext& ctx) const override {
    std::vector<Shape> shapes;
    std::vector<int64_t> ranks;
    bool any_empty = false;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      HS_RETURN_IF_ERROR(check_dtype(ctx.input(i), DType::kFloat32, "Einsum input"));
      shapes.push_back(ctx.input(i)->shape);
      ranks.push_back(ctx.input(i)->rank());
      any_empty = any_empty || ctx.input(i)->numel() == 0;
    }
    cpu::EinsumEquation eq;
    HS_RETURN_IF_ERROR(cpu::expand_einsum(terms_, ranks, &eq));
    std::map<int, int64_t> sizes;
    HS_RETURN_IF_ERROR(cpu::einsum_label_sizes(eq, shapes, &sizes));
    Shape out_shape;
    for (int label : eq.output) out_shape.push_back(sizes.at(label));
    auto y = ctx.output(0, DType::kFloat32, out_shape);
    if (!y.is_ok()) return y.status();
    float* out = y.value()->as<float>();
    if (shape_numel(out_shape) == 0) return Status::ok();
    if (any_empty) return fill(sizeof(float), 0, out, shape_numel(out_shape), ctx.stream());

    std::vector<DeviceOperand> ops;
    for (int i = 0; i < ctx.num_inputs(); ++i)
      ops.push_back({cpu::einsum_input_axes(shapes[i], eq.inputs[i], sizes), ctx.input(i)->as<float>()});
    auto labels_of = [&] {
      std::vector<std::vector<int>> labels;
      for (const DeviceOperand& op : ops) labels.push_back(op.axes.labels);
      return labels;
    };
    for (size_t i = 0; i < ops.size() && ops.size() > 1; ++i) {
      const std::vector<int> needed = cpu::einsum_needed_labels(labels_of(), i, eq.output);
      if (needed.size() == ops[i].axes.labels.size()) continue;
      auto reduced = reduced_to(ops[i], needed, ctx);
      if (!reduced.is_ok()) return reduced.status();
      ops[i] = reduced.value();
    }
    const std::vector<std::vector<int>> labels = labels_of();
    DeviceOperand result = ops[0];
    for (size_t i = 1; i < ops.size(); ++i) {
      const bool last = i + 1 == ops.size();
      auto c = contract(result, ops[i], cpu::einsum_kept_after(labels, i, eq.output), last ? &eq.output : nullptr,
                        out, ctx);
      if (!c.is_ok()) return c.status();
      result = c.value();
    }
    if (result.data == out) return Status::ok();
    return sum_into(result, eq.output, out, ctx.stream());
  }

 private:
  // C[batch, m, n] = A[batch, m, k] B[batch, k, n] over the pair's labels. The result goes straight
  // into `out` when its labels are the output's (`output`, given for the last pair), else to scratch.
  Result<DeviceOperand> contract(DeviceOperand a, DeviceOperand b, const std::set<int>& kept,
                                 const std::vector<int>* output, float* out, CudaKernelContext& ctx) const {
    const cpu::EinsumPair p = cpu::split_einsum_pair(a.axes.labels, b.axes.labels, kept);
    auto replace = [&](DeviceOperand& op, const std::vector<int>& labels) -> Status {
      auto r = reduced_to(op, labels, ctx);
      if (!r.is_ok()) return r.status();
      op = r.value();
      return Status::ok();
    };
    if (p.a_rest.size() < a.axes.labels.size()) HS_RETURN_IF_ERROR(replace(a, p.a_rest));
    if (p.b_rest.size() < b.axes.labels.size()) HS_RETURN_IF_ERROR(replace(b, p.b_rest));
    // Contracted labels in one order for both; an operand whose m (n) or k labels do not flatten
    // into one stride is copied into [batch, m, k] ([batch, k, n]) first.
    if (!merged_stride(a.axes, p.m) || !merged_stride(a.axes, p.contracted))
      HS_RETURN_IF_ERROR(replace(a, concat(p.batch, p.m, p.contracted)));
    if (!merged_stride(b.axes, p.contracted) || !merged_stride(b.axes, p.n))
      HS_RETURN_IF_ERROR(replace(b, concat(p.batch, p.contracted, p.n)));

    EinsumAxes both = a.axes;  // every label of the pair with its size
    for (size_t i = 0; i < b.axes.labels.size(); ++i)
      if (both.find(b.axes.labels[i]) < 0) both.labels.push_back(b.axes.labels[i]), both.dims.push_back(b.axes.dims[i]);
    const std::vector<int> c_labels = concat(p.batch, p.m, p.n);
    DeviceOperand c{contiguous_axes(both, c_labels), out};
    if (!output || *output != c_labels) {
      auto s = scratch_operand(both, c_labels, ctx);
      if (!s.is_ok()) return s.status();
      c = s.value();
    }
    GemmArgs g;
    g.M = size_of(a.axes, p.m), g.N = size_of(b.axes, p.n), g.K = size_of(a.axes, p.contracted);
    g.a = a.data, g.a_rs = *merged_stride(a.axes, p.m), g.a_cs = *merged_stride(a.axes, p.contracted);
    g.b = b.data, g.b_rs = *merged_stride(b.axes, p.contracted), g.b_cs = *merged_stride(b.axes, p.n);
    g.c = const_cast<float*>(c.data), g.c_rs = g.N, g.c_bs = g.M * g.N;
    Strides b_bs;
    IndexSpace b_batch;
    HS_RETURN_IF_ERROR(space_of(a.axes, p.batch, &g.batch, &g.a_bs));
    HS_RETURN_IF_ERROR(space_of(b.axes, p.batch, &b_batch, &g.b_bs));
    HS_RETURN_IF_ERROR(run_gemm(tactics_, g, ctx));
    return c;
  }

  cpu::EinsumTerms terms_;
  GemmTactics tactics_;
};

HS_REGISTER_CUDA_KERNEL("", "Einsum", EinsumKernel);

}  // namespace
}  // namespace hs::cuda::ops
