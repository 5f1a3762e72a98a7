// SubgraphRunner: lets control-flow kernels (If, Loop, Scan) run the graphs in their attributes.
#pragma once
#include <string>
#include <vector>

#include "hs/status.h"
#include "hs/tensor.h"
#include "hs/value.h"

namespace hs {

class SubgraphRunner {
 public:
  virtual ~SubgraphRunner() = default;
  // Runs the graph attribute `attr` of the node being computed. `inputs` bind the subgraph's
  // formal inputs in order; values of enclosing graphs are visible by name.
  virtual Status run(const std::string& attr, const std::vector<Value>& inputs, std::vector<Value>* outputs) = 0;

  // The same for bodies that take and return tensors only (Loop, Scan); a sequence or optional
  // output is ERR_TYPE.
  Status run_tensors(const std::string& attr, const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) {
    std::vector<Value> values(inputs.begin(), inputs.end()), results;
    HS_RETURN_IF_ERROR(run(attr, values, &results));
    outputs->clear();
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].is_tensor())
        return Status(StatusCode::kType, str_cat(attr, " output ", i, " is a ", value_kind_name(results[i].kind()),
                                                 "; only tensors are supported here"));
      outputs->push_back(results[i].tensor());
    }
    return Status::ok();
  }
};

}  // namespace hs
