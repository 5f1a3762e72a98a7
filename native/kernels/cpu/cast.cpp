// Cast (target dtype from the `to` attribute) and CastLike (target dtype of the second input)
// between every numeric dtype, bool and string.
//
// Algorithm: one flat conversion loop per (source, target) pair, parallel over chunks, compiled
// generic and for AVX2 (float32 <-> float16 with the F16C instructions); a cast to the same dtype
// is a view. float16/bfloat16 go through float (float_to_half / float_to_bf16
// round to nearest even); to bool is `!= 0` (NaN is true); from bool is 0 or 1; float to integer
// truncates toward zero (out-of-range values are undefined in ONNX). To and from string, see
// cast_string.cpp. float8 targets are ERR_UNSUPPORTED_OP, so the `saturate` attribute has no effect.
#include <immintrin.h>

#include "kernels/cpu/cast_string.h"
#include "kernels/cpu/elementwise.h"

namespace hs::cpu {
namespace {

// One element of source type S (tag; bools stored as bytes) converted to target type D.
template <typename S, typename D>
inline StorageType<D> convert_element(StorageType<S> v) {
  if constexpr (std::is_same_v<S, bool>) {
    if constexpr (std::is_same_v<D, bool>) return v != 0;
    else if constexpr (is_half<D>::value) return from_float<D>(v != 0 ? 1.f : 0.f);
    else return D(v != 0);
  } else if constexpr (std::is_same_v<D, bool>) {
    return load_as<ComputeType<S>>(v) != 0;
  } else if constexpr (is_half<D>::value) {
    return from_float<D>(static_cast<float>(load_as<ComputeType<S>>(v)));
  } else {
    return static_cast<D>(load_as<ComputeType<S>>(v));
  }
}

// dst[i] = convert(src[i]) for i in [0, n), compiled generic and for AVX2.
template <typename S, typename D>
__attribute__((always_inline)) inline void convert_loop(const StorageType<S>* src, StorageType<D>* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = convert_element<S, D>(src[i]);
}
template <typename S, typename D>
void convert_loop_generic(const StorageType<S>* src, StorageType<D>* dst, int64_t n) {
  convert_loop<S, D>(src, dst, n);
}
template <typename S, typename D>
__attribute__((target("avx2"))) void convert_loop_avx2(const StorageType<S>* src, StorageType<D>* dst, int64_t n) {
  convert_loop<S, D>(src, dst, n);
}

// float32 <-> float16 with the F16C instructions, 8 at a time (round to nearest even, as
// float_to_half does).
__attribute__((target("avx2,f16c"))) void floats_to_halves_f16c(const float* src, Half* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) dst[i] = Half{float_to_half(src[i])};
}
__attribute__((target("avx2,f16c"))) void halves_to_floats_f16c(const Half* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = half_to_float(src[i].bits);
}

bool cpu_has_f16c() {
  static const bool has = cpu_has_avx2() && __builtin_cpu_supports("f16c");
  return has;
}

// The loop converting S to D on this CPU.
template <typename S, typename D>
auto pick_convert_loop() -> void (*)(const StorageType<S>*, StorageType<D>*, int64_t) {
  if constexpr (std::is_same_v<S, float> && std::is_same_v<D, Half>)
    if (cpu_has_f16c()) return &floats_to_halves_f16c;
  if constexpr (std::is_same_v<S, Half> && std::is_same_v<D, float>)
    if (cpu_has_f16c()) return &halves_to_floats_f16c;
  return cpu_has_avx2() ? &convert_loop_avx2<S, D> : &convert_loop_generic<S, D>;
}

class CastKernel final : public KernelBase {
 public:
  explicit CastKernel(const KernelInfo& info) : like_(info.node.op_type == "CastLike") {
    if (like_) return;
    const Attribute* to = info.node.attr("to");
    if (!to) {
      init_status = Status(StatusCode::kInvalidModel, "Cast: attribute 'to' is missing");
    } else if (!dtype_from_onnx((int32_t)to->i, &to_) || (dtype_size(to_) == 0 && to_ != DType::kString)) {
      init_status = Status(StatusCode::kUnsupportedOp, str_cat("Cast: attribute to=", to->i, " is not a supported type"));
    }
  }

  bool takes_strings() const override { return true; }

  Status compute(KernelContext& ctx) const override {
    const char* name = like_ ? "CastLike" : "Cast";
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, name, &x));
    DType target = to_;
    if (like_) {
      const Tensor* like;
      HS_RETURN_IF_ERROR(require_input(ctx, 1, name, &like));
      target = like->dtype();
    }
    if (x->dtype() == target) {
      ctx.set_output(0, *x);
      return Status::ok();
    }
    if (target == DType::kString) return cast_to_strings(*x, ctx.output(0, target, x->shape()), ctx.pool());
    if (x->dtype() == DType::kString) return cast_from_strings(*x, ctx.output(0, target, x->shape()), ctx.pool());
    return dispatch_only<kAll>(x->dtype(), name, [&](auto source_tag) -> Status {
      return dispatch_only<kAll>(target, name, [&](auto target_tag) -> Status {
        using S = decltype(source_tag);
        using D = decltype(target_tag);
        Tensor* y = ctx.output(0, target, x->shape());
        const StorageType<S>* src = x->data<StorageType<S>>();
        StorageType<D>* dst = y->data<StorageType<D>>();
        auto* loop = pick_convert_loop<S, D>();
        ctx.pool().parallel_for(x->numel(), kCheapGrain,
                                [&](int64_t begin, int64_t end) { loop(src + begin, dst + begin, end - begin); });
        return Status::ok();
      });
    });
  }

 private:
  bool like_;
  DType to_ = DType::kUndefined;
};

HS_REGISTER_KERNEL("", "Cast", CastKernel);
HS_REGISTER_KERNEL("", "CastLike", CastKernel);

}  // namespace
}  // namespace hs::cpu
