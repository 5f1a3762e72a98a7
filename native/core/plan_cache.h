// The engine cache: a built (optimised) graph serialised to `<dir>/<key>.hsplan`. The key hashes
// the model bytes, the build options, the device (name, SM, driver and runtime versions) and the
// library version. Files carry a magic header, a format version and a checksum; a corrupt, truncated
// or foreign file is reported as a miss (and overwritten), never trusted. Writes are atomic
// (temp file + rename), so concurrent builders in several processes never see half a file.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "hs/graph.h"
#include "hs/status.h"

namespace hs {

// Serialises a graph (nodes, attributes incl. subgraphs, initializers, inputs/outputs, opsets).
// The format (plan_io.cpp): a 32-byte header (magic "HSPLAN\0\0", format version, payload size,
// checksum of the payload), then the payload, little-endian, tensor data 64-byte aligned.
std::string serialize_graph(const Graph& graph);
// Validates everything (header, size, checksum, every count and bound) and copies `data` once;
// a truncated, damaged or foreign file is a kInvalidModel Status, never a crash.
Result<std::shared_ptr<Graph>> deserialize_graph(const uint8_t* data, size_t size);
// The same without the copy: the graph's initializers are views into `file`, whose data must
// start 64-byte aligned (Buffer::allocate memory is).
Result<std::shared_ptr<Graph>> deserialize_graph(std::shared_ptr<Buffer> file);

// The plan format's version (part of the cache key and the header) and its payload checksum.
constexpr uint32_t kPlanFormatVersion = 2;  // 2: string tensors, value kinds, type attributes
uint64_t plan_checksum(const uint8_t* data, size_t size);

// SHA-256 of `data`, as 64 lowercase hex digits (the cache key's hash).
std::string sha256_hex(const uint8_t* data, size_t size);

// A hex key for the cache file name: sha256_hex over the format version, the registered kernels,
// `options_fingerprint` and the model bytes.
std::string plan_cache_key(const uint8_t* model, size_t model_size, const std::string& options_fingerprint);

// Loads <dir>/<key>.hsplan. A missing or invalid file returns a null pointer (a miss) and, when
// invalid, `why` says what was wrong.
std::shared_ptr<Graph> plan_cache_load(const std::string& dir, const std::string& key, std::string* why);
// Writes atomically; creates `dir` when needed.
Status plan_cache_store(const std::string& dir, const std::string& key, const Graph& graph);

}  // namespace hs
