#include "hs/status.h"

namespace hs {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "ERR_INVALID_ARGUMENT";
    case StatusCode::kInvalidModel: return "ERR_INVALID_MODEL";
    case StatusCode::kUnsupportedOp: return "ERR_UNSUPPORTED_OP";
    case StatusCode::kShape: return "ERR_SHAPE";
    case StatusCode::kType: return "ERR_TYPE";
    case StatusCode::kNotFound: return "ERR_NOT_FOUND";
    case StatusCode::kIo: return "ERR_IO";
    case StatusCode::kCuda: return "ERR_CUDA";
    case StatusCode::kCudaOom: return "ERR_CUDA_OOM";
    case StatusCode::kCudaUnavailable: return "ERR_CUDA_UNAVAILABLE";
    case StatusCode::kDisposed: return "ERR_DISPOSED";
    case StatusCode::kOutOfMemory: return "ERR_OUT_OF_MEMORY";
    case StatusCode::kInternal: return "ERR_INTERNAL";
  }
  return "ERR_INTERNAL";
}

}  // namespace hs
