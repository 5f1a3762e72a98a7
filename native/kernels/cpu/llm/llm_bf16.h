// The bf16 operands of matmul precision 'bf16' (llm_linear_bf16.cpp): a float32 rounded to the
// nearest bfloat16, ties to even, NaN kept quiet (as float_to_bf16). A subnormal input becomes a
// zero of its sign: vdpbf16ps reads subnormal bf16 inputs as zero, and flushing them here (where
// every path gets its operands) keeps the emulated kernels equal to it. Branch-free, so that
// loops over it vectorise.
#pragma once
#include <cstdint>
#include <cstring>

namespace hs::llm {

inline uint16_t bf16_operand(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t rounded = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
  const uint32_t quiet_nan = (x >> 16) | 0x40u, signed_zero = (x >> 16) & 0x8000u;
  const uint32_t r = (x & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded;
  return (uint16_t)((x & 0x7f800000u) == 0 ? signed_zero : r);
}

}  // namespace hs::llm
