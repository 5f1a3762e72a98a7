// ExecutionPlan: a graph whose kernels have been created, values numbered into slots, and
// lifetimes computed. It is immutable after build and shared by every ExecutionContext, which
// holds one run's values and reuses the buffers of dead values (the memory plan by lifetime).
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hs/graph.h"
#include "hs/kernel.h"
#include "hs/subgraph.h"
#include "hs/thread_pool.h"
#include "hs/value.h"
#include "core/node_profile.h"
#include "core/value_types.h"

namespace hs {

class ExecutionPlan {
 public:
  // Creates the kernels for every node (recursively for subgraphs). `outer` lists the names
  // visible from enclosing graphs, `outer_types` the types known of them. An input of known type
  // that its kernel does not take (a string tensor, a sequence) fails with ERR_TYPE.
  static Result<std::shared_ptr<ExecutionPlan>> create(std::shared_ptr<const Graph> graph,
                                                       const std::map<std::string, int64_t>& opsets,
                                                       const std::vector<std::string>& outer = {},
                                                       const StaticTypes& outer_types = {});

  const Graph& graph() const { return *graph_; }

  struct Step {
    const Node* node;
    std::unique_ptr<OpKernel> kernel;
    std::vector<int> inputs;   // slot per input, -1 for omitted
    std::vector<int> outputs;  // slot per output, -1 for omitted
    std::vector<int> frees;    // slots whose last use is this step
    std::map<std::string, std::shared_ptr<ExecutionPlan>> subplans;
  };

  int num_slots() const { return (int)slot_names_.size(); }
  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<int>& input_slots() const { return input_slots_; }
  const std::vector<int>& output_slots() const { return output_slots_; }
  // Slots filled from enclosing graphs, with their names.
  const std::vector<std::pair<int, std::string>>& outer_slots() const { return outer_slots_; }
  const std::vector<std::pair<int, Tensor>>& constant_slots() const { return constant_slots_; }
  const std::string& slot_name(int slot) const { return slot_names_[slot]; }

 private:
  std::shared_ptr<const Graph> graph_;
  std::vector<std::string> slot_names_;
  std::vector<Step> steps_;
  std::vector<int> input_slots_, output_slots_;
  std::vector<std::pair<int, std::string>> outer_slots_;
  std::vector<std::pair<int, Tensor>> constant_slots_;
};

// Reuses freed host buffers by size. Not thread-safe: one per context.
class BufferPool {
 public:
  std::shared_ptr<Buffer> get(size_t bytes);  // throws OutOfMemory when it cannot allocate
  void put(std::shared_ptr<Buffer> buffer);
  void clear() { free_.clear(); }

 private:
  std::multimap<size_t, std::shared_ptr<Buffer>> free_;
};

// Values of one run. `outer` resolves names of enclosing graphs (for subgraphs).
class ExecutionContext {
 public:
  ExecutionContext(std::shared_ptr<const ExecutionPlan> plan, ThreadPool* pool);

  using OuterLookup = std::function<const Value*(const std::string&)>;
  Status run(const std::vector<Value>& inputs, std::vector<Value>* outputs, const OuterLookup& outer = nullptr);
  ThreadPool& pool() { return *pool_; }
  BufferPool& buffers() { return buffers_; }
  // Drops every cached buffer (after a run, when memory must be returned).
  void trim() { buffers_.clear(); }
  // Times every step of the runs that follow into `profile` (sized for the plan's steps; null: off).
  void set_profile(NodeProfile* profile) { profile_ = profile; }

 private:
  std::shared_ptr<const ExecutionPlan> plan_;
  ThreadPool* pool_;
  BufferPool buffers_;
  NodeProfile* profile_ = nullptr;
};

}  // namespace hs
