// NodeProfile: the time each step of a plan took over an execution context's runs, kept when an
// engine is loaded with `profile` (as trtexec's per-layer profile or onnxruntime's enableProfiling).
// One writer (the context's run) and any reader: relaxed atomics, so a read during a run may see a
// step's time before its call count, never a torn value.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace hs {

struct StepTime {
  int64_t calls = 0;
  int64_t ns = 0;
};

class NodeProfile {
 public:
  explicit NodeProfile(size_t steps) : calls_(new std::atomic<int64_t>[steps]()), ns_(new std::atomic<int64_t>[steps]()), steps_(steps) {}

  void add(size_t step, int64_t ns) {
    calls_[step].fetch_add(1, std::memory_order_relaxed);
    ns_[step].fetch_add(ns, std::memory_order_relaxed);
  }
  // Adds the counts into `into` (one entry per step), taking them out of the profile with `reset`.
  void collect(std::vector<StepTime>* into, bool reset) {
    into->resize(steps_);
    for (size_t i = 0; i < steps_; ++i) {
      (*into)[i].calls += reset ? calls_[i].exchange(0, std::memory_order_relaxed) : calls_[i].load(std::memory_order_relaxed);
      (*into)[i].ns += reset ? ns_[i].exchange(0, std::memory_order_relaxed) : ns_[i].load(std::memory_order_relaxed);
    }
  }

 private:
  std::unique_ptr<std::atomic<int64_t>[]> calls_, ns_;
  size_t steps_;
};

}  // namespace hs
