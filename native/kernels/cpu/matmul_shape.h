// The shape rule of MatMul and the integer matmuls (numpy semantics: 1-D operands promoted to a
// row (A) or a column (B), the added axis dropped from the result; batch axes broadcast).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/cpu/common.h"

namespace hs::cpu {

// The shapes of one MatMul after 1-D promotion and batch broadcasting.
struct MatMulShape {
  int64_t M = 0, K = 0, N = 0;
  Shape batch;                                  // broadcast batch axes
  std::vector<int64_t> a_strides, b_strides;    // per batch axis, in matrices (0 = broadcast)
  Shape out;                                    // Y's shape
};

inline Status matmul_shape(const Shape& a_in, const Shape& b_in, MatMulShape* s) {
  if (a_in.empty() || b_in.empty()) HS_FAIL(kShape, "MatMul operands must have rank >= 1, got ", a_in, " and ", b_in);
  Shape a = a_in, b = b_in;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  s->M = a[a.size() - 2];
  s->K = a.back();
  s->N = b.back();
  if (b[b.size() - 2] != s->K) HS_FAIL(kShape, "MatMul operands ", a_in, " and ", b_in, " do not agree on K");
  const Shape a_batch(a.begin(), a.end() - 2), b_batch(b.begin(), b.end() - 2);
  HS_RETURN_IF_ERROR(broadcast_shapes(a_batch, b_batch, &s->batch));
  s->a_strides = broadcast_strides(a_batch, s->batch);
  s->b_strides = broadcast_strides(b_batch, s->batch);
  s->out = s->batch;
  if (a_in.size() > 1) s->out.push_back(s->M);
  if (b_in.size() > 1) s->out.push_back(s->N);
  return Status::ok();
}

// Offsets (in matrices) of A's and B's item for batch index `i` of the broadcast batch.
inline void batch_offsets(const MatMulShape& s, int64_t i, int64_t* a_off, int64_t* b_off) {
  *a_off = *b_off = 0;
  for (int64_t axis = (int64_t)s.batch.size() - 1; axis >= 0; --axis) {
    const int64_t idx = i % s.batch[axis];
    i /= s.batch[axis];
    *a_off += idx * s.a_strides[axis];
    *b_off += idx * s.b_strides[axis];
  }
}

}  // namespace hs::cpu
