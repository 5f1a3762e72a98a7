// Tensor: a dtype, a shape and a reference-counted byte buffer (with an offset, so reshapes and
// slices along the first axis are views). Host memory only; device buffers live in backends.
// String tensors (dtype kString) hold std::string elements in a shared vector instead: their
// buffer is null and nbytes() is 0, so byte copies, the buffer pool and plan weights never treat
// strings as raw bytes; only code that asks for string_data() sees them.
#pragma once
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "hs/dtype.h"
#include "hs/status.h"

namespace hs {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);

struct HostMemoryStats {
  int64_t bytes;    // owned by live Buffers
  int64_t buffers;  // live owning Buffers
};
HostMemoryStats host_memory_stats();
// Bytes the C allocator has handed out to the whole process and not taken back; -1 where unknown.
int64_t malloc_in_use_bytes();

// Thrown by the allocations kernels make through Tensor::empty / KernelContext::output, whose
// signatures cannot return a Status; the plan turns it into ERR_OUT_OF_MEMORY (run_kernel).
class OutOfMemory : public std::bad_alloc {
 public:
  explicit OutOfMemory(size_t bytes);
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// Bytes of a tensor of this dtype and shape; SIZE_MAX when the count overflows (no allocation
// can then succeed, so the overflow is reported as out of memory instead of wrapping).
size_t tensor_bytes(DType dtype, const Shape& shape);

// Owned, 64-byte aligned host memory. Also wraps memory owned elsewhere (a JS ArrayBuffer,
// an mmap'ed weight file) with a release callback.
class Buffer {
 public:
  static std::shared_ptr<Buffer> allocate(size_t bytes);
  // For large, long-lived buffers that are streamed through (the LLM's weights and KV cache): from
  // 2 MiB up, a 2 MiB-aligned mapping advised MADV_HUGEPAGE, so that Linux can back it with
  // transparent huge pages (fewer TLB misses; the hardware prefetchers stop at 4 KiB page
  // boundaries): plain reads on the 2-core dev VM go from 46-48 to 67-69 GB/s. Smaller: allocate().
  static std::shared_ptr<Buffer> allocate_huge(size_t bytes);
  static std::shared_ptr<Buffer> wrap(void* data, size_t bytes, std::shared_ptr<void> owner);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  // True for memory this Buffer allocated (false for wrapped memory owned elsewhere).
  bool owned() const { return owned_; }

 private:
  Buffer() = default;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  bool owned_ = false;
  size_t mapped_ = 0;  // allocate_huge's mapping length (0: aligned_alloc)
  std::shared_ptr<void> owner_;
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, Shape shape, std::shared_ptr<Buffer> buffer, size_t offset = 0)
      : dtype_(dtype), shape_(std::move(shape)), buffer_(std::move(buffer)), offset_(offset) {}

  // A new zero-initialised tensor (empty strings for kString).
  static Tensor zeros(DType dtype, const Shape& shape);
  // A new uninitialised tensor (empty strings for kString). Throws OutOfMemory when it cannot allocate.
  static Tensor empty(DType dtype, const Shape& shape);
  // A string tensor; values.size() must equal the shape's element count.
  static Tensor strings(Shape shape, std::vector<std::string> values);

  bool defined() const { return dtype_ != DType::kUndefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return (int64_t)shape_.size(); }
  int64_t dim(int64_t i) const { return shape_[i < 0 ? i + rank() : i]; }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return (size_t)numel() * dtype_size(dtype_); }
  const std::shared_ptr<Buffer>& buffer() const { return buffer_; }
  size_t offset() const { return offset_; }

  void* raw() const { return buffer_ ? (char*)buffer_->data() + offset_ : nullptr; }
  template <typename T> T* data() const { return static_cast<T*>(raw()); }
  // The elements of a string tensor (numel() of them); nullptr for every other dtype.
  std::string* string_data() const { return strings_ ? strings_->data() : nullptr; }

  // Same data, new shape (element counts must match).
  Tensor reshaped(Shape shape) const {
    Tensor t(dtype_, std::move(shape), buffer_, offset_);
    t.strings_ = strings_;
    return t;
  }
  // A deep copy.
  Tensor clone() const;

  // Reads an integer tensor of any integer dtype as int64 values (for shapes, axes, indices).
  std::vector<int64_t> to_int64_vector() const;
  // Reads a float tensor of any float dtype as float32 values, or as double (exact).
  std::vector<float> to_float_vector() const;
  std::vector<double> to_double_vector() const;

 private:
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  std::shared_ptr<Buffer> buffer_;
  size_t offset_ = 0;
  std::shared_ptr<std::vector<std::string>> strings_;  // kString only
};

}  // namespace hs
