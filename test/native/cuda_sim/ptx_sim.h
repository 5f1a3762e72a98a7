// The sm_80 PTX that attention_device.cuh wraps (cp.async, ldmatrix, mma.sync m16n8k16), emulated for
// device code run on the host, with the fragment layouts of the PTX ISA. translate-cuda.mjs turns the
// kernels' `__CUDA_ARCH__ >= 800` paths on, so the FlashAttention-2 kernel runs here as on an A100.
// cp.async copies land at the cp_async_wait that covers their group; until then the destination
// holds 0xFF bytes (NaN in fp16 and bf16), so a read that is not behind its wait (and a
// __syncthreads) shows up as NaN in the output.
#pragma once
#include <cstring>
#include <vector>

namespace cuda_sim {

// A 16-bit tensor-core element (fp16, or bf16) as a float.
inline float element16(uint16_t bits, bool bf16) {
  return bf16 ? __bfloat162float(__ushort_as_bfloat16(bits)) : __half2float(__ushort_as_half(bits));
}

}  // namespace cuda_sim

namespace hs::cuda::device {

inline void cp_async16(void* smem_dst, const void* src, bool valid) {
  std::memset(smem_dst, 0xFF, 16);
  cuda_sim::self->open_copies.push_back({smem_dst, src, valid});
}
inline void cp_async_commit() {
  cuda_sim::self->copy_groups.push_back(std::move(cuda_sim::self->open_copies));
  cuda_sim::self->open_copies.clear();
}
template <int kPending>
void cp_async_wait() {
  auto& groups = cuda_sim::self->copy_groups;
  while (groups.size() > (size_t)kPending) {
    for (const cuda_sim::AsyncCopy& c : groups.front()) {
      if (c.valid) std::memcpy(c.dst, c.src, 16);
      else std::memset(c.dst, 0, 16);
    }
    groups.erase(groups.begin());
  }
}

// Lane l gives the address of row l % 8 of matrix l / 8; it receives, of each matrix i, row l / 4,
// columns 2 (l % 4) and 2 (l % 4) + 1 (transposed: rows 2 (l % 4), 2 (l % 4) + 1 of column l / 4).
inline void ldmatrix_x4(uint32_t (&r)[4], const void* smem_row) {
  const unsigned lane = cuda_sim::self->lane;
  for (unsigned i = 0; i < 4; ++i) {
    const auto* row = static_cast<const uint16_t*>(cuda_sim::exchange(smem_row, 8 * i + lane / 4, ~0u));
    r[i] = row[2 * (lane % 4)] | uint32_t(row[2 * (lane % 4) + 1]) << 16;
  }
}
inline void ldmatrix_x4_trans(uint32_t (&r)[4], const void* smem_row) {
  const unsigned lane = cuda_sim::self->lane;
  for (unsigned i = 0; i < 4; ++i) {
    const auto* lo = static_cast<const uint16_t*>(cuda_sim::exchange(smem_row, 8 * i + 2 * (lane % 4), ~0u));
    const auto* hi = static_cast<const uint16_t*>(cuda_sim::exchange(smem_row, 8 * i + 2 * (lane % 4) + 1, ~0u));
    r[i] = lo[lane / 4] | uint32_t(hi[lane / 4]) << 16;
  }
}

// c += A (16 x 16, row-major fragments a) * B (16 x 8, column fragments b0, b1), fp32 accumulation.
template <typename T>
void mma_16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  struct Fragments {
    uint32_t a[4], b[2];
  };
  const auto all = cuda_sim::all_lanes(Fragments{{a[0], a[1], a[2], a[3]}, {b0, b1}});
  auto element = [](uint32_t reg, int half) {
    return cuda_sim::element16(uint16_t(reg >> (16 * half)), !std::is_same_v<T, __half>);
  };
  auto a_at = [&](int row, int k) { return element(all[4 * (row % 8) + (k % 8) / 2].a[(row >= 8) + 2 * (k >= 8)], k % 2); };
  auto b_at = [&](int k, int n) { return element(all[4 * n + (k % 8) / 2].b[k >= 8], k % 2); };
  const unsigned lane = cuda_sim::self->lane, g = lane / 4, t = lane % 4;
  for (int e = 0; e < 4; ++e) {
    const int row = g + (e >= 2 ? 8 : 0), col = 2 * t + (e & 1);
    float s = 0.f;
    for (int k = 0; k < 16; ++k) s = std::fma(a_at(row, k), b_at(k, col), s);
    c[e] += s;
  }
}

}  // namespace hs::cuda::device
