// What the recurrent operators (RNN, GRU, LSTM) read from their node and their inputs' shapes, shared
// by the CPU kernel (rnn.cpp) and the CUDA one (backends/cuda/ops/recurrent_op.cpp).
#pragma once
#include <cstdint>
#include <vector>

#include "hs/graph.h"
#include "hs/status.h"
#include "hs/tensor.h"
#include "kernels/cpu/rnn_activation.h"

namespace hs::cpu {

enum class RecurrentCell : int { kRnn, kGru, kLstm };

constexpr int64_t recurrent_gates(RecurrentCell cell) {
  return cell == RecurrentCell::kRnn ? 1 : cell == RecurrentCell::kGru ? 3 : 4;
}
constexpr const char* recurrent_op(RecurrentCell cell) {
  return cell == RecurrentCell::kRnn ? "RNN" : cell == RecurrentCell::kGru ? "GRU" : "LSTM";
}

struct RecurrentAttrs {
  int64_t hidden = -1;  // -1: taken from R
  int64_t directions = 1;
  bool reverse = false;  // the single direction is "reverse"
  bool has_clip = false;
  float clip = 0.f;
  bool input_forget = false;
  bool linear_before_reset = false;
  int64_t layout = 0;  // 0: [seq, batch, ...]; 1: [batch, seq, ...]
  std::vector<RnnActivation> activations;  // per direction, in the order f, g, h

  // Direction d runs backwards in time.
  bool backwards(int64_t d) const { return reverse || d == 1; }
  const RnnActivation* activations_of(int64_t d) const {
    return activations.data() + d * ((int64_t)activations.size() / directions);
  }
};

// Reads the node's attributes; ERR_UNSUPPORTED_OP / ERR_INVALID_MODEL naming what does not fit.
Status parse_recurrent_attrs(const Node& node, RecurrentCell cell, RecurrentAttrs* out);

struct RecurrentSizes {
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, directions = 1, gates = 1;
};

// The sizes from X, W and R (ERR_SHAPE when W or R does not fit X and the attributes).
Status recurrent_sizes(RecurrentCell cell, const RecurrentAttrs& a, const Shape& x, const Shape& w, const Shape& r,
                       RecurrentSizes* out);

// ERR_SHAPE unless `shape` (of the optional input `name`; nullptr when absent) is `expected`.
Status check_recurrent_shape(RecurrentCell cell, const Shape* shape, const char* name, const Shape& expected);

// The shapes of initial_h / initial_c / Y_h / Y_c, and of Y, in the node's layout.
Shape recurrent_state_shape(const RecurrentAttrs& a, const RecurrentSizes& s);
Shape recurrent_y_shape(const RecurrentAttrs& a, const RecurrentSizes& s);

// ERR_TYPE / ERR_SHAPE unless sequence_lens is int32 or int64 of shape [batch].
Status check_sequence_lens(RecurrentCell cell, DType dtype, const Shape& shape, const RecurrentSizes& s);

}  // namespace hs::cpu
