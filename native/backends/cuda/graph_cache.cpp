#include "backends/cuda/graph_cache.h"

namespace hs::cuda {

CapturedGraph& GraphCache::get(const std::string& key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first != key) continue;
    entries_.splice(entries_.begin(), entries_, it);
    return entries_.front().second;
  }
  if (entries_.size() >= capacity_ && !entries_.empty()) {
    reset(entries_.back().second);
    entries_.pop_back();
  }
  entries_.emplace_front(key, CapturedGraph{});
  return entries_.front().second;
}

void GraphCache::reset(CapturedGraph& entry) {
  if (entry.exec) cudaGraphExecDestroy(entry.exec);
  entry.exec = nullptr;
  entry.input_addresses.clear();
  entry.outputs.clear();
}

void GraphCache::clear() {
  for (auto& [key, entry] : entries_) reset(entry);
  entries_.clear();
}

std::string GraphCache::key_of(const std::vector<Value>& inputs) {
  std::string key;
  auto add = [&key](const Tensor& t) { key += str_cat(dtype_name(t.dtype()), t.shape(), ","); };
  for (const Value& v : inputs) {
    key += str_cat(value_kind_name(v.kind()), v.has_element() ? "+" : "", ":");
    if (v.tensor().defined()) add(v.tensor());
    for (const Tensor& t : v.items()) add(t);
    key += ";";
  }
  return key;
}

}  // namespace hs::cuda
