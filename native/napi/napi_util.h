// Helpers for the N-API boundary (the only layer that includes napi.h): errors with a stable
// `code`, argument checks that name the argument, and Status -> JS Error conversion.
#pragma once
#include <napi.h>

#include <new>
#include <string>

#include "hs/status.h"

namespace hs_napi {

// A JS Error with `code` set, e.g. make_error(env, "ERR_SHAPE", "...").
Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message);
Napi::Error status_error(Napi::Env env, const hs::Status& status);

// ERR_OUT_OF_MEMORY for an allocation that failed on a worker thread (AsyncWorker::Execute bodies
// catch std::bad_alloc and keep this as their status, so the promise rejects with a code).
hs::Status out_of_memory(const std::bad_alloc& e);

// Throws TypeError naming the argument.
[[noreturn]] void throw_type_error(Napi::Env env, const std::string& message);

}  // namespace hs_napi

#define HS_NAPI_CHECK_ARG(env, cond, msg)                    \
  do {                                                       \
    if (!(cond)) ::hs_napi::throw_type_error((env), (msg));  \
  } while (0)

// Every exported entry point runs inside this guard: C++ exceptions become JS errors.
#define HS_NAPI_GUARD_BEGIN try {
#define HS_NAPI_GUARD_END(env)                                                              \
  }                                                                                         \
  catch (const Napi::Error& e) { throw; }                                                   \
  catch (const std::bad_alloc& e) {                                                         \
    throw ::hs_napi::make_error((env), "ERR_OUT_OF_MEMORY", e.what());                      \
  }                                                                                         \
  catch (const std::exception& e) {                                                         \
    throw ::hs_napi::make_error((env), "ERR_INTERNAL", e.what());                           \
  }                                                                                         \
  catch (...) { throw ::hs_napi::make_error((env), "ERR_INTERNAL", "unknown native error"); }
