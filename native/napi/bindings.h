// Each file under native/napi that exports functions or classes has one init_* entry here;
// addon.cpp calls them all.
#pragma once
#include <napi.h>

namespace hs_napi {

void init_devices(Napi::Env env, Napi::Object exports);
void init_engine(Napi::Env env, Napi::Object exports);
void init_attention(Napi::Env env, Napi::Object exports);
void init_shared_memory(Napi::Env env, Napi::Object exports);

}  // namespace hs_napi
