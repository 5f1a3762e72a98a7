// Weights of an LLM as the CPU kernels read them: a matrix of `rows` output channels by `cols`
// inputs (the Hugging Face Linear layout) stored as float32, float16, bfloat16, or int8 with one
// float scale per row (weight-only quantisation), repacked at load time into panels of kPanelRows
// rows (padded with zeros to a whole panel), the panels in groups of kGroupPanels (the last group
// may hold fewer). Within a group the panels are interleaved by column: for each column c, the
// group's panels' 16 weights of c follow each other, so a kernel reading a group's panels side by
// side (decode: one FMA chain per panel) walks one contiguous stream. With p = r / kPanelRows,
// group g = p / kGroupPanels, q = p % kGroupPanels and width gw (panels in group g):
//   element (r, c) sits at g * kGroupPanels * kPanelRows * cols + (c * gw + q) * kPanelRows + r % kPanelRows.
// kBFloat16Pairs (matmul precision bf16, llm_linear_bf16.cpp) interleaves pairs of columns: the two
// weights (r, 2j) and (r, 2j + 1) of an output lane are adjacent, one 32-bit word, a panel's 16
// words for pair j are one 64-byte run, and the runs interleave by pair: element (r, c) sits at
// g * kGroupPanels * kPanelRows * stored_cols() + (j * gw + q) * 2 * kPanelRows + (r % kPanelRows) * 2 + c % 2
// with j = c / 2, an odd last column paired with a zero.
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hs/status.h"
#include "hs/tensor.h"

namespace hs::llm {

enum class WeightType { kFloat32, kFloat16, kBFloat16, kInt8, kBFloat16Pairs };

constexpr int64_t kPanelRows = 16;
constexpr int64_t kGroupPanels = 3;

const char* weight_type_name(WeightType t);
size_t weight_type_size(WeightType t);

struct WeightMatrix {
  WeightType type = WeightType::kFloat32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;        // panels() * kPanelRows * stored_cols() elements, panel layout
  std::vector<float> scales;         // kInt8 only: one per row
  std::shared_ptr<Buffer> storage;   // owns `data`

  int64_t panels() const { return (rows + kPanelRows - 1) / kPanelRows; }
  int64_t groups() const { return (panels() + kGroupPanels - 1) / kGroupPanels; }
  // Panels in the group that starts at panel p0 (a multiple of kGroupPanels).
  int64_t group_width(int64_t p0) const { return std::min(kGroupPanels, panels() - p0); }
  // Columns as stored: cols, rounded up to a whole pair for kBFloat16Pairs.
  int64_t stored_cols() const { return type == WeightType::kBFloat16Pairs ? (cols + 1) / 2 * 2 : cols; }
  // Where element (r, c) sits in `data`, in elements.
  size_t index(int64_t r, int64_t c) const {
    const int64_t p = r / kPanelRows, q = p % kGroupPanels, p0 = p - q, lane = r % kPanelRows;
    const int64_t start = p0 * kPanelRows * stored_cols(), gw = group_width(p0);
    if (type == WeightType::kBFloat16Pairs) return (size_t)(start + ((c / 2) * gw + q) * 2 * kPanelRows + lane * 2 + c % 2);
    return (size_t)(start + (c * gw + q) * kPanelRows + lane);
  }
  size_t bytes() const {
    return (size_t)(panels() * kPanelRows * stored_cols()) * weight_type_size(type) + scales.size() * sizeof(float);
  }
  // Row r converted to float32 (out holds cols floats).
  void row_to_float(int64_t r, float* out) const;
};

// A safetensors file mapped read-only into memory.
class MappedFile {
 public:
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// One tensor inside a mapped file, as the TypeScript loader found it in the safetensors header.
struct RawTensor {
  std::string name;
  std::shared_ptr<MappedFile> file;
  DType dtype = DType::kUndefined;   // kFloat32, kFloat16 or kBFloat16
  Shape shape;
  size_t offset = 0;                 // absolute byte offset in the file
  size_t bytes = 0;
};

// Checks that `raw` lies inside its file and holds shape-many elements of its dtype.
Status check_raw_tensor(const RawTensor& raw);

// The checkpoint's tensors by name, for the CPU and CUDA models' loaders.
class RawTensorTable {
 public:
  explicit RawTensorTable(const std::vector<RawTensor>& tensors);
  // The tensor `name`, which must exist, have `shape` and pass check_raw_tensor (ERR_INVALID_MODEL).
  Status find(const std::string& name, const Shape& shape, const RawTensor** out) const;

 private:
  std::map<std::string, const RawTensor*> by_name_;
};

// Row r of the 2-D tensor `raw` (checked by check_raw_tensor) as float32 into out[0 .. cols).
void read_raw_row(const RawTensor& raw, int64_t r, float* out);

// int8 weight-only quantisation of one row (output channel), symmetric:
// scale = max|w| / 127 (1 for an all-zero row), q = round(w / scale); returns the scale.
// The CPU and CUDA models both quantise with it, so their int8 weights are the same.
float quantise_row_int8(const float* row, int64_t n, int8_t* q);

// A [rows, cols] matrix from `raw`, converted (or quantised to int8 per row, or rounded to bf16
// operands for kBFloat16Pairs) to `target` and repacked into panels.
Result<WeightMatrix> make_weight(const RawTensor& raw, WeightType target);

// A float32 copy of a 1-D tensor (norm weights, biases).
Result<std::vector<float>> make_vector(const RawTensor& raw);

}  // namespace hs::llm
