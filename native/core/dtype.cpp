#include "hs/dtype.h"

namespace hs {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: case DType::kInt32: case DType::kUint32: return 4;
    case DType::kFloat64: case DType::kInt64: case DType::kUint64: return 8;
    case DType::kFloat16: case DType::kBFloat16: case DType::kInt16: case DType::kUint16: return 2;
    case DType::kInt8: case DType::kUint8: case DType::kBool: return 1;
    default: return 0;
  }
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
    case DType::kInt64: return "int64";
    case DType::kInt32: return "int32";
    case DType::kInt16: return "int16";
    case DType::kInt8: return "int8";
    case DType::kUint64: return "uint64";
    case DType::kUint32: return "uint32";
    case DType::kUint16: return "uint16";
    case DType::kUint8: return "uint8";
    case DType::kBool: return "bool";
    case DType::kString: return "string";
    default: return "undefined";
  }
}

DType dtype_from_name(const std::string& name) {
  static const DType all[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16,
                              DType::kInt64,   DType::kInt32,   DType::kInt16,   DType::kInt8,
                              DType::kUint64,  DType::kUint32,  DType::kUint16,  DType::kUint8,
                              DType::kBool,    DType::kString};
  for (DType t : all)
    if (name == dtype_name(t)) return t;
  return DType::kUndefined;
}

bool dtype_from_onnx(int32_t onnx_type, DType* out) {
  switch (onnx_type) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11:
    case 12: case 13: case 16:
      *out = static_cast<DType>(onnx_type);
      return true;
    default:
      return false;
  }
}

}  // namespace hs
