// The plan file format: a built graph, written so that loading it is one read, one checksum pass
// and a parse that copies no weight bytes.
//
//   header  (32 bytes)  "HSPLAN\0\0" | u32 format version | u32 header size (32)
//                       | u64 payload size | u64 checksum of the payload
//   payload             graph, all integers little-endian:
//     graph       = str name, u32 n {str domain, i64 version}, u32 n value_info (inputs),
//                   u32 n value_info (outputs), u32 n {str name, tensor} (initializers),
//                   u32 n node
//     value_info  = str name, u8 dtype, u8 has_shape, u32 n {i64 value, str param}, u8 kind
//     node        = str name, str op_type, str domain, u32 n str (inputs), u32 n str (outputs),
//                   u32 n {str key, attribute}
//     attribute   = u8 kind, then by kind: f32 | i64 | str | u8 defined + tensor
//                   | u8 present + graph | u32 n f32 | u32 n i64 | u32 n str | value_info
//     tensor      = u8 dtype, u32 rank, i64 dims[rank], then
//                   numeric: u64 byte size, zero padding up to a 64-byte file offset, the bytes
//                            (host element layout: little-endian machines)
//                   string:  one str per element
//     str         = u32 length, bytes
//
// The reader checks every read against the end of the payload and every count against the
// bytes left (so garbage cannot make it allocate much), dtypes, dims, byte sizes and the nesting
// depth of subgraphs; any failure is a kInvalidModel Status saying where.
#include <cstring>

#include "core/plan_cache.h"

namespace hs {
namespace {

constexpr char kMagic[8] = {'H', 'S', 'P', 'L', 'A', 'N', 0, 0};
constexpr size_t kHeaderSize = 32;
constexpr size_t kTensorAlignment = 64;
constexpr int kMaxGraphDepth = 32;
constexpr size_t kMaxRank = 64;

void put_u64_at(std::string& out, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[at + i] = (char)((v >> (8 * i)) & 0xff);
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back((char)v); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back((char)((v >> (8 * i)) & 0xff));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back((char)((v >> (8 * i)) & 0xff));
  }
  void i64(int64_t v) { u64((uint64_t)v); }
  void f32(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    u32(bits);
  }
  void str(const std::string& s) {
    u32((uint32_t)s.size());
    out_.append(s);
  }

  void tensor(const Tensor& t) {
    u8((uint8_t)t.dtype());
    u32((uint32_t)t.shape().size());
    for (int64_t d : t.shape()) i64(d);
    if (t.dtype() == DType::kString) {
      for (int64_t i = 0; i < t.numel(); ++i) str(t.string_data()[i]);
      return;
    }
    const size_t bytes = t.nbytes();
    u64(bytes);
    out_.append((kTensorAlignment - out_.size() % kTensorAlignment) % kTensorAlignment, '\0');
    if (bytes) out_.append(static_cast<const char*>(t.raw()), bytes);
  }

  void value_info(const ValueInfo& v) {
    str(v.name);
    u8((uint8_t)v.dtype);
    u8(v.has_shape ? 1 : 0);
    u32((uint32_t)v.dims.size());
    for (const Dim& d : v.dims) {
      i64(d.value);
      str(d.param);
    }
    u8((uint8_t)v.kind);
  }

  void attribute(const Attribute& a) {
    u8((uint8_t)a.kind);
    switch (a.kind) {
      case Attribute::Kind::kFloat: f32(a.f); break;
      case Attribute::Kind::kInt: i64(a.i); break;
      case Attribute::Kind::kString: str(a.s); break;
      case Attribute::Kind::kTensor:
        u8(a.t.defined() ? 1 : 0);
        if (a.t.defined()) tensor(a.t);
        break;
      case Attribute::Kind::kGraph:
        u8(a.g ? 1 : 0);
        if (a.g) graph(*a.g);
        break;
      case Attribute::Kind::kFloats:
        u32((uint32_t)a.floats.size());
        for (float f : a.floats) f32(f);
        break;
      case Attribute::Kind::kInts:
        u32((uint32_t)a.ints.size());
        for (int64_t i : a.ints) i64(i);
        break;
      case Attribute::Kind::kStrings:
        u32((uint32_t)a.strings.size());
        for (const std::string& s : a.strings) str(s);
        break;
      case Attribute::Kind::kType: value_info(a.type); break;
    }
  }

  void node(const Node& n) {
    str(n.name);
    str(n.op_type);
    str(n.domain);
    u32((uint32_t)n.inputs.size());
    for (const std::string& s : n.inputs) str(s);
    u32((uint32_t)n.outputs.size());
    for (const std::string& s : n.outputs) str(s);
    u32((uint32_t)n.attrs.size());
    for (const auto& [key, a] : n.attrs) {
      str(key);
      attribute(a);
    }
  }

  void graph(const Graph& g) {
    str(g.name);
    u32((uint32_t)g.opsets.size());
    for (const auto& [domain, version] : g.opsets) {
      str(domain);
      i64(version);
    }
    u32((uint32_t)g.inputs.size());
    for (const ValueInfo& v : g.inputs) value_info(v);
    u32((uint32_t)g.outputs.size());
    for (const ValueInfo& v : g.outputs) value_info(v);
    u32((uint32_t)g.initializers.size());
    for (const auto& [name, t] : g.initializers) {
      str(name);
      tensor(t);
    }
    u32((uint32_t)g.nodes.size());
    for (const Node& n : g.nodes) node(n);
  }

 private:
  std::string& out_;
};

// Reads the payload of `file` (the whole file; offsets are file offsets) up to `end`.
class Reader {
 public:
  Reader(std::shared_ptr<Buffer> file, size_t begin, size_t end)
      : file_(std::move(file)), base_(static_cast<const uint8_t*>(file_->data())), pos_(begin), end_(end) {}

  Status error() const { return error_; }
  bool ok() const { return error_.is_ok(); }
  size_t pos() const { return pos_; }
  size_t left() const { return end_ - pos_; }

  bool fail(const std::string& what) {
    if (ok()) error_ = Status(StatusCode::kInvalidModel, str_cat("plan file is corrupt: ", what, " at offset ", pos_));
    return false;
  }
  bool bytes(void* dst, size_t n, const char* what) {
    if (!ok()) return false;
    if (n > left()) return fail(str_cat("truncated reading ", what));
    std::memcpy(dst, base_ + pos_, n);
    pos_ += n;
    return true;
  }
  bool u8(uint8_t* v, const char* what) { return bytes(v, 1, what); }
  bool u32(uint32_t* v, const char* what) {
    uint8_t b[4];
    if (!bytes(b, 4, what)) return false;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
  }
  bool u64(uint64_t* v, const char* what) {
    uint8_t b[8];
    if (!bytes(b, 8, what)) return false;
    *v = 0;
    for (int i = 7; i >= 0; --i) *v = *v << 8 | b[i];
    return true;
  }
  bool i64(int64_t* v, const char* what) {
    uint64_t u = 0;
    if (!u64(&u, what)) return false;
    *v = (int64_t)u;
    return true;
  }
  bool f32(float* v, const char* what) {
    uint32_t bits = 0;
    if (!u32(&bits, what)) return false;
    std::memcpy(v, &bits, 4);
    return true;
  }
  bool str(std::string* s, const char* what) {
    uint32_t n = 0;
    if (!u32(&n, what)) return false;
    if (n > left()) return fail(str_cat("truncated reading ", what));
    s->assign(reinterpret_cast<const char*>(base_ + pos_), n);
    pos_ += n;
    return true;
  }
  // A count of items that each take at least `min_bytes` of what is left.
  bool count(uint32_t* n, size_t min_bytes, const char* what) {
    if (!u32(n, what)) return false;
    if ((uint64_t)*n * min_bytes > left()) return fail(str_cat("count ", *n, " of ", what, " exceeds the file"));
    return true;
  }

  bool dtype(DType* out, const char* what) {
    uint8_t v = 0;
    if (!u8(&v, what)) return false;
    *out = (DType)v;
    if (*out != DType::kUndefined && dtype_size(*out) == 0 && *out != DType::kString) return fail(str_cat("bad dtype ", (int)v));
    return true;
  }

  bool tensor(Tensor* out) {
    DType dt = DType::kUndefined;
    uint32_t rank = 0;
    if (!dtype(&dt, "tensor dtype") || !u32(&rank, "tensor rank")) return false;
    if (dt == DType::kUndefined) return fail("tensor of an unsupported dtype");
    if (rank > kMaxRank) return fail(str_cat("tensor rank ", rank));
    Shape shape(rank);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      if (!i64(&shape[d], "tensor dim")) return false;
      if (shape[d] < 0 || (shape[d] > 0 && numel > end_ / (uint64_t)shape[d])) return fail("bad tensor dims");
      numel *= (uint64_t)shape[d];
    }
    if (dt == DType::kString) return strings(std::move(shape), numel, out);
    uint64_t size = 0;
    if (!u64(&size, "tensor byte size")) return false;
    if (size != numel * dtype_size(dt)) return fail("tensor byte size does not match its shape");
    const size_t pad = (kTensorAlignment - pos_ % kTensorAlignment) % kTensorAlignment;
    if (pad > left() || size > left() - pad) return fail("truncated tensor data");
    pos_ += pad;
    *out = Tensor(dt, shape, file_, pos_);
    pos_ += size;
    return true;
  }

  // The elements of a string tensor (each at least its 4-byte length).
  bool strings(Shape shape, uint64_t numel, Tensor* out) {
    if (numel > left() / 4) return fail(str_cat("count ", numel, " of strings exceeds the file"));
    std::vector<std::string> values((size_t)numel);
    for (std::string& v : values) if (!str(&v, "string element")) return false;
    *out = Tensor::strings(std::move(shape), std::move(values));
    return true;
  }

  bool value_info(ValueInfo* v) {
    uint8_t has_shape = 0, kind = 0;
    uint32_t n = 0;
    if (!str(&v->name, "value name") || !dtype(&v->dtype, "value dtype") || !u8(&has_shape, "value has_shape") ||
        !count(&n, 12, "dims"))
      return false;
    if (has_shape > 1 || (!has_shape && n)) return fail("bad value shape flag");
    v->has_shape = has_shape == 1;
    v->dims.resize(n);
    for (Dim& d : v->dims)
      if (!i64(&d.value, "dim") || !str(&d.param, "dim param")) return false;
    if (!u8(&kind, "value kind")) return false;
    if (kind > (uint8_t)ValueKind::kOptionalSequence) return fail(str_cat("bad value kind ", (int)kind));
    v->kind = (ValueKind)kind;
    return true;
  }

  bool attribute(Attribute* a, int depth) {
    uint8_t kind = 0, flag = 0;
    uint32_t n = 0;
    if (!u8(&kind, "attribute kind")) return false;
    if (kind > (uint8_t)Attribute::Kind::kType) return fail(str_cat("bad attribute kind ", (int)kind));
    a->kind = (Attribute::Kind)kind;
    switch (a->kind) {
      case Attribute::Kind::kFloat: return f32(&a->f, "float attribute");
      case Attribute::Kind::kInt: return i64(&a->i, "int attribute");
      case Attribute::Kind::kString: return str(&a->s, "string attribute");
      case Attribute::Kind::kTensor:
        if (!u8(&flag, "tensor flag")) return false;
        if (flag > 1) return fail("bad tensor flag");
        return !flag || tensor(&a->t);
      case Attribute::Kind::kGraph:
        if (!u8(&flag, "graph flag")) return false;
        if (flag > 1) return fail("bad graph flag");
        if (!flag) return true;
        a->g = std::make_shared<Graph>();
        return graph(a->g.get(), depth + 1);
      case Attribute::Kind::kFloats:
        if (!count(&n, 4, "floats")) return false;
        a->floats.resize(n);
        for (float& f : a->floats) if (!f32(&f, "floats")) return false;
        return true;
      case Attribute::Kind::kInts:
        if (!count(&n, 8, "ints")) return false;
        a->ints.resize(n);
        for (int64_t& i : a->ints) if (!i64(&i, "ints")) return false;
        return true;
      case Attribute::Kind::kStrings:
        if (!count(&n, 4, "strings")) return false;
        a->strings.resize(n);
        for (std::string& s : a->strings) if (!str(&s, "strings")) return false;
        return true;
      case Attribute::Kind::kType: return value_info(&a->type);
    }
    return fail("bad attribute kind");
  }

  bool names(std::vector<std::string>* out, const char* what) {
    uint32_t n = 0;
    if (!count(&n, 4, what)) return false;
    out->resize(n);
    for (std::string& s : *out) if (!str(&s, what)) return false;
    return true;
  }

  bool node(Node* n, int depth) {
    uint32_t attrs = 0;
    if (!str(&n->name, "node name") || !str(&n->op_type, "op type") || !str(&n->domain, "domain") ||
        !names(&n->inputs, "node inputs") || !names(&n->outputs, "node outputs") || !count(&attrs, 5, "attributes"))
      return false;
    for (uint32_t i = 0; i < attrs; ++i) {
      std::string key;
      Attribute a;
      if (!str(&key, "attribute name") || !attribute(&a, depth)) return false;
      if (!n->attrs.emplace(key, std::move(a)).second) return fail(str_cat("duplicate attribute '", key, "'"));
    }
    return true;
  }

  bool graph(Graph* g, int depth) {
    if (depth > kMaxGraphDepth) return fail("subgraphs nested too deeply");
    uint32_t n = 0;
    if (!str(&g->name, "graph name") || !count(&n, 12, "opsets")) return false;
    for (uint32_t i = 0; i < n; ++i) {
      std::string domain;
      int64_t version = 0;
      if (!str(&domain, "opset domain") || !i64(&version, "opset version")) return false;
      g->opsets[domain] = version;
    }
    for (auto* list : {&g->inputs, &g->outputs}) {
      if (!count(&n, 10, "value infos")) return false;
      list->resize(n);
      for (ValueInfo& v : *list) if (!value_info(&v)) return false;
    }
    if (!count(&n, 17, "initializers")) return false;
    for (uint32_t i = 0; i < n; ++i) {
      std::string name;
      Tensor t;
      if (!str(&name, "initializer name") || !tensor(&t)) return false;
      if (!g->initializers.emplace(name, std::move(t)).second) return fail(str_cat("duplicate initializer '", name, "'"));
    }
    if (!count(&n, 24, "nodes")) return false;
    g->nodes.resize(n);
    for (Node& node_ref : g->nodes) if (!node(&node_ref, depth)) return false;
    return true;
  }

 private:
  std::shared_ptr<Buffer> file_;
  const uint8_t* base_;
  size_t pos_, end_;
  Status error_;
};

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

uint64_t mix64(uint64_t h) {  // a bijective avalanche step
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

// Four independent lanes over 32-byte blocks (each lane: xor the word, multiply by an odd
// constant, fold the high half down), then the tail, the length, and an avalanche of each lane.
// Not cryptographic: it detects damage; the cache key (SHA-256) is what resists collisions.
uint64_t plan_checksum(const uint8_t* data, size_t size) {
  constexpr uint64_t kOdd = 0x9e3779b97f4a7c15ULL;
  uint64_t lanes[4] = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL};
  size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    for (int l = 0; l < 4; ++l) {
      lanes[l] = (lanes[l] ^ load_le64(data + i + 8 * l)) * kOdd;
      lanes[l] ^= lanes[l] >> 32;
    }
  }
  uint8_t tail[32] = {};
  std::memcpy(tail, data + i, size - i);
  for (int l = 0; l < 4; ++l) lanes[l] = mix64((lanes[l] ^ load_le64(tail + 8 * l)) * kOdd);
  uint64_t h = mix64(size ^ kOdd);
  for (int l = 0; l < 4; ++l) h = mix64(h ^ lanes[l]) * kOdd;
  return mix64(h);
}

std::string serialize_graph(const Graph& graph) {
  std::string out(kHeaderSize, '\0');
  std::memcpy(&out[0], kMagic, sizeof kMagic);
  Writer(out).graph(graph);
  const uint64_t payload = out.size() - kHeaderSize;
  std::string header;
  Writer w(header);
  w.u32(kPlanFormatVersion);
  w.u32((uint32_t)kHeaderSize);
  std::memcpy(&out[8], header.data(), header.size());
  put_u64_at(out, 16, payload);
  put_u64_at(out, 24, plan_checksum(reinterpret_cast<const uint8_t*>(out.data()) + kHeaderSize, payload));
  return out;
}

Result<std::shared_ptr<Graph>> deserialize_graph(std::shared_ptr<Buffer> file) {
  auto corrupt = [](const std::string& why) { return Status(StatusCode::kInvalidModel, "plan file " + why); };
  if (!file) return corrupt("is missing");
  const uint8_t* p = static_cast<const uint8_t*>(file->data());
  const size_t size = file->bytes();
  if (size < kHeaderSize || std::memcmp(p, kMagic, sizeof kMagic) != 0) return corrupt("has no HSPLAN header");
  const uint32_t version = (uint32_t)load_le64(p + 8) & 0xffffffffu;
  const uint32_t header_size = (uint32_t)(load_le64(p + 8) >> 32);
  if (version != kPlanFormatVersion)
    return corrupt(str_cat("has format version ", version, ", this library reads ", kPlanFormatVersion));
  if (header_size != kHeaderSize) return corrupt(str_cat("has a header of ", header_size, " bytes"));
  const uint64_t payload = load_le64(p + 16);
  if (payload != size - kHeaderSize)
    return corrupt(str_cat("is truncated or padded: ", size - kHeaderSize, " payload bytes, header says ", payload));
  if (plan_checksum(p + kHeaderSize, payload) != load_le64(p + 24)) return corrupt("fails its checksum");
  auto graph = std::make_shared<Graph>();
  Reader reader(file, kHeaderSize, size);
  if (!reader.graph(graph.get(), 0)) return reader.error();
  if (reader.left() != 0) return corrupt(str_cat("has ", reader.left(), " unread bytes after the graph"));
  return graph;
}

Result<std::shared_ptr<Graph>> deserialize_graph(const uint8_t* data, size_t size) {
  if (!data && size) return Status(StatusCode::kInvalidArgument, "deserialize_graph: null data");
  std::shared_ptr<Buffer> copy = Buffer::allocate(size);
  if (!copy) return Status(StatusCode::kOutOfMemory, str_cat("out of memory copying a ", size, "-byte plan"));
  if (size) std::memcpy(copy->data(), data, size);
  return deserialize_graph(std::move(copy));
}

}  // namespace hs
