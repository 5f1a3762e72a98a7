// The two problem types that every GEMM kernel (gemm.cu: SIMT, gemm_tc.cu: tensor cores) runs:
//   DenseGemm<EA, EB>: strided (transposable, broadcastable, batched) A and B, epilogue with bias,
//              beta * D and an activation;
//   ImplicitConv<EW>: convolution as GEMM, M = output channels of a group, N = batch * output
//              pixels, K = input channels of a group * kernel window; B's elements are gathered
//              from the NCHW input on the fly (zero outside the padding), so no im2col buffer exists.
// A problem gives, per batch item, a small Item (base pointers or the group) that the loads and
// stores take, so kernels never write their (large) parameter struct. Loads return float whatever
// the operand's element type (EA, EB, EW: F32, F16 or BF16 tags; EB also I8, whose per-column
// scale the epilogue applies); the epilogue is float32.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "hs/status.h"
#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/gemm.cuh"

namespace hs::cuda::gemm_detail {

struct F32 {};
struct F16 {};
struct BF16 {};
struct I8 {};

template <class E>
__device__ __forceinline__ float load_elem(const void* p, int64_t i);
template <>
__device__ __forceinline__ float load_elem<F32>(const void* p, int64_t i) {
  return static_cast<const float*>(p)[i];
}
template <>
__device__ __forceinline__ float load_elem<F16>(const void* p, int64_t i) {
  return __half2float(__ushort_as_half(static_cast<const unsigned short*>(p)[i]));
}
template <>
__device__ __forceinline__ float load_elem<BF16>(const void* p, int64_t i) {
  return __bfloat162float(__ushort_as_bfloat16(static_cast<const unsigned short*>(p)[i]));
}

template <>
__device__ __forceinline__ float load_elem<I8>(const void* p, int64_t i) {
  return static_cast<float>(static_cast<const signed char*>(p)[i]);
}

template <class E>
constexpr int64_t elem_bytes() {
  return std::is_same_v<E, F32> ? 4 : std::is_same_v<E, I8> ? 1 : 2;
}

template <class EA, class EB>
struct DenseGemm {
  GemmArgs g;
  int64_t items;

  struct Item {
    const void* a;
    const void* b;
    float* c;
  };
  __device__ Item item(int64_t i) const {
    const int64_t ea = strided_offset(g.batch, g.a_bs, i), eb = strided_offset(g.batch, g.b_bs, i);
    return Item{static_cast<const char*>(g.a) + ea * elem_bytes<EA>(), static_cast<const char*>(g.b) + eb * elem_bytes<EB>(),
                g.c + i * g.c_bs};
  }
  __device__ int64_t M() const { return g.M; }
  __device__ int64_t N() const { return g.N; }
  __device__ int64_t K() const { return g.K; }
  // Whether consecutive k are adjacent in memory (then loads walk k across a warp, else m or n).
  __device__ bool a_k_contiguous() const { return g.a_cs == 1; }
  __device__ bool b_k_contiguous() const { return g.b_rs == 1 && g.b_cs != 1; }
  __device__ float load_a(const Item& it, int64_t m, int64_t k) const { return load_elem<EA>(it.a, m * g.a_rs + k * g.a_cs); }
  __device__ float load_b(const Item& it, int64_t k, int64_t n) const { return load_elem<EB>(it.b, k * g.b_rs + n * g.b_cs); }
  __device__ void store(const Item& it, int64_t m, int64_t n, float acc) const {
    if constexpr (std::is_same_v<EB, I8>) acc *= g.b_scale[n];
    float v = g.alpha * acc;
    if (g.bias) v += g.bias[n];
    if (g.d) v += g.beta * g.d[m * g.d_rs + n * g.d_cs];
    it.c[m * g.c_rs + n] = apply_act(g.ep, v);
  }
};

template <class EW>
struct ImplicitConv {
  Conv2dArgs g;
  int64_t items;  // groups
  int64_t m_per_group, c_per_group, window, pixels;

  struct Item {
    int64_t group;
  };
  __device__ Item item(int64_t i) const { return Item{i}; }
  __device__ int64_t M() const { return m_per_group; }
  __device__ int64_t N() const { return g.batch * pixels; }
  __device__ int64_t K() const { return c_per_group * window; }
  __device__ bool a_k_contiguous() const { return true; }
  __device__ bool b_k_contiguous() const { return false; }
  __device__ float load_a(const Item& it, int64_t m, int64_t k) const {
    return load_elem<EW>(g.w, (it.group * m_per_group + m) * (c_per_group * window) + k);
  }
  __device__ float load_b(const Item& it, int64_t k, int64_t n) const {
    const int64_t c = k / window, r = k - c * window;
    const int64_t kh = r / g.kernel_w, kw = r - kh * g.kernel_w;
    const int64_t img = n / pixels, p = n - img * pixels;
    const int64_t oh = p / g.out_w, ow = p - oh * g.out_w;
    const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
    const int64_t iw = ow * g.stride_w - g.pad_w + kw * g.dilation_w;
    if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) return 0.f;
    return g.x[((img * g.in_channels + it.group * c_per_group + c) * g.in_h + ih) * g.in_w + iw];
  }
  __device__ void store(const Item& it, int64_t m, int64_t n, float acc) const {
    const int64_t img = n / pixels, p = n - img * pixels;
    const int64_t channel = it.group * m_per_group + m;
    const int64_t at = (img * g.out_channels + channel) * pixels + p;
    float v = acc;
    if (g.bias) v += g.bias[channel];
    if (g.residual) v += g.residual[at];
    g.y[at] = apply_act(g.ep, v);
  }
};

// Calls f(problem) with the DenseGemm instantiation for the operand types, where H is the one
// 16-bit type the caller compiled for. Only B may be 16-bit (the weights of MatMul and Gemm, which
// the backend converts at build time) or int8 (with its scales); anything else is ERR_TYPE.
template <class H, class F>
Status with_dense(const GemmArgs& g, int64_t items, GemmElem h, F&& f) {
  if (g.a_elem != GemmElem::kF32) HS_FAIL(kType, "gemm: A must be float32");
  if (g.b_elem == GemmElem::kF32) return f(DenseGemm<F32, F32>{g, items});
  if (g.b_elem == GemmElem::kI8) {
    if (!g.b_scale) HS_FAIL(kInvalidArgument, "gemm: int8 B needs its per-column scales");
    return f(DenseGemm<F32, I8>{g, items});
  }
  if (g.b_elem != h) HS_FAIL(kType, "gemm: B of another 16-bit type than the kernel's");
  return f(DenseGemm<F32, H>{g, items});
}

template <class EW>
ImplicitConv<EW> make_conv(const Conv2dArgs& a) {
  ImplicitConv<EW> p{};
  p.g = a;
  p.items = a.groups;
  p.m_per_group = a.out_channels / a.groups;
  p.c_per_group = a.in_channels / a.groups;
  p.window = a.kernel_h * a.kernel_w;
  p.pixels = a.out_h * a.out_w;
  return p;
}

}  // namespace hs::cuda::gemm_detail
