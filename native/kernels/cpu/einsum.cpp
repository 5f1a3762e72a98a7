// Einsum: general Einstein summation ("ij,jk->ik", "bhqd,bhkd->bhqk", "ii->i", "...ij->...ji",
// implicit outputs, ellipses, diagonals, traces, any number of inputs).
//
// Algorithm:
//  1. The equation is expanded against the input ranks (einsum_equation.h) and every label gets
//     one size (size-1 dimensions broadcast). Each input becomes a strided view with one axis per
//     distinct label: a label repeated within a term (a diagonal) is one axis whose stride is the
//     sum of the repeated axes' strides, so diagonals and traces cost no copy.
//  2. Labels that only one input uses and the output does not are summed out of it at once.
//  3. Inputs are contracted left to right. For a pair A, B with the labels still needed later
//     (`keep`): labels in both and kept are batch (b), in both and not kept are contracted (k),
//     in A only m, in B only n. A is read as [b, m, k] (or [b, k, m], transposed) and B as
//     [b, k, n] (or [b, n, k]) straight from their views when those are contiguous, else after
//     one permuting copy; then a batched GEMM gives C = [b, m, n] (float: hs::cpu::sgemm, threaded
//     inside, or over the batch when it is large; other types: a plain loop nest).
//  4. The last result is summed over leftover labels and permuted into the output order.
// Steps that sum nothing (permutations, diagonals, broadcasts) are strided copies (strided_copy.h,
// tiled for transposes); summing steps accumulate through an odometer over the input.
// float16/bfloat16 inputs are converted to float and the result back.
#include <algorithm>
#include <map>
#include <set>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/einsum_equation.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/strided_copy.h"
#include "kernels/cpu/strided_loop.h"

namespace hs::cpu {
namespace {

// A strided view with one axis per distinct label, over an input or over storage it owns.
template <typename T>
struct Operand : EinsumAxes {
  const T* data = nullptr;
  std::vector<T> storage;  // data points here when the operand was computed by the kernel
};

template <typename T>
Operand<T> input_operand(const T* data, const Shape& shape, const std::vector<int>& labels,
                         const std::map<int, int64_t>& sizes) {
  Operand<T> op;
  static_cast<EinsumAxes&>(op) = einsum_input_axes(shape, labels, sizes);
  op.data = data;
  return op;
}

// out (contiguous, axes `out_labels`, each a label of `in`) = in summed over its other labels.
// Without labels to sum it is a strided copy (permutation, diagonal, broadcast): copy_strided.
template <typename T>
void sum_into(const Operand<T>& in, const std::vector<int>& out_labels, T* out, ThreadPool& pool) {
  std::vector<int64_t> out_dims;
  for (int label : out_labels) out_dims.push_back(in.dims[in.find(label)]);
  if (out_labels.size() == in.labels.size()) {
    StridedView view;
    view.dims = out_dims;
    for (int label : out_labels) view.strides.push_back(in.strides[in.find(label)]);
    copy_strided(in.data, view, out, pool);
    return;
  }
  const std::vector<int64_t> out_contiguous = strides_of(out_dims);
  std::fill(out, out + shape_numel(out_dims), T(0));
  std::vector<int64_t> out_strides(in.labels.size(), 0);
  for (size_t p = 0; p < out_labels.size(); ++p) out_strides[in.find(out_labels[p])] = out_contiguous[p];
  // The odometer walks all axes but the last; the last is a plain loop.
  const size_t last = in.labels.size() - 1;
  const std::vector<int64_t> outer_dims(in.dims.begin(), in.dims.begin() + last);
  const int64_t n = in.dims[last], in_step = in.strides[last], out_step = out_strides[last];
  for_each_strided<2>(outer_dims, {in.strides.data(), out_strides.data()}, {0, 0}, 0, shape_numel(outer_dims),
                      [&](int64_t, const std::array<int64_t, 2>& off) {
    const T* src = in.data + off[0];
    T* dst = out + off[1];
    for (int64_t j = 0; j < n; ++j) dst[j * out_step] += src[j * in_step];
  });
}

// A new operand holding `in` summed down to `labels` (in that order).
template <typename T>
Operand<T> reduced_to(const Operand<T>& in, const std::vector<int>& labels, ThreadPool& pool) {
  Operand<T> out;
  out.labels = labels;
  for (int label : labels) out.dims.push_back(in.dims[in.find(label)]);
  out.strides = strides_of(out.dims);
  out.storage.resize(shape_numel(out.dims));
  sum_into(in, labels, out.storage.data(), pool);
  out.data = out.storage.data();
  return out;
}

// True when `op` read in label order `order` is row-major contiguous.
template <typename T>
bool contiguous_in(const Operand<T>& op, const std::vector<int>& order) {
  int64_t expected = 1;
  for (size_t k = order.size(); k-- > 0;) {
    const int at = op.find(order[k]);
    if (op.dims[at] != 1 && op.strides[at] != expected) return false;
    expected *= op.dims[at];
  }
  return true;
}

template <typename... Parts>
std::vector<int> concat(const Parts&... parts) {
  std::vector<int> out;
  (out.insert(out.end(), parts.begin(), parts.end()), ...);
  return out;
}

// Operand read as a batch of row-major matrices: `rows`-major order, or `cols`-major (transposed).
template <typename T>
struct MatrixView {
  const T* data;
  bool transposed;
  Operand<T> copy;  // holds the data when a permuting copy was needed
};

template <typename T>
MatrixView<T> as_matrices(const Operand<T>& op, const std::vector<int>& order, const std::vector<int>& transposed_order,
                          ThreadPool& pool) {
  if (contiguous_in(op, order)) return {op.data, false, {}};
  if (contiguous_in(op, transposed_order)) return {op.data, true, {}};
  MatrixView<T> view{nullptr, false, reduced_to(op, order, pool)};
  view.data = view.copy.data;
  return view;
}

// C[b] = op(A[b]) * op(B[b]) for b < batch; A[b] is M x K (K x M if trans_a), B[b] K x N (N x K).
template <typename T>
void batched_matmul(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, const T* A,
                    const T* B, T* C, ThreadPool& pool) {
  const int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
  if constexpr (std::is_same_v<T, float>) {
    if (batch >= pool.parallelism() && batch > 1) {
      pool.parallel_for(batch, 1, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b)
          sgemm(trans_a, trans_b, M, N, K, 1.f, A + b * M * K, lda, B + b * K * N, ldb, 0.f, C + b * M * N, N, nullptr);
      });
    } else {
      for (int64_t b = 0; b < batch; ++b)
        sgemm(trans_a, trans_b, M, N, K, 1.f, A + b * M * K, lda, B + b * K * N, ldb, 0.f, C + b * M * N, N, &pool);
    }
  } else {
    pool.parallel_for(batch * M, grain_for(N * K), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t b = r / M, i = r % M;
        const T* a = A + b * M * K;
        const T* bm = B + b * K * N;
        T* c = C + r * N;
        std::fill(c, c + N, T(0));
        for (int64_t k = 0; k < K; ++k) {
          const T a_ik = trans_a ? a[k * lda + i] : a[i * lda + k];
          if (trans_b) {
            for (int64_t j = 0; j < N; ++j) c[j] += a_ik * bm[j * ldb + k];
          } else {
            const T* b_row = bm + k * ldb;
            for (int64_t j = 0; j < N; ++j) c[j] += a_ik * b_row[j];
          }
        }
      }
    });
  }
}

template <typename T>
int64_t product_of(const Operand<T>& op, const std::vector<int>& labels) {
  int64_t p = 1;
  for (int label : labels) p *= op.dims[op.find(label)];
  return p;
}

// Contracts A and B, keeping the labels in `keep` (those of the output and of later inputs).
template <typename T>
Operand<T> contract(Operand<T> a, Operand<T> b, const std::set<int>& keep, ThreadPool& pool) {
  const auto [batch, contracted, m, n, a_rest, b_rest] = split_einsum_pair(a.labels, b.labels, keep);
  if (a_rest.size() < a.labels.size()) a = reduced_to(a, a_rest, pool);
  if (b_rest.size() < b.labels.size()) b = reduced_to(b, b_rest, pool);
  const int64_t batch_size = product_of(a, batch), M = product_of(a, m), K = product_of(a, contracted),
                N = product_of(b, n);
  const MatrixView<T> am = as_matrices(a, concat(batch, m, contracted), concat(batch, contracted, m), pool);
  const MatrixView<T> bm = as_matrices(b, concat(batch, contracted, n), concat(batch, n, contracted), pool);
  Operand<T> c;
  c.labels = concat(batch, m, n);
  for (int label : c.labels) c.dims.push_back(a.find(label) >= 0 ? a.dims[a.find(label)] : b.dims[b.find(label)]);
  c.strides = strides_of(c.dims);
  c.storage.resize(batch_size * M * N);
  c.data = c.storage.data();
  batched_matmul(am.transposed, bm.transposed, batch_size, M, N, K, am.data, bm.data, c.storage.data(), pool);
  return c;
}

template <typename T>
void run_einsum(const EinsumEquation& eq, const std::vector<const T*>& inputs, const std::vector<Shape>& shapes,
                const std::map<int, int64_t>& sizes, T* out, ThreadPool& pool) {
  std::vector<Operand<T>> ops;
  for (size_t i = 0; i < inputs.size(); ++i) ops.push_back(input_operand(inputs[i], shapes[i], eq.inputs[i], sizes));
  auto labels_of = [&] {
    std::vector<std::vector<int>> labels;
    for (const Operand<T>& op : ops) labels.push_back(op.labels);
    return labels;
  };
  for (size_t i = 0; i < ops.size() && ops.size() > 1; ++i) {
    const std::vector<int> needed = einsum_needed_labels(labels_of(), i, eq.output);
    if (needed.size() < ops[i].labels.size()) ops[i] = reduced_to(ops[i], needed, pool);
  }
  const std::vector<std::vector<int>> labels = labels_of();
  Operand<T> result = std::move(ops[0]);
  for (size_t i = 1; i < ops.size(); ++i)
    result = contract(std::move(result), std::move(ops[i]), einsum_kept_after(labels, i, eq.output), pool);
  sum_into(result, eq.output, out, pool);
}

class EinsumKernel final : public KernelBase {
 public:
  explicit EinsumKernel(const KernelInfo& info) {
    const Attribute* equation = info.node.attr("equation");
    if (!equation) {
      init_status = Status(StatusCode::kInvalidModel, "Einsum: missing attribute equation");
      return;
    }
    init_status = parse_einsum_terms(equation->s, &terms_);
  }

  Status compute(KernelContext& ctx) const override {
    std::vector<const Tensor*> inputs;
    std::vector<int64_t> ranks;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor* t;
      HS_RETURN_IF_ERROR(require_input(ctx, i, "Einsum", &t));
      if (t->dtype() != ctx.input(0)->dtype())
        HS_FAIL(kType, "Einsum: input ", i, " is ", dtype_name(t->dtype()), ", input 0 is ",
                dtype_name(ctx.input(0)->dtype()));
      inputs.push_back(t);
      ranks.push_back(t->rank());
    }
    EinsumEquation eq;
    HS_RETURN_IF_ERROR(expand_einsum(terms_, ranks, &eq));
    std::vector<Shape> shapes;
    for (const Tensor* t : inputs) shapes.push_back(t->shape());
    std::map<int, int64_t> sizes;
    HS_RETURN_IF_ERROR(einsum_label_sizes(eq, shapes, &sizes));
    Shape out_shape;
    for (int label : eq.output) out_shape.push_back(sizes.at(label));
    const DType dtype = inputs.empty() ? DType::kFloat32 : inputs[0]->dtype();
    bool any_empty = false;
    for (const Tensor* t : inputs) any_empty = any_empty || t->numel() == 0;
    return dispatch(dtype, kNumeric, "Einsum", [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, bool>) {
        return dtype_not_supported("Einsum", dtype);
      } else {
      Tensor* y = ctx.output(0, dtype, out_shape);
      if (y->numel() == 0) return Status::ok();
      if (any_empty) {
        std::fill(y->data<T>(), y->data<T>() + y->numel(), store_as<T>(0.f));
        return Status::ok();
      }
      if constexpr (is_half<T>::value) {
        std::vector<std::vector<float>> converted;
        std::vector<const float*> data;
        for (const Tensor* t : inputs) data.push_back(converted.emplace_back(t->to_float_vector()).data());
        std::vector<float> result(y->numel());
        run_einsum<float>(eq, data, shapes, sizes, result.data(), ctx.pool());
        for (int64_t i = 0; i < y->numel(); ++i) y->data<T>()[i] = from_float<T>(result[i]);
      } else {
        std::vector<const T*> data;
        for (const Tensor* t : inputs) data.push_back(t->data<T>());
        run_einsum<T>(eq, data, shapes, sizes, y->data<T>(), ctx.pool());
      }
      return Status::ok();
      }
    });
  }

 private:
  EinsumTerms terms_;
};

HS_REGISTER_KERNEL("", "Einsum", EinsumKernel);

}  // namespace
}  // namespace hs::cpu
