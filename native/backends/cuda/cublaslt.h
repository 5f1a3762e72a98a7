// cuBLASLt, opened at run time with dlopen ("libcublasLt.so.13", then ".12"; HS_CUBLASLT_PATH names
// another file, HS_CUBLASLT=0 turns it off), so the addon loads and runs where it is absent. The
// few entry points used are declared by hand (cublaslt.cpp): there are no cuBLAS headers at build.
// One problem shape: row-major C = act(alpha op(A) op(B) + bias[n]), optionally a strided batch.
#pragma once
#include <cuda_runtime_api.h>

#include <string>

#include "hs/status.h"
#include "kernels/cuda/gemm.cuh"

namespace hs::cuda {

// Whether the library was found and a handle created (tried once, on the first call).
bool cublaslt_available();
// Why it is not available ("" when it is).
const std::string& cublaslt_unavailable_reason();

struct LtGemm {
  int64_t M = 0, N = 0, K = 0;
  const void* a = nullptr;  // [M, K] row-major, or [K, M] when a_trans
  bool a_trans = false;
  const void* b = nullptr;  // [K, N] row-major, or [N, K] when b_trans
  bool b_trans = false;
  GemmElem ab = GemmElem::kF32;  // A's and B's element type (the same)
  float* c = nullptr;            // [M, N] row-major
  int64_t batch = 1, a_batch_stride = 0, b_batch_stride = 0, c_batch_stride = 0;  // elements
  float alpha = 1.f;
  const float* bias = nullptr;  // [N] or null
  Act act = Act::kNone;         // kNone, kRelu or kGeluTanh
};

// Whether cublaslt_matmul takes `p` (activation, alignment of pointers and strides to 16 bytes).
bool cublaslt_supports(const LtGemm& p);
// Workspace the calls may use (the caller passes at least this much device memory).
constexpr size_t kCublasLtWorkspace = 8u << 20;
// Enqueues the GEMM on `stream`; ERR_CUDA naming the cuBLASLt status when a call fails.
Status cublaslt_matmul(const LtGemm& p, void* workspace, cudaStream_t stream);

}  // namespace hs::cuda
