// optimize_graph: the builder pipeline. Per graph, innermost subgraphs first:
//   level >= 1: Constant nodes -> initializers; Identity / Dropout removal; rounds of shape
//               inference and constant folding until nothing more folds (a folded Shape makes a
//               Reshape's target constant, whose output shape then lets the next Shape fold);
//               dead node removal.
//   level >= 2: shape inference, then the fusions (LayerNorm and attention before the dense
//               fusions, so their MatMuls are matched as attention first), then dead node removal
//               again for the weights the fusions replaced.
// Precision: the CPU backend computes in float32; fp16/bf16 requests keep float32 weights (the
// CUDA backend will convert them) and say so in the report. For the CUDA backend a float16 /
// bfloat16 model is first widened to float32 inside (widen_half_floats), at every level: its
// kernels take float32 activations.
#include "core/builder.h"

#include <algorithm>

#include "core/passes/passes.h"
#include "hs/devices.h"

namespace hs {
namespace {

constexpr int kMaxFoldRounds = 8;
constexpr int kFoldingThreads = 2;

void optimize_one(Graph& graph, const BuildOptions& options, BuildReport& report, ThreadPool& pool) {
  for (Node& node : graph.nodes)
    for (auto& [key, attr] : node.attrs)
      if (attr.kind == Attribute::Kind::kGraph && attr.g) optimize_one(*attr.g, options, report, pool);

  passes::PassContext ctx{options, report, pool, {}};
  report.folded_nodes += passes::constants_to_initializers(graph);
  report.removed_nodes += passes::remove_identities(graph);
  for (int round = 0; round < kMaxFoldRounds; ++round) {
    passes::infer_shapes(graph, ctx);
    const int folded = passes::fold_constants(graph, ctx);
    report.folded_nodes += folded;
    if (folded == 0) break;
  }
  report.removed_nodes += passes::remove_dead_nodes(graph);
  if (options.optimization_level < 2) return;

  passes::infer_shapes(graph, ctx);
  passes::fuse_layer_norm(graph, ctx);
  passes::fuse_attention(graph, ctx);
  passes::fuse_conv(graph, ctx);
  passes::fuse_matmul(graph, ctx);
  report.removed_nodes += passes::remove_dead_nodes(graph);
}

}  // namespace

Status optimize_graph(Graph& graph, const BuildOptions& options, BuildReport* report) {
  if (options.optimization_level < 0 || options.optimization_level > 2)
    HS_FAIL(kInvalidArgument, "optimizationLevel must be 0, 1 or 2, got ", options.optimization_level);
  if (options.precision != "fp32" && options.precision != "fp16" && options.precision != "bf16")
    HS_FAIL(kInvalidArgument, "precision must be 'fp32', 'fp16' or 'bf16', got '", options.precision, "'");
  BuildReport scratch;
  BuildReport& out = report ? *report : scratch;
  if (options.precision != "fp32" && options.device == "cpu")
    out.notes.push_back(str_cat("precision ", options.precision, " on device 'cpu': weights and compute stay float32"));
  ThreadPool pool(std::min(kFoldingThreads, ThreadPool::default_threads()));
  if (options.device == "cuda" || (options.device == "auto" && cuda_info().available)) {
    passes::PassContext ctx{options, out, pool, {}};
    passes::infer_shapes(graph, ctx);
    passes::widen_half_floats(graph, ctx);
  }
  if (options.optimization_level == 0) return Status::ok();
  optimize_one(graph, options, out, pool);
  return Status::ok();
}

}  // namespace hs
