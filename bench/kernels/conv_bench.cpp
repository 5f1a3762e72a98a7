// The two 2-D convolution kernels side by side on one thread: conv2d_direct (AVX2 hosts'
// default, conv_direct.cpp) and conv2d_implicit_gemm (conv_implicit_gemm.cpp), 3x3 stride 1 pad 1
// on the given layers. Calls alternate between the two and the best of 600 each counts (this
// VM's timings move 2x between seconds; the best is what the code can do). Prints ms, GFLOP/s and
// the largest difference between the two outputs. A layer is CIN,SIZE,COUT[,KERNEL[,STRIDE]]
// (square, padded to keep SIZE / STRIDE; default kernel 3, stride 1).
//   g++ -O3 -std=gnu++17 -Inative/include -Inative bench/kernels/conv_bench.cpp native/kernels/cpu/conv_direct.cpp
//       native/kernels/cpu/conv_implicit_gemm.cpp native/kernels/cpu/gemm.cpp native/kernels/cpu/gemm_kernel_*.cpp
//       native/core/thread_pool.cpp native/core/work_queue.cpp native/core/status.cpp native/core/dtype.cpp
//       native/core/tensor.cpp -lpthread -o /tmp/conv_bench
//   /tmp/conv_bench [LAYER ...]   (default: the CNN example's layers)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/conv_implicit_gemm.h"
#include "kernels/cpu/gemm.h"

using namespace hs::cpu;

int main(int argc, char** argv) {
  std::vector<const char*> layers(argv + 1, argv + argc);
  if (layers.empty()) layers = {"3,64,16", "16,64,16", "16,64,32,3,2", "32,32,32", "64,16,64", "32,32,64,1,2"};
  std::printf("cpu kernels %s\n", gemm_kernel_name());
  if (!conv2d_direct_available()) {
    std::printf("the direct convolution does not run on this CPU (it needs AVX2 + FMA)\n");
    return 0;
  }
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const char* layer : layers) {
    long long cin = 0, size = 0, cout = 0, kernel = 3, stride = 1;
    if (std::sscanf(layer, "%lld,%lld,%lld,%lld,%lld", &cin, &size, &cout, &kernel, &stride) < 3) return 2;
    const int64_t k = cin * kernel * kernel, pad = (kernel - 1) / 2, out = (size + 2 * pad - kernel) / stride + 1;
    std::vector<float> x((size_t)(cin * size * size)), w((size_t)(cout * k)), bias((size_t)cout);
    std::vector<float> y_direct((size_t)(cout * out * out)), y_gemm(y_direct.size());
    for (auto* v : {&x, &w, &bias})
      for (float& f : *v) f = u(rng);
    const PackedMatrix packed = PackedMatrix::pack_a(false, cout, k, w.data(), k);
    const DirectConvWeights direct = DirectConvWeights::pack(w.data(), cout, k);
    ImplicitConv2d conv{};
    conv.x = x.data();
    conv.x_channel_stride = size * size;
    conv.channels = cin;
    conv.shape = Conv2dShape{size, size, kernel, kernel, stride, stride, 1, 1, pad, pad, out, out};
    conv.weights = &packed;
    conv.out_channels = cout;
    conv.bias = bias.data();
    conv.y_channel_stride = out * out;
    ImplicitConv2d conv_direct = conv;
    conv.y = y_gemm.data();
    conv_direct.y = y_direct.data();
    double best[2] = {1e9, 1e9};
    for (int i = 0; i < 600; ++i)
      for (int v = 0; v < 2; ++v) {
        const auto t0 = std::chrono::steady_clock::now();
        if (v == 0) conv2d_direct(conv_direct, direct);
        else conv2d_implicit_gemm(conv, nullptr);
        best[v] = std::min(best[v], std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
    double diff = 0, largest = 0;
    for (size_t i = 0; i < y_gemm.size(); ++i) {
      diff = std::max(diff, (double)std::fabs(y_direct[i] - y_gemm[i]));
      largest = std::max(largest, (double)std::fabs(y_gemm[i]));
    }
    const double mflop = 2.0 * cout * k * out * out / 1e6;
    std::printf("%lld->%lld %lldx%lld %lldx%lld/%lld: direct %.4f ms (%.0f GFLOP/s), implicit GEMM %.4f ms (%.0f GFLOP/s), %.2fx; max diff %.1e of %.1f\n",
                cin, cout, size, size, kernel, kernel, stride, best[0], mflop / best[0], best[1], mflop / best[1], best[1] / best[0], diff, largest);
  }
  return 0;
}
