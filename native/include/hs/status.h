// Status: how every core, kernel and backend function reports failure. No exceptions cross
// these layers and nothing aborts; the N-API boundary turns a Status into a JS Error whose
// `code` is the string of the StatusCode.
#pragma once
#include <string>
#include <utility>

namespace hs {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // ERR_INVALID_ARGUMENT
  kInvalidModel,      // ERR_INVALID_MODEL: malformed, truncated or inconsistent ONNX
  kUnsupportedOp,     // ERR_UNSUPPORTED_OP: operator or attribute we cannot run
  kShape,             // ERR_SHAPE: shapes that do not fit the model or the operator
  kType,              // ERR_TYPE: wrong dtype
  kNotFound,          // ERR_NOT_FOUND: unknown input/output name, missing file
  kIo,                // ERR_IO
  kCuda,              // ERR_CUDA
  kCudaOom,           // ERR_CUDA_OOM
  kCudaUnavailable,   // ERR_CUDA_UNAVAILABLE: no driver or device
  kDisposed,          // ERR_DISPOSED
  kOutOfMemory,       // ERR_OUT_OF_MEMORY: a host allocation failed (or its size overflowed)
  kInternal,          // ERR_INTERNAL
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status status) : status_(std::move(status)) {}
  bool is_ok() const { return status_.is_ok(); }
  const Status& status() const { return status_; }
  T& value() { return value_; }
  const T& value() const { return value_; }
  T&& take() { return std::move(value_); }

 private:
  Status status_;
  T value_{};
};

}  // namespace hs

#define HS_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::hs::Status _hs_st = (expr);         \
    if (!_hs_st.is_ok()) return _hs_st;   \
  } while (0)

#define HS_CHECK_ARG(cond, ...)                                                  \
  do {                                                                           \
    if (!(cond)) return ::hs::Status(::hs::StatusCode::kInvalidArgument, ::hs::str_cat(__VA_ARGS__)); \
  } while (0)

#define HS_FAIL(code, ...) return ::hs::Status(::hs::StatusCode::code, ::hs::str_cat(__VA_ARGS__))

#include "hs/strcat.h"
