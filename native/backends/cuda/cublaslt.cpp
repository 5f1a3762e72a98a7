#include "backends/cuda/cublaslt.h"

#include <dlfcn.h>
#include <library_types.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace hs::cuda {
namespace {

// The subset of cublasLt.h (CUDA 12 and 13 share these values and signatures).
using LtStatus = int;  // cublasStatus_t; 0 is success
using LtHandle = void*;
using LtDesc = void*;
using LtLayout = void*;
using LtPref = void*;
struct LtAlgo {
  uint64_t data[8];
};
struct LtHeuristic {
  LtAlgo algo;
  size_t workspace_size;
  LtStatus state;
  float waves_count;
  int reserved[4];
};
constexpr int kComputeF32 = 68;  // CUBLAS_COMPUTE_32F
enum : int { kDescTransA = 3, kDescTransB = 4, kDescEpilogue = 7, kDescBiasPointer = 8 };
enum : int { kLayoutBatchCount = 5, kLayoutBatchOffset = 6 };
constexpr int kPrefMaxWorkspace = 1;
enum : uint32_t { kEpiDefault = 1, kEpiRelu = 2, kEpiBias = 4, kEpiGelu = 32 };  // RELU_BIAS = 6, GELU_BIAS = 36

struct Api {
  LtStatus (*create)(LtHandle*);
  LtStatus (*desc_create)(LtDesc*, int compute, cudaDataType_t scale);
  LtStatus (*desc_destroy)(LtDesc);
  LtStatus (*desc_set)(LtDesc, int attr, const void* buf, size_t size);
  LtStatus (*layout_create)(LtLayout*, cudaDataType_t type, uint64_t rows, uint64_t cols, int64_t ld);
  LtStatus (*layout_destroy)(LtLayout);
  LtStatus (*layout_set)(LtLayout, int attr, const void* buf, size_t size);
  LtStatus (*pref_create)(LtPref*);
  LtStatus (*pref_destroy)(LtPref);
  LtStatus (*pref_set)(LtPref, int attr, const void* buf, size_t size);
  LtStatus (*heuristic)(LtHandle, LtDesc, LtLayout, LtLayout, LtLayout, LtLayout, LtPref, int requested,
                        LtHeuristic* results, int* returned);
  LtStatus (*matmul)(LtHandle, LtDesc, const void* alpha, const void* a, LtLayout, const void* b, LtLayout,
                     const void* beta, const void* c, LtLayout, void* d, LtLayout, const LtAlgo* algo, void* workspace,
                     size_t workspace_size, cudaStream_t stream);
};

struct Library {
  Api api{};
  LtHandle handle = nullptr;
  std::string reason;
};

template <typename F>
bool bind(void* lib, const char* name, F* out, std::string* reason) {
  *out = reinterpret_cast<F>(dlsym(lib, name));
  if (!*out && reason->empty()) *reason = str_cat("cuBLASLt lacks ", name);
  return *out != nullptr;
}

Library open_library() {
  Library l;
  const char* off = std::getenv("HS_CUBLASLT");
  if (off && std::strcmp(off, "0") == 0) {
    l.reason = "turned off by HS_CUBLASLT=0";
    return l;
  }
  void* lib = nullptr;
  const char* path = std::getenv("HS_CUBLASLT_PATH");
  for (const char* name : {path, "libcublasLt.so.13", "libcublasLt.so.12"})
    if (!lib && name && *name) lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    l.reason = "libcublasLt.so.13 / .12 not found";
    return l;
  }
  Api& a = l.api;
  std::string& r = l.reason;
  const bool ok = bind(lib, "cublasLtCreate", &a.create, &r) & bind(lib, "cublasLtMatmulDescCreate", &a.desc_create, &r) &
                  bind(lib, "cublasLtMatmulDescDestroy", &a.desc_destroy, &r) &
                  bind(lib, "cublasLtMatmulDescSetAttribute", &a.desc_set, &r) &
                  bind(lib, "cublasLtMatrixLayoutCreate", &a.layout_create, &r) &
                  bind(lib, "cublasLtMatrixLayoutDestroy", &a.layout_destroy, &r) &
                  bind(lib, "cublasLtMatrixLayoutSetAttribute", &a.layout_set, &r) &
                  bind(lib, "cublasLtMatmulPreferenceCreate", &a.pref_create, &r) &
                  bind(lib, "cublasLtMatmulPreferenceDestroy", &a.pref_destroy, &r) &
                  bind(lib, "cublasLtMatmulPreferenceSetAttribute", &a.pref_set, &r) &
                  bind(lib, "cublasLtMatmulAlgoGetHeuristic", &a.heuristic, &r) & bind(lib, "cublasLtMatmul", &a.matmul, &r);
  if (!ok) return l;  // the library stays open: unloading a CUDA library can race its own threads
  const LtStatus st = a.create(&l.handle);
  if (st != 0) l.reason = str_cat("cublasLtCreate failed with status ", st);
  return l;
}

Library& library() {
  static Library lib = open_library();  // thread-safe initialisation, once per process
  return lib;
}

cudaDataType_t data_type(GemmElem e) {
  return e == GemmElem::kF16 ? CUDA_R_16F : e == GemmElem::kBF16 ? CUDA_R_16BF : CUDA_R_32F;
}

// Destroys what a call created, whatever way it leaves.
struct Handles {
  const Api& api;
  LtDesc desc = nullptr;
  LtLayout la = nullptr, lb = nullptr, lc = nullptr;
  LtPref pref = nullptr;
  ~Handles() {
    if (pref) api.pref_destroy(pref);
    if (lc) api.layout_destroy(lc);
    if (lb) api.layout_destroy(lb);
    if (la) api.layout_destroy(la);
    if (desc) api.desc_destroy(desc);
  }
};

}  // namespace

bool cublaslt_available() { return library().handle != nullptr; }

const std::string& cublaslt_unavailable_reason() { return library().reason; }

bool cublaslt_supports(const LtGemm& p) {
  if (p.act != Act::kNone && p.act != Act::kRelu && p.act != Act::kGeluTanh) return false;
  if (p.M <= 0 || p.N <= 0 || p.K <= 0 || p.batch <= 0 || p.batch > INT32_MAX) return false;
  const int64_t es = p.ab == GemmElem::kF32 ? 4 : 2;
  auto aligned = [](const void* ptr) { return (reinterpret_cast<uintptr_t>(ptr) & 15) == 0; };
  if (!aligned(p.a) || !aligned(p.b) || !aligned(p.c) || (p.bias && !aligned(p.bias))) return false;
  const int64_t lda = p.a_trans ? p.M : p.K, ldb = p.b_trans ? p.K : p.N;
  for (int64_t bytes : {lda * es, ldb * es, p.N * 4, p.a_batch_stride * es, p.b_batch_stride * es, p.c_batch_stride * 4})
    if (bytes % 16) return false;
  return true;
}

#define HS_LT_CHECK(call)                                                                                      \
  do {                                                                                                         \
    const LtStatus _st = (call);                                                                               \
    if (_st != 0) return Status(StatusCode::kCuda, str_cat(#call, " failed with cuBLAS status ", _st, " at ", \
                                                           __FILE__, ":", __LINE__));                          \
  } while (0)

Status cublaslt_matmul(const LtGemm& p, void* workspace, cudaStream_t stream) {
  Library& lib = library();
  if (!lib.handle) return Status(StatusCode::kCuda, str_cat("cuBLASLt is not available: ", lib.reason));
  if (!cublaslt_supports(p)) HS_FAIL(kInvalidArgument, "cuBLASLt does not take this GEMM");
  const Api& api = lib.api;
  Handles h{api};
  // Row-major C[M, N] is column-major C^T[N, M] = B^T A^T: cuBLASLt's A is our B and its B our A.
  HS_LT_CHECK(api.desc_create(&h.desc, kComputeF32, CUDA_R_32F));
  const int32_t op_a = p.b_trans ? 1 : 0, op_b = p.a_trans ? 1 : 0;
  HS_LT_CHECK(api.desc_set(h.desc, kDescTransA, &op_a, sizeof(op_a)));
  HS_LT_CHECK(api.desc_set(h.desc, kDescTransB, &op_b, sizeof(op_b)));
  uint32_t epilogue = p.act == Act::kRelu ? kEpiRelu : p.act == Act::kGeluTanh ? kEpiGelu : kEpiDefault;
  if (p.bias) epilogue = (epilogue == kEpiDefault ? 0 : epilogue) | kEpiBias;
  HS_LT_CHECK(api.desc_set(h.desc, kDescEpilogue, &epilogue, sizeof(epilogue)));
  if (p.bias) HS_LT_CHECK(api.desc_set(h.desc, kDescBiasPointer, &p.bias, sizeof(p.bias)));

  const cudaDataType_t t = data_type(p.ab);
  // Our B as column-major: [N, K] with ld N, or (transposed storage) [K, N] with ld K.
  HS_LT_CHECK(p.b_trans ? api.layout_create(&h.la, t, p.K, p.N, p.K) : api.layout_create(&h.la, t, p.N, p.K, p.N));
  // Our A as column-major: [K, M] with ld K, or [M, K] with ld M.
  HS_LT_CHECK(p.a_trans ? api.layout_create(&h.lb, t, p.M, p.K, p.M) : api.layout_create(&h.lb, t, p.K, p.M, p.K));
  HS_LT_CHECK(api.layout_create(&h.lc, CUDA_R_32F, p.N, p.M, p.N));
  if (p.batch > 1) {
    const int32_t count = (int32_t)p.batch;
    const int64_t strides[3] = {p.b_batch_stride, p.a_batch_stride, p.c_batch_stride};
    LtLayout layouts[3] = {h.la, h.lb, h.lc};
    for (int i = 0; i < 3; ++i) {
      HS_LT_CHECK(api.layout_set(layouts[i], kLayoutBatchCount, &count, sizeof(count)));
      HS_LT_CHECK(api.layout_set(layouts[i], kLayoutBatchOffset, &strides[i], sizeof(strides[i])));
    }
  }
  HS_LT_CHECK(api.pref_create(&h.pref));
  const uint64_t ws = kCublasLtWorkspace;
  HS_LT_CHECK(api.pref_set(h.pref, kPrefMaxWorkspace, &ws, sizeof(ws)));
  LtHeuristic best{};
  int found = 0;
  HS_LT_CHECK(api.heuristic(lib.handle, h.desc, h.la, h.lb, h.lc, h.lc, h.pref, 1, &best, &found));
  if (found < 1) return Status(StatusCode::kCuda, "cuBLASLt has no algorithm for this GEMM");
  const float alpha = p.alpha, beta = 0.f;
  HS_LT_CHECK(api.matmul(lib.handle, h.desc, &alpha, p.b, h.la, p.a, h.lb, &beta, p.c, h.lc, p.c, h.lc, &best.algo,
                         workspace, kCublasLtWorkspace, stream));
  return Status::ok();
}

}  // namespace hs::cuda
