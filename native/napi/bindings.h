// Each file under native/napi that exports functions or classes has one init_* entry here;
// addon.cpp calls them all.
#pragma once
#include <napi.h>

#include "js_completions.h"

namespace hs_napi {

// Per-environment state (the addon may be loaded in several worker threads at once).
struct AddonData {
  explicit AddonData(Napi::Env env) : completions(env) {}
  Napi::FunctionReference engine_constructor;
  Completions completions;
};
inline AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

void init_devices(Napi::Env env, Napi::Object exports);
void init_engine(Napi::Env env, Napi::Object exports);
void init_attention(Napi::Env env, Napi::Object exports);
void init_shared_memory(Napi::Env env, Napi::Object exports);
void init_llm(Napi::Env env, Napi::Object exports);

}  // namespace hs_napi
