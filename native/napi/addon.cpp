#include "bindings.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new hs_napi::AddonData(env));
  hs_napi::init_devices(env, exports);
  hs_napi::init_engine(env, exports);
  hs_napi::init_attention(env, exports);
  hs_napi::init_shared_memory(env, exports);
  hs_napi::init_llm(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(highservice_native, Init)
