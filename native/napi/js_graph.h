// Converts the importer's plain-JS graph description (ts/onnx/graph-desc.ts) into hs::Graph.
// Runs on the JS thread but copies no weight bytes: each initializer gets its native buffer and a
// pending copy that the build worker performs off the JS thread while it holds the source arrays.
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "hs/graph.h"

namespace hs_napi {

struct PendingCopy {
  void* dst;
  const void* src;
  size_t bytes;
};

struct JsGraph {
  std::shared_ptr<hs::Graph> graph;
  std::vector<PendingCopy> copies;
  std::vector<Napi::Reference<Napi::Value>> sources;  // keeps the source arrays alive
};

// Throws a JS TypeError (code ERR_INVALID_MODEL) on malformed descriptions.
void graph_from_js(Napi::Env env, Napi::Object desc, JsGraph* out);

}  // namespace hs_napi
