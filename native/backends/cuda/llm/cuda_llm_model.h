// CudaLlmModel: the Llama / Qwen2 decoder of native/kernels/cpu/llm/llm_model.h on one CUDA device,
// with the same contract: the TypeScript scheduler picks the tokens and cache blocks of each
// forward (an LlmBatch), the model owns the paged KV cache, runs one forward over the batch and
// returns the logits it was asked for (float32 on the host). Forwards are serialised.
//
// On the device: projection and embedding matrices are 16-bit (bfloat16, or float16 for float16
// checkpoints; float32 checkpoints are rounded to bfloat16 at load) or, with weight type int8, int8
// with a float32 scale per output channel (quantised as the CPU model does; the GEMMs then multiply
// in bfloat16, which holds every int8 value exactly); norms and biases float32, activations float32
// between kernels, q / K / V 16-bit for attention. The KV cache is one K and one V pool per layer in
// paged_attention_decode's layout [num_blocks, block_size, num_kv_heads, head_dim], in the weights'
// 16-bit type (bfloat16 for int8 weights). Plain C++: the N-API binding includes it without CUDA.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hs/status.h"
#include "kernels/cpu/llm/llm_model.h"
#include "kernels/cpu/llm/llm_weights.h"

namespace hs::llm {

struct CudaLlmOptions {
  int64_t num_blocks = 0;                 // KV cache blocks
  int64_t block_size = 16;                // tokens per block
  std::optional<WeightType> weight_type;  // kFloat16, kBFloat16 or kInt8; unset: see the header comment
};

class CudaLlmModel {
 public:
  // Checks the config, the tensors and the options (head_dim must be a multiple of 8 up to 256:
  // ERR_UNSUPPORTED_OP otherwise), then uploads the weights and allocates the cache on device 0.
  // ERR_CUDA_UNAVAILABLE without a usable device, ERR_CUDA_OOM when weights + cache do not fit.
  static Result<std::shared_ptr<CudaLlmModel>> create(const LlmConfig& config, const std::vector<RawTensor>& tensors,
                                                      const CudaLlmOptions& options);
  // Waits for the stream and frees every device and pinned buffer of the model.
  ~CudaLlmModel();
  CudaLlmModel(const CudaLlmModel&) = delete;
  CudaLlmModel& operator=(const CudaLlmModel&) = delete;

  // LlmModel::forward's contract, plus: the positions of a sequence's tokens must be consecutive
  // (ERR_INVALID_ARGUMENT otherwise), as the scheduler always makes them.
  Status forward(const LlmBatch& batch, std::vector<float>* logits);

  const LlmConfig& config() const;
  int64_t num_blocks() const;
  int64_t block_size() const;
  size_t kv_cache_bytes() const;
  size_t weight_bytes() const;
  // "float16", "bfloat16" or "int8": the device type of the matrices.
  const char* weight_type() const;
  // "float16" or "bfloat16": the KV cache's type, which attention and the GEMMs' MMA use.
  const char* kv_cache_type() const;
  const std::string& device_name() const;
  int sm() const;
  // Device bytes the model holds now: weights, cache and the scratch its forwards grew.
  size_t device_bytes() const;

  struct Impl;

 private:
  CudaLlmModel() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hs::llm
