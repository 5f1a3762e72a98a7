// Measures the machine's memory read bandwidth, the bound for decoding one token (every weight
// byte is read once per step), so benchmarks can report decode speed as a fraction of it.
#pragma once
#include <cstddef>

#include "hs/status.h"
#include "hs/thread_pool.h"

namespace hs::llm {

// Best of `passes` timed reads of a `bytes` buffer (much larger than the caches) split across the
// pool's threads; bytes per second in *out.
Status measure_read_bandwidth(ThreadPool& pool, size_t bytes, int passes, double* out);

}  // namespace hs::llm
