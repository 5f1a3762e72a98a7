// cuda_sim's own contract, on kernels launched through the translation (cuda_sim_self_kernels.cu):
// with no argument, barriers order shared memory, a read that no barrier orders sees the write
// missing in one of the two scheduling orders, shuffles take their CUDA source lanes (full and
// partial warps, widths 8 to 32), and threads that return leave the block's barriers. With
// `deadlock` or `returned-lane`, a kernel that the device would hang on or leave undefined must abort
// the program with cuda_sim's message (cuda-sim-self.test.ts checks both). Expected values come
// from the CUDA programming guide's definitions, written out here.
#include <cuda_runtime_api.h>

#include <cstring>
#include <string>
#include <vector>

#include "sim_test.h"

cudaError_t sim_neighbours(int* out, unsigned blocks, unsigned threads, bool barrier);
cudaError_t sim_shuffles(int* out, unsigned threads, int width);
cudaError_t sim_early_return(int* counts, unsigned blocks, unsigned threads);
cudaError_t sim_deadlock();
cudaError_t sim_shuffle_from_returned_lane(int* out);

namespace {

void expect_launched(cudaError_t e, const std::string& what) { sim_test::check(e == cudaSuccess, what + ": launch failed"); }

// Reads of s[t + 1] and s[t - 1] (cyclic): how many differ from the neighbour's write, per read.
std::pair<int, int> neighbour_misses(unsigned blocks, unsigned threads, bool barrier) {
  std::vector<int> out(2 * blocks * threads, -1);
  expect_launched(sim_neighbours(out.data(), blocks, threads, barrier), "neighbours");
  int next = 0, prev = 0;
  for (unsigned b = 0; b < blocks; ++b)
    for (unsigned t = 0; t < threads; ++t) {
      const int* o = &out[2 * (b * threads + t)];
      next += o[0] != (int)(b * 10000 + (t + 1) % threads);
      prev += o[1] != (int)(b * 10000 + (t + threads - 1) % threads);
    }
  return {next, prev};
}

void barrier_cases() {
  for (unsigned threads : {32u, 96u, 1024u}) {
    const auto [next, prev] = neighbour_misses(3, threads, true);
    sim_test::check(next == 0 && prev == 0, "__syncthreads orders shared memory, " + std::to_string(threads) + " threads");
    const auto [next_raw, prev_raw] = neighbour_misses(2, threads, false);
    sim_test::check(next_raw > 0 && prev_raw > 0, "without __syncthreads both directions of reads miss writes, " + std::to_string(threads) + " threads");
  }
}

int source_lane(int op, int lane, int width) {
  const int base = lane / width * width, in = lane % width;
  switch (op) {
    case 0: return base + (in ^ 5) % width;          // xor 5 (stays within widths of 8 and more)
    case 1: return in + 3 < width ? lane + 3 : lane;  // down 3
    case 2: return in >= 3 ? lane - 3 : lane;         // up 3
    default: return base + 2;                          // lane 2 of the segment
  }
}

void shuffle_cases() {
  struct Case {
    unsigned threads;
    int width;
  };
  for (const Case c : {Case{64, 32}, Case{64, 16}, Case{64, 8}, Case{48, 16}}) {
    std::vector<int> out(4 * c.threads, -1);
    expect_launched(sim_shuffles(out.data(), c.threads, c.width), "shuffles");
    int wrong = 0;
    for (unsigned t = 0; t < c.threads; ++t)
      for (int op = 0; op < 4; ++op) {
        const int warp = (int)t / 32 * 32, src = warp + source_lane(op, (int)t % 32, c.width);
        wrong += out[4 * t + op] != src * 7 + 1;
      }
    sim_test::check(wrong == 0, "shuffles in " + std::to_string(c.threads) + " threads, width " + std::to_string(c.width) + ": " +
                                    std::to_string(wrong) + " wrong");
  }
}

void early_return_cases() {
  for (unsigned threads : {3u, 64u, 100u}) {
    int counts[2] = {0, 0};
    expect_launched(sim_early_return(counts, 4, threads), "early return");
    const int stay = 4 * (int)(threads - (threads + 2) / 3);
    sim_test::check(counts[0] == stay && counts[1] == stay, "threads that return leave the barriers, " + std::to_string(threads) + " threads");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "deadlock") return sim_deadlock() == cudaSuccess ? 0 : 2;  // must abort before returning
  if (mode == "returned-lane") {
    int out[32];
    return sim_shuffle_from_returned_lane(out) == cudaSuccess ? 0 : 2;
  }
  barrier_cases();
  shuffle_cases();
  early_return_cases();
  return sim_test::finish("cuda_sim_self");
}
