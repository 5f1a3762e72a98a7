// Tensors across the boundary, shaped like onnxruntime-node's: { type, dims, data }.
// Inputs wrap the caller's TypedArray memory without a copy (the run worker keeps the arrays
// alive); outputs become TypedArrays over native memory when the engine owns it alone, else copies.
// String tensors ({ type: 'string', data: string[] }) are copied element by element as UTF-8.
// Values of other kinds: a sequence is a JS array of tensors, an optional is null when empty and
// else the value it holds.
#pragma once
#include <napi.h>

#include <vector>

#include "hs/graph.h"
#include "hs/tensor.h"
#include "hs/value.h"

namespace hs_napi {

// Reads a { type, dims, data } object; throws TypeError naming `what` when malformed, and errors
// with code ERR_TYPE / ERR_SHAPE when its data does not fit its type or dims.
hs::Tensor tensor_from_js(Napi::Env env, Napi::Value value, const std::string& what,
                          std::vector<Napi::Reference<Napi::Value>>* keep_alive);
Napi::Object tensor_to_js(Napi::Env env, const hs::Tensor& tensor);

// Reads a value of the kind `declared` says (ERR_TYPE when it is of another shape).
hs::Value value_from_js(Napi::Env env, Napi::Value value, const hs::ValueInfo& declared, const std::string& what,
                        std::vector<Napi::Reference<Napi::Value>>* keep_alive);
Napi::Value value_to_js(Napi::Env env, const hs::Value& value);

}  // namespace hs_napi
