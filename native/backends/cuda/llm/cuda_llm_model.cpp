// The CUDA decoder forward, one stream per model:
//   host: check the batch (token ids, positions, block tables, lengths) and lay out its int32 arrays
//         in pinned memory: tokens, positions, cache slots, the permutation that puts the tokens of
//         prefill sequences (query_len > 1) before those of decode sequences (query_len 1), the rows
//         whose logits are wanted, and the attention metadata; one copy to the device.
//   device: embed -> for each layer [RMSNorm -> fused QKV GEMM (+bias) -> RoPE, q to 16-bit in
//         permuted order, k and v to their cache slots -> prefill sequences: gather each one's
//         cached K/V (positions 0 .. last) into contiguous scratch and run flash_attention_prefill
//         (causal, aligned to the last key, so a chunk whose sequence already has cached tokens,
//         from chunked prefill or a prefix-cache hit, sees them) / decode sequences:
//         paged_attention_decode over the cache -> back to token order in float32 -> O GEMM + residual
//         -> RMSNorm -> fused gate/up GEMM -> SiLU(gate) * up -> down GEMM + residual] -> final RMSNorm
//         of the wanted rows -> lm_head GEMM -> logits to pinned host memory.
// GEMMs: gemm() with A float32, B the 16-bit (or int8, with its per-row scales) weight read
// transposed in place (B(k, n) = W[n, k]), fp32 accumulation; tensor-core tiles on sm_80+ (16 rows
// for decode-sized batches), the SIMT kernel on sm_75. Residual adds are the GEMM epilogue's
// beta * D with D = C = hidden (each element is read and written by one thread).
// Scratch buffers grow to the largest batch seen and are kept; the stream is idle between forwards.
#include "backends/cuda/llm/cuda_llm_model.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "backends/cuda/device_memory.h"
#include "hs/devices.h"
#include "hs/dtype.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/flash_attention.cuh"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/llm_ops.cuh"
#include "kernels/cuda/paged_attention.cuh"

namespace hs::llm {

using cuda::AttnDType;

namespace {

constexpr size_t kAlign = 256;
constexpr size_t kStagingBytes = 32u << 20;  // weight upload chunk
constexpr size_t kMiB = 1u << 20;

size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// "12.5 MiB"
std::string mib(size_t bytes) {
  const size_t tenths = (bytes * 10 + kMiB / 2) / kMiB;
  return str_cat(tenths / 10, ".", tenths % 10, " MiB");
}

// A device allocation that grows on demand (contents are not kept) and is freed with its owner.
struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { release(); }
  void release() {
    if (ptr) cuda::device_free(ptr, bytes);
    ptr = nullptr;
    bytes = 0;
  }
  // At least n bytes; the caller knows the stream does not use the old buffer.
  Status reserve(size_t n, const char* what) {
    if (n <= bytes) return Status::ok();
    release();
    const cudaError_t err = cuda::device_alloc(&ptr, n);
    if (err != cudaSuccess) {
      ptr = nullptr;
      cudaGetLastError();  // allocation failures are not sticky; keep later launch checks clean
      size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      cudaGetLastError();
      return Status(err == cudaErrorMemoryAllocation ? StatusCode::kCudaOom : StatusCode::kCuda,
                    str_cat("LLM on CUDA: cudaMalloc of ", mib(n), " for ", what, " failed: ", cudaGetErrorName(err), " (",
                            mib(free_b), " free of ", mib(total_b), ")"));
    }
    bytes = n;
    return Status::ok();
  }
  template <class T>
  T* at(size_t offset) const {
    return reinterpret_cast<T*>(static_cast<char*>(ptr) + offset);
  }
};

struct PinnedBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  PinnedBuffer() = default;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() { release(); }
  void release() {
    if (ptr) cuda::pinned_free(ptr, bytes);
    ptr = nullptr;
    bytes = 0;
  }
  Status reserve(size_t n) {
    if (n <= bytes) return Status::ok();
    release();
    const cudaError_t err = cuda::pinned_alloc(&ptr, n);
    if (err != cudaSuccess) {
      ptr = nullptr;
      cudaGetLastError();
      return Status(err == cudaErrorMemoryAllocation ? StatusCode::kCudaOom : StatusCode::kCuda,
                    str_cat("LLM on CUDA: cudaMallocHost of ", n, " bytes failed: ", cudaGetErrorName(err)));
    }
    bytes = n;
    return Status::ok();
  }
};

// Carves aligned regions out of one allocation: first sized (base null), then placed.
struct Carver {
  size_t size = 0;
  char* base = nullptr;
  template <class T>
  T* take(size_t bytes) {
    T* p = base ? reinterpret_cast<T*>(base + size) : nullptr;
    size += align_up(bytes);
    return p;
  }
};

}  // namespace

struct CudaLlmModel::Impl {
  // A weight matrix [rows, cols] on the device: 16-bit, or int8 with a float32 scale per row.
  struct Matrix {
    void* data = nullptr;
    float* scales = nullptr;  // int8 only
  };
  struct Layer {
    float* input_norm = nullptr;
    float* post_norm = nullptr;
    Matrix qkv;                 // [q_dim + 2 kv_dim, hidden]
    float* qkv_bias = nullptr;  // [q_dim + 2 kv_dim] or null
    Matrix o;                   // [hidden, q_dim]
    Matrix gate_up;             // [2 intermediate, hidden]
    Matrix down;                // [hidden, intermediate]
  };
  // Where each piece of the per-forward int32 array starts (in elements).
  struct IntLayout {
    size_t tokens = 0, positions = 0, slots = 0, perm = 0, logit_rows = 0, cu_q = 0, cu_k = 0, kv_slots = 0,
           dec_tables = 0, dec_ctx = 0, total = 0;
  };
  // The host-side plan of one forward.
  struct Plan {
    int64_t T = 0, rows = 0;           // tokens, logits rows
    int64_t prefill_seqs = 0, prefill_tokens = 0, prefill_keys = 0, max_q = 0, max_k = 0;
    int64_t decode_seqs = 0, max_ctx = 0;
    IntLayout at;
  };

  LlmConfig c;
  int device = 0;
  int sm = 0;
  std::string device_name;
  cudaStream_t stream = nullptr;
  WeightType wtype = WeightType::kBFloat16;
  AttnDType dtype = AttnDType::kBFloat16;  // q, the KV cache and the GEMMs' MMA type (bfloat16 for int8 weights)
  int64_t num_blocks = 0, block_size = 0;
  int64_t q_dim = 0, kv_dim = 0, qkv_dim = 0;
  size_t weight_bytes = 0, kv_bytes = 0, layer_pool_bytes = 0;

  DeviceBuffer weights, cache, act, kv_scratch, workspace, ints, logits_dev;
  PinnedBuffer staging, host_ints, host_logits;
  int64_t act_tokens = 0;  // tokens the act buffer is laid out for
  bool poison = false;     // HS_CUDA_POISON=1: NaN-fill the scratch before every forward (tests)

  Matrix embed, lm_head;
  float* final_norm = nullptr;
  float* inv_freq = nullptr;
  std::vector<Layer> layers;
  // Activation regions (float32 unless noted), valid for act_tokens tokens.
  float *hidden = nullptr, *normed = nullptr, *qkv = nullptr, *attn32 = nullptr, *gu = nullptr, *mlp = nullptr;
  void *q16 = nullptr, *attn16 = nullptr;

  std::mutex mu;

  ~Impl() {
    if (stream) {
      cudaSetDevice(device);
      cudaStreamSynchronize(stream);
    }
    weights.release();
    cache.release();
    act.release();
    kv_scratch.release();
    workspace.release();
    ints.release();
    logits_dev.release();
    staging.release();
    host_ints.release();
    host_logits.release();
    if (stream) cudaStreamDestroy(stream);
    cudaGetLastError();
  }

  size_t elem() const { return 2; }  // bytes of a q / KV / attention-output element
  bool int8() const { return wtype == WeightType::kInt8; }
  size_t weight_elem() const { return int8() ? 1 : 2; }
  cuda::GemmElem gemm_elem() const {
    return int8() ? cuda::GemmElem::kI8 : wtype == WeightType::kFloat16 ? cuda::GemmElem::kF16 : cuda::GemmElem::kBF16;
  }
  // Room for a [rows, cols] weight matrix (and its scales) in the weight allocation.
  Matrix take_matrix(Carver& cv, int64_t rows, int64_t cols) const {
    Matrix w;
    w.data = cv.take<char>((size_t)(rows * cols) * weight_elem());
    w.scales = int8() ? cv.take<float>((size_t)rows * 4) : nullptr;
    return w;
  }
  // Rows row0 .. of `dst` (a fused matrix holds several checkpoint tensors one after another).
  static Matrix rows_from(const Matrix& dst, int64_t row0, int64_t cols, size_t elem_bytes) {
    Matrix w;
    w.data = static_cast<char*>(dst.data) + (size_t)(row0 * cols) * elem_bytes;
    w.scales = dst.scales ? dst.scales + row0 : nullptr;
    return w;
  }
  void* k_pool(int64_t l) const { return cache.at<char>((size_t)(2 * l) * layer_pool_bytes); }
  void* v_pool(int64_t l) const { return cache.at<char>((size_t)(2 * l + 1) * layer_pool_bytes); }

  // Converts `raw` (float32, float16 or bfloat16 on the host, mapped) to the device type and copies
  // it to rows row0 .. of dst, through the pinned staging buffer, chunk by chunk.
  Status upload_matrix(const RawTensor& raw, const Matrix& dst_matrix, int64_t row0) {
    const Matrix at = rows_from(dst_matrix, row0, raw.shape[1], weight_elem());
    if (int8()) return upload_int8(raw, at);
    void* dst = at.data;
    const int64_t n = raw.bytes / dtype_size(raw.dtype);
    const uint8_t* src = raw.file->data() + raw.offset;
    const bool to_half = wtype == WeightType::kFloat16;
    const size_t chunk = kStagingBytes / 2;
    uint16_t* out = static_cast<uint16_t*>(staging.ptr);
    for (int64_t begin = 0; begin < n; begin += (int64_t)chunk) {
      const int64_t count = std::min<int64_t>((int64_t)chunk, n - begin);
      for (int64_t i = 0; i < count; ++i) {
        const int64_t e = begin + i;
        uint16_t bits;
        if (raw.dtype == DType::kFloat32) {
          float f;
          std::memcpy(&f, src + e * 4, 4);
          bits = to_half ? float_to_half(f) : float_to_bf16(f);
        } else {
          uint16_t stored;
          std::memcpy(&stored, src + e * 2, 2);
          const bool stored_half = raw.dtype == DType::kFloat16;
          if (stored_half == to_half) bits = stored;
          else if (stored_half) bits = float_to_bf16(half_to_float(stored));
          else bits = float_to_half(bf16_to_float(stored));
        }
        out[i] = bits;
      }
      HS_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst) + begin * 2, out, (size_t)count * 2, cudaMemcpyHostToDevice, stream));
      HS_CUDA_CHECK(cudaStreamSynchronize(stream));  // the staging buffer is refilled next
    }
    return Status::ok();
  }

  // Quantises `raw` row by row (quantise_row_int8, as the CPU model does) into dst and its scales.
  Status upload_int8(const RawTensor& raw, const Matrix& dst) {
    const int64_t rows = raw.shape[0], cols = raw.shape[1];
    std::vector<float> row((size_t)cols), scales((size_t)rows);
    std::vector<int8_t> q((size_t)cols);
    int8_t* out = static_cast<int8_t*>(staging.ptr);
    size_t sent = 0, filled = 0;  // bytes of the matrix already on the device, bytes waiting in staging
    auto flush = [&]() -> Status {
      HS_CUDA_CHECK(cudaMemcpyAsync(static_cast<int8_t*>(dst.data) + sent, out, filled, cudaMemcpyHostToDevice, stream));
      HS_CUDA_CHECK(cudaStreamSynchronize(stream));  // the staging buffer is refilled next
      sent += filled;
      filled = 0;
      return Status::ok();
    };
    for (int64_t r = 0; r < rows; ++r) {
      read_raw_row(raw, r, row.data());
      scales[(size_t)r] = quantise_row_int8(row.data(), cols, q.data());
      for (size_t c0 = 0; c0 < (size_t)cols;) {  // a row longer than the staging buffer goes in pieces
        const size_t part = std::min((size_t)cols - c0, kStagingBytes - filled);
        std::memcpy(out + filled, q.data() + c0, part);
        filled += part;
        c0 += part;
        if (filled == kStagingBytes) HS_RETURN_IF_ERROR(flush());
      }
    }
    if (filled > 0) HS_RETURN_IF_ERROR(flush());
    return upload_floats(scales, dst.scales);
  }

  Status upload_floats(const std::vector<float>& v, float* dst) {
    const size_t chunk = kStagingBytes / sizeof(float);
    for (size_t begin = 0; begin < v.size(); begin += chunk) {
      const size_t count = std::min(chunk, v.size() - begin);
      std::memcpy(staging.ptr, v.data() + begin, count * sizeof(float));
      HS_CUDA_CHECK(cudaMemcpyAsync(dst + begin, staging.ptr, count * sizeof(float), cudaMemcpyHostToDevice, stream));
      HS_CUDA_CHECK(cudaStreamSynchronize(stream));
    }
    return Status::ok();
  }

  // Lays out (and, with base set, places) the activation regions for `tokens` tokens.
  size_t layout_act(int64_t tokens, char* base) {
    Carver cv;
    cv.base = base;
    const size_t T = (size_t)tokens, H = (size_t)c.hidden_size, I = (size_t)c.intermediate_size;
    hidden = cv.take<float>(T * H * 4);
    normed = cv.take<float>(T * H * 4);
    qkv = cv.take<float>(T * (size_t)qkv_dim * 4);
    attn32 = cv.take<float>(T * (size_t)q_dim * 4);
    gu = cv.take<float>(T * 2 * I * 4);
    mlp = cv.take<float>(T * I * 4);
    q16 = cv.take<char>(T * (size_t)q_dim * elem());
    attn16 = cv.take<char>(T * (size_t)q_dim * elem());
    return cv.size;
  }

  Status reserve_act(int64_t tokens) {
    if (tokens <= act_tokens) return Status::ok();
    int64_t cap = 16;
    while (cap < tokens) cap *= 2;
    act_tokens = 0;
    HS_RETURN_IF_ERROR(act.reserve(layout_act(cap, nullptr), "activations"));
    layout_act(cap, act.at<char>(0));
    act_tokens = cap;
    return Status::ok();
  }

  Status linear(const float* x, int64_t M, int64_t K, const Matrix& w, int64_t N, const float* bias, float* y,
                const float* residual) {
    cuda::GemmArgs g;
    g.M = M;
    g.N = N;
    g.K = K;
    g.a = x;
    g.a_elem = cuda::GemmElem::kF32;
    g.a_rs = K;
    g.a_cs = 1;
    g.b = w.data;
    g.b_elem = gemm_elem();
    g.b_scale = w.scales;
    g.b_rs = 1;
    g.b_cs = K;
    g.c = y;
    g.c_rs = N;
    g.bias = bias;
    if (residual) {
      g.d = residual;
      g.d_rs = N;
      g.d_cs = 1;
      g.beta = 1.f;
    }
    // The tiles give the same results (gemm.cuh), so a sequence's logits do not depend on the batch.
    const cuda::GemmKernel kernel = sm < 80   ? cuda::GemmKernel::kSimt
                                    : M <= 16 ? cuda::GemmKernel::kTc16
                                    : M >= 256 ? cuda::GemmKernel::kTc128
                                               : cuda::GemmKernel::kTc64;
    const cuda::MmaType mma = dtype == AttnDType::kFloat16 ? cuda::MmaType::kF16 : cuda::MmaType::kBF16;
    return cuda::gemm(g, kernel, mma, stream);
  }

  Status check_and_plan(const LlmBatch& b, Plan* plan);
  Status run(const LlmBatch& b, const Plan& plan, std::vector<float>* logits);
};

namespace {

// The shared checks, then what the CUDA kernels take.
Status check_config(const LlmConfig& c) {
  HS_RETURN_IF_ERROR(check_llm_config(c));
  if (c.head_dim % 8 != 0 || c.head_dim > 256)
    HS_FAIL(kUnsupportedOp, "the CUDA LLM forward takes head_dim a multiple of 8 up to 256; this model has head_dim ",
            c.head_dim, " (use device 'cpu')");
  if (c.num_heads > 65535 || c.vocab_size > INT32_MAX || c.hidden_size > INT32_MAX / 4)
    HS_FAIL(kUnsupportedOp, "the CUDA LLM forward takes at most 65535 heads and int32 vocabulary / hidden sizes");
  return Status::ok();
}

}  // namespace

Result<std::shared_ptr<CudaLlmModel>> CudaLlmModel::create(const LlmConfig& config, const std::vector<RawTensor>& tensors,
                                                            const CudaLlmOptions& options) {
  HS_RETURN_IF_ERROR(check_config(config));
  if (options.num_blocks <= 0 || options.block_size <= 0)
    HS_FAIL(kInvalidArgument, "numBlocks and blockSize must be positive, got ", options.num_blocks, " and ", options.block_size);
  if (options.num_blocks > INT32_MAX / options.block_size)
    HS_FAIL(kInvalidArgument, "numBlocks x blockSize (", options.num_blocks, " x ", options.block_size,
            ") must stay below 2^31 cache slots");
  if (options.weight_type && *options.weight_type != WeightType::kFloat16 && *options.weight_type != WeightType::kBFloat16 &&
      *options.weight_type != WeightType::kInt8)
    HS_FAIL(kUnsupportedOp, "weightType '", weight_type_name(*options.weight_type),
            "' is not supported on CUDA; use 'bfloat16', 'float16' or 'int8' (or leave it unset)");

  const CudaInfo& info = cuda_info();
  if (!info.available || info.devices.empty())
    HS_FAIL(kCudaUnavailable, "device 'cuda' was requested: ", info.reason.empty() ? "no CUDA device" : info.reason);

  // Every tensor is looked up and checked before any device memory is taken.
  const LlmConfig& c = config;
  const RawTensorTable table(tensors);
  const int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  const int64_t q_dim = c.num_heads * c.head_dim, kv_dim = c.num_kv_heads * c.head_dim;
  struct LayerRaw {
    const RawTensor *in_norm, *post_norm, *q, *k, *v, *o, *gate, *up, *down, *qb = nullptr, *kb = nullptr, *vb = nullptr;
  };
  const RawTensor *embed_raw = nullptr, *norm_raw = nullptr, *head_raw = nullptr;
  HS_RETURN_IF_ERROR(table.find("model.embed_tokens.weight", {V, H}, &embed_raw));
  HS_RETURN_IF_ERROR(table.find("model.norm.weight", {H}, &norm_raw));
  if (!c.tie_word_embeddings) HS_RETURN_IF_ERROR(table.find("lm_head.weight", {V, H}, &head_raw));
  std::vector<LayerRaw> raws((size_t)c.num_layers);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    LayerRaw& r = raws[(size_t)l];
    const std::string p = str_cat("model.layers.", l, ".");
    HS_RETURN_IF_ERROR(table.find(p + "input_layernorm.weight", {H}, &r.in_norm));
    HS_RETURN_IF_ERROR(table.find(p + "post_attention_layernorm.weight", {H}, &r.post_norm));
    HS_RETURN_IF_ERROR(table.find(p + "self_attn.q_proj.weight", {q_dim, H}, &r.q));
    HS_RETURN_IF_ERROR(table.find(p + "self_attn.k_proj.weight", {kv_dim, H}, &r.k));
    HS_RETURN_IF_ERROR(table.find(p + "self_attn.v_proj.weight", {kv_dim, H}, &r.v));
    HS_RETURN_IF_ERROR(table.find(p + "self_attn.o_proj.weight", {H, q_dim}, &r.o));
    if (c.qkv_bias) {
      HS_RETURN_IF_ERROR(table.find(p + "self_attn.q_proj.bias", {q_dim}, &r.qb));
      HS_RETURN_IF_ERROR(table.find(p + "self_attn.k_proj.bias", {kv_dim}, &r.kb));
      HS_RETURN_IF_ERROR(table.find(p + "self_attn.v_proj.bias", {kv_dim}, &r.vb));
    }
    HS_RETURN_IF_ERROR(table.find(p + "mlp.gate_proj.weight", {I, H}, &r.gate));
    HS_RETURN_IF_ERROR(table.find(p + "mlp.up_proj.weight", {I, H}, &r.up));
    HS_RETURN_IF_ERROR(table.find(p + "mlp.down_proj.weight", {H, I}, &r.down));
  }

  std::shared_ptr<CudaLlmModel> model(new CudaLlmModel());
  model->impl_ = std::make_unique<Impl>();
  Impl& m = *model->impl_;
  m.c = config;
  m.device = info.devices.front().index;
  m.sm = info.devices.front().sm;
  m.device_name = info.devices.front().name;
  // float16 checkpoints stay float16; float32 and bfloat16 ones become bfloat16 (float32's range).
  m.wtype = options.weight_type ? *options.weight_type
                                : (raws.front().q->dtype == DType::kFloat16 ? WeightType::kFloat16 : WeightType::kBFloat16);
  m.dtype = m.wtype == WeightType::kFloat16 ? AttnDType::kFloat16 : AttnDType::kBFloat16;  // int8: bfloat16's range
  m.num_blocks = options.num_blocks;
  m.block_size = options.block_size;
  m.q_dim = q_dim;
  m.kv_dim = kv_dim;
  m.qkv_dim = q_dim + 2 * kv_dim;
  m.layer_pool_bytes = align_up((size_t)(m.num_blocks * m.block_size * kv_dim) * 2);
  m.kv_bytes = 2 * (size_t)c.num_layers * m.layer_pool_bytes;
  const char* poison = std::getenv("HS_CUDA_POISON");
  m.poison = poison && std::strcmp(poison, "1") == 0;

  HS_CUDA_CHECK(cudaSetDevice(m.device));
  HS_CUDA_CHECK(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking));

  // Weight layout: sized with a null base, then placed in one allocation.
  auto carve = [&](Carver& cv) {
    m.embed = m.take_matrix(cv, V, H);
    m.lm_head = c.tie_word_embeddings ? m.embed : m.take_matrix(cv, V, H);
    m.final_norm = cv.take<float>((size_t)H * 4);
    m.inv_freq = cv.take<float>((size_t)(c.head_dim / 2) * 4);
    m.layers.assign((size_t)c.num_layers, Impl::Layer{});
    for (Impl::Layer& L : m.layers) {
      L.input_norm = cv.take<float>((size_t)H * 4);
      L.post_norm = cv.take<float>((size_t)H * 4);
      L.qkv = m.take_matrix(cv, m.qkv_dim, H);
      L.qkv_bias = c.qkv_bias ? cv.take<float>((size_t)m.qkv_dim * 4) : nullptr;
      L.o = m.take_matrix(cv, H, q_dim);
      L.gate_up = m.take_matrix(cv, 2 * I, H);
      L.down = m.take_matrix(cv, H, I);
    }
  };
  Carver sizing;
  carve(sizing);
  m.weight_bytes = sizing.size;

  size_t free_b = 0, total_b = 0;
  HS_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  if (m.weight_bytes + m.kv_bytes > free_b)
    HS_FAIL(kCudaOom, "the model needs ", mib(m.weight_bytes), " of ", weight_type_name(m.wtype), " weights and ",
            mib(m.kv_bytes), " of KV cache (", m.num_blocks, " blocks of ", m.block_size, " tokens); ", m.device_name,
            " has ", mib(free_b), " free of ", mib(total_b), " (lower numBlocks / kvCacheBytes)");
  HS_RETURN_IF_ERROR(m.weights.reserve(m.weight_bytes, "weights"));
  HS_RETURN_IF_ERROR(m.cache.reserve(m.kv_bytes, "the KV cache"));
  // Poisoned (tests), a cache slot that attention reads before a forward wrote it turns the logits NaN.
  HS_CUDA_CHECK(cudaMemsetAsync(m.cache.ptr, m.poison ? 0xff : 0, m.kv_bytes, m.stream));
  Carver placing;
  placing.base = m.weights.at<char>(0);
  carve(placing);
  HS_RETURN_IF_ERROR(m.staging.reserve(kStagingBytes));

  auto vec = [&](const RawTensor* raw, float* dst) -> Status {
    Result<std::vector<float>> v = make_vector(*raw);
    if (!v.is_ok()) return v.status();
    return m.upload_floats(v.value(), dst);
  };
  HS_RETURN_IF_ERROR(m.upload_matrix(*embed_raw, m.embed, 0));
  if (!c.tie_word_embeddings) HS_RETURN_IF_ERROR(m.upload_matrix(*head_raw, m.lm_head, 0));
  HS_RETURN_IF_ERROR(vec(norm_raw, m.final_norm));
  HS_RETURN_IF_ERROR(m.upload_floats(c.inv_freq, m.inv_freq));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerRaw& r = raws[(size_t)l];
    Impl::Layer& L = m.layers[(size_t)l];
    HS_RETURN_IF_ERROR(vec(r.in_norm, L.input_norm));
    HS_RETURN_IF_ERROR(vec(r.post_norm, L.post_norm));
    HS_RETURN_IF_ERROR(m.upload_matrix(*r.q, L.qkv, 0));
    HS_RETURN_IF_ERROR(m.upload_matrix(*r.k, L.qkv, q_dim));
    HS_RETURN_IF_ERROR(m.upload_matrix(*r.v, L.qkv, q_dim + kv_dim));
    if (c.qkv_bias) {
      HS_RETURN_IF_ERROR(vec(r.qb, L.qkv_bias));
      HS_RETURN_IF_ERROR(vec(r.kb, L.qkv_bias + q_dim));
      HS_RETURN_IF_ERROR(vec(r.vb, L.qkv_bias + q_dim + kv_dim));
    }
    HS_RETURN_IF_ERROR(m.upload_matrix(*r.o, L.o, 0));
    HS_RETURN_IF_ERROR(m.upload_matrix(*r.gate, L.gate_up, 0));
    HS_RETURN_IF_ERROR(m.upload_matrix(*r.up, L.gate_up, I));
    HS_RETURN_IF_ERROR(m.upload_matrix(*r.down, L.down, 0));
  }
  HS_CUDA_CHECK(cudaStreamSynchronize(m.stream));
  m.staging.release();  // 32 MiB of pinned memory is not kept for the model's lifetime
  return model;
}

CudaLlmModel::~CudaLlmModel() = default;

Status CudaLlmModel::Impl::check_and_plan(const LlmBatch& b, Plan* plan) {
  const size_t tokens = b.tokens.size(), seqs = b.query_lens.size();
  HS_CHECK_ARG(tokens > 0, "forward: the batch has no tokens");
  HS_CHECK_ARG(tokens <= (size_t)INT32_MAX / 4, "forward: ", tokens, " tokens is too many for one batch");
  HS_CHECK_ARG(b.positions.size() == tokens, "forward: positions has ", b.positions.size(), " entries for ", tokens, " tokens");
  HS_CHECK_ARG(b.logits_per_seq.size() == seqs, "forward: logitsPerSeq has ", b.logits_per_seq.size(), " entries for ",
               seqs, " sequences");
  HS_CHECK_ARG(b.max_blocks > 0 && b.max_blocks <= INT32_MAX && b.block_tables.size() == seqs * (size_t)b.max_blocks,
               "forward: blockTables has ", b.block_tables.size(), " entries, expected ", seqs, " sequences x ",
               b.max_blocks, " blocks");
  const int64_t bs = block_size;
  Plan& p = *plan;
  p = Plan{};
  p.T = (int64_t)tokens;
  size_t t = 0;
  for (size_t s = 0; s < seqs; ++s) {
    const int32_t len = b.query_lens[s];
    HS_CHECK_ARG(len > 0 && t + (size_t)len <= tokens, "forward: queryLens[", s, "] = ", len, " does not fit ", tokens, " tokens");
    HS_CHECK_ARG(b.logits_per_seq[s] >= 0 && b.logits_per_seq[s] <= len, "forward: logitsPerSeq[", s, "] = ",
                 b.logits_per_seq[s], " is outside [0, ", len, "]");
    const int32_t* table = b.block_tables.data() + s * (size_t)b.max_blocks;
    const int32_t first = b.positions[t];
    for (int32_t i = 0; i < len; ++i) {
      const int32_t id = b.tokens[t + (size_t)i], pos = b.positions[t + (size_t)i];
      HS_CHECK_ARG(id >= 0 && id < c.vocab_size, "forward: token id ", id, " is outside the vocabulary [0, ", c.vocab_size, ")");
      HS_CHECK_ARG(pos >= 0 && pos / bs < b.max_blocks, "forward: position ", pos, " of sequence ", s,
                   " does not fit its block table of ", b.max_blocks, " blocks");
      HS_CHECK_ARG(pos == first + i, "forward: the positions of sequence ", s, " must be consecutive on CUDA (",
                   first, " then ", pos, " at token ", i, ")");
    }
    const int64_t last = first + len - 1;
    for (int64_t blk = 0; blk <= last / bs; ++blk)
      HS_CHECK_ARG(table[blk] >= 0 && table[blk] < num_blocks, "forward: block table of sequence ", s, " names block ",
                   table[blk], " at index ", blk, "; the cache has ", num_blocks, " blocks");
    if (len == 1) {
      p.decode_seqs++;
      p.max_ctx = std::max<int64_t>(p.max_ctx, last + 1);
    } else {
      p.prefill_seqs++;
      p.prefill_tokens += len;
      p.prefill_keys += last + 1;
      p.max_q = std::max<int64_t>(p.max_q, len);
      p.max_k = std::max<int64_t>(p.max_k, last + 1);
    }
    p.rows += b.logits_per_seq[s];
    t += (size_t)len;
  }
  HS_CHECK_ARG(t == tokens, "forward: queryLens sum to ", t, " but the batch has ", tokens, " tokens");
  HS_CHECK_ARG(p.prefill_seqs <= 65535 && p.decode_seqs <= 65535, "forward: at most 65535 prefill and 65535 decode "
               "sequences per batch on CUDA");
  HS_CHECK_ARG(p.prefill_keys <= INT32_MAX, "forward: the prefill sequences' contexts sum to more than 2^31 keys");

  IntLayout& at = p.at;
  size_t n = 0;
  auto seg = [&](size_t count) {
    const size_t start = n;
    n += (count + 3) / 4 * 4;  // 16-byte aligned segments
    return start;
  };
  at.tokens = seg(tokens);
  at.positions = seg(tokens);
  at.slots = seg(tokens);
  at.perm = seg(tokens);
  at.logit_rows = seg((size_t)p.rows);
  at.cu_q = seg((size_t)p.prefill_seqs + 1);
  at.cu_k = seg((size_t)p.prefill_seqs + 1);
  at.kv_slots = seg((size_t)p.prefill_keys);
  at.dec_tables = seg((size_t)(p.decode_seqs * b.max_blocks));
  at.dec_ctx = seg((size_t)p.decode_seqs);
  at.total = n;
  return Status::ok();
}

Status CudaLlmModel::Impl::run(const LlmBatch& b, const Plan& p, std::vector<float>* logits) {
  const int64_t T = p.T, H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size, bs = block_size;

  // Host arrays, straight into pinned memory.
  HS_RETURN_IF_ERROR(host_ints.reserve(p.at.total * sizeof(int32_t)));
  int32_t* h = static_cast<int32_t*>(host_ints.ptr);
  std::memset(h, 0, p.at.total * sizeof(int32_t));
  std::memcpy(h + p.at.tokens, b.tokens.data(), (size_t)T * 4);
  std::memcpy(h + p.at.positions, b.positions.data(), (size_t)T * 4);
  {
    int64_t t = 0, prefill_row = 0, decode_row = p.prefill_tokens, row = 0, pseq = 0, dseq = 0, keys = 0;
    h[p.at.cu_q] = 0;
    h[p.at.cu_k] = 0;
    for (size_t s = 0; s < b.query_lens.size(); ++s) {
      const int64_t len = b.query_lens[s], want = b.logits_per_seq[s];
      const int32_t* table = b.block_tables.data() + s * (size_t)b.max_blocks;
      const int64_t first = b.positions[(size_t)t], last = first + len - 1;
      for (int64_t i = 0; i < len; ++i) {
        const int64_t pos = first + i;
        h[p.at.slots + (size_t)(t + i)] = (int32_t)((int64_t)table[pos / bs] * bs + pos % bs);
        h[p.at.perm + (size_t)(t + i)] = (int32_t)(len == 1 ? decode_row++ : prefill_row++);
      }
      for (int64_t i = len - want; i < len; ++i) h[p.at.logit_rows + (size_t)row++] = (int32_t)(t + i);
      if (len == 1) {
        int32_t* dst = h + p.at.dec_tables + (size_t)(dseq * b.max_blocks);
        // Entries past the context are not read; zero keeps them in range anyway.
        for (int64_t blk = 0; blk <= last / bs; ++blk) dst[blk] = table[blk];
        h[p.at.dec_ctx + (size_t)dseq] = (int32_t)(last + 1);
        ++dseq;
      } else {
        for (int64_t j = 0; j <= last; ++j) h[p.at.kv_slots + (size_t)keys++] = (int32_t)((int64_t)table[j / bs] * bs + j % bs);
        ++pseq;
        h[p.at.cu_q + (size_t)pseq] = (int32_t)prefill_row;
        h[p.at.cu_k + (size_t)pseq] = (int32_t)keys;
      }
      t += len;
    }
  }

  // Device buffers for this batch (the stream is idle: the previous forward synchronised).
  HS_RETURN_IF_ERROR(reserve_act(T));
  HS_RETURN_IF_ERROR(ints.reserve(p.at.total * sizeof(int32_t), "batch indices"));
  HS_RETURN_IF_ERROR(logits_dev.reserve((size_t)std::max<int64_t>(p.rows, 1) * (size_t)V * 4, "logits"));
  const size_t kv_row_bytes = (size_t)kv_dim * 2;
  HS_RETURN_IF_ERROR(kv_scratch.reserve(2 * align_up((size_t)p.prefill_keys * kv_row_bytes), "prefill K/V scratch"));
  void* k_scr = kv_scratch.at<char>(0);
  void* v_scr = kv_scratch.at<char>(align_up((size_t)p.prefill_keys * kv_row_bytes));
  const float scale = 1.f / std::sqrt((float)c.head_dim);

  cuda::DecodeArgs dec;
  dec.dtype = dtype;
  dec.num_seqs = (int)p.decode_seqs;
  dec.num_heads = (int)c.num_heads;
  dec.num_kv_heads = (int)c.num_kv_heads;
  dec.head_dim = (int)c.head_dim;
  dec.block_size = (int)bs;
  dec.num_blocks = (int)num_blocks;
  dec.max_blocks_per_seq = (int)b.max_blocks;
  dec.max_context_len = (int)p.max_ctx;
  dec.scale = scale;
  if (p.decode_seqs > 0) HS_RETURN_IF_ERROR(workspace.reserve(std::max<size_t>(cuda::paged_attention_workspace_size(dec), 16), "decode workspace"));

  if (poison) {
    // 0xFF bytes are NaN in float32 and in both 16-bit types: a value no kernel wrote cannot pass a check.
    HS_CUDA_CHECK(cudaMemsetAsync(act.ptr, 0xff, act.bytes, stream));
    HS_CUDA_CHECK(cudaMemsetAsync(logits_dev.ptr, 0xff, logits_dev.bytes, stream));
    if (kv_scratch.ptr) HS_CUDA_CHECK(cudaMemsetAsync(kv_scratch.ptr, 0xff, kv_scratch.bytes, stream));
    if (workspace.ptr) HS_CUDA_CHECK(cudaMemsetAsync(workspace.ptr, 0xff, workspace.bytes, stream));
  }
  const int32_t* d_ints = ints.at<int32_t>(0);
  HS_CUDA_CHECK(cudaMemcpyAsync(ints.ptr, h, p.at.total * sizeof(int32_t), cudaMemcpyHostToDevice, stream));
  const int32_t* d_tokens = d_ints + p.at.tokens;
  const int32_t* d_positions = d_ints + p.at.positions;
  const int32_t* d_slots = d_ints + p.at.slots;
  const int32_t* d_perm = d_ints + p.at.perm;

  if (int8())
    HS_RETURN_IF_ERROR(cuda::llm_embed_int8(static_cast<const int8_t*>(embed.data), embed.scales, V, H, d_tokens, T, hidden, stream));
  else
    HS_RETURN_IF_ERROR(cuda::llm_embed(dtype, embed.data, V, H, d_tokens, T, hidden, stream));
  const size_t e = elem();
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const Layer& L = layers[(size_t)l];
    HS_RETURN_IF_ERROR(cuda::llm_rms_norm(hidden, nullptr, T, T, H, L.input_norm, c.rms_norm_eps, normed, stream));
    HS_RETURN_IF_ERROR(linear(normed, T, H, L.qkv, qkv_dim, L.qkv_bias, qkv, nullptr));
    cuda::RopeQkvArgs r;
    r.dtype = dtype;
    r.qkv = qkv;
    r.positions = d_positions;
    r.slots = d_slots;
    r.perm = d_perm;
    r.inv_freq = inv_freq;
    r.attention_scaling = c.rope_attention_scaling;
    r.n_tokens = T;
    r.heads = (int)c.num_heads;
    r.kv_heads = (int)c.num_kv_heads;
    r.head_dim = (int)c.head_dim;
    r.num_slots = num_blocks * bs;
    r.q_out = q16;
    r.k_cache = k_pool(l);
    r.v_cache = v_pool(l);
    HS_RETURN_IF_ERROR(cuda::llm_rope_qkv(r, stream));
    if (p.prefill_seqs > 0) {
      HS_RETURN_IF_ERROR(cuda::llm_gather_kv(k_pool(l), v_pool(l), num_blocks * bs, kv_dim, d_ints + p.at.kv_slots,
                                             p.prefill_keys, k_scr, v_scr, stream));
      cuda::PrefillArgs pa;
      pa.dtype = dtype;
      pa.q = q16;
      pa.k = k_scr;
      pa.v = v_scr;
      pa.out = attn16;
      pa.cu_seqlens_q = d_ints + p.at.cu_q;
      pa.cu_seqlens_k = d_ints + p.at.cu_k;
      pa.batch = (int)p.prefill_seqs;
      pa.num_heads = (int)c.num_heads;
      pa.num_kv_heads = (int)c.num_kv_heads;
      pa.head_dim = (int)c.head_dim;
      pa.max_seqlen_q = (int)p.max_q;
      pa.max_seqlen_k = (int)p.max_k;
      pa.scale = scale;
      pa.causal = true;
      HS_RETURN_IF_ERROR(cuda::flash_attention_prefill(pa, stream));
    }
    if (p.decode_seqs > 0) {
      dec.q = static_cast<const char*>(q16) + (size_t)(p.prefill_tokens * q_dim) * e;
      dec.out = static_cast<char*>(attn16) + (size_t)(p.prefill_tokens * q_dim) * e;
      dec.k_cache = k_pool(l);
      dec.v_cache = v_pool(l);
      dec.block_tables = d_ints + p.at.dec_tables;
      dec.context_lens = d_ints + p.at.dec_ctx;
      dec.workspace = workspace.ptr;
      HS_RETURN_IF_ERROR(cuda::paged_attention_decode(dec, stream));
    }
    HS_RETURN_IF_ERROR(cuda::llm_unpermute_to_float(dtype, attn16, d_perm, T, q_dim, attn32, stream));
    HS_RETURN_IF_ERROR(linear(attn32, T, q_dim, L.o, H, nullptr, hidden, hidden));
    HS_RETURN_IF_ERROR(cuda::llm_rms_norm(hidden, nullptr, T, T, H, L.post_norm, c.rms_norm_eps, normed, stream));
    HS_RETURN_IF_ERROR(linear(normed, T, H, L.gate_up, 2 * I, nullptr, gu, nullptr));
    HS_RETURN_IF_ERROR(cuda::llm_silu_mul(gu, T, I, mlp, stream));
    HS_RETURN_IF_ERROR(linear(mlp, T, I, L.down, H, nullptr, hidden, hidden));
  }

  logits->assign((size_t)(p.rows * V), 0.f);
  if (p.rows == 0) return Status::ok();
  // The wanted rows, normalised into `normed` (rows <= T), then the vocabulary projection.
  HS_RETURN_IF_ERROR(cuda::llm_rms_norm(hidden, d_ints + p.at.logit_rows, p.rows, T, H, final_norm, c.rms_norm_eps, normed, stream));
  float* d_logits = logits_dev.at<float>(0);
  HS_RETURN_IF_ERROR(linear(normed, p.rows, H, lm_head, V, nullptr, d_logits, nullptr));
  const size_t logit_bytes = (size_t)(p.rows * V) * sizeof(float);
  HS_RETURN_IF_ERROR(host_logits.reserve(logit_bytes));
  HS_CUDA_CHECK(cudaMemcpyAsync(host_logits.ptr, d_logits, logit_bytes, cudaMemcpyDeviceToHost, stream));
  HS_CUDA_CHECK(cudaStreamSynchronize(stream));
  std::memcpy(logits->data(), host_logits.ptr, logit_bytes);
  return Status::ok();
}

Status CudaLlmModel::forward(const LlmBatch& batch, std::vector<float>* logits) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  Impl::Plan plan;
  HS_RETURN_IF_ERROR(m.check_and_plan(batch, &plan));
  HS_CUDA_CHECK(cudaSetDevice(m.device));
  Status st = m.run(batch, plan, logits);
  // Whatever happened, nothing of this forward may still run when the next one reuses the buffers.
  const cudaError_t sync = cudaStreamSynchronize(m.stream);
  if (st.is_ok() && sync != cudaSuccess) st = cuda::cuda_status(sync, "cudaStreamSynchronize", __FILE__, __LINE__);
  if (!st.is_ok()) {
    cudaGetLastError();  // clear a non-sticky error so the next forward's launch checks start clean
    logits->clear();
  }
  return st;
}

const LlmConfig& CudaLlmModel::config() const { return impl_->c; }
int64_t CudaLlmModel::num_blocks() const { return impl_->num_blocks; }
int64_t CudaLlmModel::block_size() const { return impl_->block_size; }
size_t CudaLlmModel::kv_cache_bytes() const { return impl_->kv_bytes; }
size_t CudaLlmModel::weight_bytes() const { return impl_->weight_bytes; }
const char* CudaLlmModel::weight_type() const { return weight_type_name(impl_->wtype); }
const char* CudaLlmModel::kv_cache_type() const { return impl_->dtype == AttnDType::kFloat16 ? "float16" : "bfloat16"; }
const std::string& CudaLlmModel::device_name() const { return impl_->device_name; }
int CudaLlmModel::sm() const { return impl_->sm; }
size_t CudaLlmModel::device_bytes() const {
  const Impl& m = *impl_;
  return m.weights.bytes + m.cache.bytes + m.act.bytes + m.kv_scratch.bytes + m.workspace.bytes + m.ints.bytes + m.logits_dev.bytes;
}

}  // namespace hs::llm
