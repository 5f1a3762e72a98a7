// Recurrent cells' element-wise step (recurrent.cuh): one thread per (batch entry, hidden unit).
#include "kernels/cuda/recurrent.cuh"

#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/grid_stride.cuh"

namespace hs::cuda {
namespace {

using Kind = cpu::RnnActivation::Kind;
using cpu::RecurrentCell;

// The CPU kernel's functions (rnn_activation.cpp), NaN passing through as there.
__device__ __forceinline__ float activate(const cpu::RnnActivation& a, float x) {
  switch (a.kind) {
    case Kind::kRelu: return x < 0.f ? 0.f : x;
    case Kind::kTanh: return tanhf(x);
    case Kind::kSigmoid: return sigmoidf(x);
    case Kind::kAffine: return a.alpha * x + a.beta;
    case Kind::kLeakyRelu: return x < 0.f ? x * a.alpha : x;
    case Kind::kThresholdedRelu: return x > a.alpha ? x : 0.f;
    case Kind::kScaledTanh: return a.alpha * tanhf(a.beta * x);
    case Kind::kHardSigmoid: return clamp_keep_nan(a.alpha * x + a.beta, 0.f, 1.f);
    case Kind::kElu: return x >= 0.f ? x : a.alpha * expm1f(x);
    case Kind::kSoftsign: return x / (1.f + fabsf(x));
    case Kind::kSoftplus: return x > 20.f ? x : log1pf(expf(x));
  }
  return x;
}

// clip, then the activation.
__device__ __forceinline__ float gate(const RecurrentStep& s, const cpu::RnnActivation& a, float x) {
  return activate(a, s.has_clip ? clamp_keep_nan(x, -s.clip, s.clip) : x);
}

__device__ __forceinline__ int64_t length_of(const RecurrentStep& s, int64_t b) {
  if (!s.lengths) return s.seq;
  const int64_t len = s.lengths_int64 ? ((const int64_t*)s.lengths)[b] : ((const int32_t*)s.lengths)[b];
  if (len < 0 || len > s.seq) {
    *s.error_flag = 1;
    return len < 0 ? 0 : s.seq;
  }
  return len;
}

__global__ void recurrent_step_kernel(RecurrentStep s, RecurrentPhase phase) {
  const int64_t H = s.hidden, n = s.batch * H;
  const int64_t G = cpu::recurrent_gates(s.cell);
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = i / H, j = i % H;
    const int64_t len = length_of(s, b);
    float* y = s.y ? s.y + b * s.y_b + j : nullptr;
    if (s.step >= len) {  // past this entry's length: the state stays, Y is zero there
      if (phase == RecurrentPhase::kGates) s.reset[i] = 0.f;
      else if (y) y[s.step * s.y_t] = 0.f;
      continue;
    }
    const int64_t t = s.backwards ? len - 1 - s.step : s.step;
    const float* xp = s.xproj + (t * s.batch + b) * G * H;
    float* g = s.gates + b * s.gates_stride;
    float* h = s.h + i;
    float out;
    if (s.cell == RecurrentCell::kRnn) {
      out = gate(s, s.act[0], g[j] + xp[j]);
    } else if (s.cell == RecurrentCell::kLstm) {  // gates i, o, f, c; peepholes i, o, f
      const float* p = s.peephole;
      const float c_prev = s.c[i];
      const float gi = gate(s, s.act[0], g[j] + xp[j] + (p ? p[j] * c_prev : 0.f));
      const float gf = s.input_forget ? 1.f - gi : gate(s, s.act[0], g[2 * H + j] + xp[2 * H + j] + (p ? p[2 * H + j] * c_prev : 0.f));
      const float gc = gate(s, s.act[1], g[3 * H + j] + xp[3 * H + j]);
      const float c_new = gf * c_prev + gi * gc;
      const float go = gate(s, s.act[0], g[H + j] + xp[H + j] + (p ? p[H + j] * c_new : 0.f));
      s.c[i] = c_new;
      out = go * activate(s.act[2], c_new);
    } else if (phase == RecurrentPhase::kGates) {  // GRU gates z, r, h
      const float z = gate(s, s.act[0], g[j] + xp[j]);
      const float r = gate(s, s.act[0], g[H + j] + xp[H + j]);
      g[j] = z;
      s.reset[i] = r * *h;
      continue;
    } else {
      float z, candidate;
      if (phase == RecurrentPhase::kUpdate) {
        z = g[j];
        candidate = s.candidates[i] + xp[2 * H + j];
      } else {  // linear_before_reset: the h gate's recurrent part, with its bias, scaled by r
        z = gate(s, s.act[0], g[j] + xp[j]);
        const float r = gate(s, s.act[0], g[H + j] + xp[H + j]);
        candidate = xp[2 * H + j] + r * (g[2 * H + j] + (s.reset_bias ? s.reset_bias[j] : 0.f));
      }
      candidate = gate(s, s.act[1], candidate);
      out = (1.f - z) * candidate + z * *h;
    }
    *h = out;
    if (y) y[t * s.y_t] = out;
  }
}

__global__ void fold_bias_kernel(const float* bias, int64_t gates_hidden, int64_t r_from, float* out) {
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < gates_hidden; j += (int64_t)gridDim.x * blockDim.x)
    out[j] = bias[j] + (j >= r_from ? 0.f : bias[gates_hidden + j]);
}

}  // namespace

Status recurrent_step(const RecurrentStep& s, RecurrentPhase phase, cudaStream_t stream) {
  if (s.batch < 0 || s.hidden < 0 || s.step < 0 || s.step >= s.seq) HS_FAIL(kShape, "recurrent_step: bad sizes");
  const int64_t n = s.batch * s.hidden;
  if (n == 0) return Status::ok();
  if (!s.xproj || !s.gates || !s.h || (s.cell == RecurrentCell::kLstm && !s.c) || (s.lengths && !s.error_flag) ||
      (phase == RecurrentPhase::kGates && !s.reset) || (phase == RecurrentPhase::kUpdate && !s.candidates))
    HS_FAIL(kInvalidArgument, "recurrent_step: null operand");
  recurrent_step_kernel<<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(s, phase);
  HS_CUDA_CHECK_LAUNCH("recurrent_step_kernel");
  return Status::ok();
}

Status fold_recurrent_bias(const float* bias, int64_t gates_hidden, int64_t r_from, float* out, cudaStream_t stream) {
  if (gates_hidden <= 0) return Status::ok();
  if (!bias || !out) HS_FAIL(kInvalidArgument, "fold_recurrent_bias: null operand");
  fold_bias_kernel<<<grid_stride_blocks(gates_hidden), kGridStrideThreads, 0, stream>>>(bias, gates_hidden, r_from, out);
  HS_CUDA_CHECK_LAUNCH("fold_bias_kernel");
  return Status::ok();
}

}  // namespace hs::cuda
