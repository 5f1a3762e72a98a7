// RNN, GRU and LSTM on CUDA, float32, with the CPU kernel's algorithm (kernels/cpu/rnn.cpp): per
// direction one GEMM projects every time step's input at once (X W^T plus the folded biases), then
// each time step is a GEMM of the state with R^T and one element-wise launch (recurrent.cuh); GRU
// without linear_before_reset takes a second GEMM for the h gate, after r . H_prev. A few launches
// per step, so a run captures as a CUDA graph like any other. In precision fp16/bf16 constant W and
// R are stored in that type, as MatMul's weights are.
#include "backends/cuda/ops/gemm_tactic.h"
#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/recurrent_attrs.h"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/movement.cuh"
#include "kernels/cuda/recurrent.cuh"

namespace hs::cuda::ops {
namespace {

using cpu::RecurrentCell;

// Inputs: X, W, R, B, sequence_lens, initial_h (, initial_c, P for LSTM).
constexpr int kBias = 3, kLengths = 4, kInitialH = 5, kInitialC = 6, kPeephole = 7;

const void* element_at(const void* base, GemmElem elem, int64_t i) {
  return static_cast<const char*>(base) + i * (elem == GemmElem::kF32 ? 4 : 2);
}

template <RecurrentCell kCell>
class RecurrentKernel : public CudaKernelBase {
 public:
  explicit RecurrentKernel(const CudaKernelInfo& info) {
    init_status = cpu::parse_recurrent_attrs(info.node, kCell, &attrs_);
    const int float_inputs[] = {0, 1, 2, kBias, kInitialH, kInitialC, kPeephole};
    for (int i : float_inputs)
      if (init_status.is_ok() && info.has_input(i) && (kCell == RecurrentCell::kLstm || i < kInitialC))
        init_status = require_dtype(info, i, {DType::kFloat32});
    if (init_status.is_ok() && info.has_input(kLengths))
      init_status = require_dtype(info, kLengths, {DType::kInt32, DType::kInt64});
    tactics_.init(info, true);
  }

  DType device_constant_dtype(int input) const override {
    return input == 1 || input == 2 ? tactics_.weight_dtype() : DType::kUndefined;
  }
  std::vector<std::string> tactics() const override { return tactics_.candidates(); }
  Status select_tactic(const std::string& name) override { return tactics_.select(name); }
  std::string tactic() const override { return tactics_.selected(); }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "X"));
    GemmElem w_elem, r_elem;
    HS_RETURN_IF_ERROR(gemm_elem(ctx.input(1), "W", &w_elem));
    HS_RETURN_IF_ERROR(gemm_elem(ctx.input(2), "R", &r_elem));
    const DeviceTensor* w = ctx.input(1);
    const DeviceTensor* r = ctx.input(2);
    cpu::RecurrentSizes s;
    HS_RETURN_IF_ERROR(cpu::recurrent_sizes(kCell, attrs_, x->shape, w->shape, r->shape, &s));
    const int64_t G = s.gates, H = s.hidden, D = s.directions, GH = G * H;
    const Shape state_shape = cpu::recurrent_state_shape(attrs_, s);
    const DeviceTensor* bias = optional_input(ctx, kBias);
    const DeviceTensor* initial_h = optional_input(ctx, kInitialH);
    const DeviceTensor* initial_c = kCell == RecurrentCell::kLstm ? optional_input(ctx, kInitialC) : nullptr;
    const DeviceTensor* peephole = kCell == RecurrentCell::kLstm ? optional_input(ctx, kPeephole) : nullptr;
    const DeviceTensor* lengths = optional_input(ctx, kLengths);
    HS_RETURN_IF_ERROR(check_float(bias, "B", {D, 2 * GH}));
    HS_RETURN_IF_ERROR(check_float(initial_h, "initial_h", state_shape));
    HS_RETURN_IF_ERROR(check_float(initial_c, "initial_c", state_shape));
    HS_RETURN_IF_ERROR(check_float(peephole, "P", {D, 3 * H}));
    if (lengths) HS_RETURN_IF_ERROR(cpu::check_sequence_lens(kCell, lengths->dtype, lengths->shape, s));

    float* y = nullptr;
    if (ctx.output_wanted(0)) {
      auto out = ctx.output(0, DType::kFloat32, cpu::recurrent_y_shape(attrs_, s));
      if (!out.is_ok()) return out.status();
      y = out.value()->as<float>();
    }
    const bool lstm = kCell == RecurrentCell::kLstm;
    // GRU: the h gate's recurrent part (with its bias) scaled by r inside the step, or after r . H_prev
    // through a second GEMM.
    const bool reset_inside = kCell == RecurrentCell::kGru && attrs_.linear_before_reset;
    const bool split_h = kCell == RecurrentCell::kGru && !attrs_.linear_before_reset;
    const int64_t state_n = D * s.batch * H, gates_n = split_h ? 2 * H : GH;
    float *xproj = nullptr, *gates = nullptr, *h = nullptr, *c = nullptr;
    float *reset = nullptr, *candidates = nullptr, *folded = nullptr;
    HS_RETURN_IF_ERROR(scratch_floats(ctx, s.seq * s.batch * GH, &xproj));
    HS_RETURN_IF_ERROR(scratch_floats(ctx, s.batch * gates_n, &gates));
    HS_RETURN_IF_ERROR(scratch_floats(ctx, state_n, &h));
    if (lstm) HS_RETURN_IF_ERROR(scratch_floats(ctx, state_n, &c));
    if (split_h) HS_RETURN_IF_ERROR(scratch_floats(ctx, s.batch * H, &reset));
    if (split_h) HS_RETURN_IF_ERROR(scratch_floats(ctx, s.batch * H, &candidates));
    if (bias) HS_RETURN_IF_ERROR(scratch_floats(ctx, GH, &folded));
    HS_RETURN_IF_ERROR(load_state(initial_h, s, h, ctx.stream()));
    if (lstm) HS_RETURN_IF_ERROR(load_state(initial_c, s, c, ctx.stream()));

    for (int64_t d = 0; d < D && s.seq > 0; ++d) {
      float* h_d = h + d * s.batch * H;
      // Every step's input projection; R's h-gate bias stays out of it under linear_before_reset.
      if (bias)
        HS_RETURN_IF_ERROR(fold_recurrent_bias(bias->as<float>() + d * 2 * GH, GH,
                                               reset_inside ? 2 * H : GH, folded, ctx.stream()));
      GemmArgs proj;
      proj.M = s.batch, proj.N = GH, proj.K = s.input;
      proj.a = x->data;
      proj.a_rs = attrs_.layout == 0 ? s.input : s.seq * s.input, proj.a_cs = 1;
      proj.batch.rank = 1, proj.batch.dims[0] = s.seq;
      proj.a_bs.s[0] = attrs_.layout == 0 ? s.batch * s.input : s.input;
      proj.b = element_at(w->data, w_elem, d * GH * s.input), proj.b_elem = w_elem;
      proj.b_rs = 1, proj.b_cs = s.input;  // B(k, n) = W[n, k]
      proj.c = xproj, proj.c_rs = GH, proj.c_bs = s.batch * GH;
      proj.bias = folded;
      HS_RETURN_IF_ERROR(run_gemm(tactics_, proj, ctx));

      RecurrentStep step;
      step.cell = kCell;
      step.seq = s.seq, step.batch = s.batch, step.hidden = H;
      step.backwards = attrs_.backwards(d);
      step.lengths = lengths ? lengths->data : nullptr;
      step.lengths_int64 = lengths && lengths->dtype == DType::kInt64;
      step.xproj = xproj;
      step.gates = gates, step.gates_stride = gates_n;
      step.h = h_d, step.c = lstm ? c + d * s.batch * H : nullptr;
      if (y) {  // Y [seq, D, batch, H] or [batch, seq, D, H]
        step.y = y + (attrs_.layout == 0 ? d * s.batch * H : d * H);
        step.y_t = attrs_.layout == 0 ? D * s.batch * H : D * H;
        step.y_b = attrs_.layout == 0 ? H : s.seq * D * H;
      }
      step.peephole = peephole ? peephole->as<float>() + d * 3 * H : nullptr;
      step.reset_bias = bias && reset_inside ? bias->as<float>() + d * 2 * GH + GH + 2 * H : nullptr;
      step.reset = reset, step.candidates = candidates;
      step.has_clip = attrs_.has_clip, step.clip = attrs_.clip;
      step.input_forget = attrs_.input_forget;
      const cpu::RnnActivation* act = attrs_.activations_of(d);
      for (size_t k = 0; k < attrs_.activations.size() / D; ++k) step.act[k] = act[k];
      step.error_flag = ctx.error_flag();

      GemmArgs rec;  // this step's H_prev R^T: B(k, n) = R[n, k]
      rec.M = s.batch, rec.N = gates_n, rec.K = H;
      rec.a = h_d, rec.a_rs = H, rec.a_cs = 1;
      rec.b = element_at(r->data, r_elem, d * GH * H), rec.b_elem = r_elem, rec.b_rs = 1, rec.b_cs = H;
      rec.c = gates, rec.c_rs = gates_n;
      GemmArgs rec_h = rec;  // GRU: (r . H_prev) R_h^T
      rec_h.N = H, rec_h.a = reset, rec_h.b = element_at(r->data, r_elem, (d * GH + 2 * H) * H), rec_h.c = candidates,
      rec_h.c_rs = H;
      for (step.step = 0; step.step < s.seq; ++step.step) {
        HS_RETURN_IF_ERROR(run_gemm(tactics_, rec, ctx));
        if (!split_h) {
          HS_RETURN_IF_ERROR(recurrent_step(step, RecurrentPhase::kWhole, ctx.stream()));
          continue;
        }
        HS_RETURN_IF_ERROR(recurrent_step(step, RecurrentPhase::kGates, ctx.stream()));
        HS_RETURN_IF_ERROR(run_gemm(tactics_, rec_h, ctx));
        HS_RETURN_IF_ERROR(recurrent_step(step, RecurrentPhase::kUpdate, ctx.stream()));
      }
    }
    for (int i = 1; i <= (lstm ? 2 : 1); ++i) {
      if (!ctx.output_wanted(i)) continue;
      auto out = ctx.output(i, DType::kFloat32, state_shape);
      if (!out.is_ok()) return out.status();
      HS_RETURN_IF_ERROR(store_state(i == 1 ? h : c, s, out.value()->as<float>(), ctx.stream()));
    }
    return Status::ok();
  }

 private:
  static const DeviceTensor* optional_input(CudaKernelContext& ctx, int i) {
    return i < ctx.num_inputs() ? ctx.input(i) : nullptr;
  }

  static Status check_float(const DeviceTensor* t, const char* name, const Shape& expected) {
    if (!t) return Status::ok();
    HS_RETURN_IF_ERROR(check_dtype(t, DType::kFloat32, name));
    return cpu::check_recurrent_shape(kCell, &t->shape, name, expected);
  }

  static Status scratch_floats(CudaKernelContext& ctx, int64_t n, float** out) {
    auto mem = ctx.scratch(std::max<size_t>(1, (size_t)n) * sizeof(float));
    if (!mem.is_ok()) return mem.status();
    *out = static_cast<float*>(mem.value());
    return Status::ok();
  }

  // The states are kept as [D, batch, H]; in layout 1 the node's are [batch, D, H]. The space
  // [D, batch, H] and the strides that read it from a tensor in the node's layout:
  IndexSpace state_space(const cpu::RecurrentSizes& s) const {
    IndexSpace space;
    space.rank = 3, space.dims[0] = s.directions, space.dims[1] = s.batch, space.dims[2] = s.hidden;
    return space;
  }
  Strides layout_strides(const cpu::RecurrentSizes& s) const {
    Strides st;
    const int64_t H = s.hidden;
    st.s[0] = attrs_.layout == 0 ? s.batch * H : H;
    st.s[1] = attrs_.layout == 0 ? H : s.directions * H;
    st.s[2] = 1;
    return st;
  }

  Status load_state(const DeviceTensor* initial, const cpu::RecurrentSizes& s, float* state, cudaStream_t stream) const {
    const int64_t n = s.directions * s.batch * s.hidden;
    if (n == 0) return Status::ok();
    if (!initial) return fill(sizeof(float), 0, state, n, stream);
    return strided_copy(sizeof(float), initial->data, layout_strides(s), state, state_space(s), stream);
  }

  // out (the node's layout)[d, b, :] = state[d, b, :].
  Status store_state(const float* state, const cpu::RecurrentSizes& s, float* out, cudaStream_t stream) const {
    if (s.directions * s.batch * s.hidden == 0) return Status::ok();
    // Read the state in the output's own order: [D, batch, H] or [batch, D, H].
    IndexSpace space;
    Strides st;
    const int64_t H = s.hidden;
    space.rank = 3, space.dims[2] = H, st.s[2] = 1;
    if (attrs_.layout == 0) {
      space.dims[0] = s.directions, space.dims[1] = s.batch, st.s[0] = s.batch * H, st.s[1] = H;
    } else {
      space.dims[0] = s.batch, space.dims[1] = s.directions, st.s[0] = H, st.s[1] = s.batch * H;
    }
    return strided_copy(sizeof(float), state, st, out, space, stream);
  }

  cpu::RecurrentAttrs attrs_;
  GemmTactics tactics_;
};

HS_REGISTER_CUDA_KERNEL("", "RNN", RecurrentKernel<RecurrentCell::kRnn>);
HS_REGISTER_CUDA_KERNEL("", "GRU", RecurrentKernel<RecurrentCell::kGru>);
HS_REGISTER_CUDA_KERNEL("", "LSTM", RecurrentKernel<RecurrentCell::kLstm>);

}  // namespace
}  // namespace hs::cuda::ops
