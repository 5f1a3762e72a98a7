// Completions: how native threads hand finished work back to the JS thread without libuv's pool.
// A job is counted in on the JS thread (Completions::begin, which gives it a channel), does its work
// on a native thread, and passes a Completion to the channel's finish() there; its settle() then runs
// on the JS thread. One thread-safe function per environment carries them, and keeps the event loop
// alive only while some job is in flight.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <mutex>

namespace hs_napi {

class Completion {
 public:
  virtual ~Completion() = default;
  // On the JS thread, inside a handle scope: resolve or reject what the job promised.
  virtual void settle(Napi::Env env) = 0;
};

// Outlives the environment if a job does (a worker thread torn down mid-run): once the environment
// is gone, finish() leaves the completion to the ending thread instead of touching freed handles.
class CompletionChannel {
 public:
  void finish(Completion* done);  // any thread, once per job; takes ownership

 private:
  friend class Completions;
  std::mutex mu_;
  bool open_ = true;
  napi_threadsafe_function tsfn_ = nullptr;
  int64_t in_flight_ = 0;  // JS thread only
};

class Completions {
 public:
  explicit Completions(Napi::Env env);
  ~Completions();
  Completions(const Completions&) = delete;
  Completions& operator=(const Completions&) = delete;

  // JS thread, once per job, before its work starts.
  std::shared_ptr<CompletionChannel> begin(Napi::Env env);

 private:
  static void call_js(napi_env env, napi_value, void* context, void* data);
  static void finalize(napi_env env, void* data, void* hint);
  std::shared_ptr<CompletionChannel> channel_ = std::make_shared<CompletionChannel>();
};

}  // namespace hs_napi
