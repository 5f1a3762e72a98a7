// DeviceTensor: a dtype, a shape and device memory kept alive by `owner` (an arena block of the
// execution context, or the plan's weight block). Views (Reshape, Squeeze, ...) share the owner.
#pragma once
#include <memory>

#include "hs/tensor.h"

namespace hs::cuda {

struct DeviceTensor {
  DType dtype = DType::kUndefined;
  Shape shape;
  void* data = nullptr;
  std::shared_ptr<void> owner;

  int64_t numel() const { return shape_numel(shape); }
  size_t nbytes() const { return (size_t)numel() * dtype_size(dtype); }
  int64_t rank() const { return (int64_t)shape.size(); }
  template <typename T> T* as() const { return static_cast<T*>(data); }
  DeviceTensor view(Shape new_shape) const { return DeviceTensor{dtype, std::move(new_shape), data, owner}; }
};

}  // namespace hs::cuda
