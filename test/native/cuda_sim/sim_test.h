// What the programs that run kernels through cuda_sim.h share: a failure count, fresh random inputs
// (the seed is printed, and HS_SIM_SEED repeats a run), outputs poisoned with NaN before a launch
// (an element the kernel does not write fails), comparison with a float64 reference, and the
// StatusCode a launcher must return.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "hs/status.h"

namespace sim_test {

inline int failures = 0;

inline void check(bool ok, const std::string& what) {
  if (ok) return;
  ++failures;
  std::printf("FAIL %s\n", what.c_str());
}

inline std::mt19937& rng() {
  static std::mt19937 gen([] {
    const char* fixed = std::getenv("HS_SIM_SEED");
    const unsigned seed = fixed ? (unsigned)std::strtoul(fixed, nullptr, 10) : std::random_device{}();
    std::printf("seed %u (HS_SIM_SEED=%u repeats this run)\n", seed, seed);
    return seed;
  }());
  return gen;
}

inline std::vector<float> randoms(size_t n, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng());
  return v;
}

inline int64_t random_int(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng()); }

template <class T>
void poison(std::vector<T>& v) {
  for (T& x : v) x = T(NAN);
}

// Whether |got - want| <= atol + rtol * |want| everywhere; a NaN passes only where the reference is
// NaN too (ONNX propagates it), so a poisoned element left unwritten fails. Reports the worst element.
template <class Got>
bool close(const std::vector<Got>& got, const std::vector<double>& want, double rtol, double atol, const std::string& what) {
  if (got.size() != want.size()) {
    check(false, what + ": " + std::to_string(got.size()) + " outputs, want " + std::to_string(want.size()));
    return false;
  }
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = (double)got[i];
    const bool same = g == want[i] || (std::isnan(g) && std::isnan(want[i]));  // == lets infinities match
    const double excess = same ? 0.0 : std::fabs(g - want[i]) / (atol + rtol * std::fabs(want[i]));
    if (!(excess <= worst)) {  // NaN lands here and stays the worst
      worst = std::isnan(excess) ? INFINITY : excess;
      at = i;
    }
  }
  const bool ok = worst <= 1.0;
  if (!ok) {
    char line[160];
    std::snprintf(line, sizeof line, ": element %zu is %.9g, want %.9g (%.3g x the tolerance)", at, (double)got[at], want[at], worst);
    check(false, what + line);
  }
  return ok;
}

inline void expect_code(const hs::Status& status, hs::StatusCode code, const std::string& what) {
  check(status.code() == code, what + ": got " + hs::status_code_name(status.code()) + " (" + status.message() + "), want " +
                                   hs::status_code_name(code));
}

// Prints the verdict the test runner looks for; the process's exit status.
inline int finish(const char* program) {
  if (failures) std::printf("%s: %d failure(s)\n", program, failures);
  else std::printf("%s: all passed\n", program);
  return failures ? 1 : 0;
}

}  // namespace sim_test
