// The LLM model of the addon (native/kernels/cpu/llm) and its async operations; forward steps run
// on the model's own thread and settle through Completions, the rest on libuv's pool:
//   loadLlm(config, tensors, options)  -> Promise<NativeLlm>
//     config:  { hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, vocabSize,
//                rmsNormEps, qkvBias, tieWordEmbeddings, invFreq: Float32Array, ropeAttentionScaling }
//     tensors: [{ name, file, dtype: 'float32'|'float16'|'bfloat16', shape, offset, bytes }]
//     options: { threads, numBlocks, blockSize, weightType?: 'float32'|'float16'|'bfloat16'|'int8',
//                device?: 'cpu'|'cuda',    (cuda: native/backends/cuda/llm; ERR_CUDA_UNAVAILABLE without it)
//                matmulPrecision?: 'fp32'|'bf16' }   (the CPU's; CUDA's GEMMs always take 16-bit operands)
//   NativeLlm#forward({ tokens, positions, queryLens, blockTables, logitsPerSeq: Int32Array,
//                       maxBlocks: number })            -> Promise<Float32Array> (rows x vocab)
//   NativeLlm#info, NativeLlm#dispose()
//   measureReadBandwidth(bytes, passes, threads)         -> Promise<number> (bytes per second)
#include <cstring>
#include <exception>
#include <map>
#include <memory>

#include "bindings.h"
#include "core/work_queue.h"
#include "js_completions.h"
#include "kernels/cpu/llm/llm_bandwidth.h"
#include "kernels/cpu/llm/llm_linear_bf16.h"
#include "kernels/cpu/llm/llm_model.h"
#include "napi_util.h"
#if HS_WITH_CUDA
#include "backends/cuda/llm/cuda_llm_model.h"
#endif

namespace hs_napi {
namespace {

using hs::llm::LlmModel;
#if HS_WITH_CUDA
using hs::llm::CudaLlmModel;
#else
// The CUDA model's stand-in in a CPU-only build: never created (loadLlm rejects device 'cuda').
class CudaLlmModel {
 public:
  hs::Status forward(const hs::llm::LlmBatch&, std::vector<float>*) {
    return hs::Status(hs::StatusCode::kCudaUnavailable, "the addon was built without CUDA");
  }
};
#endif

// The model behind a NativeLlm: exactly one of the two is set.
struct AnyLlm {
  std::shared_ptr<LlmModel> cpu;
  std::shared_ptr<CudaLlmModel> cuda;
  // The thread that runs forward steps, off libuv's pool (shared with file I/O and loads). Its last
  // reference is dropped on the JS thread (a finished ForwardJob is deleted there).
  std::shared_ptr<hs::WorkQueue> steps;
  explicit operator bool() const { return cpu || cuda; }
  hs::Status forward(const hs::llm::LlmBatch& batch, std::vector<float>* logits) const {
    return cpu ? cpu->forward(batch, logits) : cuda->forward(batch, logits);
  }
};

int64_t int_field(Napi::Object o, const char* key, const char* what, int64_t fallback, bool required) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (required) throw_type_error(o.Env(), std::string(what) + "." + key + " is required");
    return fallback;
  }
  if (!v.IsNumber()) throw_type_error(o.Env(), std::string(what) + "." + key + " must be a number");
  return v.As<Napi::Number>().Int64Value();
}

std::vector<int32_t> int32_field(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw_type_error(o.Env(), std::string("forward: batch.") + key + " must be an Int32Array");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

hs::llm::LlmConfig config_from_js(Napi::Object o) {
  hs::llm::LlmConfig c;
  c.hidden_size = int_field(o, "hiddenSize", "config", 0, true);
  c.num_layers = int_field(o, "numLayers", "config", 0, true);
  c.num_heads = int_field(o, "numHeads", "config", 0, true);
  c.num_kv_heads = int_field(o, "numKvHeads", "config", 0, true);
  c.head_dim = int_field(o, "headDim", "config", 0, true);
  c.intermediate_size = int_field(o, "intermediateSize", "config", 0, true);
  c.vocab_size = int_field(o, "vocabSize", "config", 0, true);
  Napi::Value eps = o.Get("rmsNormEps"), scaling = o.Get("ropeAttentionScaling"), inv = o.Get("invFreq");
  if (!eps.IsNumber()) throw_type_error(o.Env(), "config.rmsNormEps must be a number");
  c.rms_norm_eps = eps.As<Napi::Number>().FloatValue();
  if (!scaling.IsUndefined()) {
    if (!scaling.IsNumber()) throw_type_error(o.Env(), "config.ropeAttentionScaling must be a number");
    c.rope_attention_scaling = scaling.As<Napi::Number>().FloatValue();
  }
  c.qkv_bias = o.Get("qkvBias").ToBoolean().Value();
  c.tie_word_embeddings = o.Get("tieWordEmbeddings").ToBoolean().Value();
  if (!inv.IsTypedArray() || inv.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw_type_error(o.Env(), "config.invFreq must be a Float32Array");
  Napi::Float32Array f = inv.As<Napi::Float32Array>();
  c.inv_freq.assign(f.Data(), f.Data() + f.ElementLength());
  return c;
}

// A tensor as the TypeScript loader described it; the file is opened on the worker thread.
struct TensorDesc {
  std::string name, file;
  hs::DType dtype;
  hs::Shape shape;
  size_t offset, bytes;
};

std::vector<TensorDesc> tensors_from_js(Napi::Array arr) {
  Napi::Env env = arr.Env();
  std::vector<TensorDesc> out;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value item = arr.Get(i);
    if (!item.IsObject()) throw_type_error(env, "tensors[" + std::to_string(i) + "] must be an object");
    Napi::Object o = item.As<Napi::Object>();
    TensorDesc d;
    Napi::Value name = o.Get("name"), file = o.Get("file"), dtype = o.Get("dtype"), shape = o.Get("shape");
    if (!name.IsString() || !file.IsString() || !dtype.IsString() || !shape.IsArray())
      throw_type_error(env, "tensors[" + std::to_string(i) + "] needs name, file, dtype (strings) and shape (array)");
    d.name = name.As<Napi::String>().Utf8Value();
    d.file = file.As<Napi::String>().Utf8Value();
    d.dtype = hs::dtype_from_name(dtype.As<Napi::String>().Utf8Value());
    Napi::Array dims = shape.As<Napi::Array>();
    for (uint32_t k = 0; k < dims.Length(); ++k) {
      Napi::Value dim = dims.Get(k);
      if (!dim.IsNumber()) throw_type_error(env, "tensor " + d.name + ": shape entries must be numbers");
      d.shape.push_back(dim.As<Napi::Number>().Int64Value());
    }
    const int64_t offset = int_field(o, "offset", "tensor", 0, true), bytes = int_field(o, "bytes", "tensor", 0, true);
    if (offset < 0 || bytes < 0) throw_type_error(env, "tensor " + d.name + ": offset and bytes must be >= 0");
    d.offset = (size_t)offset;
    d.bytes = (size_t)bytes;
    out.push_back(std::move(d));
  }
  return out;
}

class LlmWrap : public Napi::ObjectWrap<LlmWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeLlm",
                       {InstanceMethod("forward", &LlmWrap::Forward), InstanceMethod("dispose", &LlmWrap::Dispose),
                        InstanceAccessor("info", &LlmWrap::Info, nullptr)});
  }
  explicit LlmWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LlmWrap>(info) {}

  static Napi::Object Wrap(Napi::FunctionReference& ctor, AnyLlm model) {
    Napi::Object obj = ctor.New({});
    Unwrap(obj)->model_ = std::move(model);
    return obj;
  }

 private:
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!model_) throw make_error(env, "ERR_DISPOSED", "the LLM has been disposed");
    Napi::Object o = Napi::Object::New(env);
    if (model_.cpu) {
      const LlmModel& m = *model_.cpu;
      o.Set("device", "cpu");
      o.Set("deviceName", env.Null());
      o.Set("numBlocks", (double)m.num_blocks());
      o.Set("blockSize", (double)m.block_size());
      o.Set("kvCacheBytes", (double)m.kv_cache_bytes());
      o.Set("weightBytes", (double)m.weight_bytes());
      o.Set("threads", m.threads());
      o.Set("weightType", m.weight_type());
      o.Set("kvCacheType", "float32");
      const bool bf16 = m.matmul_precision() == hs::llm::MatmulPrecision::kBFloat16;
      o.Set("matmulPrecision", bf16 ? "bf16" : "fp32");
      o.Set("bf16Kernel", bf16 ? Napi::Value(Napi::String::New(env, hs::llm::bf16_kernel_name())) : env.Null());
      return o;
    }
#if HS_WITH_CUDA
    const CudaLlmModel& m = *model_.cuda;
    o.Set("device", "cuda");
    o.Set("deviceName", m.device_name());
    o.Set("sm", m.sm());
    o.Set("numBlocks", (double)m.num_blocks());
    o.Set("blockSize", (double)m.block_size());
    o.Set("kvCacheBytes", (double)m.kv_cache_bytes());
    o.Set("weightBytes", (double)m.weight_bytes());
    o.Set("deviceBytes", (double)m.device_bytes());
    o.Set("threads", 1);
    o.Set("weightType", m.weight_type());
    o.Set("kvCacheType", m.kv_cache_type());
    o.Set("matmulPrecision", std::string(m.kv_cache_type()) == "float16" ? "fp16" : "bf16");
    o.Set("bf16Kernel", env.Null());
#endif
    return o;
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    model_ = AnyLlm{};  // a forward in flight holds its own reference and finishes first
    return info.Env().Undefined();
  }
  Napi::Value Forward(const Napi::CallbackInfo& info);

  AnyLlm model_;
};

// A forward step in flight: its promise and the model (even if disposed meanwhile). It runs on the
// model's step thread; settle() answers on the JS thread.
class ForwardJob final : public Completion {
 public:
  ForwardJob(Napi::Env env, AnyLlm model) : deferred(Napi::Promise::Deferred::New(env)), model(std::move(model)) {}

  Napi::Promise::Deferred deferred;
  AnyLlm model;
  hs::llm::LlmBatch batch;
  hs::Status status;
  std::vector<float> logits;

  void run() {
    try {
      status = model.forward(batch, &logits);
    } catch (const std::bad_alloc& e) {
      status = out_of_memory(e);
    } catch (const std::exception& e) {  // nothing may escape the step thread
      status = hs::Status(hs::StatusCode::kInternal, e.what());
    }
  }
  void settle(Napi::Env env) override {
    if (!status.is_ok()) {
      deferred.Reject(status_error(env, status).Value());
      return;
    }
    Napi::Float32Array out = Napi::Float32Array::New(env, logits.size());
    std::memcpy(out.Data(), logits.data(), logits.size() * sizeof(float));
    deferred.Resolve(out);
  }
};

Napi::Value LlmWrap::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  if (!model_) throw make_error(env, "ERR_DISPOSED", "the LLM has been disposed");
  HS_NAPI_CHECK_ARG(env, info.Length() >= 1 && info[0].IsObject(), "forward(batch): batch must be an object");
  Napi::Object b = info[0].As<Napi::Object>();
  auto job = std::make_unique<ForwardJob>(env, model_);
  job->batch.tokens = int32_field(b, "tokens");
  job->batch.positions = int32_field(b, "positions");
  job->batch.query_lens = int32_field(b, "queryLens");
  job->batch.block_tables = int32_field(b, "blockTables");
  job->batch.logits_per_seq = int32_field(b, "logitsPerSeq");
  job->batch.max_blocks = int_field(b, "maxBlocks", "forward: batch", 0, true);
  Napi::Promise promise = job->deferred.Promise();
  std::shared_ptr<CompletionChannel> channel = addon_data(env).completions.begin(env);
  ForwardJob* raw = job.release();  // owned by the step until finish() hands it to the JS thread
  try {
    raw->model.steps->submit([raw, channel] {
      raw->run();
      channel->finish(raw);
    });
  } catch (const std::bad_alloc& e) {  // not queued: the promise still settles, on the JS thread
    raw->status = out_of_memory(e);
    channel->finish(raw);
  }
  return promise;
  HS_NAPI_GUARD_END(env)
}

class LoadLlmWorker : public Napi::AsyncWorker {
 public:
  LoadLlmWorker(Napi::Env env, Napi::FunctionReference* ctor)
      : Napi::AsyncWorker(env, "highservice:loadLlm"), deferred_(Napi::Promise::Deferred::New(env)), ctor_(ctor) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  hs::llm::LlmConfig config;
  hs::llm::LlmOptions options;
  bool cuda = false;
  std::vector<TensorDesc> tensors;

 protected:
  void Execute() override {
    try {
      load();
    } catch (const std::bad_alloc& e) {
      status_ = out_of_memory(e);
    }
  }
  // Maps the weight files and builds the model on the requested device; sets status_ on failure.
  void load() {
    std::map<std::string, std::shared_ptr<hs::llm::MappedFile>> files;
    std::vector<hs::llm::RawTensor> raws;
    for (const TensorDesc& d : tensors) {
      std::shared_ptr<hs::llm::MappedFile>& file = files[d.file];
      if (!file) {
        hs::Result<std::shared_ptr<hs::llm::MappedFile>> opened = hs::llm::MappedFile::open(d.file);
        if (!opened.is_ok()) {
          status_ = opened.status();
          return;
        }
        file = opened.take();
      }
      raws.push_back(hs::llm::RawTensor{d.name, file, d.dtype, d.shape, d.offset, d.bytes});
    }
    if (cuda) {
#if HS_WITH_CUDA
      hs::llm::CudaLlmOptions cuda_options;
      cuda_options.num_blocks = options.num_blocks;
      cuda_options.block_size = options.block_size;
      cuda_options.weight_type = options.weight_type;
      hs::Result<std::shared_ptr<CudaLlmModel>> model = CudaLlmModel::create(config, raws, cuda_options);
      if (!model.is_ok()) {
        status_ = model.status();
        return;
      }
      model_.cuda = model.take();
#else
      status_ = hs::Status(hs::StatusCode::kCudaUnavailable, "device 'cuda' was requested: the addon was built without CUDA");
#endif
      return;
    }
    hs::Result<std::shared_ptr<LlmModel>> model = LlmModel::create(config, raws, options);
    if (!model.is_ok()) {
      status_ = model.status();
      return;
    }
    model_.cpu = model.take();
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!status_.is_ok()) {
      deferred_.Reject(status_error(env, status_).Value());
      return;
    }
    // One step thread: the scheduler awaits each step before the next. It polls briefly after a
    // step, so the next decode step of a running batch starts without a wake-up.
    constexpr int kStepSpinUs = 200;
    model_.steps = std::make_shared<hs::WorkQueue>(1, kStepSpinUs);
    deferred_.Resolve(LlmWrap::Wrap(*ctor_, std::move(model_)));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::FunctionReference* ctor_;
  hs::Status status_;
  AnyLlm model_;
};

Napi::Value LoadLlm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  HS_NAPI_CHECK_ARG(env, info.Length() >= 3 && info[0].IsObject() && info[1].IsArray() && info[2].IsObject(),
                    "loadLlm(config: object, tensors: array, options: object)");
  Napi::Object opts = info[2].As<Napi::Object>();
  auto worker = std::make_unique<LoadLlmWorker>(env, static_cast<Napi::FunctionReference*>(info.Data()));
  worker->config = config_from_js(info[0].As<Napi::Object>());
  worker->tensors = tensors_from_js(info[1].As<Napi::Array>());
  worker->options.threads = (int)int_field(opts, "threads", "options", 0, false);
  worker->options.num_blocks = int_field(opts, "numBlocks", "options", 0, true);
  worker->options.block_size = int_field(opts, "blockSize", "options", 16, false);
  Napi::Value type = opts.Get("weightType");
  if (!type.IsUndefined() && !type.IsNull()) {
    const std::string name = type.IsString() ? type.As<Napi::String>().Utf8Value() : "";
    if (name == "float32") worker->options.weight_type = hs::llm::WeightType::kFloat32;
    else if (name == "float16") worker->options.weight_type = hs::llm::WeightType::kFloat16;
    else if (name == "bfloat16") worker->options.weight_type = hs::llm::WeightType::kBFloat16;
    else if (name == "int8") worker->options.weight_type = hs::llm::WeightType::kInt8;
    else throw_type_error(env, "options.weightType must be 'float32', 'float16', 'bfloat16' or 'int8'");
  }
  Napi::Value device = opts.Get("device");
  if (!device.IsUndefined() && !device.IsNull()) {
    const std::string name = device.IsString() ? device.As<Napi::String>().Utf8Value() : "";
    if (name != "cpu" && name != "cuda") throw_type_error(env, "options.device must be 'cpu' or 'cuda'");
    worker->cuda = name == "cuda";
  }
  Napi::Value precision = opts.Get("matmulPrecision");
  if (!precision.IsUndefined() && !precision.IsNull()) {
    const std::string name = precision.IsString() ? precision.As<Napi::String>().Utf8Value() : "";
    if (name == "bf16") worker->options.matmul_precision = hs::llm::MatmulPrecision::kBFloat16;
    else if (name != "fp32") throw_type_error(env, "options.matmulPrecision must be 'fp32' or 'bf16'");
  }
  Napi::Promise p = worker->promise();
  worker.release()->Queue();
  return p;
  HS_NAPI_GUARD_END(env)
}

class BandwidthWorker : public Napi::AsyncWorker {
 public:
  BandwidthWorker(Napi::Env env, size_t bytes, int passes, int threads)
      : Napi::AsyncWorker(env, "highservice:bandwidth"), deferred_(Napi::Promise::Deferred::New(env)), bytes_(bytes),
        passes_(passes), threads_(threads) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    hs::ThreadPool pool(threads_ > 0 ? threads_ : hs::ThreadPool::default_threads());
    status_ = hs::llm::measure_read_bandwidth(pool, bytes_, passes_, &bytes_per_second_);
  }
  void OnOK() override {
    if (!status_.is_ok()) deferred_.Reject(status_error(Env(), status_).Value());
    else deferred_.Resolve(Napi::Number::New(Env(), bytes_per_second_));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  size_t bytes_;
  int passes_, threads_;
  hs::Status status_;
  double bytes_per_second_ = 0;
};

Napi::Value MeasureReadBandwidth(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  HS_NAPI_CHECK_ARG(env, info.Length() >= 3 && info[0].IsNumber() && info[1].IsNumber() && info[2].IsNumber(),
                    "measureReadBandwidth(bytes: number, passes: number, threads: number)");
  const int64_t bytes = info[0].As<Napi::Number>().Int64Value();
  HS_NAPI_CHECK_ARG(env, bytes > 0, "measureReadBandwidth: bytes must be positive");
  auto* worker = new BandwidthWorker(env, (size_t)bytes, info[1].As<Napi::Number>().Int32Value(),
                                     info[2].As<Napi::Number>().Int32Value());
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
  HS_NAPI_GUARD_END(env)
}

}  // namespace

void init_llm(Napi::Env env, Napi::Object exports) {
  auto* ctor = new Napi::FunctionReference(Napi::Persistent(LlmWrap::Define(env)));
  env.AddCleanupHook([ctor]() { delete ctor; });
  exports.Set("NativeLlm", ctor->Value());
  exports.Set("loadLlm", Napi::Function::New(env, LoadLlm, "loadLlm", ctor));
  exports.Set("measureReadBandwidth", Napi::Function::New(env, MeasureReadBandwidth, "measureReadBandwidth"));
}

}  // namespace hs_napi
