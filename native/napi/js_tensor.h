// Tensors across the boundary, shaped like onnxruntime-node's: { type, dims, data }.
// Inputs wrap the caller's TypedArray memory without a copy (the run worker keeps the arrays
// alive); outputs become TypedArrays over native memory when the engine owns it alone, else copies.
#pragma once
#include <napi.h>

#include <vector>

#include "hs/tensor.h"

namespace hs_napi {

// Reads a { type, dims, data } object; throws TypeError naming `what` when malformed.
hs::Tensor tensor_from_js(Napi::Env env, Napi::Value value, const std::string& what,
                          std::vector<Napi::Reference<Napi::Value>>* keep_alive);
Napi::Object tensor_to_js(Napi::Env env, const hs::Tensor& tensor);

}  // namespace hs_napi
