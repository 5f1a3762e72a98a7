// Plain-C++ descriptions of strided index spaces shared by the CUDA launchers and their callers
// (no CUDA headers: the backend's .cpp adapters include it). An index space is `rank` dimensions;
// an operand is read at sum(index[d] * strides[d]) elements from its base, so a stride of 0
// broadcasts and permuted strides transpose.
#pragma once
#include <cstdint>

namespace hs::cuda {

constexpr int kMaxDims = 8;

struct IndexSpace {
  int rank = 0;
  int64_t dims[kMaxDims] = {};
};

struct Strides {
  int64_t s[kMaxDims] = {};
};

// The epilogue activations of the fused operators (hs:FusedConv, hs:FusedMatMul, hs:FusedGemm),
// with the CPU backend's parameters (kernels/cpu/activation.h).
enum class Act : int { kNone, kRelu, kLeakyRelu, kSigmoid, kTanh, kClip, kHardSigmoid, kHardSwish, kSilu, kGelu, kGeluTanh };

struct Epilogue {
  Act act = Act::kNone;
  float alpha = 0.f;  // LeakyRelu: slope; Clip: min; HardSigmoid: alpha
  float beta = 0.f;   // Clip: max; HardSigmoid: beta
};

}  // namespace hs::cuda
