// GraphCache: the CUDA graphs one execution context captured, keyed by its runs' input shapes and
// dtypes, least recently used first out (a bounded number, each holding its instantiated graph).
// An entry also says where the captured run had its memory (the arena's base and size, and the
// device addresses of its uploaded inputs): a replay is valid only where a new run gets the same.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <list>
#include <string>
#include <utility>
#include <vector>

#include "backends/cuda/device_values.h"

namespace hs::cuda {

struct CapturedGraph {
  int eager_runs = 0;            // runs of this shape so far without a graph
  bool uncapturable = false;     // a capture failed: this shape always runs eagerly
  cudaGraphExec_t exec = nullptr;
  const void* arena_base = nullptr;
  size_t arena_capacity = 0;
  std::vector<void*> input_addresses;           // per device input slot, as uploaded
  std::vector<std::pair<int, Slot>> outputs;    // slots the steps made, as the capture left them (no owners)
};

class GraphCache {
 public:
  explicit GraphCache(size_t capacity) : capacity_(capacity) {}
  ~GraphCache() { clear(); }
  GraphCache(const GraphCache&) = delete;
  GraphCache& operator=(const GraphCache&) = delete;

  // The entry of `key` (new and empty when absent), now the most recently used; may evict one.
  CapturedGraph& get(const std::string& key);
  // Drops the instantiated graph of an entry (its addresses went stale); the entry stays.
  static void reset(CapturedGraph& entry);
  void clear();

  // The key of a run's inputs: each input's kind, dtype and shape.
  static std::string key_of(const std::vector<Value>& inputs);

 private:
  size_t capacity_;
  std::list<std::pair<std::string, CapturedGraph>> entries_;  // most recently used first
};

}  // namespace hs::cuda
