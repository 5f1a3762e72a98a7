// The data-movement kernels move elements as unsigned integers of their width, whatever the dtype:
// by_element_size calls f(T{}) with T = uint8_t, uint16_t, uint32_t or uint64_t for an element of
// 1, 2, 4 or 8 bytes, and fails with ERR_TYPE naming `what` for any other size.
#pragma once
#include <cstddef>
#include <cstdint>

#include "hs/status.h"

namespace hs::cuda {

template <typename F>
Status by_element_size(size_t size, const char* what, F&& f) {
  switch (size) {
    case 1: return f(uint8_t{});
    case 2: return f(uint16_t{});
    case 4: return f(uint32_t{});
    case 8: return f(uint64_t{});
    default: return Status(StatusCode::kType, str_cat(what, ": element size ", size, " is not supported"));
  }
}

}  // namespace hs::cuda
