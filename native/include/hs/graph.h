// Graph IR: what the ONNX importer produces and what builder passes rewrite. Nodes refer to
// values by name, as ONNX does; initializers are tensors held by the graph. Subgraphs (If, Loop,
// Scan bodies) hang off attributes and may read values of the enclosing graphs by name.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hs/tensor.h"
#include "hs/value.h"

namespace hs {

struct Graph;

// A dimension is either a fixed size (value >= 0) or symbolic (value < 0, with a name if known).
struct Dim {
  int64_t value = -1;
  std::string param;
};

// A declared value type. For sequences and optionals, dtype and dims describe the tensors inside.
struct ValueInfo {
  std::string name;
  DType dtype = DType::kUndefined;
  bool has_shape = false;
  std::vector<Dim> dims;
  ValueKind kind = ValueKind::kTensor;
};

struct Attribute {
  // kType: an ONNX TypeProto (the Optional op's `type`), held in `type` with an empty name.
  enum class Kind : uint8_t { kFloat, kInt, kString, kTensor, kGraph, kFloats, kInts, kStrings, kType };
  Kind kind = Kind::kInt;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  ValueInfo type;
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" for ai.onnx; "hs" for our fused operators
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attrs;

  const Attribute* attr(const std::string& key) const {
    auto it = attrs.find(key);
    return it == attrs.end() ? nullptr : &it->second;
  }
  int64_t attr_int(const std::string& key, int64_t fallback) const {
    const Attribute* a = attr(key);
    return a ? a->i : fallback;
  }
  float attr_float(const std::string& key, float fallback) const {
    const Attribute* a = attr(key);
    return a ? a->f : fallback;
  }
  std::string attr_string(const std::string& key, const std::string& fallback) const {
    const Attribute* a = attr(key);
    return a ? a->s : fallback;
  }
  std::vector<int64_t> attr_ints(const std::string& key, std::vector<int64_t> fallback = {}) const {
    const Attribute* a = attr(key);
    return a ? a->ints : fallback;
  }
  std::vector<float> attr_floats(const std::string& key, std::vector<float> fallback = {}) const {
    const Attribute* a = attr(key);
    return a ? a->floats : fallback;
  }
  // "Add node 'name'" — how errors name a node.
  std::string describe() const;
};

struct Graph {
  std::string name;
  std::vector<ValueInfo> inputs;   // graph inputs that are not initializers
  std::vector<ValueInfo> outputs;
  std::vector<Node> nodes;         // topologically sorted
  std::map<std::string, Tensor> initializers;
  std::map<std::string, int64_t> opsets;  // domain -> version ("" is ai.onnx)
};

}  // namespace hs
