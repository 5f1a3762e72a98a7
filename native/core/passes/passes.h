// The builder's passes (run in order by optimize_graph, builder.cpp). Each rewrites one graph in
// place (subgraphs are optimised separately, innermost first) and only when the result provably
// computes the same outputs; anything it cannot prove it leaves alone.
#pragma once
#include <map>
#include <string>

#include "core/builder.h"
#include "core/passes/symbolic_shape.h"
#include "hs/graph.h"
#include "hs/thread_pool.h"

namespace hs::passes {

// What the passes share while optimising one graph.
struct PassContext {
  const BuildOptions& options;
  BuildReport& report;
  ThreadPool& pool;  // runs the kernels of constant folding
  TypeMap types;     // value name -> inferred dtype and shape (infer_shapes); absent = unknown
};

// Fills ctx.types for every value of the graph it can reason about (see shape_inference.cpp).
void infer_shapes(const Graph& graph, PassContext& ctx);

// For the CUDA backend: float16 / bfloat16 values become float32 inside the graph, converted on
// entry and exit (widen_half_floats.cpp). Returns how many values and attributes it changed.
int widen_half_floats(Graph& graph, PassContext& ctx);

// Constant nodes become initializers. Returns how many.
int constants_to_initializers(Graph& graph);

// Computes at build time every deterministic node whose inputs are all constant (and Shape/Size
// of values whose shape is static), with the registered CPU kernels; the results become
// initializers. Returns how many nodes were folded.
int fold_constants(Graph& graph, PassContext& ctx);

// Removes Identity and inference-mode Dropout, rewiring their consumers. Returns how many.
int remove_identities(Graph& graph);

// Removes nodes whose outputs nobody reads and initializers nobody uses. Returns how many nodes.
int remove_dead_nodes(Graph& graph);

// Fusions. Each appends a line per fused group to ctx.report.fusions and returns how many.
int fuse_layer_norm(Graph& graph, PassContext& ctx);  // decomposed LayerNorm -> LayerNormalization
int fuse_attention(Graph& graph, PassContext& ctx);   // MatMul-scale-mask-Softmax-MatMul -> hs:Attention
int fuse_conv(Graph& graph, PassContext& ctx);        // Conv [+BN] [+Add] [+act] -> hs:FusedConv
int fuse_matmul(Graph& graph, PassContext& ctx);      // MatMul [+bias] [+act], Gemm + act -> hs:Fused*

}  // namespace hs::passes
