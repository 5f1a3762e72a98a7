// Runs CUDA device code on the host, for tests of kernels' indexing, synchronisation and data
// movement on machines without a GPU: a block's threads are fibers (fiber.h) run in turn, each until
// it waits at a barrier (__syncthreads over the block, warp shuffles and __syncwarp over the warp) or
// returns; __shared__ arrays are function statics (blocks run one after another); threadIdx, blockIdx
// and the running thread's state are set before each turn. Turns go in thread order in even blocks
// and in reverse in odd ones, so a read of another thread's write that no barrier orders finds the
// write missing one way or the other. A thread that returns leaves its block's and warp's barriers,
// as on the device; a shuffle that reads a lane which has returned aborts (undefined on the device),
// and threads that wait at barriers the others never reach abort as a deadlock.
//
// Kernels are launched with cuda_sim::launch(), or, for a .cu file's own launchers, through
// translate-cuda.mjs, which rewrites `kernel<<<grid, block, smem, stream>>>(args)` into
// cuda_sim::launch_kernel() (launch limits checked, errors through cudaGetLastError, see
// cuda_sim_runtime.cpp) and `extern __shared__ T name[]` into the launch's dynamic shared memory.
// Inline PTX is not emulated, but for the instructions of the attention kernels: sm_80's (ptx_sim.h)
// and sm_90a's warpgroup MMA (ptx_sim_sm90.h), whose `__CUDA_ARCH__ >= 800` and HS_SM90A_DEVICE paths
// the translation turns on; other kernels keep a portable path where __CUDA_ARCH__ is undefined.
// Include before the kernel's headers (translated sources get it with -include).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>
#include <vector_types.h>

#include "fiber.h"

#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

// The CUDA headers give these a meaning for host compilers that would break the emulation.
#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#undef __forceinline__
#undef __noinline__
#undef __launch_bounds__
#undef __align__
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

inline thread_local uint3 threadIdx, blockIdx;
inline dim3 gridDim, blockDim;

namespace cuda_sim {

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "cuda_sim: %s\n", what);
  std::abort();
}

// Arrivals at barriers and returns of the running block: a scheduling round without one is a deadlock.
inline uint64_t progress = 0;

// A block's or a warp's barrier: the last of the expected threads to arrive releases the others (who
// wait by yielding until its generation moves on); a thread that returns stops being expected.
struct Barrier {
  explicit Barrier(unsigned expected) : expected(expected) {}
  void arrive_and_wait() {
    ++progress;
    if (++arrived == expected) return release();
    for (const uint64_t g = generation; g == generation;) Fiber::yield();
  }
  void drop() {
    --expected;
    if (arrived > 0 && arrived == expected) release();
  }

 private:
  void release() {
    arrived = 0;
    ++generation;
  }
  unsigned expected, arrived = 0;
  uint64_t generation = 0;
};

// One warp's exchange: each lane publishes a value, all meet, each reads its source lane, all meet.
struct Warp {
  explicit Warp(unsigned lanes) : barrier(lanes), lanes(lanes) {}
  Barrier barrier;
  unsigned lanes;
  uint64_t slot[32] = {};
  alignas(16) unsigned char wide[32][64] = {};  // all_lanes()
  bool exited[32] = {};
};

// A cp.async copy of 16 bytes (ptx_sim.h), issued and not yet waited for.
struct AsyncCopy {
  void* dst;
  const void* src;
  bool valid;
};

// A wgmma.mma_async of one thread (ptx_sim_sm90.h), issued and not yet waited for: its accumulator
// registers (NaN until the wait), their value at issue unless an earlier pending op writes them
// first, and its A fragment as issued (register form) with where it lives, to catch a change.
struct WgmmaOp {
  float* d;
  int n;                 // the instruction's N: n / 2 accumulators per thread
  bool chained;          // d's input is an earlier pending op's output
  bool scale_d;          // false: d = A B, ignoring d's old value
  float d_in[64];
  bool a_in_registers, trans_b, bf16;
  uint32_t a[4];
  const uint32_t* a_regs;
  uint64_t desc_a, desc_b;
};

struct ThreadState;
// The four warps that issue a warpgroup instruction together, and where each member's state is.
struct Warpgroup {
  explicit Warpgroup(unsigned threads) : barrier(threads), threads(threads) {}
  Barrier barrier;
  unsigned threads;
  const ThreadState* member[128] = {};
};

// What belongs to one CUDA thread of the running block.
struct ThreadState {
  uint3 thread_idx{};
  Barrier* block = nullptr;
  Warp* warp = nullptr;
  Warpgroup* warpgroup = nullptr;
  unsigned lane = 0;
  bool done = false;
  std::vector<AsyncCopy> open_copies;               // issued, not committed
  std::vector<std::vector<AsyncCopy>> copy_groups;  // committed, oldest first
  std::vector<WgmmaOp> open_wgmma;                  // the same for wgmma
  std::vector<std::vector<WgmmaOp>> wgmma_groups;
};
inline thread_local ThreadState* self = nullptr;  // the CUDA thread running on this host thread

// The launch's dynamic shared memory (extern __shared__), 16-byte aligned like the device's. It sits
// 16 bytes into a 1024-aligned window whose start is shared address 0 (__cvta_generic_to_shared), as
// if 16 bytes of static shared memory came first: kernels that need a coarser alignment align it.
inline unsigned char* shared_window = nullptr;
inline size_t shared_window_bytes = 0;
inline unsigned char* dynamic_shared_base = nullptr;
inline unsigned char* dynamic_shared() { return dynamic_shared_base; }
constexpr size_t kStaticSharedBytes = 16;

// One grid runs at a time (host threads of a multi-stream program launch concurrently): the
// grid dimensions, dynamic shared memory, __shared__ statics and fiber stacks belong to the running grid.
inline std::mutex grid_mutex;
inline std::vector<std::unique_ptr<Fiber>> fiber_pool;

// Runs body() as every thread of every block of the grid, one block at a time; a block's threads are
// fibers of the calling thread, each run until it waits at a barrier or returns, in turn.
template <class Body>
void launch(dim3 grid, dim3 block, Body&& body, size_t dynamic_smem = 0) {
  std::lock_guard<std::mutex> running(grid_mutex);
  const unsigned threads = block.x * block.y * block.z;
  gridDim = grid;
  blockDim = block;
  shared_window_bytes = (kStaticSharedBytes + dynamic_smem + 1023) / 1024 * 1024;
  std::unique_ptr<unsigned char[], void (*)(void*)> smem(static_cast<unsigned char*>(std::aligned_alloc(1024, shared_window_bytes)), std::free);
  shared_window = smem.get();
  dynamic_shared_base = shared_window + kStaticSharedBytes;
  while (fiber_pool.size() < threads) fiber_pool.push_back(std::make_unique<Fiber>());
  struct Thread {
    ThreadState state;
    Body* body;
  };
  auto thread_main = [](void* arg) {
    Thread& t = *static_cast<Thread*>(arg);
    (*t.body)();
    if (!t.state.open_wgmma.empty() || !t.state.wgmma_groups.empty()) die("a thread returned with a wgmma not waited for");
    // Leaving: the others' barriers stop waiting for this thread.
    t.state.warp->exited[t.state.lane] = true;
    t.state.warp->barrier.drop();
    t.state.warpgroup->barrier.drop();
    t.state.block->drop();
    t.state.done = true;
    ++progress;
    Fiber::finish();
  };
  std::vector<Thread> team(threads);
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        blockIdx = uint3{x, y, z};
        Barrier barrier(threads);
        std::vector<std::unique_ptr<Warp>> warps;
        for (unsigned w = 0; w * 32 < threads; ++w) warps.push_back(std::make_unique<Warp>(std::min(32u, threads - w * 32)));
        std::vector<std::unique_ptr<Warpgroup>> warpgroups;
        for (unsigned g = 0; g * 128 < threads; ++g) warpgroups.push_back(std::make_unique<Warpgroup>(std::min(128u, threads - g * 128)));
        for (unsigned t = 0; t < threads; ++t) {
          team[t].state = ThreadState{};
          team[t].state.thread_idx = uint3{t % block.x, t / block.x % block.y, t / (block.x * block.y)};
          team[t].state.block = &barrier;
          team[t].state.warp = warps[t / 32].get();
          team[t].state.warpgroup = warpgroups[t / 128].get();
          team[t].state.lane = t % 32;
          team[t].body = &body;
          fiber_pool[t]->start(thread_main, &team[t]);
        }
        const bool reverse = (x + y + z) % 2;
        for (unsigned live = threads; live > 0;) {
          const uint64_t before = progress;
          for (unsigned i = 0; i < threads; ++i) {
            const unsigned t = reverse ? threads - 1 - i : i;
            if (team[t].state.done) continue;
            threadIdx = team[t].state.thread_idx;
            self = &team[t].state;
            fiber_pool[t]->resume();
            live -= team[t].state.done;
          }
          if (live > 0 && progress == before) die("deadlock: threads wait at barriers the others never reach");
        }
      }
  self = nullptr;
  shared_window = dynamic_shared_base = nullptr;
}

// Bits of any trivially copyable value of at most 8 bytes, through a warp's slots.
template <class T>
T exchange(T v, unsigned src_lane, unsigned mask) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move at most 64 bits");
  Warp& w = *self->warp;
  const unsigned full = w.lanes == 32 ? 0xffffffffu : (1u << w.lanes) - 1;
  if ((mask & full) != full) die("a shuffle or __syncwarp with a partial mask (not emulated)");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  w.slot[self->lane] = bits;
  w.barrier.arrive_and_wait();
  if (src_lane >= w.lanes || w.exited[src_lane]) die("a shuffle reads a lane that has returned");
  bits = w.slot[src_lane];
  w.barrier.arrive_and_wait();
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

// Every lane's v, for emulating warp-wide instructions (mma.sync): a whole warp must call it.
template <class T>
std::array<T, 32> all_lanes(const T& v) {
  static_assert(sizeof(T) <= 64 && std::is_trivially_copyable_v<T>, "at most 64 bytes per lane");
  Warp& w = *self->warp;
  if (w.lanes != 32) die("a warp-wide instruction in a partial warp");
  std::memcpy(w.wide[self->lane], &v, sizeof(T));
  w.barrier.arrive_and_wait();
  std::array<T, 32> out;
  for (unsigned l = 0; l < 32; ++l) {
    if (w.exited[l]) die("a warp-wide instruction after a lane has returned");
    std::memcpy(&out[l], w.wide[l], sizeof(T));
  }
  w.barrier.arrive_and_wait();
  return out;
}

}  // namespace cuda_sim

inline void __syncthreads() { cuda_sim::self->block->arrive_and_wait(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { cuda_sim::exchange(0, cuda_sim::self->lane, mask); }

template <class T>
T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  const unsigned lane = cuda_sim::self->lane;
  return cuda_sim::exchange(v, lane / width * width + (unsigned)src % width, mask);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  const unsigned lane = cuda_sim::self->lane, target = lane ^ (unsigned)lane_mask;
  return cuda_sim::exchange(v, target / width == lane / width ? target : lane, mask);
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const unsigned lane = cuda_sim::self->lane;
  return cuda_sim::exchange(v, lane % width + delta < (unsigned)width ? lane + delta : lane, mask);
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const unsigned lane = cuda_sim::self->lane;
  return cuda_sim::exchange(v, lane % width >= delta ? lane - delta : lane, mask);
}

template <class T>
T atomicAdd(T* address, T v) {
  return std::atomic_ref<T>(*address).fetch_add(v);
}
template <class T>
T __ldg(const T* p) {
  return *p;
}

// Device math the host library lacks (the device's approximate forms as their exact ones).
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : x > 1.f ? 1.f : x; }

namespace cuda_sim {

// What a failed launch leaves for cudaGetLastError (cuda_sim_runtime.cpp reads and clears it); per
// host thread, as the runtime keeps it.
inline thread_local cudaError_t last_error = cudaSuccess;

// Runs op now, or records it while `stream` is being captured into a graph (cuda_sim_runtime.cpp).
void stream_op(cudaStream_t stream, std::function<void()> op);

// The static shared memory cudaFuncGetAttributes reports for a kernel (cuda_sim_runtime.cpp; 0 unless
// set): the simulation has no compiled images to read it from, so a test that models one says it here.
void set_static_shared_bytes(const void* kernel, size_t bytes);

struct LaunchConfig {
  LaunchConfig(dim3 grid, dim3 block, size_t smem = 0, cudaStream_t stream = nullptr)
      : grid(grid), block(block), smem(smem), stream(stream) {}
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
};

// The device's launch limits (sm_70 and later): a launch past them runs nothing and reports
// cudaErrorInvalidConfiguration, as the device does.
inline bool launchable(const LaunchConfig& c) {
  const uint64_t threads = (uint64_t)c.block.x * c.block.y * c.block.z;
  return threads > 0 && threads <= 1024 && c.block.z <= 64 && c.grid.x > 0 && c.grid.y > 0 && c.grid.z > 0 &&
         c.grid.x <= 0x7fffffffu && c.grid.y <= 65535 && c.grid.z <= 65535 && c.smem <= 227 * 1024;
}

// What `kernel<<<config>>>(args...)` becomes: the arguments copied once, as the device takes them.
template <class Kernel, class... Args>
void launch_kernel(const LaunchConfig& config, Kernel kernel, Args... args) {
  if (!launchable(config)) {
    last_error = cudaErrorInvalidConfiguration;
    return;
  }
  stream_op(config.stream, [config, kernel, args...] { launch(config.grid, config.block, [&] { kernel(args...); }, config.smem); });
}

}  // namespace cuda_sim

// The C++ forms cuda_runtime.h adds, for launchers that pass a kernel itself.
template <class T>
cudaError_t cudaFuncSetAttribute(T* entry, cudaFuncAttribute attr, int value) {
  return cudaFuncSetAttribute(reinterpret_cast<const void*>(entry), attr, value);
}
template <class T>
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, T* entry) {
  return cudaFuncGetAttributes(attr, reinterpret_cast<const void*>(entry));
}

// The device's integer min and max (CUDA declares them for device code only).
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a < b ? b : a; }

#include "ptx_sim.h"       // the sm_80 PTX of the attention kernels
#include "ptx_sim_sm90.h"  // the sm_90a warpgroup MMA
