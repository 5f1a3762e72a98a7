// Depthwise convolution of small planes, 8 channels per AVX2 vector (conv_depthwise_blocked.cpp);
// conv_depthwise.cpp calls it where it suits.
#pragma once
#include <cstdint>

#include "kernels/cpu/conv_depthwise.h"

namespace hs::cpu {

// Whether depthwise_blocked runs `a`: AVX2 hosts, one filter per channel, at most 48x48 outputs.
bool depthwise_blocked_suits(const DepthwiseConv2d& a);

// Channels [8 * block, 8 * block + 8) of image `image` (fewer in the last block), on the calling thread.
void depthwise_blocked(const DepthwiseConv2d& a, int64_t image, int64_t block);

}  // namespace hs::cpu
