// The Engine class of the addon and its async operations. Runs go to the engine's own threads
// (Engine::run_async) and settle through Completions; loading and cache keys are AsyncWorkers on
// libuv's pool. Each settles a promise on the JS thread:
//   cacheKey(bytes, fingerprint)         -> Promise<string>
//   loadEngine(source, options)          -> Promise<NativeEngine>
//     source: { graph } builds (optimize_graph) and, with { cacheDir, key }, stores the plan;
//             { cacheDir, key } alone loads the cached plan, rejecting with ERR_CACHE_MISS.
//   NativeEngine#run(tensors[])          -> Promise<tensors[]>   (inputs in engine.inputs order)
//   NativeEngine#dispose()
//   NativeEngine#stats()                 -> { runs, copies: { hostToDevice, deviceToHost },
//                                           cudaGraphs: { captures, replays } } so far
//   NativeEngine#profile(reset)          -> [{ node, op, calls, totalMs, inputShapes }] per plan step, in order
//   cudaPlacement(source, options)       -> Promise<NativeBackendInfo>: builds like loadEngine({ graph })
//     and reports where the CUDA backend would run each node, without a device (nothing is cached)
#include <cstring>
#include <memory>

#include "bindings.h"
#include "core/builder.h"
#include "core/engine.h"
#include "core/plan_cache.h"
#if HS_WITH_CUDA
#include "backends/cuda/cuda_backend.h"
#endif
#include "js_graph.h"
#include "js_tensor.h"
#include "napi_util.h"

namespace hs_napi {
namespace {

Napi::Array value_infos_to_js(Napi::Env env, const std::vector<hs::ValueInfo>& infos) {
  Napi::Array arr = Napi::Array::New(env, infos.size());
  for (size_t i = 0; i < infos.size(); ++i) {
    const hs::ValueInfo& vi = infos[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", vi.name);
    o.Set("type", vi.dtype == hs::DType::kUndefined ? env.Null() : Napi::String::New(env, hs::dtype_name(vi.dtype)));
    o.Set("kind", hs::value_kind_name(vi.kind));
    if (vi.has_shape) {
      Napi::Array dims = Napi::Array::New(env, vi.dims.size());
      for (size_t d = 0; d < vi.dims.size(); ++d) {
        const hs::Dim& dim = vi.dims[d];
        if (dim.value >= 0) dims.Set((uint32_t)d, (double)dim.value);
        else if (!dim.param.empty()) dims.Set((uint32_t)d, dim.param);
        else dims.Set((uint32_t)d, env.Null());
      }
      o.Set("dims", dims);
    } else {
      o.Set("dims", env.Null());
    }
    arr.Set((uint32_t)i, o);
  }
  return arr;
}

Napi::Object backend_to_js(Napi::Env env, const hs::BackendReport& backend) {
  Napi::Object placement = Napi::Object::New(env);
  placement.Set("device", backend.device);
  placement.Set("deviceName", backend.device_name.empty() ? env.Null() : Napi::String::New(env, backend.device_name));
  placement.Set("sm", backend.sm);
  Napi::Array cpu_nodes = Napi::Array::New(env, backend.cpu_nodes.size());
  for (size_t i = 0; i < backend.cpu_nodes.size(); ++i) {
    Napi::Object n = Napi::Object::New(env);
    n.Set("node", backend.cpu_nodes[i].node);
    n.Set("reason", backend.cpu_nodes[i].reason);
    cpu_nodes.Set((uint32_t)i, n);
  }
  placement.Set("cpuNodes", cpu_nodes);
  Napi::Array shape_nodes = Napi::Array::New(env, backend.host_shape_nodes.size());
  for (size_t i = 0; i < backend.host_shape_nodes.size(); ++i) shape_nodes.Set((uint32_t)i, backend.host_shape_nodes[i]);
  placement.Set("hostShapeNodes", shape_nodes);
  Napi::Object copies = Napi::Object::New(env);
  copies.Set("hostToDevice", (double)backend.host_to_device);
  copies.Set("deviceToHost", (double)backend.device_to_host);
  copies.Set("fallbackHostToDevice", (double)backend.fallback_host_to_device);
  copies.Set("fallbackDeviceToHost", (double)backend.fallback_device_to_host);
  placement.Set("copiesPerRun", copies);
  Napi::Array tactics = Napi::Array::New(env, backend.tactics.size());
  for (size_t i = 0; i < backend.tactics.size(); ++i) {
    const hs::BackendReport::Tactic& t = backend.tactics[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("node", t.node);
    o.Set("tactic", t.tactic);
    o.Set("how", t.how);
    Napi::Object timings = Napi::Object::New(env);
    for (const auto& [name, ms] : t.timings_ms) timings.Set(name, ms < 0 ? env.Null() : Napi::Number::New(env, ms));
    o.Set("timingsMs", timings);
    tactics.Set((uint32_t)i, o);
  }
  placement.Set("tactics", tactics);
  placement.Set("fallbackReason",
                backend.fallback_reason.empty() ? env.Null() : Napi::String::New(env, backend.fallback_reason));
  return placement;
}

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeEngine",
                       {InstanceMethod("run", &EngineWrap::Run), InstanceMethod("dispose", &EngineWrap::Dispose),
                        InstanceMethod("stats", &EngineWrap::Stats), InstanceMethod("profile", &EngineWrap::Profile),
                        InstanceAccessor("inputs", &EngineWrap::Inputs, nullptr),
                        InstanceAccessor("outputs", &EngineWrap::Outputs, nullptr),
                        InstanceAccessor("info", &EngineWrap::Info, nullptr)});
  }

  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {}

  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<hs::Engine> engine, Napi::Object info) {
    Napi::Object obj = addon_data(env).engine_constructor.New({});
    EngineWrap* self = Unwrap(obj);
    self->engine_ = std::move(engine);
    self->info_ = Napi::Persistent(info);
    return obj;
  }

 private:
  Napi::Value Inputs(const Napi::CallbackInfo& info) {
    if (!engine_) throw make_error(info.Env(), "ERR_DISPOSED", "the engine has been disposed");
    return value_infos_to_js(info.Env(), engine_->inputs());
  }
  Napi::Value Outputs(const Napi::CallbackInfo& info) {
    if (!engine_) throw make_error(info.Env(), "ERR_DISPOSED", "the engine has been disposed");
    return value_infos_to_js(info.Env(), engine_->outputs());
  }
  Napi::Value Info(const Napi::CallbackInfo& info) { return info_.IsEmpty() ? info.Env().Null() : info_.Value(); }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!engine_) throw make_error(env, "ERR_DISPOSED", "the engine has been disposed");
    const hs::RunStats s = engine_->stats();
    Napi::Object out = Napi::Object::New(env);
    out.Set("runs", (double)s.runs);
    Napi::Object copies = Napi::Object::New(env);
    copies.Set("hostToDevice", (double)s.host_to_device);
    copies.Set("deviceToHost", (double)s.device_to_host);
    out.Set("copies", copies);
    Napi::Object graphs = Napi::Object::New(env);
    graphs.Set("captures", (double)s.graph_captures);
    graphs.Set("replays", (double)s.graph_replays);
    out.Set("cudaGraphs", graphs);
    return out;
  }
  Napi::Value Profile(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!engine_) throw make_error(env, "ERR_DISPOSED", "the engine has been disposed");
    const std::vector<hs::StepTime> times = engine_->profile(info.Length() > 0 && info[0].ToBoolean());
    const auto& steps = engine_->plan().steps();
    Napi::Array out = Napi::Array::New(env, steps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
      const hs::Node& node = *steps[i].node;
      Napi::Object o = Napi::Object::New(env);
      o.Set("node", node.name);
      o.Set("op", node.domain.empty() ? node.op_type : node.domain + "." + node.op_type);
      o.Set("calls", (double)times[i].calls);
      o.Set("totalMs", (double)times[i].ns / 1e6);
      Napi::Array shapes = Napi::Array::New(env, times[i].input_shapes.size());
      for (size_t k = 0; k < times[i].input_shapes.size(); ++k) {
        const hs::Shape& shape = times[i].input_shapes[k];
        Napi::Array dims = Napi::Array::New(env, shape.size());
        for (size_t d = 0; d < shape.size(); ++d) dims.Set((uint32_t)d, (double)shape[d]);
        shapes.Set((uint32_t)k, dims);
      }
      o.Set("inputShapes", shapes);
      out.Set((uint32_t)i, o);
    }
    return out;
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    engine_.reset();  // runs in flight keep their own reference and finish first
    return info.Env().Undefined();
  }
  Napi::Value Run(const Napi::CallbackInfo& info);

  std::shared_ptr<hs::Engine> engine_;
  Napi::ObjectReference info_;
};

// A run in flight: its promise, what keeps its inputs' JS buffers alive, and the engine (even if
// disposed meanwhile). The engine runs it on its own threads; settle() answers on the JS thread.
class RunJob final : public Completion {
 public:
  RunJob(Napi::Env env, std::shared_ptr<hs::Engine> engine)
      : deferred(Napi::Promise::Deferred::New(env)), engine(std::move(engine)) {}

  Napi::Promise::Deferred deferred;
  std::shared_ptr<hs::Engine> engine;
  std::vector<hs::Value> inputs;
  std::vector<Napi::Reference<Napi::Value>> keep_alive;
  hs::Status status;
  std::vector<hs::Value> outputs;

  void settle(Napi::Env env) override {
    keep_alive.clear();
    if (!status.is_ok()) {
      deferred.Reject(status_error(env, status).Value());
      return;
    }
    try {
      Napi::Array arr = Napi::Array::New(env, outputs.size());
      for (size_t i = 0; i < outputs.size(); ++i) {
        hs::Value v = std::move(outputs[i]);
        outputs[i] = hs::Value();  // so a lone output buffer can be handed to JS without a copy
        arr.Set((uint32_t)i, value_to_js(env, v));
      }
      deferred.Resolve(arr);
    } catch (const Napi::Error& e) {
      deferred.Reject(e.Value());
    }
  }
};

Napi::Value EngineWrap::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  if (!engine_) throw make_error(env, "ERR_DISPOSED", "the engine has been disposed");
  HS_NAPI_CHECK_ARG(env, info.Length() >= 1 && info[0].IsArray(), "run(tensors): tensors must be an array");
  Napi::Array arr = info[0].As<Napi::Array>();
  auto job = std::make_unique<RunJob>(env, engine_);
  const std::vector<hs::ValueInfo>& declared = engine_->inputs();
  if (arr.Length() != declared.size())
    throw make_error(env, "ERR_INVALID_ARGUMENT", hs::str_cat("run: expected ", declared.size(), " inputs, got ", arr.Length()));
  for (uint32_t i = 0; i < arr.Length(); ++i)
    job->inputs.push_back(value_from_js(env, arr.Get(i), declared[i], "input '" + declared[i].name + "'", &job->keep_alive));
  Napi::Promise promise = job->deferred.Promise();
  std::shared_ptr<CompletionChannel> channel = addon_data(env).completions.begin(env);
  RunJob* raw = job.release();  // owned by the run until finish() hands it to the JS thread
  try {
    raw->engine->run_async(std::move(raw->inputs), [raw, channel](hs::Status st, std::vector<hs::Value> outputs) {
      raw->status = std::move(st);
      raw->outputs = std::move(outputs);
      channel->finish(raw);
    });
  } catch (const std::bad_alloc& e) {  // not queued: the promise still settles, on the JS thread
    raw->status = out_of_memory(e);
    channel->finish(raw);
  }
  return promise;
  HS_NAPI_GUARD_END(env)
}

class CacheKeyWorker : public Napi::AsyncWorker {
 public:
  CacheKeyWorker(Napi::Env env, Napi::TypedArray bytes, std::string fingerprint)
      : Napi::AsyncWorker(env, "highservice:cacheKey"), deferred_(Napi::Promise::Deferred::New(env)),
        fingerprint_(std::move(fingerprint)) {
    data_ = static_cast<const uint8_t*>(bytes.ArrayBuffer().Data()) + bytes.ByteOffset();
    size_ = bytes.ByteLength();
    ref_ = Napi::Persistent(Napi::Value(bytes));
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { key_ = hs::plan_cache_key(data_, size_, fingerprint_); }
  void OnOK() override {
    ref_.Reset();
    deferred_.Resolve(Napi::String::New(Env(), key_));
  }
  void OnError(const Napi::Error& e) override {
    ref_.Reset();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string fingerprint_, key_;
  const uint8_t* data_;
  size_t size_;
  Napi::Reference<Napi::Value> ref_;
};

Napi::Value CacheKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  HS_NAPI_CHECK_ARG(env, info.Length() >= 2 && info[0].IsTypedArray() && info[1].IsString(),
                    "cacheKey(bytes: Uint8Array, fingerprint: string)");
  auto* w = new CacheKeyWorker(env, info[0].As<Napi::TypedArray>(), info[1].As<Napi::String>().Utf8Value());
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
  HS_NAPI_GUARD_END(env)
}

class LoadWorker : public Napi::AsyncWorker {
 public:
  explicit LoadWorker(Napi::Env env) : Napi::AsyncWorker(env, "highservice:load"), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  JsGraph source;
  bool placement_only = false;  // cudaPlacement(): report where the CUDA backend would run each node
  std::string cache_dir, key;
  hs::BuildOptions build;
  hs::EngineOptions engine_options;

 protected:
  void Execute() override {
    try {
      make_engine();
    } catch (const std::bad_alloc& e) {
      status_ = out_of_memory(e);
    }
  }
  // Builds (or loads from the cache) the engine; sets status_ on failure.
  void make_engine() {
    std::shared_ptr<hs::Graph> graph = source.graph;
    if (graph) {
      for (const PendingCopy& c : source.copies) std::memcpy(c.dst, c.src, c.bytes);
      source.copies.clear();
      status_ = hs::optimize_graph(*graph, build, &report_);
      if (!status_.is_ok()) return;
      if (placement_only) {
        place(graph);
        return;
      }
      cache_state_ = "built";
      store_ = !cache_dir.empty() && !key.empty();
    } else {
      std::string why;
      graph = hs::plan_cache_load(cache_dir, key, &why);
      if (!graph) {
        status_ = hs::Status(hs::StatusCode::kNotFound, why.empty() ? "no cached plan" : why);
        miss_ = true;
        return;
      }
      cache_state_ = "loaded from cache";
    }
    auto engine = hs::Engine::create(graph, engine_options);
    // Stored after the engine is made, so that the plan keeps the tactics timed on the device.
    if (store_) store(*graph, engine.is_ok() ? &engine.value()->backend() : nullptr);
    if (!engine.is_ok()) {
      status_ = engine.status();
      return;
    }
    engine_ = engine.take();
  }

  // Writes the built graph to the cache, each timed tactic as its node's hs_cuda_tactic attribute.
  void store(const hs::Graph& graph, const hs::BackendReport* backend) {
    hs::Graph annotated = graph;  // tensors share their buffers
    for (const hs::BackendReport::Tactic& t : backend ? backend->tactics : std::vector<hs::BackendReport::Tactic>{}) {
      if (t.how != "timed" || t.node_index >= annotated.nodes.size()) continue;
      hs::Attribute a;
      a.kind = hs::Attribute::Kind::kString;
      a.s = t.tactic;
      annotated.nodes[t.node_index].attrs["hs_cuda_tactic"] = a;
    }
    hs::Status st = hs::plan_cache_store(cache_dir, key, annotated);
    cache_state_ = st.is_ok() ? "built, cached" : "built, not cached: " + st.message();
  }
  void OnOK() override {
    Napi::Env env = Env();
    source.sources.clear();
    if (status_.is_ok() && placement_only) {
      deferred_.Resolve(backend_to_js(env, placement_));
      return;
    }
    if (!status_.is_ok()) {
      Napi::Error err = miss_ ? make_error(env, "ERR_CACHE_MISS", status_.message()) : status_error(env, status_);
      deferred_.Reject(err.Value());
      return;
    }
    Napi::Object info = Napi::Object::New(env);
    info.Set("cache", cache_state_);
    info.Set("threads", engine_->threads());
    info.Set("streams", engine_->streams());
    info.Set("nodes", (double)engine_->graph().nodes.size());
    info.Set("foldedNodes", report_.folded_nodes);
    info.Set("removedNodes", report_.removed_nodes);
    Napi::Array fusions = Napi::Array::New(env, report_.fusions.size());
    for (size_t i = 0; i < report_.fusions.size(); ++i) fusions.Set((uint32_t)i, report_.fusions[i]);
    info.Set("fusions", fusions);
    info.Set("backend", backend_to_js(env, engine_->backend()));
    deferred_.Resolve(EngineWrap::Wrap(env, std::move(engine_), info));
  }
  void OnError(const Napi::Error& e) override {
    source.sources.clear();
    deferred_.Reject(e.Value());
  }

 private:
  void place(std::shared_ptr<hs::Graph> graph) {
#if HS_WITH_CUDA
    auto plan = hs::ExecutionPlan::create(graph, graph->opsets);
    if (!plan.is_ok()) {
      status_ = plan.status();
      return;
    }
    hs::ThreadPool pool(1);
    placement_ = hs::cuda::placement(plan.take(), &pool);
#else
    (void)graph;
    status_ = hs::Status(hs::StatusCode::kCudaUnavailable, "the addon was built without CUDA");
#endif
  }

  Napi::Promise::Deferred deferred_;
  hs::Status status_;
  hs::BackendReport placement_;
  bool miss_ = false;
  bool store_ = false;
  std::string cache_state_;
  hs::BuildReport report_;
  std::shared_ptr<hs::Engine> engine_;
};

int int_option(Napi::Object o, const char* key, int fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw_type_error(o.Env(), std::string("options.") + key + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

bool bool_option(Napi::Object o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) throw_type_error(o.Env(), std::string("options.") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string string_option(Napi::Object o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw_type_error(o.Env(), std::string("options.") + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Value StartLoad(const Napi::CallbackInfo& info, bool placement_only) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  HS_NAPI_CHECK_ARG(env, info.Length() >= 2 && info[0].IsObject() && info[1].IsObject(),
                    placement_only ? "cudaPlacement(source: object, options: object)"
                                   : "loadEngine(source: object, options: object)");
  Napi::Object src = info[0].As<Napi::Object>();
  Napi::Object opts = info[1].As<Napi::Object>();
  auto* w = new LoadWorker(env);
  w->placement_only = placement_only;
  try {
    w->cache_dir = string_option(src, "cacheDir", "");
    w->key = string_option(src, "key", "");
    Napi::Value g = src.Get("graph");
    if (g.IsObject()) graph_from_js(env, g.As<Napi::Object>(), &w->source);
    else if (placement_only || w->cache_dir.empty() || w->key.empty())
      throw_type_error(env, "loadEngine: source needs a graph or a cacheDir and key");
    w->engine_options.threads = int_option(opts, "threads", 0);
    w->engine_options.streams = int_option(opts, "streams", 1);
    w->build.optimization_level = int_option(opts, "optimizationLevel", 2);
    w->build.precision = string_option(opts, "precision", "fp32");
    w->build.device = string_option(opts, "device", "cpu");
    w->engine_options.device = w->build.device;
    w->engine_options.precision = w->build.precision;
    w->engine_options.cuda_graphs = bool_option(opts, "cudaGraphs", true);
    w->engine_options.spin = bool_option(opts, "spin", true);
    w->engine_options.profile = bool_option(opts, "profile", false);
  } catch (...) {
    delete w;
    throw;
  }
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
  HS_NAPI_GUARD_END(env)
}

Napi::Value LoadEngine(const Napi::CallbackInfo& info) { return StartLoad(info, false); }
Napi::Value CudaPlacement(const Napi::CallbackInfo& info) { return StartLoad(info, true); }

}  // namespace

void init_engine(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = EngineWrap::Define(env);
  addon_data(env).engine_constructor = Napi::Persistent(cls);
  exports.Set("NativeEngine", cls);
  exports.Set("loadEngine", Napi::Function::New(env, LoadEngine, "loadEngine"));
  exports.Set("cacheKey", Napi::Function::New(env, CacheKey, "cacheKey"));
  exports.Set("cudaPlacement", Napi::Function::New(env, CudaPlacement, "cudaPlacement"));
}

}  // namespace hs_napi
