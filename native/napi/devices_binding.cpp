// devices(): backends compiled in, CUDA state and devices, default thread count, live native memory.
#include "bindings.h"
#include "hs/devices.h"
#include "hs/kernel.h"
#include "hs/thread_pool.h"
#include "napi_util.h"

namespace hs_napi {
namespace {

Napi::Value Devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  const hs::CudaInfo& cuda = hs::cuda_info();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array backends = Napi::Array::New(env);
  backends.Set(0u, "cpu");
  if (cuda.compiled) backends.Set(1u, "cuda");
  out.Set("backends", backends);
  out.Set("threads", hs::ThreadPool::default_threads());
  out.Set("cpuKernels", hs::cpu_kernels());
  Napi::Object c = Napi::Object::New(env);
  c.Set("compiled", cuda.compiled);
  c.Set("available", cuda.available);
  c.Set("reason", cuda.reason.empty() ? env.Null() : Napi::String::New(env, cuda.reason));
  c.Set("driverVersion", cuda.driver_version);
  c.Set("runtimeVersion", cuda.runtime_version);
  Napi::Array devs = Napi::Array::New(env);
  for (size_t i = 0; i < cuda.devices.size(); ++i) {
    const auto& d = cuda.devices[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", d.index);
    o.Set("name", d.name);
    o.Set("sm", d.sm);
    o.Set("memory", (double)d.memory);
    o.Set("multiprocessors", d.multiprocessors);
    devs.Set((uint32_t)i, o);
  }
  c.Set("devices", devs);
  out.Set("cuda", c);
  Napi::Array ops = Napi::Array::New(env);
  auto names = hs::registered_ops();
  for (size_t i = 0; i < names.size(); ++i) ops.Set((uint32_t)i, names[i]);
  out.Set("operators", ops);
  hs::HostMemoryStats mem = hs::host_memory_stats();
  Napi::Object memory = Napi::Object::New(env);
  memory.Set("hostBytes", (double)mem.bytes);
  memory.Set("hostBuffers", (double)mem.buffers);
  const int64_t malloc_bytes = hs::malloc_in_use_bytes();
  memory.Set("mallocBytes", malloc_bytes < 0 ? env.Null() : Napi::Number::New(env, (double)malloc_bytes));
  const hs::CudaMemoryStats cuda_mem = hs::cuda_memory_stats();
  memory.Set("deviceBytes", (double)cuda_mem.device_bytes);
  memory.Set("pinnedBytes", (double)cuda_mem.pinned_bytes);
  out.Set("memory", memory);
  return out;
  HS_NAPI_GUARD_END(env)
}

}  // namespace

void init_devices(Napi::Env env, Napi::Object exports) {
  exports.Set("devices", Napi::Function::New(env, Devices, "devices"));
}

}  // namespace hs_napi
