// attention: the attention kernels for tests, synchronous.
//   attention.prefillReference(opts) -> { out: Float32Array, lse: Float32Array }   (CPU, float32)
//   attention.prefill(opts)          -> { out, lse }   (CUDA, inputs rounded to opts.dtype)
//     opts: { q, k, v: Float32Array, batch, numHeads, numKvHeads, headDim,
//             seqlenQ, seqlenK (fixed lengths) | cuSeqlensQ, cuSeqlensK: Int32Array (varlen),
//             kValidLens?: Int32Array, causal?: boolean, scale?: number (1/sqrt(headDim)),
//             bias?: Float32Array, biasStrides?: [batch, head, row], dtype?: 'float16' | 'bfloat16' }
//   attention.decodeReference(opts) -> Float32Array   (CPU)
//   attention.decode(opts)          -> Float32Array   (CUDA)
//     opts: { q, kCache, vCache: Float32Array, numSeqs, numHeads, numKvHeads, headDim, blockSize,
//             numBlocks, maxBlocksPerSeq, blockTables, contextLens: Int32Array, scale?, dtype? }
// Layouts: native/kernels/cuda/attention_types.h. The CUDA entry points throw ERR_CUDA_UNAVAILABLE
// when the addon has no CUDA or the machine no device.
#include <cmath>
#include <string>
#include <vector>

#include "bindings.h"
#include "hs/devices.h"
#include "kernels/cpu/attention_ref.h"
#include "napi_util.h"

#ifdef HS_WITH_CUDA
#include "kernels/cuda/attention_host.h"
#endif

namespace hs_napi {
namespace {

hs::ref::FloatSpan float_array(const Napi::Object& opts, const char* name, bool optional = false) {
  Napi::Value value = opts.Get(name);
  if (optional && (value.IsUndefined() || value.IsNull())) return {};
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw_type_error(opts.Env(), std::string("attention: ") + name + " must be a Float32Array");
  Napi::Float32Array array = value.As<Napi::Float32Array>();
  return {array.Data(), array.ElementLength()};
}

std::vector<int32_t> int_array(const Napi::Object& opts, const char* name, bool optional = false) {
  Napi::Value value = opts.Get(name);
  if (optional && (value.IsUndefined() || value.IsNull())) return {};
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw_type_error(opts.Env(), std::string("attention: ") + name + " must be an Int32Array");
  Napi::Int32Array array = value.As<Napi::Int32Array>();
  return std::vector<int32_t>(array.Data(), array.Data() + array.ElementLength());
}

int int_option(const Napi::Object& opts, const char* name, bool optional = false) {
  Napi::Value value = opts.Get(name);
  if (optional && value.IsUndefined()) return 0;
  if (!value.IsNumber()) throw_type_error(opts.Env(), std::string("attention: ") + name + " must be an integer");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (number != std::floor(number) || std::fabs(number) > 2147483647.0)
    throw_type_error(opts.Env(), std::string("attention: ") + name + " must be a 32-bit integer");
  return static_cast<int>(number);
}

float scale_option(const Napi::Object& opts, int head_dim) {
  Napi::Value value = opts.Get("scale");
  if (value.IsUndefined()) return head_dim > 0 ? 1.f / std::sqrt(float(head_dim)) : 1.f;
  if (!value.IsNumber()) throw_type_error(opts.Env(), "attention: scale must be a number");
  return value.As<Napi::Number>().FloatValue();
}

Napi::Object options_arg(const Napi::CallbackInfo& info) {
  HS_NAPI_CHECK_ARG(info.Env(), info.Length() >= 1 && info[0].IsObject(), "attention: expected an options object");
  return info[0].As<Napi::Object>();
}

struct PrefillInputs {
  hs::ref::PrefillProblem problem;
  hs::ref::FloatSpan q, k, v, bias;
};

PrefillInputs prefill_inputs(const Napi::Object& opts) {
  Napi::Env env = opts.Env();
  PrefillInputs in;
  hs::ref::PrefillProblem& p = in.problem;
  in.q = float_array(opts, "q");
  in.k = float_array(opts, "k");
  in.v = float_array(opts, "v");
  in.bias = float_array(opts, "bias", true);
  p.batch = int_option(opts, "batch");
  p.num_heads = int_option(opts, "numHeads");
  p.num_kv_heads = int_option(opts, "numKvHeads");
  p.head_dim = int_option(opts, "headDim");
  p.cu_seqlens_q = int_array(opts, "cuSeqlensQ", true);
  p.cu_seqlens_k = int_array(opts, "cuSeqlensK", true);
  p.seqlen_q = int_option(opts, "seqlenQ", !p.cu_seqlens_q.empty());
  p.seqlen_k = int_option(opts, "seqlenK", !p.cu_seqlens_k.empty());
  p.k_valid_lens = int_array(opts, "kValidLens", true);
  p.causal = opts.Get("causal").ToBoolean();
  p.scale = scale_option(opts, p.head_dim);
  if (in.bias.data) {
    Napi::Value strides = opts.Get("biasStrides");
    HS_NAPI_CHECK_ARG(env, strides.IsArray() && strides.As<Napi::Array>().Length() == 3,
                      "attention: biasStrides must be [batchStride, headStride, rowStride] when bias is given");
    Napi::Array s = strides.As<Napi::Array>();
    for (uint32_t i = 0; i < 3; ++i)
      HS_NAPI_CHECK_ARG(env, s.Get(i).IsNumber(), "attention: biasStrides must hold numbers");
    p.bias_batch_stride = s.Get(0u).As<Napi::Number>().Int64Value();
    p.bias_head_stride = s.Get(1u).As<Napi::Number>().Int64Value();
    p.bias_row_stride = s.Get(2u).As<Napi::Number>().Int64Value();
  }
  return in;
}

Napi::Float32Array to_js(Napi::Env env, const std::vector<float>& values) {
  Napi::Float32Array array = Napi::Float32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), array.Data());
  return array;
}

Napi::Object prefill_result(Napi::Env env, const std::vector<float>& out, const std::vector<float>& lse) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("out", to_js(env, out));
  result.Set("lse", to_js(env, lse));
  return result;
}

Napi::Value PrefillReference(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  const PrefillInputs in = prefill_inputs(options_arg(info));
  std::vector<float> out, lse;
  hs::Status status = hs::ref::prefill_reference(in.problem, in.q, in.k, in.v, in.bias, &out, &lse);
  if (!status.is_ok()) throw status_error(env, status);
  return prefill_result(env, out, lse);
  HS_NAPI_GUARD_END(env)
}

struct DecodeInputs {
  hs::ref::DecodeProblem problem;
  hs::ref::FloatSpan q, k_cache, v_cache;
};

DecodeInputs decode_inputs(const Napi::Object& opts) {
  DecodeInputs in;
  hs::ref::DecodeProblem& p = in.problem;
  in.q = float_array(opts, "q");
  in.k_cache = float_array(opts, "kCache");
  in.v_cache = float_array(opts, "vCache");
  p.num_seqs = int_option(opts, "numSeqs");
  p.num_heads = int_option(opts, "numHeads");
  p.num_kv_heads = int_option(opts, "numKvHeads");
  p.head_dim = int_option(opts, "headDim");
  p.block_size = int_option(opts, "blockSize");
  p.num_blocks = int_option(opts, "numBlocks");
  p.max_blocks_per_seq = int_option(opts, "maxBlocksPerSeq");
  p.block_tables = int_array(opts, "blockTables");
  p.context_lens = int_array(opts, "contextLens");
  p.scale = scale_option(opts, p.head_dim);
  return in;
}

Napi::Value DecodeReference(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  const DecodeInputs in = decode_inputs(options_arg(info));
  std::vector<float> out;
  hs::Status status = hs::ref::decode_reference(in.problem, in.q, in.k_cache, in.v_cache, &out);
  if (!status.is_ok()) throw status_error(env, status);
  return to_js(env, out);
  HS_NAPI_GUARD_END(env)
}

// Throws ERR_CUDA_UNAVAILABLE unless a CUDA device can run the kernels.
void require_cuda(Napi::Env env) {
  const hs::CudaInfo& cuda = hs::cuda_info();
  if (!cuda.available) throw make_error(env, "ERR_CUDA_UNAVAILABLE", "attention: CUDA is unavailable: " + cuda.reason);
}

#ifdef HS_WITH_CUDA
hs::cuda::AttnDType dtype_option(const Napi::Object& opts) {
  Napi::Value value = opts.Get("dtype");
  if (value.IsUndefined()) return hs::cuda::AttnDType::kFloat16;
  const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string();
  if (name == "float16") return hs::cuda::AttnDType::kFloat16;
  if (name == "bfloat16") return hs::cuda::AttnDType::kBFloat16;
  throw_type_error(opts.Env(), "attention: dtype must be 'float16' or 'bfloat16'");
}
#endif

Napi::Value Prefill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  const Napi::Object opts = options_arg(info);
  const PrefillInputs in = prefill_inputs(opts);
  hs::Status status = hs::ref::check_prefill(in.problem, in.q, in.k, in.v, in.bias);
  if (!status.is_ok()) throw status_error(env, status);
  require_cuda(env);
#ifdef HS_WITH_CUDA
  std::vector<float> out, lse;
  status = hs::cuda::prefill_on_device(dtype_option(opts), in.problem, in.q, in.k, in.v, in.bias, &out, &lse);
  if (!status.is_ok()) throw status_error(env, status);
  return prefill_result(env, out, lse);
#else
  return env.Undefined();
#endif
  HS_NAPI_GUARD_END(env)
}

Napi::Value Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  const Napi::Object opts = options_arg(info);
  const DecodeInputs in = decode_inputs(opts);
  hs::Status status = hs::ref::check_decode(in.problem, in.q, in.k_cache, in.v_cache);
  if (!status.is_ok()) throw status_error(env, status);
  require_cuda(env);
#ifdef HS_WITH_CUDA
  std::vector<float> out;
  status = hs::cuda::decode_on_device(dtype_option(opts), in.problem, in.q, in.k_cache, in.v_cache, &out);
  if (!status.is_ok()) throw status_error(env, status);
  return to_js(env, out);
#else
  return env.Undefined();
#endif
  HS_NAPI_GUARD_END(env)
}

}  // namespace

void init_attention(Napi::Env env, Napi::Object exports) {
  Napi::Object attention = Napi::Object::New(env);
  attention.Set("prefillReference", Napi::Function::New(env, PrefillReference, "prefillReference"));
  attention.Set("decodeReference", Napi::Function::New(env, DecodeReference, "decodeReference"));
  attention.Set("prefill", Napi::Function::New(env, Prefill, "prefill"));
  attention.Set("decode", Napi::Function::New(env, Decode, "decode"));
  exports.Set("attention", attention);
}

}  // namespace hs_napi
