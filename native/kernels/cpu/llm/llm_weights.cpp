// Loading LLM weights: safetensors files are mmap'ed read-only; each row of a matrix is read as
// float32 and written, in the target type, to its place in the panel layout (see llm_weights.h).
// kBFloat16Pairs takes bf16_operand (llm_bf16.h): round to nearest even, subnormals flushed.
// int8 quantisation is symmetric per output row: scale = max|w| / 127, q = round(w / scale).
#include "llm_weights.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "llm_bf16.h"

namespace hs::llm {

const char* weight_type_name(WeightType t) {
  switch (t) {
    case WeightType::kFloat32: return "float32";
    case WeightType::kFloat16: return "float16";
    case WeightType::kBFloat16: return "bfloat16";
    case WeightType::kInt8: return "int8";
    case WeightType::kBFloat16Pairs: return "bfloat16";
  }
  return "unknown";
}

size_t weight_type_size(WeightType t) {
  switch (t) {
    case WeightType::kFloat32: return 4;
    case WeightType::kFloat16:
    case WeightType::kBFloat16:
    case WeightType::kBFloat16Pairs: return 2;
    case WeightType::kInt8: return 1;
  }
  return 0;
}

void WeightMatrix::row_to_float(int64_t r, float* out) const {
  for (int64_t c = 0; c < cols; ++c) {
    const size_t i = index(r, c);
    switch (type) {
      case WeightType::kFloat32: out[c] = static_cast<const float*>(data)[i]; break;
      case WeightType::kFloat16: out[c] = half_to_float(static_cast<const uint16_t*>(data)[i]); break;
      case WeightType::kBFloat16:
      case WeightType::kBFloat16Pairs: out[c] = bf16_to_float(static_cast<const uint16_t*>(data)[i]); break;
      case WeightType::kInt8: out[c] = (float)static_cast<const int8_t*>(data)[i] * scales[(size_t)r]; break;
    }
  }
}

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(StatusCode::kNotFound, str_cat("cannot open weight file ", path, ": ", std::strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    return Status(StatusCode::kIo, str_cat("cannot stat ", path, ": ", std::strerror(errno)));
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = (size_t)st.st_size;
  if (file->size_ > 0) {
    void* p = mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      return Status(StatusCode::kIo, str_cat("cannot mmap ", path, ": ", std::strerror(errno)));
    }
    file->data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return file;
}

MappedFile::~MappedFile() {
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

Status check_raw_tensor(const RawTensor& raw) {
  if (!raw.file) HS_FAIL(kInternal, "tensor ", raw.name, " has no file");
  if (raw.dtype != DType::kFloat32 && raw.dtype != DType::kFloat16 && raw.dtype != DType::kBFloat16)
    HS_FAIL(kType, "tensor ", raw.name, " has dtype ", dtype_name(raw.dtype), "; expected F32, F16 or BF16");
  for (int64_t d : raw.shape)
    if (d < 0) HS_FAIL(kInvalidModel, "tensor ", raw.name, " has a negative dimension in ", shape_str(raw.shape));
  const size_t expected = (size_t)shape_numel(raw.shape) * dtype_size(raw.dtype);
  if (raw.bytes != expected)
    HS_FAIL(kInvalidModel, "tensor ", raw.name, " holds ", raw.bytes, " bytes but shape ", shape_str(raw.shape), " of ",
            dtype_name(raw.dtype), " needs ", expected);
  if (raw.offset > raw.file->size() || raw.bytes > raw.file->size() - raw.offset)
    HS_FAIL(kInvalidModel, "tensor ", raw.name, " lies past the end of ", raw.file->path(), " (offset ", raw.offset,
            ", ", raw.bytes, " bytes, file size ", raw.file->size(), ")");
  return Status::ok();
}

RawTensorTable::RawTensorTable(const std::vector<RawTensor>& tensors) {
  for (const RawTensor& t : tensors) by_name_[t.name] = &t;
}

Status RawTensorTable::find(const std::string& name, const Shape& shape, const RawTensor** out) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) HS_FAIL(kInvalidModel, "the checkpoint has no tensor ", name);
  const RawTensor& raw = *it->second;
  if (raw.shape != shape)
    HS_FAIL(kInvalidModel, "tensor ", name, " has shape ", shape_str(raw.shape), ", expected ", shape_str(shape));
  HS_RETURN_IF_ERROR(check_raw_tensor(raw));
  *out = &raw;
  return Status::ok();
}

namespace {

float raw_element(const RawTensor& raw, const uint8_t* p, size_t i) {
  switch (raw.dtype) {
    case DType::kFloat32: {
      float v;
      std::memcpy(&v, p + i * 4, 4);
      return v;
    }
    case DType::kFloat16: {
      uint16_t h;
      std::memcpy(&h, p + i * 2, 2);
      return half_to_float(h);
    }
    default: {
      uint16_t h;
      std::memcpy(&h, p + i * 2, 2);
      return bf16_to_float(h);
    }
  }
}

}  // namespace

void read_raw_row(const RawTensor& raw, int64_t r, float* out) {
  const int64_t cols = raw.shape[1];
  const uint8_t* src = raw.file->data() + raw.offset;
  for (int64_t c = 0; c < cols; ++c) out[c] = raw_element(raw, src, (size_t)(r * cols + c));
}

float quantise_row_int8(const float* row, int64_t n, int8_t* q) {
  float max_abs = 0.f;
  for (int64_t c = 0; c < n; ++c) max_abs = std::max(max_abs, std::fabs(row[c]));
  const float scale = max_abs > 0.f ? max_abs / 127.f : 1.f;
  for (int64_t c = 0; c < n; ++c) q[c] = (int8_t)std::lround(std::clamp(row[c] / scale, -127.f, 127.f));
  return scale;
}

Result<WeightMatrix> make_weight(const RawTensor& raw, WeightType target) {
  HS_RETURN_IF_ERROR(check_raw_tensor(raw));
  if (raw.shape.size() != 2) HS_FAIL(kInvalidModel, "tensor ", raw.name, " must be 2-D, got ", shape_str(raw.shape));
  WeightMatrix w;
  w.type = target;
  w.rows = raw.shape[0];
  w.cols = raw.shape[1];
  const size_t n = (size_t)(w.panels() * kPanelRows * w.stored_cols());
  w.storage = Buffer::allocate_huge(n * weight_type_size(target));  // streamed once per decode step
  if (!w.storage) HS_FAIL(kOutOfMemory, "out of memory for tensor ", raw.name, " (", n * weight_type_size(target), " bytes)");
  void* dst = w.storage->data();
  std::memset(dst, 0, n * weight_type_size(target));
  std::vector<float> row((size_t)w.cols);
  std::vector<int8_t> q;
  if (target == WeightType::kInt8) {
    w.scales.resize((size_t)w.rows);
    q.resize((size_t)w.cols);
  }
  for (int64_t r = 0; r < w.rows; ++r) {
    read_raw_row(raw, r, row.data());
    if (target == WeightType::kInt8) w.scales[(size_t)r] = quantise_row_int8(row.data(), w.cols, q.data());
    for (int64_t c = 0; c < w.cols; ++c) {
      const size_t i = w.index(r, c);
      const float v = row[(size_t)c];
      switch (target) {
        case WeightType::kFloat32: static_cast<float*>(dst)[i] = v; break;
        case WeightType::kFloat16: static_cast<uint16_t*>(dst)[i] = float_to_half(v); break;
        case WeightType::kBFloat16: static_cast<uint16_t*>(dst)[i] = float_to_bf16(v); break;
        case WeightType::kInt8: static_cast<int8_t*>(dst)[i] = q[(size_t)c]; break;
        case WeightType::kBFloat16Pairs: static_cast<uint16_t*>(dst)[i] = bf16_operand(v); break;
      }
    }
  }
  w.data = dst;
  return w;
}

Result<std::vector<float>> make_vector(const RawTensor& raw) {
  HS_RETURN_IF_ERROR(check_raw_tensor(raw));
  if (raw.shape.size() != 1) HS_FAIL(kInvalidModel, "tensor ", raw.name, " must be 1-D, got ", shape_str(raw.shape));
  std::vector<float> out((size_t)raw.shape[0]);
  const uint8_t* src = raw.file->data() + raw.offset;
  for (size_t i = 0; i < out.size(); ++i) out[i] = raw_element(raw, src, i);
  return out;
}

}  // namespace hs::llm
