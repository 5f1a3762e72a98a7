// Host-data wrappers of the attention launchers (see attention_host.h): device buffers are owned by
// a small RAII list so that every early return frees them.
#include "kernels/cuda/attention_host.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <vector>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/flash_attention.cuh"
#include "kernels/cuda/paged_attention.cuh"

namespace hs::cuda {
namespace {

// Device allocations freed together when the scope ends.
class DeviceBuffers {
 public:
  DeviceBuffers() = default;
  DeviceBuffers(const DeviceBuffers&) = delete;
  DeviceBuffers& operator=(const DeviceBuffers&) = delete;
  ~DeviceBuffers() {
    for (void* ptr : ptrs_) cudaFree(ptr);
  }
  Status alloc(size_t bytes, void** out) {
    *out = nullptr;
    if (bytes == 0) return Status::ok();
    HS_CUDA_CHECK(cudaMalloc(out, bytes));
    ptrs_.push_back(*out);
    return Status::ok();
  }
  // Copies `bytes` host bytes to a new device buffer (null when bytes == 0).
  Status upload(const void* host, size_t bytes, void** out) {
    HS_RETURN_IF_ERROR(alloc(bytes, out));
    if (bytes) HS_CUDA_CHECK(cudaMemcpy(*out, host, bytes, cudaMemcpyHostToDevice));
    return Status::ok();
  }

 private:
  std::vector<void*> ptrs_;
};

// float32 host values rounded to the kernel's 16-bit type (round to nearest even).
std::vector<uint16_t> to_half_bits(AttnDType dtype, ref::FloatSpan values) {
  std::vector<uint16_t> bits(values.size);
  for (size_t i = 0; i < values.size; ++i) {
    if (dtype == AttnDType::kFloat16) {
      const __half h = __float2half_rn(values.data[i]);
      bits[i] = __half_as_ushort(h);
    } else {
      const __nv_bfloat16 h = __float2bfloat16_rn(values.data[i]);
      bits[i] = __bfloat16_as_ushort(h);
    }
  }
  return bits;
}

std::vector<float> to_float(AttnDType dtype, const std::vector<uint16_t>& bits) {
  std::vector<float> values(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) {
    values[i] = dtype == AttnDType::kFloat16 ? __half2float(__ushort_as_half(bits[i]))
                                             : __bfloat162float(__ushort_as_bfloat16(bits[i]));
  }
  return values;
}

Status upload_half(DeviceBuffers& buffers, AttnDType dtype, ref::FloatSpan values, const void** out) {
  const std::vector<uint16_t> bits = to_half_bits(dtype, values);
  void* ptr = nullptr;
  HS_RETURN_IF_ERROR(buffers.upload(bits.data(), bits.size() * sizeof(uint16_t), &ptr));
  *out = ptr;
  return Status::ok();
}

Status upload_ints(DeviceBuffers& buffers, const std::vector<int32_t>& values, const int32_t** out) {
  void* ptr = nullptr;
  HS_RETURN_IF_ERROR(buffers.upload(values.data(), values.size() * sizeof(int32_t), &ptr));
  *out = static_cast<const int32_t*>(ptr);
  return Status::ok();
}

Status download_half(AttnDType dtype, const void* device, size_t count, std::vector<float>* out) {
  std::vector<uint16_t> bits(count);
  if (count) HS_CUDA_CHECK(cudaMemcpy(bits.data(), device, count * sizeof(uint16_t), cudaMemcpyDeviceToHost));
  *out = to_float(dtype, bits);
  return Status::ok();
}

}  // namespace

Status prefill_on_device(AttnDType dtype, const ref::PrefillProblem& problem, ref::FloatSpan q, ref::FloatSpan k,
                         ref::FloatSpan v, ref::FloatSpan bias, std::vector<float>* out, std::vector<float>* lse) {
  DeviceBuffers buffers;
  PrefillArgs args;
  args.dtype = dtype;
  HS_RETURN_IF_ERROR(upload_half(buffers, dtype, q, &args.q));
  HS_RETURN_IF_ERROR(upload_half(buffers, dtype, k, &args.k));
  HS_RETURN_IF_ERROR(upload_half(buffers, dtype, v, &args.v));
  if (bias.data) HS_RETURN_IF_ERROR(upload_half(buffers, dtype, bias, &args.bias));
  HS_RETURN_IF_ERROR(upload_ints(buffers, problem.cu_seqlens_q, &args.cu_seqlens_q));
  HS_RETURN_IF_ERROR(upload_ints(buffers, problem.cu_seqlens_k, &args.cu_seqlens_k));
  HS_RETURN_IF_ERROR(upload_ints(buffers, problem.k_valid_lens, &args.k_valid_lens));
  const size_t out_count = q.size;
  const size_t lse_count = size_t(problem.num_heads) * problem.total_q();
  HS_RETURN_IF_ERROR(buffers.alloc(out_count * sizeof(uint16_t), &args.out));
  void* lse_ptr = nullptr;
  HS_RETURN_IF_ERROR(buffers.alloc(lse_count * sizeof(float), &lse_ptr));
  args.lse = static_cast<float*>(lse_ptr);
  args.bias_batch_stride = problem.bias_batch_stride;
  args.bias_head_stride = problem.bias_head_stride;
  args.bias_row_stride = problem.bias_row_stride;
  args.batch = problem.batch;
  args.num_heads = problem.num_heads;
  args.num_kv_heads = problem.num_kv_heads;
  args.head_dim = problem.head_dim;
  args.max_seqlen_q = problem.max_len_q();
  args.max_seqlen_k = problem.max_len_k();
  args.scale = problem.scale;
  args.causal = problem.causal;
  if (out_count == 0) {
    out->clear();
    lse->clear();
    return Status::ok();
  }
  HS_RETURN_IF_ERROR(flash_attention_prefill(args, nullptr));
  HS_CUDA_CHECK(cudaDeviceSynchronize());
  HS_RETURN_IF_ERROR(download_half(dtype, args.out, out_count, out));
  lse->resize(lse_count);
  HS_CUDA_CHECK(cudaMemcpy(lse->data(), args.lse, lse_count * sizeof(float), cudaMemcpyDeviceToHost));
  return Status::ok();
}

Status decode_on_device(AttnDType dtype, const ref::DecodeProblem& problem, ref::FloatSpan q, ref::FloatSpan k_cache,
                        ref::FloatSpan v_cache, std::vector<float>* out) {
  DeviceBuffers buffers;
  DecodeArgs args;
  args.dtype = dtype;
  HS_RETURN_IF_ERROR(upload_half(buffers, dtype, q, &args.q));
  HS_RETURN_IF_ERROR(upload_half(buffers, dtype, k_cache, &args.k_cache));
  HS_RETURN_IF_ERROR(upload_half(buffers, dtype, v_cache, &args.v_cache));
  HS_RETURN_IF_ERROR(upload_ints(buffers, problem.block_tables, &args.block_tables));
  HS_RETURN_IF_ERROR(upload_ints(buffers, problem.context_lens, &args.context_lens));
  HS_RETURN_IF_ERROR(buffers.alloc(q.size * sizeof(uint16_t), &args.out));
  args.num_seqs = problem.num_seqs;
  args.num_heads = problem.num_heads;
  args.num_kv_heads = problem.num_kv_heads;
  args.head_dim = problem.head_dim;
  args.block_size = problem.block_size;
  args.num_blocks = problem.num_blocks;
  args.max_blocks_per_seq = problem.max_blocks_per_seq;
  args.max_context_len = problem.max_context_len();
  args.scale = problem.scale;
  HS_RETURN_IF_ERROR(buffers.alloc(paged_attention_workspace_size(args), &args.workspace));
  HS_RETURN_IF_ERROR(paged_attention_decode(args, nullptr));
  HS_CUDA_CHECK(cudaDeviceSynchronize());
  return download_half(dtype, args.out, q.size, out);
}

}  // namespace hs::cuda
