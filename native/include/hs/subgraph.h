// SubgraphRunner: lets control-flow kernels (If, Loop, Scan) run the graphs in their attributes.
#pragma once
#include <string>
#include <vector>

#include "hs/status.h"
#include "hs/tensor.h"

namespace hs {

class SubgraphRunner {
 public:
  virtual ~SubgraphRunner() = default;
  // Runs the graph attribute `attr` of the node being computed. `inputs` bind the subgraph's
  // formal inputs in order; values of enclosing graphs are visible by name.
  virtual Status run(const std::string& attr, const std::vector<Tensor>& inputs,
                     std::vector<Tensor>* outputs) = 0;
};

}  // namespace hs
