// C ABI of the attention kernels for bench/gpu (Python ctypes over libhs_kernels.so, tensors passed as
// torch data_ptr()). Each call returns 0 or the int value of an hs::StatusCode; the message of the
// calling thread's last call (empty after a success) is read with hs_attn_last_error(). Layouts: attention_types.h.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/cuda/attention_types.h"
#include "kernels/cuda/flash_attention.cuh"
#include "kernels/cuda/paged_attention.cuh"
#include "kernels/cuda/prefill_kernel_choice.h"

#define HS_CAPI extern "C" __attribute__((visibility("default")))

namespace {

thread_local std::string g_last_error;

int report(const hs::Status& status) {
  g_last_error = status.message();
  return static_cast<int>(status.code());
}

}  // namespace

// dtype: 0 float16, 1 bfloat16. cu_seqlens_q/k, k_valid_lens, bias and lse may be null.
HS_CAPI int hs_attn_prefill(int dtype, const void* q, const void* k, const void* v, void* out, float* lse,
                            const int32_t* cu_seqlens_q, const int32_t* cu_seqlens_k, const int32_t* k_valid_lens,
                            const void* bias, int64_t bias_batch_stride, int64_t bias_head_stride,
                            int64_t bias_row_stride, int batch, int num_heads, int num_kv_heads, int head_dim,
                            int max_seqlen_q, int max_seqlen_k, float scale, int causal, void* stream) {
  hs::cuda::PrefillArgs args;
  args.dtype = static_cast<hs::cuda::AttnDType>(dtype);
  args.q = q;
  args.k = k;
  args.v = v;
  args.out = out;
  args.lse = lse;
  args.cu_seqlens_q = cu_seqlens_q;
  args.cu_seqlens_k = cu_seqlens_k;
  args.k_valid_lens = k_valid_lens;
  args.bias = bias;
  args.bias_batch_stride = bias_batch_stride;
  args.bias_head_stride = bias_head_stride;
  args.bias_row_stride = bias_row_stride;
  args.batch = batch;
  args.num_heads = num_heads;
  args.num_kv_heads = num_kv_heads;
  args.head_dim = head_dim;
  args.max_seqlen_q = max_seqlen_q;
  args.max_seqlen_k = max_seqlen_k;
  args.scale = scale;
  args.causal = causal != 0;
  return report(hs::cuda::flash_attention_prefill(args, static_cast<cudaStream_t>(stream)));
}

// Chooses the prefill kernel for the process, overriding HS_ATTENTION_KERNEL: 0 fa2, 1 sm90 (see
// prefill_kernel_choice.h for what sm90 covers and when it fails). Returns 0, or ERR_INVALID_ARGUMENT's value.
HS_CAPI int hs_attn_set_prefill_kernel(int kernel) {
  if (kernel != 0 && kernel != 1) {
    return report(hs::Status(hs::StatusCode::kInvalidArgument,
                             "hs_attn_set_prefill_kernel: kernel must be 0 (fa2) or 1 (sm90)"));
  }
  hs::cuda::set_prefill_kernel(kernel == 1 ? hs::cuda::PrefillKernel::kSm90 : hs::cuda::PrefillKernel::kFa2);
  return report(hs::Status::ok());
}

HS_CAPI size_t hs_attn_decode_workspace_size(int num_seqs, int num_heads, int head_dim, int max_context_len) {
  hs::cuda::DecodeArgs args;
  args.num_seqs = num_seqs;
  args.num_heads = num_heads;
  args.head_dim = head_dim;
  args.max_context_len = max_context_len;
  return hs::cuda::paged_attention_workspace_size(args);
}

HS_CAPI int hs_attn_decode(int dtype, const void* q, const void* k_cache, const void* v_cache, void* out,
                           const int32_t* block_tables, const int32_t* context_lens, void* workspace, int num_seqs,
                           int num_heads, int num_kv_heads, int head_dim, int block_size, int num_blocks,
                           int max_blocks_per_seq, int max_context_len, float scale, void* stream) {
  hs::cuda::DecodeArgs args;
  args.dtype = static_cast<hs::cuda::AttnDType>(dtype);
  args.q = q;
  args.k_cache = k_cache;
  args.v_cache = v_cache;
  args.out = out;
  args.block_tables = block_tables;
  args.context_lens = context_lens;
  args.workspace = workspace;
  args.num_seqs = num_seqs;
  args.num_heads = num_heads;
  args.num_kv_heads = num_kv_heads;
  args.head_dim = head_dim;
  args.block_size = block_size;
  args.num_blocks = num_blocks;
  args.max_blocks_per_seq = max_blocks_per_seq;
  args.max_context_len = max_context_len;
  args.scale = scale;
  return report(hs::cuda::paged_attention_decode(args, static_cast<cudaStream_t>(stream)));
}

HS_CAPI const char* hs_attn_last_error() { return g_last_error.c_str(); }
