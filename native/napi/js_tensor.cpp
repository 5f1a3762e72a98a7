#include "js_tensor.h"

#include <cstring>

#include "napi_util.h"

namespace hs_napi {
namespace {

// The TypedArray kind that holds each dtype, as onnxruntime-node uses them.
napi_typedarray_type array_type(hs::DType t) {
  switch (t) {
    case hs::DType::kFloat32: return napi_float32_array;
    case hs::DType::kFloat64: return napi_float64_array;
    case hs::DType::kInt64: return napi_bigint64_array;
    case hs::DType::kUint64: return napi_biguint64_array;
    case hs::DType::kInt32: return napi_int32_array;
    case hs::DType::kUint32: return napi_uint32_array;
    case hs::DType::kInt16: return napi_int16_array;
    case hs::DType::kUint16: case hs::DType::kFloat16: case hs::DType::kBFloat16: return napi_uint16_array;
    case hs::DType::kInt8: return napi_int8_array;
    default: return napi_uint8_array;  // uint8, bool
  }
}

// data: string[] with one string per element (onnxruntime-node's string tensors).
hs::Tensor string_tensor_from_js(Napi::Env env, Napi::Value data, hs::Shape shape, const std::string& what) {
  if (!data.IsArray()) throw make_error(env, "ERR_TYPE", what + " is a string tensor: its data must be an array of strings");
  Napi::Array a = data.As<Napi::Array>();
  const int64_t n = hs::shape_numel(shape);
  if ((int64_t)a.Length() != n)
    throw make_error(env, "ERR_SHAPE", hs::str_cat(what, " has ", a.Length(), " strings; dims ", shape, " need ", n));
  std::vector<std::string> values(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value v = a.Get(i);
    if (!v.IsString())
      throw make_error(env, "ERR_TYPE", hs::str_cat(what, ".data[", i, "] must be a string"));
    values[i] = v.As<Napi::String>().Utf8Value();
  }
  return hs::Tensor::strings(std::move(shape), std::move(values));
}

Napi::Array strings_to_js(Napi::Env env, const hs::Tensor& tensor) {
  Napi::Array a = Napi::Array::New(env, (size_t)tensor.numel());
  const std::string* s = tensor.string_data();
  for (int64_t i = 0; s && i < tensor.numel(); ++i) a.Set((uint32_t)i, Napi::String::New(env, s[i]));
  return a;
}

}  // namespace

hs::Tensor tensor_from_js(Napi::Env env, Napi::Value value, const std::string& what,
                          std::vector<Napi::Reference<Napi::Value>>* keep_alive) {
  if (!value.IsObject()) throw_type_error(env, what + " must be a tensor { type, dims, data }");
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value type = o.Get("type");
  if (!type.IsString()) throw_type_error(env, what + ".type must be a string");
  hs::DType dtype = hs::dtype_from_name(type.As<Napi::String>().Utf8Value());
  if (dtype == hs::DType::kUndefined)
    throw make_error(env, "ERR_TYPE", what + " has unsupported type '" + type.As<Napi::String>().Utf8Value() + "'");
  Napi::Value dims = o.Get("dims");
  if (!dims.IsArray()) throw_type_error(env, what + ".dims must be an array");
  hs::Shape shape;
  Napi::Array a = dims.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value d = a.Get(i);
    if (!d.IsNumber()) throw_type_error(env, what + ".dims must hold numbers");
    double v = d.As<Napi::Number>().DoubleValue();
    if (v < 0 || v != (double)(int64_t)v || v > 9.0e15)
      throw make_error(env, "ERR_SHAPE", what + ".dims must hold non-negative integers");
    shape.push_back((int64_t)v);
  }
  Napi::Value data = o.Get("data");
  if (dtype == hs::DType::kString) return string_tensor_from_js(env, data, std::move(shape), what);
  if (!data.IsTypedArray()) throw_type_error(env, what + ".data must be a TypedArray");
  Napi::TypedArray ta = data.As<Napi::TypedArray>();
  size_t bytes = (size_t)hs::shape_numel(shape) * hs::dtype_size(dtype);
  if (ta.ByteLength() != bytes)
    throw make_error(env, "ERR_SHAPE", hs::str_cat(what, " has ", ta.ByteLength(), " bytes of data; type ",
                                                   hs::dtype_name(dtype), " with dims ", shape, " needs ", bytes));
  void* ptr = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  keep_alive->push_back(Napi::Persistent(data));
  return hs::Tensor(dtype, shape, hs::Buffer::wrap(ptr, bytes, nullptr));
}

Napi::Object tensor_to_js(Napi::Env env, const hs::Tensor& tensor) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", hs::dtype_name(tensor.dtype()));
  Napi::Array dims = Napi::Array::New(env, tensor.shape().size());
  for (size_t i = 0; i < tensor.shape().size(); ++i) dims.Set((uint32_t)i, (double)tensor.shape()[i]);
  o.Set("dims", dims);
  if (tensor.dtype() == hs::DType::kString) {
    o.Set("data", strings_to_js(env, tensor));
    return o;
  }
  size_t bytes = tensor.nbytes();
  size_t elems = (size_t)tensor.numel();
  Napi::ArrayBuffer ab;
  const auto& buffer = tensor.buffer();
  // Node 20 makes external ArrayBuffers through node::Buffer, which refuses more than its kMaxLength
  // (4 GiB) and then runs the finalizer itself before reporting the failure (a double free if we
  // clean up too), so larger outputs take the copy below.
  constexpr size_t kMaxExternalBytes = (size_t)1 << 32;
  bool alone = buffer && buffer->owned() && buffer.use_count() == 1 && tensor.offset() == 0 && bytes > 0 &&
               bytes <= kMaxExternalBytes;
  if (alone) {
    // Hand the native buffer to JS: the finalizer drops our reference when the array is collected.
    auto* holder = new std::shared_ptr<hs::Buffer>(buffer);
    try {
      ab = Napi::ArrayBuffer::New(env, tensor.raw(), bytes,
                                  [](Napi::Env, void*, std::shared_ptr<hs::Buffer>* h) { delete h; }, holder);
    } catch (const Napi::Error&) {
      delete holder;  // runtimes that forbid external buffers: fall back to a copy
      alone = false;
    }
  }
  if (!alone) {
    ab = Napi::ArrayBuffer::New(env, bytes);
    if (bytes) std::memcpy(ab.Data(), tensor.raw(), bytes);
  }
  napi_value typed;
  napi_status st = napi_create_typedarray(env, array_type(tensor.dtype()), elems, ab, 0, &typed);
  if (st != napi_ok) throw make_error(env, "ERR_INTERNAL", "napi_create_typedarray failed");
  o.Set("data", Napi::Value(env, typed));
  return o;
}

hs::Value value_from_js(Napi::Env env, Napi::Value value, const hs::ValueInfo& declared, const std::string& what,
                        std::vector<Napi::Reference<Napi::Value>>* keep_alive) {
  hs::ValueKind kind = declared.kind;
  if (hs::is_optional(kind)) {
    if (value.IsNull() || value.IsUndefined()) return hs::Value::empty_optional(kind);
    kind = kind == hs::ValueKind::kOptionalSequence ? hs::ValueKind::kSequence : hs::ValueKind::kTensor;
  }
  hs::Value inner;
  if (kind == hs::ValueKind::kSequence) {
    if (!value.IsArray()) throw make_error(env, "ERR_TYPE", what + " is a sequence: pass an array of tensors");
    Napi::Array a = value.As<Napi::Array>();
    std::vector<hs::Tensor> items;
    for (uint32_t i = 0; i < a.Length(); ++i)
      items.push_back(tensor_from_js(env, a.Get(i), hs::str_cat(what, "[", i, "]"), keep_alive));
    inner = hs::Value::sequence(std::move(items));
  } else {
    if (value.IsArray()) throw make_error(env, "ERR_TYPE", what + " is a tensor, got an array (a sequence)");
    inner = tensor_from_js(env, value, what, keep_alive);
  }
  return hs::is_optional(declared.kind) ? hs::Value::optional(inner) : inner;
}

Napi::Value value_to_js(Napi::Env env, const hs::Value& value) {
  if (hs::is_optional(value.kind())) return value.has_element() ? value_to_js(env, value.element()) : env.Null();
  if (value.kind() == hs::ValueKind::kTensor) return tensor_to_js(env, value.tensor());
  Napi::Array a = Napi::Array::New(env, value.items().size());
  for (size_t i = 0; i < value.items().size(); ++i) a.Set((uint32_t)i, tensor_to_js(env, value.items()[i]));
  return a;
}

}  // namespace hs_napi
