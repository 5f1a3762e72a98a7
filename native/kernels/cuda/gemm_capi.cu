// C ABI of the GEMM kernels for bench/gpu/gemm.py (Python ctypes over a shared library, tensors
// passed as torch data_ptr()): row-major C[M, N] = act(A[M, K] B + bias[N]) with float32 A, C and
// bias, and B stored [K, N] or, with b_trans, [N, K] (nn.Linear's layout) in float32, float16,
// bfloat16 or int8 (with b_scale[N]: B(k, n) = q(k, n) * b_scale[n]). Returns 0 or the int value of
// an hs::StatusCode; hs_gemm_last_error() gives the message.
#include <cstdint>
#include <string>

#include "kernels/cuda/gemm.cuh"

#define HS_CAPI extern "C" __attribute__((visibility("default")))

namespace {
thread_local std::string g_last_error;
}  // namespace

// kernel: 0 simt64, 1 tc64, 2 tc128, 3 tc16; mma: 0 fp16, 1 bf16; b_elem: 0 float32, 1 float16, 2 bfloat16,
// 3 int8; act: hs::cuda::Act (0 none, 1 relu, ...). bias and b_scale (int8 only) may be null.
HS_CAPI int hs_gemm(int kernel, int mma, const float* a, const void* b, int b_elem, const float* b_scale, int b_trans,
                    float* c, const float* bias, int act, int64_t M, int64_t N, int64_t K, void* stream) {
  if (kernel < 0 || kernel > 3 || mma < 0 || mma > 1 || b_elem < 0 || b_elem > 3) {
    g_last_error = "hs_gemm: kernel, mma or b_elem out of range";
    return static_cast<int>(hs::StatusCode::kInvalidArgument);
  }
  hs::cuda::GemmArgs g;
  g.M = M, g.N = N, g.K = K;
  g.a = a, g.a_rs = K, g.a_cs = 1;
  g.b = b, g.b_elem = static_cast<hs::cuda::GemmElem>(b_elem), g.b_scale = b_scale;
  g.b_rs = b_trans ? 1 : N, g.b_cs = b_trans ? K : 1;
  g.c = c, g.c_rs = N;
  g.bias = bias;
  g.ep.act = static_cast<hs::cuda::Act>(act);
  const hs::Status st = hs::cuda::gemm(g, static_cast<hs::cuda::GemmKernel>(kernel), static_cast<hs::cuda::MmaType>(mma),
                                       static_cast<cudaStream_t>(stream));
  g_last_error = st.message();
  return static_cast<int>(st.code());
}

HS_CAPI const char* hs_gemm_last_error() { return g_last_error.c_str(); }
