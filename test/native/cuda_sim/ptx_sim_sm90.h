// The sm_90a PTX that wgmma_sm90.cuh wraps (wgmma.mma_async m64nNk16 for 16-bit inputs and fp32
// accumulators, its fences, commit and wait groups), emulated for device code run on the host from
// the PTX ISA's definitions, so that the Hopper FlashAttention kernel runs here as on an H100.
// translate-cuda.mjs turns the kernels' `#if HS_SM90A_DEVICE` paths on.
//
// Operands in shared memory are read through their matrix descriptors as the ISA defines them
// (start address, leading and stride byte offsets, 128-byte swizzle); the canonical layouts, in
// 16-bit elements (T = 8 per 16 bytes):
//   K-major  (row r of M or N, k):   ((8, m), (T, 2)) : ((8T, SBO), (1, T))
//   MN-major (k, column n):          ((T, 8, m), (8, k)) : ((1, T, LBO), (8T, SBO))
// then the swizzle: address bits [4, 7) XOR bits [7, 10). Register fragments of A and D per warp w
// of the warpgroup and lane l (g = l / 4, c = 2 (l % 4)): d[4i + 2h + e] = (16w + g + 8h, 8i + c + e);
// a[0] = (16w + g, k c, c + 1), a[1] = (16w + g + 8, the same), a[2], a[3] = the same rows at k + 8.
//
// Asynchrony as the ISA allows it: an MMA happens at the wgmma_wait that retires its group, reading
// shared memory then; its accumulators read NaN from the issue until that wait, and its A registers
// must not change in between (the program aborts if they do). Operations of a warpgroup's threads
// must match (same descriptors, same sequence), as `.sync.aligned` requires.
#pragma once
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace cuda_sim::sm90 {

struct Descriptor {
  explicit Descriptor(uint64_t desc)
      : start(uint32_t(desc & 0x3FFF) << 4), lbo(uint32_t((desc >> 16) & 0x3FFF) << 4), sbo(uint32_t((desc >> 32) & 0x3FFF) << 4) {
    if (((desc >> 49) & 7) != 0) die("wgmma: a descriptor with a base offset (not emulated)");
    if ((desc >> 62) != 1) die("wgmma: a descriptor without the 128-byte swizzle (not emulated)");
  }
  uint32_t start, lbo, sbo;
};

inline uint32_t k_major(const Descriptor& d, int r, int k) { return d.start + (r % 8) * 128 + (r / 8) * d.sbo + k * 2; }
inline uint32_t mn_major(const Descriptor& d, int k, int n) {
  return d.start + (n % 64) * 2 + (n / 64) * d.lbo + (k % 8) * 128 + (k / 8) * d.sbo;
}

// The 16-bit element at a shared address of a canonical layout, through the 128-byte swizzle.
inline float shared_element(uint32_t addr, bool bf16) {
  addr ^= ((addr >> 7) & 7) << 4;
  if (addr + 2 > shared_window_bytes) die("wgmma: an operand outside the launch's shared memory");
  uint16_t bits;
  std::memcpy(&bits, shared_window + addr, 2);
  return element16(bits, bf16);
}

inline unsigned warpgroup_rank() {
  const uint3 t = self->thread_idx;
  return (t.x + blockDim.x * (t.y + blockDim.y * t.z)) % 128;
}

inline bool pending(const ThreadState& me, const float* d) {
  for (const WgmmaOp& op : me.open_wgmma)
    if (op.d == d) return true;
  for (const auto& group : me.wgmma_groups)
    for (const WgmmaOp& op : group)
      if (op.d == d) return true;
  return false;
}

inline void issue(WgmmaOp op) {
  ThreadState& me = *self;
  op.chained = pending(me, op.d);
  if (!op.chained) std::memcpy(op.d_in, op.d, sizeof(float) * op.n / 2);
  if (op.a_in_registers) std::memcpy(op.a, op.a_regs, sizeof op.a);
  for (int i = 0; i < op.n / 2; ++i) op.d[i] = std::numeric_limits<float>::quiet_NaN();
  me.open_wgmma.push_back(op);
}

// Op `index` of group `group`, for the calling thread's accumulators: every member's op must agree.
inline void execute(const Warpgroup& wg, unsigned rank, size_t group, size_t index) {
  const WgmmaOp& op = self->wgmma_groups[group][index];
  const WgmmaOp* ops[128];
  for (unsigned t = 0; t < 128; ++t) {
    const auto& groups = wg.member[t]->wgmma_groups;
    if (groups.size() != self->wgmma_groups.size() || groups[group].size() != self->wgmma_groups[group].size())
      die("wgmma: the threads of a warpgroup committed different groups");
    ops[t] = &groups[group][index];
    if (ops[t]->n != op.n || ops[t]->desc_a != op.desc_a || ops[t]->desc_b != op.desc_b || ops[t]->scale_d != op.scale_d ||
        ops[t]->a_in_registers != op.a_in_registers || ops[t]->trans_b != op.trans_b || ops[t]->bf16 != op.bf16)
      die("wgmma: the threads of a warpgroup issued different operations");
  }
  if (op.a_in_registers && std::memcmp(op.a, op.a_regs, sizeof op.a) != 0)
    die("wgmma: A registers changed before the wait that retires their MMA");
  const Descriptor a_desc(op.a_in_registers ? uint64_t(1) << 62 : op.desc_a), b_desc(op.desc_b);
  auto a_at = [&](int row, int k) {
    if (!op.a_in_registers) return shared_element(k_major(a_desc, row, k), op.bf16);
    const WgmmaOp& owner = *ops[(row / 16) * 32 + (row % 8) * 4 + (k % 8) / 2];
    const uint32_t reg = owner.a[(row % 16 >= 8) + 2 * (k >= 8)];
    return element16(uint16_t(reg >> (16 * (k % 2))), op.bf16);
  };
  auto b_at = [&](int k, int n) {
    return shared_element(op.trans_b ? mn_major(b_desc, k, n) : k_major(b_desc, n, k), op.bf16);
  };
  const unsigned warp = rank / 32, lane = rank % 32;
  for (int i = 0; i < op.n / 2; ++i) {
    const int row = int(16 * warp + lane / 4 + 8 * ((i / 2) % 2)), col = 8 * (i / 4) + 2 * int(lane % 4) + i % 2;
    float acc = op.scale_d ? (op.chained ? op.d[i] : op.d_in[i]) : 0.f;
    for (int k = 0; k < 16; ++k) acc = std::fma(a_at(row, k), b_at(k, col), acc);
    op.d[i] = acc;
  }
}

}  // namespace cuda_sim::sm90

namespace hs::cuda::device {

inline uint32_t smem_u32(const void* ptr) {
  const auto* p = static_cast<const unsigned char*>(ptr);
  if (p < cuda_sim::shared_window || p > cuda_sim::shared_window + cuda_sim::shared_window_bytes)
    cuda_sim::die("smem_u32: not the launch's dynamic shared memory");
  return uint32_t(p - cuda_sim::shared_window);
}

// Visibility and register-ordering fences: nothing to do where operations happen at their wait.
inline void fence_proxy_async_shared() {}
inline void wgmma_fence() {}
template <int N>
void fence_registers(float (&)[N]) {}
template <int N>
void fence_registers(uint32_t (&)[N][4]) {}

inline void wgmma_commit() {
  cuda_sim::ThreadState& me = *cuda_sim::self;
  me.wgmma_groups.push_back(std::move(me.open_wgmma));
  me.open_wgmma.clear();
}

// Retires all but the kPending most recent groups, oldest first, with the whole warpgroup.
template <int kPending>
void wgmma_wait() {
  cuda_sim::ThreadState& me = *cuda_sim::self;
  cuda_sim::Warpgroup& wg = *me.warpgroup;
  if (wg.threads != 128) cuda_sim::die("wgmma: a warpgroup of fewer than 128 threads");
  const unsigned rank = cuda_sim::sm90::warpgroup_rank();
  wg.member[rank] = &me;
  wg.barrier.arrive_and_wait();
  const size_t retire = me.wgmma_groups.size() > size_t(kPending) ? me.wgmma_groups.size() - kPending : 0;
  for (size_t g = 0; g < retire; ++g)
    for (size_t i = 0; i < me.wgmma_groups[g].size(); ++i) cuda_sim::sm90::execute(wg, rank, g, i);
  wg.barrier.arrive_and_wait();  // no member drops a group another may still read
  me.wgmma_groups.erase(me.wgmma_groups.begin(), me.wgmma_groups.begin() + retire);
}

template <typename T>
void wgmma_ss_m64n128k16(float (&d)[64], uint64_t desc_a, uint64_t desc_b, int scale_d) {
  cuda_sim::WgmmaOp op{};
  op.d = d;
  op.n = 128;
  op.scale_d = scale_d != 0;
  op.bf16 = !std::is_same_v<T, __half>;
  op.desc_a = desc_a;
  op.desc_b = desc_b;
  cuda_sim::sm90::issue(op);
}

template <typename T, int N>
void wgmma_rs_m64k16(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t desc_b) {
  static_assert(N == 64 || N == 128, "wgmma_rs_m64k16: N is 64 or 128");
  cuda_sim::WgmmaOp op{};
  op.d = d;
  op.n = N;
  op.scale_d = true;
  op.a_in_registers = true;
  op.a_regs = a;
  op.trans_b = true;
  op.bf16 = !std::is_same_v<T, __half>;
  op.desc_b = desc_b;
  cuda_sim::sm90::issue(op);
}

}  // namespace hs::cuda::device
