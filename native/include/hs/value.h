// Value: what a graph value holds at run time, as ONNX types it: a tensor, a sequence of tensors
// (seq(tensor)), or an optional (optional(tensor) / optional(seq(tensor))) that may be empty.
// Sequences are immutable and shared: copying a Value never copies tensor data.
#pragma once
#include <memory>
#include <vector>

#include "hs/tensor.h"

namespace hs {

// The kind of a value, also declared per graph input/output (ValueInfo::kind).
enum class ValueKind : uint8_t { kTensor = 0, kSequence = 1, kOptionalTensor = 2, kOptionalSequence = 3 };

// "tensor", "sequence", "optional(tensor)", "optional(sequence)".
inline const char* value_kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::kTensor: return "tensor";
    case ValueKind::kSequence: return "sequence";
    case ValueKind::kOptionalTensor: return "optional(tensor)";
    case ValueKind::kOptionalSequence: return "optional(sequence)";
  }
  return "unknown";
}
inline bool is_optional(ValueKind kind) {
  return kind == ValueKind::kOptionalTensor || kind == ValueKind::kOptionalSequence;
}

class Value {
 public:
  Value() = default;  // no value yet (an unset slot)
  Value(Tensor tensor) : defined_(tensor.defined()), tensor_(std::move(tensor)) {}  // NOLINT: implicit

  static Value sequence(std::vector<Tensor> items) {
    Value v;
    v.defined_ = true;
    v.kind_ = ValueKind::kSequence;
    v.items_ = std::make_shared<const std::vector<Tensor>>(std::move(items));
    return v;
  }
  // An optional holding `element` (a tensor or a sequence value).
  static Value optional(const Value& element) {
    Value v = element;
    v.kind_ = element.kind_ == ValueKind::kSequence ? ValueKind::kOptionalSequence : ValueKind::kOptionalTensor;
    v.has_element_ = true;
    return v;
  }
  // An empty optional of `kind` (kOptionalTensor or kOptionalSequence).
  static Value empty_optional(ValueKind kind) {
    Value v;
    v.defined_ = true;
    v.kind_ = kind;
    return v;
  }

  bool defined() const { return defined_; }
  ValueKind kind() const { return kind_; }
  bool is_tensor() const { return defined_ && kind_ == ValueKind::kTensor; }
  // The tensor of a tensor value or of an optional(tensor) holding one; undefined otherwise.
  const Tensor& tensor() const { return tensor_; }
  // The tensor of a tensor value, for the kernel writing it; nullptr for other kinds.
  Tensor* mutable_tensor() { return is_tensor() ? &tensor_ : nullptr; }
  // The tensors of a sequence value or of an optional(sequence) holding one; empty otherwise.
  const std::vector<Tensor>& items() const {
    static const std::vector<Tensor> none;
    return items_ ? *items_ : none;
  }
  // For optionals: whether it holds an element.
  bool has_element() const { return has_element_; }
  // The element of a non-empty optional, as a tensor or sequence value.
  Value element() const {
    Value v = *this;
    v.kind_ = kind_ == ValueKind::kOptionalSequence ? ValueKind::kSequence : ValueKind::kTensor;
    v.has_element_ = false;
    return v;
  }

 private:
  bool defined_ = false;
  ValueKind kind_ = ValueKind::kTensor;
  bool has_element_ = false;
  Tensor tensor_;
  std::shared_ptr<const std::vector<Tensor>> items_;
};

}  // namespace hs
