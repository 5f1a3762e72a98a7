// The element-wise part of the recurrent operators (RNN, GRU, LSTM) on CUDA: one launch per time
// step and direction applies the biases already folded into the input projection, clip, the
// activations and the cell update to the recurrent GEMM's output, row by row of the batch, as the
// CPU kernel (kernels/cpu/rnn.cpp) does. Batch entries past their sequence length keep their state
// and get zeros in Y; a length outside [0, seq] sets *error_flag.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hs/status.h"
#include "kernels/cpu/recurrent_attrs.h"

namespace hs::cuda {

// GRU without linear_before_reset takes two launches around a second GEMM: kGates (z and r, and
// r . H_prev for that GEMM), then kUpdate. Everything else is kWhole.
enum class RecurrentPhase : int { kWhole, kGates, kUpdate };

struct RecurrentStep {
  cpu::RecurrentCell cell = cpu::RecurrentCell::kRnn;
  int64_t seq = 0, batch = 0, hidden = 0;
  int64_t step = 0;        // 0 .. seq-1 in the direction's own order
  bool backwards = false;  // reverse direction: step s reads time len - 1 - s
  const void* lengths = nullptr;  // sequence_lens [batch], int32 or int64; nullptr: all seq
  bool lengths_int64 = false;
  const float* xproj = nullptr;  // [seq, batch, gates * H]: X W^T + biases
  float* gates = nullptr;        // [batch, gates_stride]: this step's H_prev R^T (overwritten)
  int64_t gates_stride = 0;
  float* h = nullptr;  // this direction's state [batch, H]
  float* c = nullptr;  // LSTM's cell state [batch, H]
  float* y = nullptr;  // Y(t, b, j) = y[t * y_t + b * y_b + j]; nullptr when Y is not wanted
  int64_t y_t = 0, y_b = 0;
  const float* peephole = nullptr;    // LSTM [3H]: i, o, f
  const float* reset_bias = nullptr;  // GRU linear_before_reset: R's h-gate bias [H]; nullptr: 0
  float* reset = nullptr;             // GRU kGates writes r . H_prev here [batch, H]
  const float* candidates = nullptr;  // GRU kUpdate reads (r . H_prev) R_h^T here [batch, H]
  bool has_clip = false;
  float clip = 0.f;
  bool input_forget = false;
  cpu::RnnActivation act[3];  // f, g, h
  int* error_flag = nullptr;
};

Status recurrent_step(const RecurrentStep& s, RecurrentPhase phase, cudaStream_t stream);

// out[j] = bias[j] + bias[gates_hidden + j] for j < gates_hidden (W's and R's biases summed), except
// that R's part is left out from `r_from` on (GRU's h-gate bias under linear_before_reset).
Status fold_recurrent_bias(const float* bias, int64_t gates_hidden, int64_t r_from, float* out, cudaStream_t stream);

}  // namespace hs::cuda
