// MatMulInteger and QLinearMatMul: uint8 / int8 matrices with zero points, numpy batch semantics
// (matmul_shape.h):
//   MatMulInteger: Y (int32) = (A - a_zero_point) @ (B - b_zero_point)
//   QLinearMatMul: Y = saturate(round_half_even(that * (a_scale * b_scale / y_scale)) + y_zero_point)
// A's zero point and scale are one value or one per row of A (M values), B's one value or one per
// column (N values). The operands are widened to int32 less their zero points (B once, at build
// time, when it and its zero point are constants) and multiplied exactly, when B is shared by all
// of A's rows: by the AVX2 int16 kernel (int_gemm_avx2.h), else through the float GEMM
// (int_gemm_split.h) while K allows; otherwise in an i-k-j loop.
#include <algorithm>
#include <vector>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/int_gemm_avx2.h"
#include "kernels/cpu/int_gemm_split.h"
#include "kernels/cpu/matmul_shape.h"
#include "kernels/cpu/quantize_params.h"

namespace hs::cpu {
namespace {

int32_t zero_point_at(const Tensor* zp, int64_t line) { return zp ? int8_value(*zp, zp->numel() == 1 ? 0 : line) : 0; }

// x (uint8 or int8: matrices of rows x cols, one after another) less its zero point as int32; the zero
// point is per row (per_row) or per column.
std::vector<int32_t> widen(const Tensor& x, const Tensor* zp, int64_t rows, int64_t cols, bool per_row) {
  std::vector<int32_t> out((size_t)x.numel());
  std::vector<int32_t> zero((size_t)(per_row ? rows : cols));  // the zero point of each row or column
  for (size_t i = 0; i < zero.size(); ++i) zero[i] = zero_point_at(zp, (int64_t)i);
  const int64_t matrices = rows * cols > 0 ? x.numel() / (rows * cols) : 0;
  auto fill = [&](auto* d) {
    for (int64_t m = 0; m < matrices * rows; ++m) {
      const auto* in = d + m * cols;
      int32_t* o = out.data() + m * cols;
      if (per_row) {
        const int32_t z = zero[(size_t)(m % rows)];
        for (int64_t c = 0; c < cols; ++c) o[c] = (int32_t)in[c] - z;
      } else {
        for (int64_t c = 0; c < cols; ++c) o[c] = (int32_t)in[c] - zero[(size_t)c];
      }
    }
  };
  if (x.dtype() == DType::kUint8) fill(x.data<uint8_t>());
  else fill(x.data<int8_t>());
  return out;
}

// acc[items, M, N] = A' @ B' with A' and B' widened, parallel over rows of all items.
void integer_matmul(ThreadPool& pool, const MatMulShape& s, const int32_t* a, const int32_t* b, int32_t* acc) {
  const int64_t items = shape_numel(s.batch);
  pool.parallel_for(items * s.M, grain_for(s.K * s.N), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t i = r / s.M, m = r % s.M;
      int64_t a_off, b_off;
      batch_offsets(s, i, &a_off, &b_off);
      const int32_t* arow = a + (a_off * s.M + m) * s.K;
      const int32_t* bi = b + b_off * s.K * s.N;
      int32_t* row = acc + r * s.N;
      for (int64_t n = 0; n < s.N; ++n) row[n] = 0;
      for (int64_t k = 0; k < s.K; ++k) {
        const int32_t av = arow[k];
        const int32_t* brow = bi + k * s.N;
        for (int64_t n = 0; n < s.N; ++n) row[n] += av * brow[n];
      }
    }
  });
}

// The shared part of both operators: inputs a (0), b (b_index) with their zero points.
class IntegerMatMulBase : public KernelBase {
 protected:
  IntegerMatMulBase(const KernelInfo& info, int b_index, int b_zp_index) : b_index_(b_index) {
    const Tensor* b = info.constant_input((size_t)b_index);
    const bool zp_given = (size_t)b_zp_index < info.node.inputs.size() && !info.node.inputs[(size_t)b_zp_index].empty();
    const Tensor* b_zp = info.constant_input((size_t)b_zp_index);
    // Anything wrong with them is reported at run time, by multiply().
    const char* op = info.node.op_type.c_str();
    if (b && b->rank() == 2 && (!zp_given || b_zp) && check_int8_operand(op, "B", *b, b_zp).is_ok() &&
        check_one_or_per(op, "B's zero point", b_zp, b->dim(1), "column").is_ok()) {
      b_widened_ = widen(*b, b_zp, b->dim(0), b->dim(1), false);
      b_shape_ = b->shape();
      if (int16_gemm_available() && Int16Panels::fits(b->dim(0))) {
        b_panels_ = Int16Panels::pack(b_widened_.data(), b->dim(0), b->dim(1));
        b_widened_.clear();
      } else if (b->dim(0) <= kSplitGemmMaxK) {
        const std::vector<float> bf(b_widened_.begin(), b_widened_.end());
        b_packed_ = PackedMatrix::pack_b(false, b->dim(0), b->dim(1), bf.data(), b->dim(1));
        b_widened_.clear();
      }
    }
  }

  // (A - a_zp) @ (B - b_zp) for the context's inputs into *acc: output 0 itself (int32) when
  // `into_output`, else `scratch`. s receives the shapes.
  Status multiply(KernelContext& ctx, const char* op, const Tensor* a_zp, const Tensor* b_zp, bool into_output, MatMulShape* s,
                  std::vector<int32_t>* scratch, int32_t** acc) const {
    const Tensor *a, *b;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &a));
    HS_RETURN_IF_ERROR(require_input(ctx, b_index_, op, &b));
    HS_RETURN_IF_ERROR(check_int8_operand(op, "A", *a, a_zp));
    HS_RETURN_IF_ERROR(check_int8_operand(op, "B", *b, b_zp));
    HS_RETURN_IF_ERROR(matmul_shape(a->shape(), b->shape(), s));
    HS_RETURN_IF_ERROR(check_one_or_per(op, "A's zero point", a_zp, s->M, "row"));
    HS_RETURN_IF_ERROR(check_one_or_per(op, "B's zero point", b_zp, s->N, "column"));
    if (into_output) {
      *acc = ctx.output(0, DType::kInt32, s->out)->data<int32_t>();
    } else {
      scratch->resize((size_t)shape_numel(s->out));
      *acc = scratch->data();
    }
    if (shape_numel(s->out) == 0) return Status::ok();
    const std::vector<int32_t> aw = widen(*a, a_zp, s->M, s->K, true);
    const bool constant_b = b->shape() == b_shape_;
    const bool widened_b = constant_b && !b_widened_.empty();
    const int64_t items = shape_numel(s->batch);
    const bool b_shared = std::all_of(s->b_strides.begin(), s->b_strides.end(), [](int64_t v) { return v == 0; });
    const bool a_dense = (int64_t)aw.size() == items * s->M * s->K;
    // A's items fold into rows of one product with the shared B.
    if (b_shared && a_dense && int16_gemm_available() && Int16Panels::fits(s->K)) {
      const bool packed = constant_b && !b_panels_.empty();
      const Int16Panels panels = packed ? Int16Panels() : Int16Panels::pack(widen(*b, b_zp, s->K, s->N, false).data(), s->K, s->N);
      int16_gemm(items * s->M, aw.data(), packed ? b_panels_ : panels, *acc, &ctx.pool());
      return Status::ok();
    }
    if (b_shared && a_dense && s->K <= kSplitGemmMaxK) {
      std::vector<float> bf;
      GemmOperand bop;
      if (constant_b && !b_packed_.empty()) {
        bop.packed = &b_packed_;
      } else {
        const std::vector<int32_t> bw = widen(*b, b_zp, s->K, s->N, false);
        bf.assign(bw.begin(), bw.end());
        bop = GemmOperand{bf.data(), s->N, false};
      }
      split_int_gemm(items * s->M, s->N, s->K, true, aw.data(), bop, *acc, &ctx.pool());
      return Status::ok();
    }
    const std::vector<int32_t> bw = widened_b ? std::vector<int32_t>() : widen(*b, b_zp, s->K, s->N, false);
    integer_matmul(ctx.pool(), *s, aw.data(), widened_b ? b_widened_.data() : bw.data(), *acc);
    return Status::ok();
  }

 private:
  int b_index_;
  // B - b_zero_point when both are constants: packed for the int16 kernel or the float GEMM, or
  // (K too long for them) widened.
  Int16Panels b_panels_;
  PackedMatrix b_packed_;
  std::vector<int32_t> b_widened_;
  Shape b_shape_;
};

class MatMulInteger final : public IntegerMatMulBase {
 public:
  explicit MatMulInteger(const KernelInfo& info) : IntegerMatMulBase(info, 1, 3) {}

  Status compute(KernelContext& ctx) const override {
    MatMulShape s;
    std::vector<int32_t> unused;
    int32_t* y;
    return multiply(ctx, "MatMulInteger", ctx.input(2), ctx.input(3), true, &s, &unused, &y);
  }
};

class QLinearMatMul final : public IntegerMatMulBase {
 public:
  explicit QLinearMatMul(const KernelInfo& info) : IntegerMatMulBase(info, 3, 5) {}

  Status compute(KernelContext& ctx) const override {
    const char* op = "QLinearMatMul";
    const Tensor *a_scale, *b_scale, *y_scale, *y_zp;
    HS_RETURN_IF_ERROR(require_input(ctx, 1, op, &a_scale));
    HS_RETURN_IF_ERROR(require_input(ctx, 4, op, &b_scale));
    HS_RETURN_IF_ERROR(require_input(ctx, 6, op, &y_scale));
    HS_RETURN_IF_ERROR(require_input(ctx, 7, op, &y_zp));
    for (const Tensor* t : {a_scale, b_scale, y_scale})
      if (t->dtype() != DType::kFloat32) HS_FAIL(kType, op, ": scales must be float32, got ", dtype_name(t->dtype()));
    if (y_scale->numel() != 1 || y_zp->numel() != 1)
      HS_FAIL(kShape, op, ": y_scale and y_zero_point must be scalars, got ", y_scale->shape(), " and ", y_zp->shape());
    MatMulShape s;
    std::vector<int32_t> acc;
    int32_t* sums;
    HS_RETURN_IF_ERROR(multiply(ctx, op, ctx.input(2), ctx.input(5), false, &s, &acc, &sums));
    HS_RETURN_IF_ERROR(check_one_or_per(op, "a_scale", a_scale, s.M, "row"));
    HS_RETURN_IF_ERROR(check_one_or_per(op, "b_scale", b_scale, s.N, "column"));
    Tensor* y = ctx.output(0, y_zp->dtype(), s.out);
    const float* as = a_scale->data<float>();
    const float* bs = b_scale->data<float>();
    const float ys = y_scale->data<float>()[0];
    return dispatch_quantized(y_zp->dtype(), op, [&](auto tag) -> Status {
      using Q = decltype(tag);
      const float zp = (float)y_zp->data<Q>()[0];
      Q* yd = y->data<Q>();
      for (int64_t e = 0; e < (int64_t)acc.size(); ++e) {
        const int64_t m = e / s.N % s.M, n = e % s.N;
        const float multiplier = as[a_scale->numel() == 1 ? 0 : m] * bs[b_scale->numel() == 1 ? 0 : n] / ys;
        yd[e] = saturate_round<Q>((float)acc[(size_t)e] * multiplier, zp);
      }
      return Status::ok();
    });
  }
};

}  // namespace

HS_REGISTER_KERNEL("", "MatMulInteger", MatMulInteger);
HS_REGISTER_KERNEL("", "QLinearMatMul", QLinearMatMul);

}  // namespace hs::cpu
