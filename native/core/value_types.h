// Value types as the execution plan knows them at load time, for its input checks: the kind and
// element dtype of graph inputs, initializers and outer values, carried through the few operators
// whose output type follows from their inputs or attributes (casts, views, sequence and optional
// constructors, If). A value absent from the map is of unknown type and is checked at run time.
#pragma once
#include <map>
#include <string>

#include "hs/graph.h"
#include "hs/kernel.h"

namespace hs {

struct StaticType {
  ValueKind kind = ValueKind::kTensor;
  DType dtype = DType::kUndefined;  // of the tensors (inside the container); kUndefined if unknown
};
using StaticTypes = std::map<std::string, StaticType>;

// Records the types of `node`'s outputs that follow from its inputs' types and its attributes.
void infer_output_types(const Node& node, StaticTypes& types);

// ERR_TYPE when input `index` of `node`, of the given kind and dtype, is something `kernel` does
// not take (a string tensor, a sequence or an optional).
Status check_kernel_takes(const Node& node, const OpKernel& kernel, size_t index, ValueKind kind, DType dtype);

// check_kernel_takes for every input of `node` whose type `types` knows.
Status check_input_types(const Node& node, const OpKernel& kernel, const StaticTypes& types);

}  // namespace hs
