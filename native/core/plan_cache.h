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
std::string serialize_graph(const Graph& graph);
Result<std::shared_ptr<Graph>> deserialize_graph(const uint8_t* data, size_t size);

// A hex key for the cache file name.
std::string plan_cache_key(const uint8_t* model, size_t model_size, const std::string& options_fingerprint);

// Loads <dir>/<key>.hsplan. A missing or invalid file returns a null pointer (a miss) and, when
// invalid, `why` says what was wrong.
std::shared_ptr<Graph> plan_cache_load(const std::string& dir, const std::string& key, std::string* why);
// Writes atomically; creates `dir` when needed.
Status plan_cache_store(const std::string& dir, const std::string& key, const Graph& graph);

}  // namespace hs
