// native/kernels/cuda/flash_attention.cu run on the host through cuda_sim: the FlashAttention-2
// tensor-core kernel (head dims 64, 96, 128; its cp.async / ldmatrix / mma.sync emulated by
// ptx_sim.h as on sm_80) and the general kernel (other head dims), through the launcher, against a
// float64 reference on fresh random fp16 / bf16 inputs: causal and not, GQA and MQA, variable
// lengths (cu_seqlens, queries fewer than keys), key padding (k_valid_lens), a broadcast bias, the
// log-sum-exp, rows that see no key, and the launcher's argument checks. Built and run by
// flash-attention-sim.test.ts.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/cuda/flash_attention.cuh"
#include "kernels/cuda/prefill_kernel_choice.h"
#include "sim_test.h"

namespace hs::cuda {
void sm90a_probe_kernel(int* sink);  // flash_attention_sm90.cu: the marker of its sm_90a image
}

using namespace hs::cuda;
using sim_test::check;

namespace {

struct Case {
  std::string name;
  AttnDType dtype;
  int head_dim, num_heads, num_kv_heads;
  std::vector<int> q_lens, k_lens;  // per sequence
  bool varlen, causal, padding, bias;
};

// 16-bit storage of x in the case's dtype, and the value it holds.
uint16_t to_bits(AttnDType t, float x) {
  if (t == AttnDType::kFloat16) return __half_as_ushort(__float2half_rn(x));
  return __bfloat16_as_ushort(__float2bfloat16_rn(x));
}
double from_bits(AttnDType t, uint16_t b) {
  if (t == AttnDType::kFloat16) return __half2float(__ushort_as_half(b));
  return __bfloat162float(__ushort_as_bfloat16(b));
}

std::vector<uint16_t> random_bits(AttnDType t, size_t n, float range) {
  std::vector<uint16_t> v(n);
  const auto values = sim_test::randoms(n, -range, range);
  for (size_t i = 0; i < n; ++i) v[i] = to_bits(t, values[i]);
  return v;
}

void run_case(const Case& c) {
  const int batch = (int)c.q_lens.size(), H = c.num_heads, KH = c.num_kv_heads, D = c.head_dim;
  std::vector<int32_t> cu_q{0}, cu_k{0};
  for (int b = 0; b < batch; ++b) {
    cu_q.push_back(cu_q.back() + c.q_lens[b]);
    cu_k.push_back(cu_k.back() + c.k_lens[b]);
  }
  const int max_q = *std::max_element(c.q_lens.begin(), c.q_lens.end()), max_k = *std::max_element(c.k_lens.begin(), c.k_lens.end());
  const int total_q = cu_q.back(), total_k = cu_k.back();
  const auto q = random_bits(c.dtype, (size_t)total_q * H * D, 1.f), k = random_bits(c.dtype, (size_t)total_k * KH * D, 1.f),
             v = random_bits(c.dtype, (size_t)total_k * KH * D, 1.f);
  // Bias [batch, 1, max_q, max_k]: broadcast over heads.
  const auto bias = random_bits(c.dtype, (size_t)batch * max_q * max_k, 2.f);
  std::vector<int32_t> valid(batch);
  for (int b = 0; b < batch; ++b) valid[b] = c.padding ? (int)sim_test::random_int(0, c.k_lens[b]) : c.k_lens[b];
  if (c.padding) valid[0] = 0;  // a sequence whose rows see no key at all

  std::vector<uint16_t> out((size_t)total_q * H * D, 0xFFFF);  // NaN in both dtypes
  std::vector<float> lse((size_t)H * total_q);
  sim_test::poison(lse);
  PrefillArgs a;
  a.dtype = c.dtype;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.out = out.data();
  a.lse = lse.data();
  if (c.varlen) {
    a.cu_seqlens_q = cu_q.data();
    a.cu_seqlens_k = cu_k.data();
  }
  a.k_valid_lens = c.padding ? valid.data() : nullptr;
  if (c.bias) {
    a.bias = bias.data();
    a.bias_batch_stride = (int64_t)max_q * max_k;
    a.bias_row_stride = max_k;
  }
  a.batch = batch;
  a.num_heads = H;
  a.num_kv_heads = KH;
  a.head_dim = D;
  a.max_seqlen_q = max_q;
  a.max_seqlen_k = max_k;
  a.scale = 1.f / std::sqrt((float)D);
  a.causal = c.causal;
  const hs::Status st = flash_attention_prefill(a, nullptr);
  check(st.is_ok(), c.name + ": launch: " + st.message());

  std::vector<double> want_out(out.size()), want_lse(lse.size());
  for (int b = 0; b < batch; ++b) {
    const int lq = c.q_lens[b], lk = c.k_lens[b];
    for (int h = 0; h < H; ++h) {
      const int kh = h / (H / KH);
      for (int i = 0; i < lq; ++i) {
        const int64_t row = cu_q[b] + i;
        std::vector<double> s;
        std::vector<int> keys;
        for (int j = 0; j < std::min(lk, valid[b]); ++j) {
          if (c.causal && j > i + lk - lq) continue;
          double dot = 0;
          for (int d = 0; d < D; ++d)
            dot += from_bits(c.dtype, q[(row * H + h) * D + d]) * from_bits(c.dtype, k[((cu_k[b] + j) * KH + kh) * D + d]);
          s.push_back(dot * a.scale + (c.bias ? from_bits(c.dtype, bias[((size_t)b * max_q + i) * max_k + j]) : 0.0));
          keys.push_back(j);
        }
        double mx = -INFINITY, sum = 0;
        for (double x : s) mx = std::max(mx, x);
        for (double x : s) sum += std::exp(x - mx);
        want_lse[(size_t)h * total_q + row] = s.empty() ? -INFINITY : mx + std::log(sum);
        for (int d = 0; d < D; ++d) {
          double o = 0;
          for (size_t n = 0; n < keys.size(); ++n)
            o += std::exp(s[n] - mx) / sum * from_bits(c.dtype, v[((cu_k[b] + keys[n]) * KH + kh) * D + d]);
          want_out[(row * H + h) * D + d] = o;
        }
      }
    }
  }
  std::vector<double> got(out.size());
  for (size_t i = 0; i < out.size(); ++i) got[i] = from_bits(c.dtype, out[i]);
  // P is rounded to 16 bits before P V, and the output is stored in 16 bits.
  const double tol = c.dtype == AttnDType::kFloat16 ? 4e-3 : 3e-2;
  sim_test::close(got, want_out, tol, tol, c.name + " out");
  sim_test::close(lse, want_lse, 1e-4, 1e-3, c.name + " lse");
}

void argument_checks() {
  PrefillArgs a;
  a.batch = 1;
  a.num_heads = 3;
  a.num_kv_heads = 2;  // not a divisor
  a.head_dim = 64;
  a.max_seqlen_q = a.max_seqlen_k = 4;
  std::vector<uint16_t> buf(3 * 4 * 64);
  a.q = a.k = a.v = buf.data();
  a.out = buf.data();
  check(!flash_attention_prefill(a, nullptr).is_ok(), "num_heads % num_kv_heads != 0 is refused");
  a.num_kv_heads = 1;
  a.head_dim = 300;
  check(!flash_attention_prefill(a, nullptr).is_ok(), "head_dim 300 is refused");
}

// The Hopper kernel (flash_attention_sm90.cu, its wgmma emulated by ptx_sim_sm90.h) on a simulated
// compute capability 9.0 device: refused while the addon has no sm_90a image, then, with one, the
// cases it takes (head dims 64 and 128, no bias) against the same reference, including query tiles
// past the first and enough key tiles to cycle its three K/V stages; the rest falls back to fa2.
void sm90_cases(const std::vector<Case>& shared_cases) {
  setenv("HS_CUDA_SIM_SM", "90", 1);
  set_prefill_kernel(PrefillKernel::kSm90);
  std::vector<uint16_t> buf(16 * 2 * 64);
  PrefillArgs a;
  a.q = a.k = a.v = a.out = buf.data();
  a.batch = 1;
  a.num_heads = a.num_kv_heads = 2;
  a.head_dim = 64;
  a.max_seqlen_q = a.max_seqlen_k = 16;
  a.scale = 0.125f;
  sim_test::expect_code(flash_attention_prefill(a, nullptr), hs::StatusCode::kCudaUnavailable, "sm90 without an sm_90a image");

  // The sm_90a image of the probe holds its 32-int marker in static shared memory.
  cuda_sim::set_static_shared_bytes(reinterpret_cast<const void*>(&sm90a_probe_kernel), 32 * sizeof(int));
  const auto f16 = AttnDType::kFloat16, bf16 = AttnDType::kBFloat16;
  std::vector<Case> cases = {
      {"sm90 d128 fp16 causal gqa padding, 3 query and 4 key tiles", f16, 128, 4, 2, {300, 45}, {300, 420}, true, true, true, false},
      {"sm90 d64 bf16 mqa, 5 key tiles", bf16, 64, 2, 1, {200}, {600}, false, false, false, false},
  };
  cases.insert(cases.end(), shared_cases.begin(), shared_cases.end());
  for (Case& c : cases) {
    if (c.name.rfind("sm90", 0) != 0) c.name = "sm90 mode: " + c.name;
    run_case(c);
  }
}

}  // namespace

// With `sm90`, the Hopper kernel's cases; without, the FA2 and general kernels'.
int main(int argc, char** argv) {
  const auto f16 = AttnDType::kFloat16, bf16 = AttnDType::kBFloat16;
  std::vector<Case> cases = {
      {"tc d64 fp16 causal gqa varlen", f16, 64, 4, 2, {37, 130}, {37, 130}, true, true, false, false},
      {"tc d64 bf16 mqa fixed", bf16, 64, 2, 1, {70, 70}, {90, 90}, false, false, false, false},
      {"tc d96 fp16 bias padding", f16, 96, 2, 2, {20, 129}, {33, 129}, true, false, true, true},
      {"tc d128 bf16 causal q<k", bf16, 128, 2, 1, {9, 65}, {140, 100}, true, true, false, false},
      {"tc d128 fp16 bias causal padding", f16, 128, 2, 2, {40, 17}, {40, 80}, true, true, true, true},
      {"general d40 fp16 causal gqa", f16, 40, 4, 2, {21, 5}, {30, 5}, true, true, false, false},
      {"general d200 bf16 bias padding", bf16, 200, 2, 1, {6, 9}, {11, 9}, true, false, true, true},
  };
  if (argc > 1 && std::string(argv[1]) == "sm90") {
    sm90_cases(cases);
  } else {
    for (const Case& c : cases) run_case(c);
    argument_checks();
  }
  return sim_test::finish("flash_attention_sim");
}
