// The tensor-core GEMM kernel (native/kernels/cuda/gemm_tc_kernel.cuh) run on the host through
// cuda_sim.h, with its portable MMA (the same fragment layout as mma.sync, one product at a time):
// its tile loaders, tails, batch items and epilogue against a float64 reference (A rounded to the
// MMA type, as the kernel rounds it), on every tile shape and both MMA types. The vector loader must
// give the element loader's bits, and every tile the same bits, since they run the same MMAs along
// k. The decision of which loader may run (vector_loads_fit) is checked too. On a GPU,
// bench/gpu/gemm.py checks the kernels with the real instruction. Build and run (repository root):
//   g++ -std=c++20 -O1 -g -fsanitize=address,undefined -Wall -Wextra -Wno-unknown-pragmas -I<cuda>/include
//       -Itest/native/cuda_sim -Inative/include -Inative test/native/gemm_tc_sim.cpp native/core/status.cpp
//       -lpthread -o /tmp/gemm_tc_sim && /tmp/gemm_tc_sim
#include "cuda_sim.h"  // first: it redefines the CUDA keywords the kernel header uses

#include <cmath>
#include <new>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/gemm_tc_kernel.cuh"

using namespace hs::cuda;
using namespace hs::cuda::tc_detail;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::printf("FAIL %s\n", what.c_str());
  }
}

std::mt19937 rng(20261123);

// 64-byte aligned storage, so that alignment is what a case sets, not what the allocator gives.
template <class E>
struct Aligned {
  using value_type = E;
  Aligned() = default;
  template <class U>
  Aligned(const Aligned<U>&) {}
  E* allocate(size_t n) { return static_cast<E*>(::operator new(n * sizeof(E), std::align_val_t{64})); }
  void deallocate(E* p, size_t) { ::operator delete(p, std::align_val_t{64}); }
  bool operator==(const Aligned&) const { return true; }
};
template <class E>
using Vec = std::vector<E, Aligned<E>>;

Vec<float> randoms(size_t n) {
  std::normal_distribution<float> d;
  Vec<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

template <class T>
unsigned short bits(float v) { return to_bits<T>(v); }
template <class T>
double rounded(float v) { return from_bits<T>(to_bits<T>(v)); }

// One GEMM case: A [items][M][K] float32 (row stride lda >= K), B of N output columns over K as
// 16-bit T, int8 with scales, k-major ([N][K]) or n-major ([K][N]); optional bias, D and ReLU.
struct Case {
  std::string name;
  int64_t M, N, K, items = 1, lda = 0;
  bool int8 = false, k_major = true, shared_b = false, epilogue = false;
  size_t a_offset = 0;  // floats the A pointer is moved by (misalignment)
};

template <class T>
struct Data {
  Vec<float> a, scale, bias, d;
  Vec<unsigned short> b16;
  Vec<signed char> b8;
  std::vector<double> ref;  // [items][M][N]
};

template <class T>
Data<T> make_data(const Case& c) {
  Data<T> x;
  const int64_t lda = c.lda ? c.lda : c.K, b_items = c.shared_b ? 1 : c.items;
  x.a = randoms((size_t)(c.items * c.M * lda) + c.a_offset);
  const Vec<float> w = randoms((size_t)(b_items * c.N * c.K));
  std::vector<double> bv(w.size());  // B's value at [item][n][k]
  if (c.int8) {
    x.scale.resize((size_t)c.N);
    for (float& s : x.scale) s = 0.01f + 0.02f * (float)(rng() % 100) / 100.f;
    x.b8.resize(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      x.b8[i] = (signed char)std::lround(std::fmax(-127.f, std::fmin(127.f, w[i] * 40.f)));
      bv[i] = x.b8[i];
    }
  } else {
    x.b16.resize(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      x.b16[i] = bits<T>(w[i]);
      bv[i] = from_bits<T>(x.b16[i]);
    }
  }
  if (!c.k_major) {  // stored [K][N] instead of [N][K]
    auto transpose = [&](auto& v) {
      auto t = v;
      for (int64_t i = 0; i < b_items; ++i)
        for (int64_t n = 0; n < c.N; ++n)
          for (int64_t k = 0; k < c.K; ++k) t[(size_t)((i * c.K + k) * c.N + n)] = v[(size_t)((i * c.N + n) * c.K + k)];
      v = t;
    };
    if (c.int8) transpose(x.b8);
    else transpose(x.b16);
  }
  if (c.epilogue) {
    x.bias = randoms((size_t)c.N);
    x.d = randoms((size_t)(c.M * c.N));
  }
  x.ref.assign((size_t)(c.items * c.M * c.N), 0.);
  for (int64_t i = 0; i < c.items; ++i)
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t n = 0; n < c.N; ++n) {
        double s = 0;
        const int64_t bi = c.shared_b ? 0 : i;
        for (int64_t k = 0; k < c.K; ++k)
          s += rounded<T>(x.a[c.a_offset + (size_t)((i * c.M + m) * lda + k)]) * bv[(size_t)((bi * c.N + n) * c.K + k)];
        if (c.int8) s *= x.scale[(size_t)n];
        if (c.epilogue) s = std::fmax(0., s + x.bias[(size_t)n] + 0.5 * x.d[(size_t)(m * c.N + n)]);
        x.ref[(size_t)((i * c.M + m) * c.N + n)] = s;
      }
  return x;
}

template <class T>
GemmArgs args_for(const Case& c, Data<T>& x, Vec<float>& out) {
  const int64_t lda = c.lda ? c.lda : c.K;
  GemmArgs g;
  g.M = c.M, g.N = c.N, g.K = c.K;
  g.a = x.a.data() + c.a_offset, g.a_rs = lda, g.a_cs = 1;
  g.b_elem = c.int8 ? GemmElem::kI8 : std::is_same_v<T, BF16> ? GemmElem::kBF16 : GemmElem::kF16;
  g.b = c.int8 ? static_cast<const void*>(x.b8.data()) : static_cast<const void*>(x.b16.data());
  g.b_scale = c.int8 ? x.scale.data() : nullptr;
  g.b_rs = c.k_major ? 1 : c.N, g.b_cs = c.k_major ? c.K : 1;
  out.assign((size_t)(c.items * c.M * c.N), NAN);
  g.c = out.data(), g.c_rs = c.N;
  if (c.items > 1) {
    g.batch.rank = 1, g.batch.dims[0] = c.items;
    g.a_bs.s[0] = c.M * lda;
    g.b_bs.s[0] = c.shared_b ? 0 : c.N * c.K;
    g.c_bs = c.M * c.N;
  }
  if (c.epilogue) {
    g.bias = x.bias.data();
    g.d = x.d.data(), g.d_rs = c.N, g.d_cs = 1, g.beta = 0.5f;
    g.ep.act = Act::kRelu;
  }
  return g;
}

template <class Tile, class T, bool kVector, class Problem>
void run(const Problem& p, int64_t M, int64_t N) {
  const dim3 grid((unsigned)((N + Tile::BN - 1) / Tile::BN), (unsigned)((M + Tile::BM - 1) / Tile::BM), (unsigned)p.items);
  cuda_sim::launch(grid, Tile::kThreads, [&] { tc_gemm_kernel<Problem, Tile, T, kVector>(p); });
}

// Runs the case with the element loader, and with the vector loader where it fits; returns the
// element loader's output.
template <class Tile, class T>
Vec<float> run_case(const Case& c, Data<T>& x, const char* tile, bool expect_vector) {
  Vec<float> by_element, by_vector;
  const GemmArgs ge = args_for<T>(c, x, by_element);
  const int64_t items = c.items;
  const std::string label = std::string(std::is_same_v<T, BF16> ? "bf16 " : "fp16 ") + tile + " " + c.name;
  const GemmElem h = std::is_same_v<T, BF16> ? GemmElem::kBF16 : GemmElem::kF16;
  check(with_dense<T>(ge, items, h, [&](const auto& p) {
          run<Tile, T, false>(p, c.M, c.N);
          return hs::Status::ok();
        }).is_ok(), label + ": element launch");
  double worst = 0, top = 0;
  for (size_t i = 0; i < x.ref.size(); ++i) {
    worst = std::isnan(by_element[i]) ? INFINITY : std::fmax(worst, std::fabs(by_element[i] - x.ref[i]));
    top = std::fmax(top, std::fabs(x.ref[i]));
    if (std::isinf(worst)) break;
  }
  check(worst <= 1e-5 * std::fmax(top, 1.), label + ": element loader vs float64 reference, max error " + std::to_string(worst));
  const GemmArgs gv = args_for<T>(c, x, by_vector);
  check(vector_loads_fit(gv) == expect_vector, label + ": vector_loads_fit");
  if (expect_vector) {
    check(with_dense<T>(gv, items, h, [&](const auto& p) {
            using P = std::decay_t<decltype(p)>;
            if constexpr (kHasVectorLoads<P, T>) run<Tile, T, true>(p, c.M, c.N);
            return hs::Status::ok();
          }).is_ok(), label + ": vector launch");
    check(std::memcmp(by_vector.data(), by_element.data(), by_element.size() * sizeof(float)) == 0,
          label + ": vector loader bits differ from the element loader's");
  }
  return by_element;
}

template <class T>
void all_cases() {
  const std::vector<std::pair<Case, bool>> cases = {
      {{"decode 1x40x136", 1, 40, 136}, true},
      {{"decode 2x40x520, three 256-wide k-steps", 2, 40, 520}, true},
      {{"5x65x40, partial tiles", 5, 65, 40}, true},
      {{"17x33x8, one k vector", 17, 33, 8}, true},
      {{"70x65x136", 70, 65, 136}, true},
      {{"int8 5x65x40", 5, 65, 40, 1, 0, true}, true},
      {{"int8 70x40x136", 70, 40, 136, 1, 0, true}, true},
      {{"B [K][N] 9x40x24", 9, 40, 24, 1, 0, false, false}, false},
      {{"K 37 (rows not 16-byte aligned)", 6, 20, 37}, false},
      {{"A rows of 44 floats over K 40", 7, 24, 40, 1, 44}, true},
      {{"A pointer 4 bytes off", 7, 24, 40, 1, 0, false, true, false, false, 1}, false},
      {{"3 batch items, shared B", 9, 40, 48, 3, 0, false, true, true}, true},
      {{"3 batch items, int8", 4, 24, 16, 3, 0, true}, true},
      {{"bias + 0.5 D + ReLU", 18, 40, 64, 1, 0, false, true, false, true}, true},
  };
  for (const auto& [c, vector] : cases) {
    Data<T> x = make_data<T>(c);
    const Vec<float> t16 = run_case<Tile16, T>(c, x, "tile16", vector);
    const Vec<float> t64 = run_case<Tile64, T>(c, x, "tile64", vector);
    const Vec<float> t128 = run_case<Tile128, T>(c, x, "tile128", vector);
    check(std::memcmp(t16.data(), t64.data(), t64.size() * 4) == 0 && std::memcmp(t128.data(), t64.data(), t64.size() * 4) == 0,
          c.name + ": the tiles' bits differ");
  }
}

}  // namespace

int main() {
  all_cases<BF16>();
  all_cases<F16>();
  if (failures) {
    std::printf("gemm_tc_sim: %d failures\n", failures);
    return 1;
  }
  std::printf("gemm_tc_sim: all passed\n");
  return 0;
}
