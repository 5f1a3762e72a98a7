#include "js_graph.h"

#include "napi_util.h"

namespace hs_napi {
namespace {

[[noreturn]] void bad(Napi::Env env, const std::string& what) {
  throw make_error(env, "ERR_INVALID_MODEL", "invalid graph description: " + what);
}

std::string get_string(Napi::Env env, Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return "";
  if (!v.IsString()) bad(env, std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Array get_array(Napi::Env env, Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) bad(env, std::string(key) + " must be an array");
  return v.As<Napi::Array>();
}

std::vector<std::string> get_strings(Napi::Env env, Napi::Object o, const char* key) {
  Napi::Array a = get_array(env, o, key);
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value v = a.Get(i);
    if (!v.IsString()) bad(env, std::string(key) + " must hold strings");
    out.push_back(v.As<Napi::String>().Utf8Value());
  }
  return out;
}

hs::DType get_dtype(Napi::Env env, Napi::Value v, const std::string& where) {
  hs::DType t = hs::DType::kUndefined;
  if (!v.IsNumber()) bad(env, where + ": type must be a number");
  int32_t n = v.As<Napi::Number>().Int32Value();
  if (n != 0 && !hs::dtype_from_onnx(n, &t))
    throw make_error(env, "ERR_TYPE", where + ": unsupported ONNX element type " + std::to_string(n));
  return t;
}

hs::ValueKind value_kind(Napi::Env env, Napi::Object o, const std::string& where) {
  const std::string kind = get_string(env, o, "kind");
  if (kind.empty() || kind == "tensor") return hs::ValueKind::kTensor;
  for (hs::ValueKind k : {hs::ValueKind::kSequence, hs::ValueKind::kOptionalTensor, hs::ValueKind::kOptionalSequence})
    if (kind == hs::value_kind_name(k)) return k;
  throw make_error(env, "ERR_TYPE", where + ": unsupported value kind '" + kind + "'");
}

hs::ValueInfo value_info(Napi::Env env, Napi::Object o) {
  hs::ValueInfo vi;
  vi.name = get_string(env, o, "name");
  vi.dtype = get_dtype(env, o.Get("type"), "value '" + vi.name + "'");
  vi.kind = value_kind(env, o, "value '" + vi.name + "'");
  Napi::Value dims = o.Get("dims");
  if (dims.IsArray()) {
    vi.has_shape = true;
    Napi::Array a = dims.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Value d = a.Get(i);
      hs::Dim dim;
      if (d.IsNumber()) dim.value = d.As<Napi::Number>().Int64Value();
      else if (d.IsString()) dim.param = d.As<Napi::String>().Utf8Value();
      vi.dims.push_back(dim);
    }
  }
  return vi;
}

// A string tensor's elements are copied now: they are few and small next to weights.
hs::Tensor string_tensor(Napi::Env env, const std::string& name, hs::Shape shape, Napi::Value data) {
  if (!data.IsArray()) bad(env, "string tensor '" + name + "' data must be an array of strings");
  Napi::Array a = data.As<Napi::Array>();
  if ((int64_t)a.Length() != hs::shape_numel(shape))
    throw make_error(env, "ERR_INVALID_MODEL", hs::str_cat("tensor '", name, "' holds ", a.Length(), " strings; its shape ",
                                                           shape, " needs ", hs::shape_numel(shape)));
  std::vector<std::string> values(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value v = a.Get(i);
    if (!v.IsString()) bad(env, "string tensor '" + name + "' data must hold strings");
    values[i] = v.As<Napi::String>().Utf8Value();
  }
  return hs::Tensor::strings(std::move(shape), std::move(values));
}

hs::Tensor tensor(Napi::Env env, Napi::Object o, JsGraph* out) {
  std::string name = get_string(env, o, "name");
  hs::DType dtype = get_dtype(env, o.Get("type"), "tensor '" + name + "'");
  if (dtype == hs::DType::kUndefined)
    throw make_error(env, "ERR_TYPE", "tensor '" + name + "' has an unsupported element type");
  hs::Shape shape;
  Napi::Array dims = get_array(env, o, "dims");
  for (uint32_t i = 0; i < dims.Length(); ++i) {
    int64_t d = dims.Get(i).As<Napi::Number>().Int64Value();
    if (d < 0) bad(env, "tensor '" + name + "' has a negative dimension");
    shape.push_back(d);
  }
  Napi::Value data = o.Get("data");
  if (dtype == hs::DType::kString) return string_tensor(env, name, std::move(shape), data);
  if (!data.IsTypedArray()) bad(env, "tensor '" + name + "' data must be a Uint8Array");
  Napi::TypedArray ta = data.As<Napi::TypedArray>();
  size_t bytes = (size_t)hs::shape_numel(shape) * hs::dtype_size(dtype);
  if (ta.ByteLength() != bytes)
    throw make_error(env, "ERR_INVALID_MODEL", hs::str_cat("tensor '", name, "' holds ", ta.ByteLength(),
                                                           " bytes; its shape ", shape, " needs ", bytes));
  hs::Tensor t = hs::Tensor::empty(dtype, shape);
  const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  if (bytes) {
    out->copies.push_back({t.raw(), src, bytes});
    out->sources.push_back(Napi::Persistent(data));
  }
  return t;
}

std::shared_ptr<hs::Graph> graph(Napi::Env env, Napi::Object desc, JsGraph* out);

hs::Attribute attribute(Napi::Env env, Napi::Object o, JsGraph* out) {
  hs::Attribute a;
  std::string kind = get_string(env, o, "kind");
  Napi::Value v = o.Get("value");
  using K = hs::Attribute::Kind;
  if (kind == "f") { a.kind = K::kFloat; a.f = v.As<Napi::Number>().FloatValue(); }
  else if (kind == "i") { a.kind = K::kInt; a.i = v.As<Napi::Number>().Int64Value(); }
  else if (kind == "s") { a.kind = K::kString; a.s = v.As<Napi::String>().Utf8Value(); }
  else if (kind == "t") { a.kind = K::kTensor; a.t = tensor(env, v.As<Napi::Object>(), out); }
  else if (kind == "g") { a.kind = K::kGraph; a.g = graph(env, v.As<Napi::Object>(), out); }
  else if (kind == "tp") {
    if (!v.IsObject()) bad(env, "type attribute must be an object");
    a.kind = K::kType;
    a.type = value_info(env, v.As<Napi::Object>());
  }
  else if (kind == "fs" || kind == "is" || kind == "ss") {
    if (!v.IsArray()) bad(env, "attribute list must be an array");
    Napi::Array arr = v.As<Napi::Array>();
    a.kind = kind == "fs" ? K::kFloats : kind == "is" ? K::kInts : K::kStrings;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value e = arr.Get(i);
      if (kind == "fs") a.floats.push_back(e.As<Napi::Number>().FloatValue());
      else if (kind == "is") a.ints.push_back(e.As<Napi::Number>().Int64Value());
      else a.strings.push_back(e.As<Napi::String>().Utf8Value());
    }
  } else {
    bad(env, "unknown attribute kind '" + kind + "'");
  }
  return a;
}

std::shared_ptr<hs::Graph> graph(Napi::Env env, Napi::Object desc, JsGraph* out) {
  auto g = std::make_shared<hs::Graph>();
  g->name = get_string(env, desc, "name");
  Napi::Value opsets = desc.Get("opsets");
  if (opsets.IsObject()) {
    Napi::Object os = opsets.As<Napi::Object>();
    Napi::Array keys = os.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      std::string k = keys.Get(i).As<Napi::String>().Utf8Value();
      g->opsets[k] = os.Get(k).As<Napi::Number>().Int64Value();
    }
  }
  Napi::Array inputs = get_array(env, desc, "inputs");
  for (uint32_t i = 0; i < inputs.Length(); ++i) g->inputs.push_back(value_info(env, inputs.Get(i).As<Napi::Object>()));
  Napi::Array outputs = get_array(env, desc, "outputs");
  for (uint32_t i = 0; i < outputs.Length(); ++i) g->outputs.push_back(value_info(env, outputs.Get(i).As<Napi::Object>()));
  Napi::Array inits = get_array(env, desc, "initializers");
  for (uint32_t i = 0; i < inits.Length(); ++i) {
    Napi::Object t = inits.Get(i).As<Napi::Object>();
    g->initializers[get_string(env, t, "name")] = tensor(env, t, out);
  }
  Napi::Array nodes = get_array(env, desc, "nodes");
  g->nodes.reserve(nodes.Length());
  for (uint32_t i = 0; i < nodes.Length(); ++i) {
    Napi::Object n = nodes.Get(i).As<Napi::Object>();
    hs::Node node;
    node.name = get_string(env, n, "name");
    node.op_type = get_string(env, n, "opType");
    node.domain = get_string(env, n, "domain");
    if (node.domain == "ai.onnx") node.domain.clear();
    node.inputs = get_strings(env, n, "inputs");
    node.outputs = get_strings(env, n, "outputs");
    Napi::Array attrs = get_array(env, n, "attrs");
    for (uint32_t j = 0; j < attrs.Length(); ++j) {
      Napi::Object a = attrs.Get(j).As<Napi::Object>();
      node.attrs[get_string(env, a, "name")] = attribute(env, a, out);
    }
    g->nodes.push_back(std::move(node));
  }
  return g;
}

}  // namespace

void graph_from_js(Napi::Env env, Napi::Object desc, JsGraph* out) {
  out->graph = graph(env, desc, out);
}

}  // namespace hs_napi
