// The builder: graph-to-graph passes run before a plan is made (what TensorRT's builder does):
// shape and type inference, constant folding, removal of inference-irrelevant ops, fusions
// (Conv+BatchNorm+activation, MatMul/Gemm+bias+activation, decomposed LayerNormalization,
// attention MatMul-scale-mask-Softmax-MatMul -> hs:Attention), precision conversion.
#pragma once
#include <string>
#include <vector>

#include "hs/graph.h"
#include "hs/status.h"

namespace hs {

struct BuildOptions {
  int optimization_level = 2;        // 0: none, 1: folding and cleanup, 2: + fusions
  std::string precision = "fp32";    // fp32 | fp16 | bf16 (weights converted; fp32 accumulation)
  std::string device = "cpu";        // the backend the plan is for
};

// What the passes did, for logs and tests.
struct BuildReport {
  int folded_nodes = 0;
  int removed_nodes = 0;
  std::vector<std::string> fusions;  // e.g. "FusedConv(conv1+bn1+relu1)"
  std::vector<std::string> notes;    // decisions worth a log line (e.g. a precision kept as fp32)
};

// Rewrites `graph` in place. The graph stays valid ONNX-like IR whose nodes all have kernels.
Status optimize_graph(Graph& graph, const BuildOptions& options, BuildReport* report);

}  // namespace hs
