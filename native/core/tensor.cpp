#include "hs/tensor.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace hs {
namespace {
// Host memory Buffers own right now: what a leak test reads after dispose().
std::atomic<int64_t> g_live_bytes{0};
std::atomic<int64_t> g_live_buffers{0};
}  // namespace

HostMemoryStats host_memory_stats() { return {g_live_bytes.load(), g_live_buffers.load()}; }

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) { return str_cat(shape); }

OutOfMemory::OutOfMemory(size_t bytes)
    : message_(bytes == SIZE_MAX ? std::string("a tensor's size overflows")
                                 : str_cat("cannot allocate ", bytes, " bytes of host memory")) {}

size_t tensor_bytes(DType dtype, const Shape& shape) {
  size_t bytes = dtype_size(dtype);
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(bytes, (size_t)d, &bytes)) return SIZE_MAX;
  return bytes;
}

std::shared_ptr<Buffer> Buffer::allocate(size_t bytes) {
  std::shared_ptr<Buffer> b(new Buffer());
  size_t rounded = (bytes + 63) / 64 * 64;
  b->data_ = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!b->data_) return nullptr;
  b->bytes_ = bytes;
  b->owned_ = true;
  g_live_bytes += (int64_t)bytes;
  ++g_live_buffers;
  return b;
}

std::shared_ptr<Buffer> Buffer::allocate_huge(size_t bytes) {
  constexpr size_t kHuge = size_t(2) << 20, kPage = 4096;
  if (bytes < kHuge) return allocate(bytes);
  const size_t len = (bytes + kPage - 1) / kPage * kPage;
  // Over-map by one huge page, then unmap the head and tail around the aligned start: the mapping
  // ends at `len`, so a last partial 2 MiB extent stays in small pages (no rounding up of memory).
  void* raw = mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = ((uintptr_t)raw + kHuge - 1) & ~(uintptr_t)(kHuge - 1);
  const size_t head = start - (uintptr_t)raw;
  if (head) munmap(raw, head);
  if (kHuge - head) munmap(reinterpret_cast<char*>(start) + len, kHuge - head);
#ifdef MADV_HUGEPAGE
  madvise(reinterpret_cast<void*>(start), len, MADV_HUGEPAGE);  // advice: the kernel may decline
#endif
  std::shared_ptr<Buffer> b(new Buffer());
  b->data_ = reinterpret_cast<void*>(start);
  b->bytes_ = bytes;
  b->owned_ = true;
  b->mapped_ = len;
  g_live_bytes += (int64_t)bytes;
  ++g_live_buffers;
  return b;
}

std::shared_ptr<Buffer> Buffer::wrap(void* data, size_t bytes, std::shared_ptr<void> owner) {
  std::shared_ptr<Buffer> b(new Buffer());
  b->data_ = data;
  b->bytes_ = bytes;
  b->owner_ = std::move(owner);
  return b;
}

Buffer::~Buffer() {
  if (!owned_) return;
  if (mapped_) munmap(data_, mapped_);
  else std::free(data_);
  g_live_bytes -= (int64_t)bytes_;
  --g_live_buffers;
}

Tensor Tensor::strings(Shape shape, std::vector<std::string> values) {
  Tensor t(DType::kString, std::move(shape), nullptr);
  t.strings_ = std::make_shared<std::vector<std::string>>(std::move(values));
  return t;
}

Tensor Tensor::empty(DType dtype, const Shape& shape) {
  if (dtype == DType::kString) return strings(shape, std::vector<std::string>((size_t)shape_numel(shape)));
  const size_t bytes = tensor_bytes(dtype, shape);
  std::shared_ptr<Buffer> buffer = bytes == SIZE_MAX ? nullptr : Buffer::allocate(bytes);
  if (!buffer) throw OutOfMemory(bytes);
  return Tensor(dtype, shape, std::move(buffer));
}

Tensor Tensor::zeros(DType dtype, const Shape& shape) {
  Tensor t = empty(dtype, shape);
  if (t.nbytes()) std::memset(t.raw(), 0, t.nbytes());
  return t;
}

Tensor Tensor::clone() const {
  if (strings_) return strings(shape_, *strings_);
  Tensor t = empty(dtype_, shape_);
  if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

std::vector<int64_t> Tensor::to_int64_vector() const {
  std::vector<int64_t> out((size_t)numel());
  for (size_t i = 0; i < out.size(); ++i) {
    switch (dtype_) {
      case DType::kInt64: out[i] = data<int64_t>()[i]; break;
      case DType::kInt32: out[i] = data<int32_t>()[i]; break;
      case DType::kInt16: out[i] = data<int16_t>()[i]; break;
      case DType::kInt8: out[i] = data<int8_t>()[i]; break;
      case DType::kUint64: out[i] = (int64_t)data<uint64_t>()[i]; break;
      case DType::kUint32: out[i] = data<uint32_t>()[i]; break;
      case DType::kUint16: out[i] = data<uint16_t>()[i]; break;
      case DType::kUint8: case DType::kBool: out[i] = data<uint8_t>()[i]; break;
      case DType::kFloat32: out[i] = (int64_t)data<float>()[i]; break;
      case DType::kFloat64: out[i] = (int64_t)data<double>()[i]; break;
      default: out[i] = 0;
    }
  }
  return out;
}

namespace {

template <typename R>
std::vector<R> float_values(const Tensor& t) {
  std::vector<R> out((size_t)t.numel());
  for (size_t i = 0; i < out.size(); ++i) {
    switch (t.dtype()) {
      case DType::kFloat32: out[i] = (R)t.data<float>()[i]; break;
      case DType::kFloat64: out[i] = (R)t.data<double>()[i]; break;
      case DType::kFloat16: out[i] = (R)half_to_float(t.data<uint16_t>()[i]); break;
      case DType::kBFloat16: out[i] = (R)bf16_to_float(t.data<uint16_t>()[i]); break;
      default: out[i] = 0;
    }
  }
  return out;
}

}  // namespace

std::vector<float> Tensor::to_float_vector() const { return float_values<float>(*this); }
std::vector<double> Tensor::to_double_vector() const { return float_values<double>(*this); }

}  // namespace hs
