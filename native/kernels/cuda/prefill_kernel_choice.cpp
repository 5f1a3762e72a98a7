#include "kernels/cuda/prefill_kernel_choice.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace hs::cuda {
namespace {

constexpr int kUnset = -1;
std::atomic<int> g_choice{kUnset};

PrefillKernel from_env() {
  const char* value = std::getenv("HS_ATTENTION_KERNEL");
  return value && std::strcmp(value, "sm90") == 0 ? PrefillKernel::kSm90 : PrefillKernel::kFa2;
}

}  // namespace

PrefillKernel selected_prefill_kernel() {
  int choice = g_choice.load(std::memory_order_relaxed);
  if (choice == kUnset) {
    int expected = kUnset;
    g_choice.compare_exchange_strong(expected, static_cast<int>(from_env()), std::memory_order_relaxed);
    choice = g_choice.load(std::memory_order_relaxed);
  }
  return static_cast<PrefillKernel>(choice);
}

void set_prefill_kernel(PrefillKernel kernel) { g_choice.store(static_cast<int>(kernel), std::memory_order_relaxed); }

}  // namespace hs::cuda
