// Shape and type inference: one forward sweep in graph order. Graph inputs give their declared
// dtype and dims (a dim_param becomes a symbol), initializers their exact shapes; each node then
// derives its outputs' dtype and dims from its inputs' with the operator's shape rule. Only the
// operators the fusions and Shape folding meet are covered; any other node (and any rule whose
// inputs are not known well enough) leaves its outputs unknown, which every pass treats as
// "cannot prove".
#include <algorithm>
#include <set>

#include "core/passes/passes.h"

namespace hs::passes {
namespace {

const std::set<std::string> kSameAsInput = {
    "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Erf", "Sqrt", "Reciprocal", "Neg", "Abs", "Exp", "Log", "Clip",
    "HardSigmoid", "HardSwish", "Softmax", "LogSoftmax", "Hardmax", "Identity", "Dropout", "Elu", "Selu", "Celu",
    "Softplus", "Softsign", "Gelu", "Floor", "Ceil", "Round", "Sin", "Cos", "Tan", "Sign", "BatchNormalization",
    "InstanceNormalization", "LayerNormalization", "LRN", "MeanVarianceNormalization", "Not", "Shrink",
    "ThresholdedRelu", "CumSum", "PRelu", "Mish", "ScatterND", "ScatterElements", "Scatter"};
// Ops whose outputs all have input 0's dtype, their shapes not inferred here.
const std::set<std::string> kDtypeOfInput0 = {"Einsum", "GatherElements", "GatherND", "DepthToSpace", "SpaceToDepth",
                                              "Tile", "Pad", "Resize", "Upsample", "Trilu", "Split", "ConvTranspose"};
const std::set<std::string> kBroadcast = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mean", "Sum",
                                          "Mod", "And", "Or", "Xor", "BitShift"};
const std::set<std::string> kCompare = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"};
const std::set<std::string> kReduce = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd",
                                       "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
                                       "ReduceSumSquare"};
const std::set<std::string> kPool = {"MaxPool", "AveragePool", "LpPool"};
const std::set<std::string> kGlobalPool = {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"};

class Inferrer {
 public:
  Inferrer(const Graph& graph, TypeMap& types) : graph_(graph), types_(types) {
    auto it = graph.opsets.find("");
    opset_ = it == graph.opsets.end() ? 1 : it->second;
    for (const ValueInfo& in : graph.inputs) inputs_.insert(in.name);
  }

  void run() {
    for (const auto& [name, tensor] : graph_.initializers) types_[name] = ValueType::of_tensor(tensor);
    for (const ValueInfo& in : graph_.inputs)  // sequences and optionals have no tensor shape to infer from
      if (in.kind == ValueKind::kTensor) types_[in.name] = declared(in);
    for (const Node& node : graph_.nodes) {
      for (const std::string& o : node.outputs) types_.erase(o);
      if (node.domain.empty() || node.domain == "ai.onnx") infer(node);
    }
  }

 private:
  static ValueType declared(const ValueInfo& in) {
    ValueType v{in.dtype, in.has_shape, {}};
    for (const Dim& d : in.dims) v.dims.push_back(d.value >= 0 ? SymDim::fixed(d.value) : SymDim{-1, d.param});
    return v;
  }

  const ValueType* type(const Node& n, size_t i) const {
    if (i >= n.inputs.size() || n.inputs[i].empty()) return nullptr;
    auto it = types_.find(n.inputs[i]);
    return it == types_.end() ? nullptr : &it->second;
  }
  const ValueType* ranked(const Node& n, size_t i) const {
    const ValueType* t = type(n, i);
    return t && t->has_rank ? t : nullptr;
  }
  // An input that is a constant integer tensor, as int64 values.
  bool constant_ints(const Node& n, size_t i, std::vector<int64_t>* out) const {
    if (i >= n.inputs.size() || n.inputs[i].empty() || inputs_.count(n.inputs[i])) return false;
    auto it = graph_.initializers.find(n.inputs[i]);
    if (it == graph_.initializers.end() || is_float(it->second.dtype()) || it->second.dtype() == DType::kString)
      return false;
    *out = it->second.to_int64_vector();
    return true;
  }
  // Axes from the attribute (before `input_from` opset) or the constant input 1.
  bool axes(const Node& n, int64_t input_from, std::vector<int64_t>* out, bool* given) const {
    if (opset_ < input_from) {
      *given = n.attr("axes") != nullptr;
      *out = n.attr_ints("axes");
      return true;
    }
    *given = n.inputs.size() > 1 && !n.inputs[1].empty();
    if (!*given) return true;
    return constant_ints(n, 1, out);
  }
  static bool normalize(int64_t* axis, int64_t rank) {
    if (*axis < -rank || *axis >= rank) return false;
    if (*axis < 0) *axis += rank;
    return true;
  }
  void set(const Node& n, size_t i, ValueType v) {
    if (i < n.outputs.size() && !n.outputs[i].empty()) types_[n.outputs[i]] = std::move(v);
  }
  void set_dtype_only(const Node& n, size_t i, DType dtype) { set(n, i, ValueType{dtype, false, {}}); }

  void infer(const Node& n) {
    const std::string& op = n.op_type;
    const ValueType* x = type(n, 0);
    if (kSameAsInput.count(op)) {
      if (!x) return;
      set(n, 0, *x);
      if (op == "Dropout" && x->has_rank) set(n, 1, ValueType{DType::kBool, true, x->dims});
    } else if (kBroadcast.count(op) || kCompare.count(op) || op == "Where") {
      broadcast(n, kCompare.count(op) ? DType::kBool : op == "Where" ? dtype_of_input(n, 1) : dtype_of_input(n, 0));
    } else if (op == "Cast" || op == "CastLike") {
      DType to = DType::kUndefined;
      if (op == "Cast") dtype_from_onnx((int32_t)n.attr_int("to", 0), &to);
      else to = dtype_of_input(n, 1);
      if (x) set(n, 0, ValueType{to, x->has_rank, x->dims});
      else if (op == "Cast") set_dtype_only(n, 0, to);
    } else if (op == "Slice") {
      if (x) set_dtype_only(n, 0, x->dtype);  // its lengths need the starts and ends
    } else if (kDtypeOfInput0.count(op)) {
      for (size_t o = 0; x && o < n.outputs.size(); ++o) set_dtype_only(n, o, x->dtype);
    } else if (op == "TopK") {
      if (x) set_dtype_only(n, 0, x->dtype);
      if (n.outputs.size() > 1) set_dtype_only(n, 1, DType::kInt64);
    } else if (op == "OneHot") {
      if (dtype_of_input(n, 2) != DType::kUndefined) set_dtype_only(n, 0, dtype_of_input(n, 2));
    } else if (op == "MatMul") {
      matmul(n);
    } else if (op == "Gemm") {
      gemm(n);
    } else if (op == "Conv" || kPool.count(op)) {
      window(n, op == "Conv");
    } else if (kGlobalPool.count(op)) {
      if (!x || !x->has_rank || x->dims.size() < 2) return;
      ValueType v = *x;
      for (size_t i = 2; i < v.dims.size(); ++i) v.dims[i] = SymDim::fixed(1);
      set(n, 0, v);
    } else if (op == "Flatten") {
      flatten(n);
    } else if (op == "Reshape") {
      reshape(n);
    } else if (op == "Transpose") {
      transpose(n);
    } else if (op == "Unsqueeze" || op == "Squeeze") {
      squeeze(n, op == "Unsqueeze");
    } else if (op == "Concat") {
      concat(n);
    } else if (op == "Shape") {
      shape(n);
    } else if (op == "Size") {
      set(n, 0, ValueType{DType::kInt64, true, {}});
    } else if (op == "Gather") {
      gather(n);
    } else if (kReduce.count(op) || op == "ArgMax" || op == "ArgMin") {
      reduce(n);
    } else if (op == "Expand") {
      expand(n);
    } else if (op == "ConstantOfShape") {
      constant_of_shape(n);
    } else if (op == "Constant") {
      constant(n);
    }
  }

  DType dtype_of_input(const Node& n, size_t i) const {
    const ValueType* t = type(n, i);
    return t ? t->dtype : DType::kUndefined;
  }

  void broadcast(const Node& n, DType dtype) {
    ValueType out{dtype, true, {}};
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const ValueType* t = ranked(n, i);
      if (!t) return set_dtype_only(n, 0, dtype);
      std::vector<SymDim> merged(std::max(out.dims.size(), t->dims.size()), SymDim::fixed(1));
      for (size_t k = 0; k < merged.size(); ++k) {
        const size_t from_end = merged.size() - 1 - k;
        SymDim a = from_end < out.dims.size() ? out.dims[out.dims.size() - 1 - from_end] : SymDim::fixed(1);
        SymDim b = from_end < t->dims.size() ? t->dims[t->dims.size() - 1 - from_end] : SymDim::fixed(1);
        merged[k] = broadcast_dim(a, b);
      }
      out.dims = std::move(merged);
    }
    set(n, 0, out);
  }

  void matmul(const Node& n) {
    const ValueType *a = ranked(n, 0), *b = ranked(n, 1);
    const DType dtype = dtype_of_input(n, 0);
    if (!a || !b || a->dims.empty() || b->dims.empty()) return set_dtype_only(n, 0, dtype);
    std::vector<SymDim> ad = a->dims, bd = b->dims;
    const bool a_vector = ad.size() == 1, b_vector = bd.size() == 1;
    if (a_vector) ad.insert(ad.begin(), SymDim::fixed(1));
    if (b_vector) bd.push_back(SymDim::fixed(1));
    ValueType out{dtype, true, {}};
    const size_t batch = std::max(ad.size(), bd.size()) - 2;
    for (size_t k = 0; k < batch; ++k) {
      const size_t from_end = batch - 1 - k;
      const size_t ab = ad.size() - 2, bb = bd.size() - 2;
      SymDim x = from_end < ab ? ad[ab - 1 - from_end] : SymDim::fixed(1);
      SymDim y = from_end < bb ? bd[bb - 1 - from_end] : SymDim::fixed(1);
      out.dims.push_back(broadcast_dim(x, y));
    }
    if (!a_vector) out.dims.push_back(ad[ad.size() - 2]);
    if (!b_vector) out.dims.push_back(bd.back());
    set(n, 0, out);
  }

  void gemm(const Node& n) {
    const ValueType *a = ranked(n, 0), *b = ranked(n, 1);
    const DType dtype = dtype_of_input(n, 0);
    if (!a || !b || a->dims.size() != 2 || b->dims.size() != 2) return set_dtype_only(n, 0, dtype);
    const SymDim m = n.attr_int("transA", 0) ? a->dims[1] : a->dims[0];
    const SymDim cols = n.attr_int("transB", 0) ? b->dims[0] : b->dims[1];
    set(n, 0, ValueType{dtype, true, {m, cols}});
  }

  // Conv and pooling: [N, C or M, spatial...] from the window geometry.
  void window(const Node& n, bool conv) {
    const ValueType* x = ranked(n, 0);
    const DType dtype = dtype_of_input(n, 0);
    if (!x || x->dims.size() < 3) return set_dtype_only(n, 0, dtype);
    const size_t spatial = x->dims.size() - 2;
    std::vector<int64_t> kernel = n.attr_ints("kernel_shape");
    SymDim channels = x->dims[1];
    if (conv) {
      const ValueType* w = ranked(n, 1);
      if (!w || w->dims.size() != x->dims.size()) return set_dtype_only(n, 0, dtype);
      channels = w->dims[0];
      if (kernel.empty()) {
        for (size_t i = 2; i < w->dims.size(); ++i) kernel.push_back(w->dims[i].value);
      }
    }
    ValueType out{dtype, true, {x->dims[0], channels}};
    const std::vector<int64_t> strides = n.attr_ints("strides", std::vector<int64_t>(spatial, 1));
    const std::vector<int64_t> dilations = n.attr_ints("dilations", std::vector<int64_t>(spatial, 1));
    const std::vector<int64_t> pads = n.attr_ints("pads", std::vector<int64_t>(2 * spatial, 0));
    const std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
    const bool shapes_ok = kernel.size() == spatial && strides.size() == spatial && dilations.size() == spatial &&
                           pads.size() == 2 * spatial && n.attr_int("ceil_mode", 0) == 0;
    for (size_t i = 0; i < spatial; ++i) {
      const SymDim& in = x->dims[2 + i];
      if (!shapes_ok || !in.is_fixed() || kernel[i] <= 0 || strides[i] <= 0 || dilations[i] <= 0) {
        out.dims.push_back(SymDim::unknown());
        continue;
      }
      const int64_t extent = dilations[i] * (kernel[i] - 1) + 1;
      int64_t size;
      if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") size = (in.value + strides[i] - 1) / strides[i];
      else if (auto_pad == "VALID") size = (in.value - extent) / strides[i] + 1;
      else size = (in.value + pads[i] + pads[spatial + i] - extent) / strides[i] + 1;
      out.dims.push_back(size >= 0 ? SymDim::fixed(size) : SymDim::unknown());
    }
    set(n, 0, out);
  }

  static SymDim product(const std::vector<SymDim>& dims, size_t begin, size_t end) {
    DimProduct p;
    for (size_t i = begin; i < end; ++i) p.multiply(dims[i]);
    return p.divide(DimProduct{});
  }

  void flatten(const Node& n) {
    const ValueType* x = ranked(n, 0);
    if (!x) return set_dtype_only(n, 0, dtype_of_input(n, 0));
    int64_t axis = n.attr_int("axis", 1);
    const int64_t rank = (int64_t)x->dims.size();
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank) return;
    set(n, 0, ValueType{x->dtype, true, {product(x->dims, 0, (size_t)axis), product(x->dims, (size_t)axis, rank)}});
  }

  void reshape(const Node& n) {
    const ValueType* x = type(n, 0);
    const DType dtype = x ? x->dtype : DType::kUndefined;
    std::vector<int64_t> target;
    if (!constant_ints(n, 1, &target)) return set_dtype_only(n, 0, dtype);
    const bool allow_zero = n.attr_int("allowzero", 0) != 0;
    ValueType out{dtype, true, {}};
    int infer_at = -1;
    DimProduct known_part;
    for (size_t i = 0; i < target.size(); ++i) {
      SymDim d;
      if (target[i] == -1) {
        if (infer_at >= 0) return set_dtype_only(n, 0, dtype);
        infer_at = (int)i;
      } else if (target[i] == 0 && !allow_zero) {
        if (!x || !x->has_rank || i >= x->dims.size()) return set_dtype_only(n, 0, dtype);
        d = x->dims[i];
      } else if (target[i] >= 0) {
        d = SymDim::fixed(target[i]);
      } else {
        return set_dtype_only(n, 0, dtype);
      }
      if (target[i] != -1) known_part.multiply(d);
      out.dims.push_back(d);
    }
    if (infer_at >= 0) {
      DimProduct total;
      if (x && x->has_rank) for (const SymDim& d : x->dims) total.multiply(d);
      else total.valid = false;
      out.dims[(size_t)infer_at] = total.divide(known_part);
    }
    set(n, 0, out);
  }

  void transpose(const Node& n) {
    const ValueType* x = ranked(n, 0);
    if (!x) return set_dtype_only(n, 0, dtype_of_input(n, 0));
    const size_t rank = x->dims.size();
    std::vector<int64_t> perm = n.attr_ints("perm");
    if (perm.empty())
      for (size_t i = 0; i < rank; ++i) perm.push_back((int64_t)(rank - 1 - i));
    if (perm.size() != rank) return;
    ValueType out{x->dtype, true, {}};
    for (int64_t p : perm) {
      if (p < 0 || p >= (int64_t)rank) return;
      out.dims.push_back(x->dims[(size_t)p]);
    }
    set(n, 0, out);
  }

  void squeeze(const Node& n, bool unsqueeze) {
    const ValueType* x = ranked(n, 0);
    const DType dtype = dtype_of_input(n, 0);
    std::vector<int64_t> ax;
    bool given = false;
    if (!x || !axes(n, 13, &ax, &given)) return set_dtype_only(n, 0, dtype);
    const int64_t rank = (int64_t)x->dims.size();
    ValueType out{dtype, true, {}};
    if (unsqueeze) {
      const int64_t out_rank = rank + (int64_t)ax.size();
      std::vector<bool> inserted((size_t)out_rank, false);
      for (int64_t a : ax) {
        if (!normalize(&a, out_rank) || inserted[(size_t)a]) return set_dtype_only(n, 0, dtype);
        inserted[(size_t)a] = true;
      }
      size_t next = 0;
      for (int64_t i = 0; i < out_rank; ++i) out.dims.push_back(inserted[(size_t)i] ? SymDim::fixed(1) : x->dims[next++]);
    } else {
      std::vector<bool> removed((size_t)rank, false);
      if (given) {
        for (int64_t a : ax) {
          if (!normalize(&a, rank)) return set_dtype_only(n, 0, dtype);
          removed[(size_t)a] = true;
        }
      } else {
        for (int64_t i = 0; i < rank; ++i) {
          if (!x->dims[(size_t)i].is_fixed()) return set_dtype_only(n, 0, dtype);  // might be 1
          removed[(size_t)i] = x->dims[(size_t)i].value == 1;
        }
      }
      for (int64_t i = 0; i < rank; ++i) if (!removed[(size_t)i]) out.dims.push_back(x->dims[(size_t)i]);
    }
    set(n, 0, out);
  }

  void concat(const Node& n) {
    const ValueType* first = ranked(n, 0);
    const DType dtype = dtype_of_input(n, 0);
    if (!first) return set_dtype_only(n, 0, dtype);
    const int64_t rank = (int64_t)first->dims.size();
    int64_t axis = n.attr_int("axis", 0);
    if (!normalize(&axis, rank)) return;
    ValueType out = *first;
    int64_t total = 0;
    bool total_known = true;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const ValueType* t = ranked(n, i);
      if (!t || (int64_t)t->dims.size() != rank) return set_dtype_only(n, 0, dtype);
      for (int64_t d = 0; d < rank; ++d) {
        const SymDim& dim = t->dims[(size_t)d];
        if (d == axis) {
          total_known = total_known && dim.is_fixed();
          total += dim.value;
        } else if (!same_dim(out.dims[(size_t)d], dim)) {
          out.dims[(size_t)d] = dim.is_fixed() ? dim : out.dims[(size_t)d].is_fixed() ? out.dims[(size_t)d] : SymDim::unknown();
        }
      }
    }
    out.dims[(size_t)axis] = total_known ? SymDim::fixed(total) : SymDim::unknown();
    set(n, 0, out);
  }

  void shape(const Node& n) {
    const ValueType* x = ranked(n, 0);
    if (!x) return set_dtype_only(n, 0, DType::kInt64);
    const int64_t rank = (int64_t)x->dims.size();
    auto clamp = [&](int64_t v) { return std::min(std::max(v < 0 ? v + rank : v, (int64_t)0), rank); };
    const int64_t begin = clamp(n.attr_int("start", 0)), end = clamp(n.attr_int("end", rank));
    set(n, 0, ValueType{DType::kInt64, true, {SymDim::fixed(std::max<int64_t>(end - begin, 0))}});
  }

  void gather(const Node& n) {
    const ValueType *data = ranked(n, 0), *indices = ranked(n, 1);
    const DType dtype = dtype_of_input(n, 0);
    if (!data || !indices) return set_dtype_only(n, 0, dtype);
    int64_t axis = n.attr_int("axis", 0);
    if (!normalize(&axis, (int64_t)data->dims.size())) return;
    ValueType out{dtype, true, {}};
    out.dims.assign(data->dims.begin(), data->dims.begin() + axis);
    out.dims.insert(out.dims.end(), indices->dims.begin(), indices->dims.end());
    out.dims.insert(out.dims.end(), data->dims.begin() + axis + 1, data->dims.end());
    set(n, 0, out);
  }

  void reduce(const Node& n) {
    const ValueType* x = ranked(n, 0);
    const bool arg = n.op_type == "ArgMax" || n.op_type == "ArgMin";
    const DType dtype = arg ? DType::kInt64 : dtype_of_input(n, 0);
    if (!x) return set_dtype_only(n, 0, dtype);
    const int64_t rank = (int64_t)x->dims.size();
    const bool keep = n.attr_int("keepdims", 1) != 0;
    std::vector<int64_t> ax;
    bool given = false;
    if (arg) {
      ax = {n.attr_int("axis", 0)};
      given = true;
    } else if (!axes(n, n.op_type == "ReduceSum" ? 13 : 18, &ax, &given)) {
      return set_dtype_only(n, 0, dtype);
    }
    if (!given || ax.empty()) {
      if (n.attr_int("noop_with_empty_axes", 0)) return set(n, 0, *x);
      ax.clear();
      for (int64_t i = 0; i < rank; ++i) ax.push_back(i);
    }
    std::vector<bool> reduced((size_t)rank, false);
    for (int64_t a : ax) {
      if (!normalize(&a, rank)) return;
      reduced[(size_t)a] = true;
    }
    ValueType out{dtype, true, {}};
    for (int64_t i = 0; i < rank; ++i) {
      if (!reduced[(size_t)i]) out.dims.push_back(x->dims[(size_t)i]);
      else if (keep) out.dims.push_back(SymDim::fixed(1));
    }
    set(n, 0, out);
  }

  void expand(const Node& n) {
    const ValueType* x = ranked(n, 0);
    const DType dtype = dtype_of_input(n, 0);
    std::vector<int64_t> target;
    if (!x || !constant_ints(n, 1, &target)) return set_dtype_only(n, 0, dtype);
    const size_t rank = std::max(x->dims.size(), target.size());
    ValueType out{dtype, true, {}};
    for (size_t k = 0; k < rank; ++k) {
      const size_t from_end = rank - 1 - k;
      SymDim a = from_end < x->dims.size() ? x->dims[x->dims.size() - 1 - from_end] : SymDim::fixed(1);
      SymDim b = from_end < target.size() ? SymDim::fixed(target[target.size() - 1 - from_end]) : SymDim::fixed(1);
      out.dims.push_back(broadcast_dim(a, b));
    }
    set(n, 0, out);
  }

  void constant_of_shape(const Node& n) {
    const Attribute* value = n.attr("value");
    const DType dtype = value && value->t.defined() ? value->t.dtype() : DType::kFloat32;
    std::vector<int64_t> target;
    if (!constant_ints(n, 0, &target)) return set_dtype_only(n, 0, dtype);
    ValueType out{dtype, true, {}};
    for (int64_t d : target) out.dims.push_back(d >= 0 ? SymDim::fixed(d) : SymDim::unknown());
    set(n, 0, out);
  }

  void constant(const Node& n) {
    if (const Attribute* a = n.attr("value"); a && a->t.defined()) return set(n, 0, ValueType::of_tensor(a->t));
    if (n.attr("value_float")) return set(n, 0, ValueType{DType::kFloat32, true, {}});
    if (n.attr("value_int")) return set(n, 0, ValueType{DType::kInt64, true, {}});
    if (const Attribute* a = n.attr("value_floats"))
      return set(n, 0, ValueType{DType::kFloat32, true, {SymDim::fixed((int64_t)a->floats.size())}});
    if (const Attribute* a = n.attr("value_ints"))
      return set(n, 0, ValueType{DType::kInt64, true, {SymDim::fixed((int64_t)a->ints.size())}});
  }

  const Graph& graph_;
  TypeMap& types_;
  int64_t opset_;
  std::set<std::string> inputs_;
};

}  // namespace

void infer_shapes(const Graph& graph, PassContext& ctx) {
  ctx.types.clear();
  Inferrer(graph, ctx.types).run();
}

}  // namespace hs::passes
