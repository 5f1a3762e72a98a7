// GEMM candidates side by side: our GEMM (each micro-kernel the CPU runs; B packed on the fly,
// prepacked, or read in place as convolutions do), OpenBLAS and Eigen, on C = A[M,K] * B[K,N] with the thread count given. Every
// candidate's result is checked against a double-precision reference first; then each shape is
// timed as the median of repeated runs (the run count adapts to the shape, ~0.2 s per
// measurement), with the caches warm as in inference where weights are reused.
//
// Built and driven by bench/kernels/gemm.bench.mjs, which adds onnxruntime-node's MatMul:
//   gemm_bench THREADS M,K,N [M,K,N ...]   prints one JSON line per shape and candidate.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "hs/thread_pool.h"
#include "kernels/cpu/gemm.h"

#ifdef HS_BENCH_OPENBLAS
#include <cblas.h>
#endif
#ifdef HS_BENCH_EIGEN
#include <Eigen/Core>
#endif

namespace {

using Clock = std::chrono::steady_clock;

double median_ms(const std::function<void()>& run) {
  run();  // warm-up (packing buffers, thread start-up)
  auto t0 = Clock::now();
  run();
  const double once = std::chrono::duration<double>(Clock::now() - t0).count();
  const int reps = std::clamp((int)(0.02 / std::max(once, 1e-7)), 1, 2000);
  std::vector<double> samples;
  for (int s = 0; s < 11; ++s) {
    t0 = Clock::now();
    for (int r = 0; r < reps; ++r) run();
    samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / reps);
  }
  std::nth_element(samples.begin(), samples.begin() + 5, samples.end());
  return samples[5];
}

double max_error(const std::vector<float>& got, const std::vector<double>& want) {
  double err = 0;
  for (size_t i = 0; i < got.size(); ++i) err = std::max(err, std::fabs(got[i] - want[i]) / (1.0 + std::fabs(want[i])));
  return err;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: gemm_bench THREADS M,K,N [M,K,N ...]\n");
    return 2;
  }
  const int threads = std::atoi(argv[1]);
  hs::ThreadPool pool(threads);
#ifdef HS_BENCH_OPENBLAS
  openblas_set_num_threads(threads);
#endif
#ifdef HS_BENCH_EIGEN
  Eigen::setNbThreads(threads);
#endif
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);

  for (int arg = 2; arg < argc; ++arg) {
    long long M, K, N;
    if (std::sscanf(argv[arg], "%lld,%lld,%lld", &M, &K, &N) != 3) return 2;
    std::vector<float> A(M * K), B(K * N), C(M * N);
    for (float& v : A) v = uniform(rng);
    for (float& v : B) v = uniform(rng);
    std::vector<double> ref(M * N, 0.0);
    for (long long m = 0; m < M; ++m)
      for (long long k = 0; k < K; ++k)
        for (long long n = 0; n < N; ++n) ref[m * N + n] += (double)A[m * K + k] * B[k * N + n];

    auto report = [&](const char* name, const std::function<void()>& run) {
      std::fill(C.begin(), C.end(), 0.f);
      run();
      const double err = max_error(C, ref);
      const double ms = median_ms(run);
      std::printf("{\"shape\":\"%lld,%lld,%lld\",\"threads\":%d,\"candidate\":\"%s\",\"ms\":%.5f,\"gflops\":%.2f,\"err\":%.2e}\n",
                  M, K, N, threads, name, ms, 2.0 * M * N * K / ms / 1e6, err);
      std::fflush(stdout);
    };

    report(hs::cpu::gemm_kernel_name(), [&] {
      hs::cpu::sgemm(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N, &pool);
    });
    const hs::cpu::PackedMatrix packed_b = hs::cpu::PackedMatrix::pack_b(false, K, N, B.data(), N);
    const std::string packed_name = std::string(hs::cpu::gemm_kernel_name()) + " packed-B";
    report(packed_name.c_str(), [&] {
      hs::cpu::GemmOperand a{A.data(), K, false};
      hs::cpu::GemmOperand b;
      b.packed = &packed_b;
      hs::cpu::sgemm_ex(M, N, K, 1.f, a, b, 0.f, C.data(), N, hs::cpu::GemmEpilogue{}, &pool);
    });
    std::vector<int64_t> row_offsets(K);
    for (long long k = 0; k < K; ++k) row_offsets[k] = k * N;
    const std::string in_place_name = std::string(hs::cpu::gemm_kernel_name()) + " in-place-B";
    report(in_place_name.c_str(), [&] {
      hs::cpu::GemmOperand a{A.data(), K, false};
      hs::cpu::GemmOperand b{B.data(), N, false};
      b.row_offsets = row_offsets.data();
      hs::cpu::sgemm_ex(M, N, K, 1.f, a, b, 0.f, C.data(), N, hs::cpu::GemmEpilogue{}, &pool);
    });
#ifdef HS_BENCH_OPENBLAS
    report("openblas", [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N);
    });
#endif
#ifdef HS_BENCH_EIGEN
    using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<const RowMatrix> ea(A.data(), M, K), eb(B.data(), K, N);
    Eigen::Map<RowMatrix> ec(C.data(), M, N);
    report("eigen", [&] { ec.noalias() = ea * eb; });
#endif
  }
  return 0;
}
