#include "js_completions.h"

namespace hs_napi {

Completions::Completions(Napi::Env env) {
  Napi::String name = Napi::String::New(env, "highservice:settle");
  // The thread-safe function holds the channel until node finalizes it (at the environment's end).
  auto* held = new std::shared_ptr<CompletionChannel>(channel_);
  // No JS function: call_js settles promises itself. Queue size 0: unbounded, so finish() never blocks.
  napi_status st = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, held, &Completions::finalize,
                                                   channel_.get(), &Completions::call_js, &channel_->tsfn_);
  if (st != napi_ok) delete held;
  NAPI_THROW_IF_FAILED_VOID(env, st);
  NAPI_THROW_IF_FAILED_VOID(env, napi_unref_threadsafe_function(env, channel_->tsfn_));
}

Completions::~Completions() {
  std::lock_guard<std::mutex> lock(channel_->mu_);
  channel_->open_ = false;
}

std::shared_ptr<CompletionChannel> Completions::begin(Napi::Env env) {
  if (channel_->in_flight_++ == 0) {
    napi_status st = napi_ref_threadsafe_function(env, channel_->tsfn_);
    if (st != napi_ok) --channel_->in_flight_;
    NAPI_THROW_IF_FAILED(env, st, nullptr);
  }
  return channel_;
}

void CompletionChannel::finish(Completion* done) {
  // Closed: the environment is gone and its JS handles may no longer be touched, so the completion
  // (and what it holds) is left to the ending thread or process.
  std::lock_guard<std::mutex> lock(mu_);
  if (open_) napi_call_threadsafe_function(tsfn_, done, napi_tsfn_nonblocking);
}

void Completions::call_js(napi_env env, napi_value, void* context, void* data) {
  if (env == nullptr) return;  // teardown: as in finish()
  auto* channel = static_cast<CompletionChannel*>(context);
  auto* done = static_cast<Completion*>(data);
  try {
    done->settle(Napi::Env(env));
  } catch (const Napi::Error& e) {  // settle() rejects its own promise; nothing may escape a callback
    e.ThrowAsJavaScriptException();
  }
  delete done;
  if (--channel->in_flight_ == 0) napi_unref_threadsafe_function(env, channel->tsfn_);
}

void Completions::finalize(napi_env, void* data, void*) {
  auto* held = static_cast<std::shared_ptr<CompletionChannel>*>(data);
  {
    std::lock_guard<std::mutex> lock((*held)->mu_);
    (*held)->open_ = false;
  }
  delete held;
}

}  // namespace hs_napi
