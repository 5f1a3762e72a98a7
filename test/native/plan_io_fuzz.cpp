// Plan (de)serialisation and the plan cache, fuzzed: a graph using every attribute kind, string
// tensors, sequence and optional value kinds and nested subgraphs round-trips byte for byte; every truncation, random byte flips, flips with a
// re-signed checksum (so the parser itself meets the garbage) and header damage are all rejected
// with kInvalidModel or parse into some graph, never crash; the cache stores atomically, loads,
// and treats damaged files as misses. Build and run (from the repository root):
//   g++ -std=c++17 -O1 -g -fsanitize=address,undefined -Wall -Wextra -Inative/include -Inative test/native/plan_io_fuzz.cpp native/core/plan_io.cpp native/core/plan_cache.cpp native/core/tensor.cpp native/core/dtype.cpp native/core/graph.cpp native/core/status.cpp native/core/kernel_registry.cpp -o /tmp/plan_io_fuzz && /tmp/plan_io_fuzz
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/plan_cache.h"

using namespace hs;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (ok) return;
  ++failures;
  std::printf("FAIL: %s\n", what.c_str());
}

template <typename T>
Tensor make_tensor(DType dtype, Shape shape, const std::vector<T>& values) {
  Tensor t = Tensor::empty(dtype, shape);
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
  return t;
}

Attribute attr_of(Attribute::Kind kind) {
  Attribute a;
  a.kind = kind;
  return a;
}

std::shared_ptr<Graph> body_graph(int depth) {
  auto g = std::make_shared<Graph>();
  g->name = "body" + std::to_string(depth);
  g->inputs.push_back(ValueInfo{"i", DType::kInt64, true, {}});
  g->outputs.push_back(ValueInfo{"o", DType::kFloat32, false, {}});
  g->initializers["w"] = make_tensor<float>(DType::kFloat32, {3}, {1.f, 2.f, 3.f});
  Node n;
  n.name = "inner";
  n.op_type = "Add";
  n.inputs = {"w", "outer_value"};
  n.outputs = {"o"};
  if (depth > 0) {
    Attribute g_attr = attr_of(Attribute::Kind::kGraph);
    g_attr.g = body_graph(depth - 1);
    n.attrs["then_branch"] = g_attr;
  }
  g->nodes.push_back(n);
  return g;
}

Graph sample_graph() {
  Graph g;
  g.name = "sample";
  g.opsets = {{"", 17}, {"hs", 1}};
  g.inputs.push_back(ValueInfo{"x", DType::kFloat32, true, {Dim{-1, "batch"}, Dim{3, ""}}});
  g.inputs.push_back(ValueInfo{"flag", DType::kBool, false, {}});
  g.inputs.push_back(ValueInfo{"items", DType::kFloat32, true, {Dim{4, ""}}, ValueKind::kOptionalSequence});
  g.outputs.push_back(ValueInfo{"y", DType::kFloat32, true, {Dim{-1, "batch"}, Dim{-1, ""}}});
  g.initializers["weights"] = make_tensor<float>(DType::kFloat32, {2, 3}, {1, 2, 3, 4, 5, 6});
  g.initializers["shape"] = make_tensor<int64_t>(DType::kInt64, {4}, {0, 1, -1, 7});
  g.initializers["half"] = make_tensor<uint16_t>(DType::kFloat16, {}, {0x3c00});
  g.initializers["empty"] = Tensor::empty(DType::kBool, {0, 5});
  g.initializers["words"] = Tensor::strings({3}, {"", "h\xc3\xa9llo", std::string("a\0b", 3)});
  Node n;
  n.name = "fused";
  n.op_type = "FusedConv";
  n.domain = "hs";
  n.inputs = {"x", "weights", "", "shape"};
  n.outputs = {"y", ""};
  Attribute f = attr_of(Attribute::Kind::kFloat);
  f.f = -0.25f;
  Attribute i = attr_of(Attribute::Kind::kInt);
  i.i = -(int64_t(1) << 40);
  Attribute s = attr_of(Attribute::Kind::kString);
  s.s = std::string("Leaky\0Relu", 10);
  Attribute t = attr_of(Attribute::Kind::kTensor);
  t.t = make_tensor<int32_t>(DType::kInt32, {2}, {7, -7});
  Attribute no_tensor = attr_of(Attribute::Kind::kTensor);
  Attribute floats = attr_of(Attribute::Kind::kFloats);
  floats.floats = {0.5f, 1e30f, -0.f};
  Attribute ints = attr_of(Attribute::Kind::kInts);
  ints.ints = {1, 2, 3, -4};
  Attribute strings = attr_of(Attribute::Kind::kStrings);
  strings.strings = {"", "a", "bc"};
  Attribute type = attr_of(Attribute::Kind::kType);
  type.type = ValueInfo{"", DType::kString, true, {Dim{-1, "n"}}, ValueKind::kSequence};
  Attribute body = attr_of(Attribute::Kind::kGraph);
  body.g = body_graph(2);
  n.attrs = {{"alpha", f}, {"group", i}, {"activation", s}, {"value", t}, {"none", no_tensor},
             {"activation_params", floats}, {"pads", ints}, {"names", strings}, {"type", type}, {"else_branch", body}};
  g.nodes.push_back(n);
  return g;
}

Result<std::shared_ptr<Graph>> parse(const std::string& bytes) {
  return deserialize_graph(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// Recomputes the header's checksum so a damaged payload reaches the parser.
void resign(std::string* bytes) {
  if (bytes->size() < 32) return;
  const uint64_t sum = plan_checksum(reinterpret_cast<const uint8_t*>(bytes->data()) + 32, bytes->size() - 32);
  for (int k = 0; k < 8; ++k) (*bytes)[24 + k] = (char)((sum >> (8 * k)) & 0xff);
}

void test_round_trip(const std::string& bytes) {
  auto g = parse(bytes);
  check(g.is_ok(), "round trip parses: " + g.status().message());
  if (!g.is_ok()) return;
  check(serialize_graph(*g.value()) == bytes, "round trip reserialises to the same bytes");
  const Tensor& w = g.value()->initializers.at("weights");
  check(w.shape() == Shape({2, 3}) && w.data<float>()[5] == 6.f, "initializer values survive");
  const Tensor& words = g.value()->initializers.at("words");
  check(words.dtype() == DType::kString && words.numel() == 3 && words.string_data()[2] == std::string("a\0b", 3),
        "string initializers survive");
  check(g.value()->inputs[2].kind == ValueKind::kOptionalSequence, "value kinds survive");
  check(g.value()->nodes[0].attrs.at("type").type.kind == ValueKind::kSequence, "type attributes survive");
  check((reinterpret_cast<uintptr_t>(w.raw()) & 63) == 0, "initializer data is 64-byte aligned");
  const Node& n = g.value()->nodes.at(0);
  check(n.attr_string("activation", "") == std::string("Leaky\0Relu", 10), "string attribute with a NUL survives");
  check(n.attr("else_branch")->g->nodes[0].attrs.count("then_branch") == 1, "nested subgraphs survive");
}

void test_truncations(const std::string& bytes) {
  int rejected = 0;
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto g = parse(bytes.substr(0, len));
    rejected += !g.is_ok() && g.status().code() == StatusCode::kInvalidModel;
  }
  check(rejected == (int)bytes.size(), "every truncation is rejected as kInvalidModel");
  std::printf("truncations: %d/%zu rejected\n", rejected, bytes.size());
}

void test_flips(const std::string& bytes, std::mt19937_64& rng, bool resigned) {
  const int trials = 20000;
  int rejected = 0, parsed = 0;
  for (int trial = 0; trial < trials; ++trial) {
    std::string damaged = bytes;
    const int flips = 1 + (int)(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const size_t at = (resigned ? 32 : 0) + rng() % (damaged.size() - (resigned ? 32 : 0));
      damaged[at] = (char)(damaged[at] ^ (1 + rng() % 255));
    }
    if (resigned) resign(&damaged);
    auto g = parse(damaged);
    if (g.is_ok()) {
      ++parsed;
      serialize_graph(*g.value());  // whatever parsed must be a usable graph
    } else {
      check(g.status().code() == StatusCode::kInvalidModel, "damage is reported as kInvalidModel");
      ++rejected;
    }
  }
  if (!resigned) check(rejected == trials, "every flip fails the checksum");
  std::printf("%s flips: %d rejected, %d parsed into some graph (of %d)\n", resigned ? "re-signed" : "plain", rejected,
              parsed, trials);
}

void test_garbage(std::mt19937_64& rng) {
  const std::string header = serialize_graph(Graph()).substr(0, 32);
  int rejected = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string garbage = header;
    const size_t size = rng() % 300;
    for (size_t k = 0; k < size; ++k) garbage.push_back((char)(rng() % 4 ? rng() % 8 : rng()));  // small counts
    for (int k = 0; k < 8; ++k) garbage[16 + k] = (char)((size >> (8 * k)) & 0xff);
    resign(&garbage);
    auto g = parse(garbage);
    rejected += !g.is_ok();
    if (!g.is_ok()) check(g.status().code() == StatusCode::kInvalidModel, "garbage is reported as kInvalidModel");
  }
  std::printf("signed garbage payloads: %d/20000 rejected\n", rejected);
}

void test_header(const std::string& bytes) {
  auto damaged = [&](size_t at, char value) {
    std::string copy = bytes;
    copy[at] = value;
    return parse(copy);
  };
  check(!damaged(0, 'X').is_ok(), "bad magic is rejected");
  check(damaged(8, 99).status().message().find("format version") != std::string::npos, "other format versions are named");
  check(!parse(bytes + "x").is_ok(), "trailing bytes are rejected");
  check(!parse("").is_ok(), "an empty file is rejected");
}

void test_sha256() {
  auto hex = [](const std::string& s) { return sha256_hex(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  check(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 of the empty string");
  check(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 of abc");
  check(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        "SHA-256 of the two-block FIPS vector");
  check(hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
        "SHA-256 of a million a's");
}

void test_cache(const std::string& bytes) {
  const std::string dir = std::filesystem::temp_directory_path() / ("hs-plan-fuzz-" + std::to_string(getpid()));
  const std::string model = "model bytes";
  const auto* m = reinterpret_cast<const uint8_t*>(model.data());
  const std::string key = plan_cache_key(m, model.size(), "{\"o\":2}");
  check(key.size() == 64 && key == plan_cache_key(m, model.size(), "{\"o\":2}"), "keys are 64 hex digits, stable");
  check(key != plan_cache_key(m, model.size(), "{\"o\":1}"), "the options change the key");
  check(key != plan_cache_key(m, model.size() - 1, "{\"o\":2}"), "the model bytes change the key");
  std::string why;
  check(!plan_cache_load(dir, key, &why) && why.empty(), "a missing file is a plain miss");
  auto graph = parse(bytes).take();
  check(plan_cache_store(dir, key, *graph).is_ok(), "store succeeds (creating the directory)");
  auto loaded = plan_cache_load(dir, key, &why);
  check(loaded && serialize_graph(*loaded) == bytes, "load returns the stored graph: " + why);
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) entries += 1 + (e.path().string().find(".tmp") != std::string::npos) * 100;
  check(entries == 1, "exactly one file, no temporary left");
  const std::string path = dir + "/" + key + ".hsplan";
  std::filesystem::resize_file(path, bytes.size() / 2);
  check(!plan_cache_load(dir, key, &why) && !why.empty(), "a truncated cache file is a miss with a reason");
  check(!plan_cache_load(dir, "../../etc/passwd", &why) && !plan_cache_store(dir, "../x", *graph).is_ok(),
        "keys that are not hex are refused");
  std::filesystem::remove_all(dir);
}

}  // namespace

int main() {
  std::mt19937_64 rng(12345);
  const std::string bytes = serialize_graph(sample_graph());
  std::printf("sample plan: %zu bytes\n", bytes.size());
  test_round_trip(bytes);
  test_truncations(bytes);
  test_flips(bytes, rng, false);
  test_flips(bytes, rng, true);
  test_garbage(rng);
  test_header(bytes);
  test_sha256();
  test_cache(bytes);
  std::printf(failures ? "%d FAILED\n" : "all passed\n", failures);
  return failures ? 1 : 0;
}
