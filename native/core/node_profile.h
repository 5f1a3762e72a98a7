// NodeProfile: the time each step of a plan took over an execution context's runs, kept when an
// engine is loaded with `profile` (as trtexec's per-layer profile or onnxruntime's enableProfiling).
// One writer (the context's run) and any reader: relaxed atomics, so a read during a run may see a
// step's time before its call count, never a torn value.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "hs/tensor.h"

namespace hs {

struct StepTime {
  int64_t calls = 0;
  int64_t ns = 0;
  std::vector<Shape> input_shapes;  // of its tensor inputs in the latest run (that changed them)
};

class NodeProfile {
 public:
  explicit NodeProfile(size_t steps)
      : calls_(new std::atomic<int64_t>[steps]()), ns_(new std::atomic<int64_t>[steps]()), shapes_(steps), steps_(steps) {}

  void add(size_t step, int64_t ns) {
    calls_[step].fetch_add(1, std::memory_order_relaxed);
    ns_[step].fetch_add(ns, std::memory_order_relaxed);
  }
  // The shapes of a step's tensor inputs, kept until they change (a lock only then).
  void note_shapes(size_t step, const std::vector<const Shape*>& shapes) {
    std::vector<Shape>& kept = shapes_[step];
    bool same = kept.size() == shapes.size();
    for (size_t i = 0; same && i < shapes.size(); ++i) same = kept[i] == *shapes[i];
    if (same) return;
    std::lock_guard<std::mutex> lock(mu_);
    kept.clear();
    for (const Shape* s : shapes) kept.push_back(*s);
  }
  // Adds the counts into `into` (one entry per step), taking them out of the profile with `reset`;
  // a step's shapes are this profile's where `into` has none yet.
  void collect(std::vector<StepTime>* into, bool reset) {
    into->resize(steps_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 0; i < steps_; ++i)
        if ((*into)[i].input_shapes.empty()) (*into)[i].input_shapes = shapes_[i];
    }
    for (size_t i = 0; i < steps_; ++i) {
      (*into)[i].calls += reset ? calls_[i].exchange(0, std::memory_order_relaxed) : calls_[i].load(std::memory_order_relaxed);
      (*into)[i].ns += reset ? ns_[i].exchange(0, std::memory_order_relaxed) : ns_[i].load(std::memory_order_relaxed);
    }
  }

 private:
  std::unique_ptr<std::atomic<int64_t>[]> calls_, ns_;
  // Written by the run (under mu_ when they change), read under mu_ by collect.
  std::vector<std::vector<Shape>> shapes_;
  std::mutex mu_;
  size_t steps_;
};

}  // namespace hs
