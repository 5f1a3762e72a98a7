// RNN, GRU, LSTM: forward, reverse or bidirectional recurrent layers with per-batch
// sequence_lens, initial states, clip, custom activations, LSTM peepholes and input_forget, GRU
// linear_before_reset, and layout 0 ([seq, batch, ...]) or 1 ([batch, seq, ...]).
//
// Algorithm, per direction:
//  1. The input projection of every time step at once: Xproj = X * W^T + biases, one GEMM of
//     (seq*batch) x (gates*H) x input, biases added in the GEMM epilogue (W and R biases summed,
//     except GRU's recurrent h-gate bias under linear_before_reset, which stays inside r * (.)).
//  2. The recurrent weights R^T are packed once into GEMM panels; each time step computes
//     H_prev * R^T (batch x gates*H), adds the row of Xproj for the batch entry's time index,
//     then applies clip, the activations and the cell update element-wise, row by row (parallel
//     over batch entries when the rows are long enough). GRU without linear_before_reset needs
//     (r . H_prev) * R_h^T, a second GEMM per step after the z and r gates.
//  3. sequence_lens: batch entry b runs steps [0, len_b) only (reversed within its own length for
//     the reverse direction); its state then stays put and Y is zero past its length.
// Everything computes in float (other float dtypes are converted); states and Y are kept as
// [seq, directions, batch, H] and transposed into layout 1 on output.
#include <algorithm>
#include <cstring>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/recurrent_attrs.h"

namespace hs::cpu {
namespace {

using Cell = RecurrentCell;

// A tensor's values as float: the tensor's own memory for float32, else a converted copy.
class FloatValues {
 public:
  explicit FloatValues(const Tensor* t) {
    if (!t) return;
    if (t->dtype() == DType::kFloat32) data_ = t->data<float>();
    else storage_ = t->to_float_vector();
  }
  const float* data() const { return storage_.empty() ? data_ : storage_.data(); }
  bool present() const { return data() != nullptr; }

 private:
  const float* data_ = nullptr;
  std::vector<float> storage_;
};

// Buffers of one run in the canonical layout: Y [seq, dirs, batch, H], states [dirs, batch, H].
struct RecurrentState {
  std::vector<float> y, h, c;
  std::vector<int64_t> lengths;  // per batch entry
};

inline void clip_values(float* x, int64_t n, const RecurrentAttrs& a) {
  if (!a.has_clip) return;
  for (int64_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], -a.clip), a.clip);
}

// Everything one direction's time loop reads.
struct DirectionContext {
  const RecurrentSizes& s;
  const RecurrentAttrs& a;
  int64_t dir;
  bool backwards;
  const RnnActivation* act;  // this direction's activations
  const float* xproj;        // [seq * batch, gates * H]
  const float* peephole;     // LSTM [3H] (i, o, f) or nullptr
  const float* reset_bias;   // GRU linear_before_reset: R's h-gate bias [H]
  RecurrentState& state;
  ThreadPool& pool;

  // The time index batch entry b reads at step `step`, or -1 when b is past its length.
  int64_t time_of(int64_t step, int64_t b) const {
    const int64_t len = state.lengths[b];
    if (step >= len) return -1;
    return backwards ? len - 1 - step : step;
  }
  const float* xproj_row(int64_t t, int64_t b) const { return xproj + (t * s.batch + b) * s.gates * s.hidden; }
  float* h_row(int64_t b) const { return state.h.data() + (dir * s.batch + b) * s.hidden; }
  float* c_row(int64_t b) const { return state.c.data() + (dir * s.batch + b) * s.hidden; }
  float* y_row(int64_t t, int64_t b) const {
    return state.y.data() + ((t * s.directions + dir) * s.batch + b) * s.hidden;
  }
  // Calls fn(b, t) for the batch entries active at `step`, in parallel when rows are long.
  template <typename Fn>
  void for_active(int64_t step, Fn&& fn) const {
    pool.parallel_for(s.batch, grain_for(s.gates * s.hidden * 16), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const int64_t t = time_of(step, b);
        if (t >= 0) fn(b, t);
      }
    });
  }
};

// hr (batch x N) = H_state (batch x H) * packed R^T.
void recurrent_gemm(const DirectionContext& d, const float* h_state, const PackedMatrix& r, float* hr) {
  GemmOperand a, b;
  a.data = h_state;
  a.ld = d.s.hidden;
  b.packed = &r;
  sgemm_ex(d.s.batch, r.cols(), d.s.hidden, 1.f, a, b, 0.f, hr, r.cols(), GemmEpilogue(), &d.pool);
}

void rnn_step(const DirectionContext& d, int64_t step, const PackedMatrix& r, float* hr) {
  const int64_t H = d.s.hidden;
  recurrent_gemm(d, d.h_row(0), r, hr);
  d.for_active(step, [&](int64_t b, int64_t t) {
    float* g = hr + b * H;
    const float* xp = d.xproj_row(t, b);
    for (int64_t j = 0; j < H; ++j) g[j] += xp[j];
    clip_values(g, H, d.a);
    d.act[0].apply(g, H);
    std::memcpy(d.h_row(b), g, H * sizeof(float));
    std::memcpy(d.y_row(t, b), g, H * sizeof(float));
  });
}

// LSTM gates in W/R order i, o, f, c; peepholes i, o, f.
void lstm_step(const DirectionContext& d, int64_t step, const PackedMatrix& r, float* hr) {
  const int64_t H = d.s.hidden;
  recurrent_gemm(d, d.h_row(0), r, hr);
  d.for_active(step, [&](int64_t b, int64_t t) {
    float* g = hr + b * 4 * H;
    const float* xp = d.xproj_row(t, b);
    for (int64_t j = 0; j < 4 * H; ++j) g[j] += xp[j];
    float *gi = g, *go = g + H, *gf = g + 2 * H, *gc = g + 3 * H;
    float* c = d.c_row(b);
    const float* p = d.peephole;
    if (p)
      for (int64_t j = 0; j < H; ++j) gi[j] += p[j] * c[j];
    clip_values(gi, H, d.a);
    d.act[0].apply(gi, H);
    if (d.a.input_forget) {
      for (int64_t j = 0; j < H; ++j) gf[j] = 1.f - gi[j];
    } else {
      if (p)
        for (int64_t j = 0; j < H; ++j) gf[j] += p[2 * H + j] * c[j];
      clip_values(gf, H, d.a);
      d.act[0].apply(gf, H);
    }
    clip_values(gc, H, d.a);
    d.act[1].apply(gc, H);
    for (int64_t j = 0; j < H; ++j) c[j] = gf[j] * c[j] + gi[j] * gc[j];
    if (p)
      for (int64_t j = 0; j < H; ++j) go[j] += p[H + j] * c[j];
    clip_values(go, H, d.a);
    d.act[0].apply(go, H);
    std::memcpy(gc, c, H * sizeof(float));
    d.act[2].apply(gc, H);
    float* h = d.h_row(b);
    float* y = d.y_row(t, b);
    for (int64_t j = 0; j < H; ++j) h[j] = y[j] = go[j] * gc[j];
  });
}

// GRU gates in W/R order z, r, h. `r_zr` holds R^T's z and r columns, or all three with
// linear_before_reset; `r_h` the h columns otherwise. `reset` and `candidates` are batch x H
// scratch (used without linear_before_reset).
void gru_step(const DirectionContext& d, int64_t step, const PackedMatrix& r_zr, const PackedMatrix& r_h, float* hr,
              float* reset, float* candidates) {
  const int64_t H = d.s.hidden, n = r_zr.cols();
  recurrent_gemm(d, d.h_row(0), r_zr, hr);
  auto update = [&](int64_t b, float* z, float* candidate) {
    clip_values(candidate, H, d.a);
    d.act[1].apply(candidate, H);
    float* h = d.h_row(b);
    for (int64_t j = 0; j < H; ++j) h[j] = (1.f - z[j]) * candidate[j] + z[j] * h[j];
  };
  auto zr_gates = [&](int64_t b, int64_t t) {
    float* g = hr + b * n;
    const float* xp = d.xproj_row(t, b);
    for (int64_t j = 0; j < 2 * H; ++j) g[j] += xp[j];
    clip_values(g, 2 * H, d.a);
    d.act[0].apply(g, 2 * H);
    return g;
  };
  if (d.a.linear_before_reset) {
    d.for_active(step, [&](int64_t b, int64_t t) {
      float* g = zr_gates(b, t);
      float *z = g, *rg = g + H, *hh = g + 2 * H;
      const float* xp = d.xproj_row(t, b) + 2 * H;
      for (int64_t j = 0; j < H; ++j) hh[j] = xp[j] + rg[j] * (hh[j] + d.reset_bias[j]);
      update(b, z, hh);
      std::memcpy(d.y_row(t, b), d.h_row(b), H * sizeof(float));
    });
    return;
  }
  std::fill(reset, reset + d.s.batch * H, 0.f);
  d.for_active(step, [&](int64_t b, int64_t t) {
    const float* rg = zr_gates(b, t) + H;
    const float* h = d.h_row(b);
    for (int64_t j = 0; j < H; ++j) reset[b * H + j] = rg[j] * h[j];
  });
  recurrent_gemm(d, reset, r_h, candidates);
  d.for_active(step, [&](int64_t b, int64_t t) {
    float* hh = candidates + b * H;
    const float* xp = d.xproj_row(t, b) + 2 * H;
    for (int64_t j = 0; j < H; ++j) hh[j] += xp[j];
    update(b, hr + b * n, hh);
    std::memcpy(d.y_row(t, b), d.h_row(b), H * sizeof(float));
  });
}

template <Cell kCell>
class RecurrentKernel final : public KernelBase {
 public:
  explicit RecurrentKernel(const KernelInfo& info) { init_status = parse_recurrent_attrs(info.node, kCell, &attrs_); }

  Status compute(KernelContext& ctx) const override {
    const char* op = recurrent_op(kCell);
    const Tensor *x, *w, *r;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, op, &w));
    HS_RETURN_IF_ERROR(require_input(ctx, 2, op, &r));
    const Tensor* bias = ctx.input(3);
    const Tensor* lengths = ctx.input(4);
    const Tensor* initial_h = ctx.input(5);
    const Tensor* initial_c = kCell == Cell::kLstm ? ctx.input(6) : nullptr;
    const Tensor* peephole = kCell == Cell::kLstm ? ctx.input(7) : nullptr;
    for (const Tensor* t : {x, w, r, bias, initial_h, initial_c, peephole})
      if (t && !is_float(t->dtype()))
        HS_FAIL(kType, op, ": inputs must be float tensors, got ", dtype_name(t->dtype()));

    RecurrentSizes s;
    HS_RETURN_IF_ERROR(recurrent_sizes(kCell, attrs_, x->shape(), w->shape(), r->shape(), &s));
    const int64_t G = s.gates, H = s.hidden;
    HS_RETURN_IF_ERROR(check_shape(bias, "B", {s.directions, 2 * G * H}));
    HS_RETURN_IF_ERROR(check_shape(peephole, "P", {s.directions, 3 * H}));
    const Shape state_shape = recurrent_state_shape(attrs_, s);
    HS_RETURN_IF_ERROR(check_shape(initial_h, "initial_h", state_shape));
    HS_RETURN_IF_ERROR(check_shape(initial_c, "initial_c", state_shape));

    RecurrentState state;
    HS_RETURN_IF_ERROR(read_lengths(lengths, s, &state.lengths));
    state.y.assign(s.seq * s.directions * s.batch * H, 0.f);
    state.h = canonical_state(initial_h, s);
    if (kCell == Cell::kLstm) state.c = canonical_state(initial_c, s);

    const std::vector<float> input = canonical_input(*x, s);
    const FloatValues weights(w), recurrence(r), biases(bias), peepholes(peephole);
    for (int64_t dir = 0; dir < s.directions; ++dir)
      run_direction(s, dir, input.data(), weights.data() + dir * G * H * s.input, recurrence.data() + dir * G * H * H,
                    biases.present() ? biases.data() + dir * 2 * G * H : nullptr,
                    peepholes.present() ? peepholes.data() + dir * 3 * H : nullptr, state, ctx.pool());
    return emit_outputs(ctx, x->dtype(), s, state);
  }

 private:
  static Status check_shape(const Tensor* t, const char* name, const Shape& expected) {
    return check_recurrent_shape(kCell, t ? &t->shape() : nullptr, name, expected);
  }

  static Status read_lengths(const Tensor* lengths, const RecurrentSizes& s, std::vector<int64_t>* out) {
    if (!lengths) {
      out->assign(s.batch, s.seq);
      return Status::ok();
    }
    HS_RETURN_IF_ERROR(check_sequence_lens(kCell, lengths->dtype(), lengths->shape(), s));
    *out = lengths->to_int64_vector();
    for (int64_t len : *out)
      if (len < 0 || len > s.seq)
        HS_FAIL(kInvalidArgument, recurrent_op(kCell), ": sequence_lens value ", len, " is outside [0, ", s.seq, "]");
    return Status::ok();
  }

  // X as float [seq, batch, input].
  std::vector<float> canonical_input(const Tensor& x, const RecurrentSizes& s) const {
    std::vector<float> values = x.to_float_vector();
    if (attrs_.layout == 0) return values;
    std::vector<float> out(values.size());
    for (int64_t b = 0; b < s.batch; ++b)
      for (int64_t t = 0; t < s.seq; ++t)
        std::memcpy(&out[(t * s.batch + b) * s.input], &values[(b * s.seq + t) * s.input], s.input * sizeof(float));
    return out;
  }

  // An initial state as float [dirs, batch, H] (zeros when absent).
  std::vector<float> canonical_state(const Tensor* initial, const RecurrentSizes& s) const {
    const int64_t H = s.hidden;
    std::vector<float> out(s.directions * s.batch * H, 0.f);
    if (!initial) return out;
    const std::vector<float> values = initial->to_float_vector();
    if (attrs_.layout == 0) return values;
    for (int64_t b = 0; b < s.batch; ++b)
      for (int64_t d = 0; d < s.directions; ++d)
        std::memcpy(&out[(d * s.batch + b) * H], &values[(b * s.directions + d) * H], H * sizeof(float));
    return out;
  }

  void run_direction(const RecurrentSizes& s, int64_t dir, const float* x, const float* w, const float* r,
                     const float* bias, const float* peephole, RecurrentState& state, ThreadPool& pool) const {
    const int64_t G = s.gates, H = s.hidden, GH = G * H;
    if (s.seq == 0 || s.batch == 0 || H == 0) return;
    const bool gru_reset_inside = kCell == Cell::kGru && attrs_.linear_before_reset;
    // Biases folded into the input projection: Wb + Rb, but R's h-gate bias stays out for GRU
    // with linear_before_reset (it is scaled by r).
    std::vector<float> folded_bias(GH, 0.f);
    if (bias) {
      for (int64_t j = 0; j < GH; ++j) folded_bias[j] = bias[j] + (gru_reset_inside && j >= 2 * H ? 0.f : bias[GH + j]);
    }
    std::vector<float> xproj(s.seq * s.batch * GH);
    GemmOperand xa, wb;
    xa.data = x;
    xa.ld = s.input;
    wb.data = w;
    wb.ld = s.input;
    wb.trans = true;
    GemmEpilogue epilogue;
    epilogue.col_bias = folded_bias.data();
    sgemm_ex(s.seq * s.batch, GH, s.input, 1.f, xa, wb, 0.f, xproj.data(), GH, epilogue, &pool);

    const bool split_h = kCell == Cell::kGru && !attrs_.linear_before_reset;
    const PackedMatrix r_main = PackedMatrix::pack_b(true, H, split_h ? 2 * H : GH, r, H);
    const PackedMatrix r_h = split_h ? PackedMatrix::pack_b(true, H, H, r + 2 * H * H, H) : PackedMatrix();
    const std::vector<float> zero_reset_bias(gru_reset_inside && !bias ? H : 0, 0.f);
    const float* reset_bias = gru_reset_inside ? (bias ? bias + GH + 2 * H : zero_reset_bias.data()) : nullptr;

    DirectionContext d{s, attrs_, dir, attrs_.backwards(dir), attrs_.activations_of(dir), xproj.data(),
                       peephole, reset_bias, state, pool};
    std::vector<float> hr(s.batch * r_main.cols());
    std::vector<float> reset(split_h ? s.batch * H : 0), candidates(split_h ? s.batch * H : 0);
    for (int64_t step = 0; step < s.seq; ++step) {
      if constexpr (kCell == Cell::kRnn) rnn_step(d, step, r_main, hr.data());
      else if constexpr (kCell == Cell::kLstm) lstm_step(d, step, r_main, hr.data());
      else gru_step(d, step, r_main, r_h, hr.data(), reset.data(), candidates.data());
    }
  }

  // Writes Y, Y_h (and LSTM's Y_c) in the model's dtype and layout.
  Status emit_outputs(KernelContext& ctx, DType dtype, const RecurrentSizes& s, const RecurrentState& state) const {
    const int64_t H = s.hidden, D = s.directions;
    const bool batch_first = attrs_.layout == 1;
    return dispatch(dtype, kFloats, recurrent_op(kCell), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!kIsFloatType<T>) {
        return dtype_not_supported(recurrent_op(kCell), dtype);
      } else {
        auto copy_row = [H](const float* src, T* dst) {
          for (int64_t j = 0; j < H; ++j) dst[j] = store_as<T>(src[j]);
        };
        if (ctx.output_wanted(0)) {
          T* y = ctx.output(0, dtype, recurrent_y_shape(attrs_, s))->template data<T>();
          for (int64_t t = 0; t < s.seq; ++t)
            for (int64_t d = 0; d < D; ++d)
              for (int64_t b = 0; b < s.batch; ++b)
                copy_row(&state.y[((t * D + d) * s.batch + b) * H],
                         y + (batch_first ? (b * s.seq + t) * D + d : (t * D + d) * s.batch + b) * H);
        }
        const Shape state_shape = recurrent_state_shape(attrs_, s);
        for (int i = 1; i <= (kCell == Cell::kLstm ? 2 : 1); ++i) {
          if (!ctx.output_wanted(i)) continue;
          const std::vector<float>& values = i == 1 ? state.h : state.c;
          T* out = ctx.output(i, dtype, state_shape)->template data<T>();
          for (int64_t d = 0; d < D; ++d)
            for (int64_t b = 0; b < s.batch; ++b)
              copy_row(&values[(d * s.batch + b) * H], out + (batch_first ? b * D + d : d * s.batch + b) * H);
        }
        return Status::ok();
      }
    });
  }

  RecurrentAttrs attrs_;
};

HS_REGISTER_KERNEL("", "RNN", RecurrentKernel<Cell::kRnn>);
HS_REGISTER_KERNEL("", "GRU", RecurrentKernel<Cell::kGru>);
HS_REGISTER_KERNEL("", "LSTM", RecurrentKernel<Cell::kLstm>);

}  // namespace
}  // namespace hs::cpu
