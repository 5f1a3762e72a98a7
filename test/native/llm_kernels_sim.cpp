// native/kernels/cuda/llm_ops.cu run on the host through cuda_sim (its own launchers, translated): the
// LLM decoder's small kernels against float64 references written from llm_ops.cuh's contracts, on
// fresh random inputs, for float16 and bfloat16: embedding gathers (16-bit tables and an int8 table
// with row scales), RMSNorm of all rows and of selected rows, RoPE of the fused qkv (theta, scaled
// frequencies, attention scaling, positions far from 0, head_dim 2..256, GQA) storing q through a
// permutation and K/V into shuffled cache slots, K/V gathers from the cache, unpermute to float32 and
// SiLU(gate) * up. Out-of-range indices must give the documented NaN rows, zero rows or skipped
// writes, and bad arguments ERR_INVALID_ARGUMENT. Built and run by llm-kernels-sim.test.ts.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/cuda/llm_ops.cuh"
#include "sim_16bit.h"
#include "sim_test.h"

using namespace hs::cuda;
using sim_test::check;
using sim_test::close;
using sim_test::Dtype;
using sim_test::rounded;
using sim_test::widened;

namespace {

template <class T>
bool all_nan(const std::vector<T>& v, size_t begin, size_t n) {
  for (size_t i = begin; i < begin + n; ++i)
    if (!std::isnan((float)v[i])) return false;
  return true;
}

// `count` distinct values of [0, range) in random order.
std::vector<int32_t> distinct(int64_t count, int64_t range) {
  std::vector<int32_t> all(range);
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), sim_test::rng());
  all.resize(count);
  return all;
}

std::vector<int32_t> random_indices(int64_t count, int64_t range) {
  std::vector<int32_t> v(count);
  for (int32_t& i : v) i = (int32_t)sim_test::random_int(0, range - 1);
  return v;
}

bool invalid(const hs::Status& s) { return s.code() == hs::StatusCode::kInvalidArgument; }

template <class T>
void embed_case(int64_t vocab, int64_t dim, int64_t n_tokens) {
  const auto table = rounded<T>(sim_test::randoms(vocab * dim, -3, 3));
  const auto tokens = random_indices(n_tokens, vocab);
  std::vector<float> out(n_tokens * dim);
  sim_test::poison(out);
  const std::string what = std::string("embed ") + Dtype<T>::name + " vocab " + std::to_string(vocab) + " dim " + std::to_string(dim);
  check(llm_embed(Dtype<T>::kind, table.data(), vocab, dim, tokens.data(), n_tokens, out.data(), nullptr).is_ok(), what);
  std::vector<double> want(out.size());
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t d = 0; d < dim; ++d) want[t * dim + d] = Dtype<T>::to(table[tokens[t] * dim + d]);
  close(out, want, 0, 0, what);
}

void embed_int8_case(int64_t vocab, int64_t dim, int64_t n_tokens) {
  std::vector<int8_t> table(vocab * dim);
  for (int8_t& v : table) v = (int8_t)sim_test::random_int(-128, 127);
  const auto scales = sim_test::randoms(vocab, 1e-3f, 0.1f);
  const auto tokens = random_indices(n_tokens, vocab);
  std::vector<float> out(n_tokens * dim);
  sim_test::poison(out);
  const std::string what = "embed int8 vocab " + std::to_string(vocab) + " dim " + std::to_string(dim);
  check(llm_embed_int8(table.data(), scales.data(), vocab, dim, tokens.data(), n_tokens, out.data(), nullptr).is_ok(), what);
  std::vector<double> want(out.size());
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t d = 0; d < dim; ++d) want[t * dim + d] = (double)table[tokens[t] * dim + d] * scales[tokens[t]];
  close(out, want, 1e-7, 0, what);
}

// rows empty: every row of x in order.
void rms_norm_case(int64_t x_rows, int64_t dim, const std::vector<int32_t>& rows, float eps) {
  const auto x = sim_test::randoms(x_rows * dim, -3, 3), weight = sim_test::randoms(dim, 0.5f, 1.5f);
  const int64_t n_rows = rows.empty() ? x_rows : (int64_t)rows.size();
  std::vector<float> out(n_rows * dim);
  sim_test::poison(out);
  const std::string what = "rms_norm " + std::to_string(n_rows) + (rows.empty() ? " rows" : " selected rows") + " of " +
                           std::to_string(x_rows) + "x" + std::to_string(dim);
  check(llm_rms_norm(x.data(), rows.empty() ? nullptr : rows.data(), n_rows, x_rows, dim, weight.data(), eps, out.data(), nullptr).is_ok(),
        what);
  std::vector<double> want(out.size());
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* row = x.data() + (rows.empty() ? r : rows[r]) * dim;
    double squares = 0;
    for (int64_t i = 0; i < dim; ++i) squares += (double)row[i] * row[i];
    const double inv = 1 / std::sqrt(squares / dim + eps);
    for (int64_t i = 0; i < dim; ++i) want[r * dim + i] = row[i] * inv * weight[i];
  }
  close(out, want, 1e-5, 1e-6, what);
}

// The rotary frequencies of a model: theta^(-2i / head_dim) / freq_scale (linear position scaling).
std::vector<float> rope_inv_freq(int head_dim, double theta, double freq_scale) {
  std::vector<float> inv_freq(head_dim / 2);
  for (int i = 0; i < head_dim / 2; ++i) inv_freq[i] = (float)(std::pow(theta, -2.0 * i / head_dim) / freq_scale);
  return inv_freq;
}

// `heads` heads of x rotated as the contract says: element i pairs with i + D/2, the angle is
// float(position) * inv_freq[i] (a float product), cos and sin are multiplied by `scaling`.
std::vector<double> rotated(const float* x, int heads, int head_dim, int32_t position, const std::vector<float>& inv_freq, float scaling) {
  const int half = head_dim / 2;
  std::vector<double> out((size_t)heads * head_dim);
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < half; ++i) {
      const double angle = (float)position * inv_freq[i], c = std::cos(angle) * scaling, s = std::sin(angle) * scaling;
      const double x0 = x[h * head_dim + i], x1 = x[h * head_dim + i + half];
      out[h * head_dim + i] = x0 * c - x1 * s;
      out[h * head_dim + i + half] = x1 * c + x0 * s;
    }
  return out;
}

struct RopeCase {
  int64_t n_tokens;
  int heads, kv_heads, head_dim;
  double theta, freq_scale;
  float attention_scaling;
  int32_t first_position;
};

// q rows land at perm[t], K/V rows at slots[t] (distinct, shuffled, among spare slots); every other
// cache slot must keep its (NaN) poison.
template <class T>
void rope_case(const RopeCase& c) {
  const int D = c.head_dim;
  const int64_t q_dim = (int64_t)c.heads * D, kv_dim = (int64_t)c.kv_heads * D, stride = q_dim + 2 * kv_dim;
  const int64_t num_slots = c.n_tokens * 2 + 3;
  const auto qkv = sim_test::randoms(c.n_tokens * stride, -2, 2);
  const auto inv_freq = rope_inv_freq(D, c.theta, c.freq_scale);
  std::vector<int32_t> positions(c.n_tokens);
  for (int32_t& p : positions) p = c.first_position + (int32_t)sim_test::random_int(0, 4 * c.n_tokens);
  const auto slots = distinct(c.n_tokens, num_slots), perm = distinct(c.n_tokens, c.n_tokens);
  std::vector<T> q_out(c.n_tokens * q_dim), k_cache(num_slots * kv_dim), v_cache(num_slots * kv_dim);
  sim_test::poison(q_out);
  sim_test::poison(k_cache);
  sim_test::poison(v_cache);

  RopeQkvArgs a;
  a.dtype = Dtype<T>::kind;
  a.qkv = qkv.data();
  a.positions = positions.data();
  a.slots = slots.data();
  a.perm = perm.data();
  a.inv_freq = inv_freq.data();
  a.attention_scaling = c.attention_scaling;
  a.n_tokens = c.n_tokens;
  a.heads = c.heads;
  a.kv_heads = c.kv_heads;
  a.head_dim = D;
  a.num_slots = num_slots;
  a.q_out = q_out.data();
  a.k_cache = k_cache.data();
  a.v_cache = v_cache.data();
  const std::string what = std::string("rope_qkv ") + Dtype<T>::name + " " + std::to_string(c.n_tokens) + " tokens, heads " +
                           std::to_string(c.heads) + "/" + std::to_string(c.kv_heads) + ", head_dim " + std::to_string(D) +
                           ", theta " + std::to_string((int64_t)c.theta) + "/" + std::to_string((int)c.freq_scale) + ", position " +
                           std::to_string(c.first_position) + "+";
  check(llm_rope_qkv(a, nullptr).is_ok(), what);

  const double rtol = Dtype<T>::rtol, atol = 1e-5;
  std::vector<bool> written(num_slots);
  for (int64_t t = 0; t < c.n_tokens; ++t) {
    const float* src = qkv.data() + t * stride;
    const std::string token = what + ": token " + std::to_string(t);
    close(widened(q_out, perm[t] * q_dim, q_dim), rotated(src, c.heads, D, positions[t], inv_freq, c.attention_scaling), rtol, atol,
          token + " q");
    close(widened(k_cache, slots[t] * kv_dim, kv_dim), rotated(src + q_dim, c.kv_heads, D, positions[t], inv_freq, c.attention_scaling),
          rtol, atol, token + " k");
    close(widened(v_cache, slots[t] * kv_dim, kv_dim), std::vector<double>(src + q_dim + kv_dim, src + stride), rtol, atol, token + " v");
    written[slots[t]] = true;
  }
  for (int64_t s = 0; s < num_slots; ++s)
    if (!written[s])
      check(all_nan(k_cache, s * kv_dim, kv_dim) && all_nan(v_cache, s * kv_dim, kv_dim),
            what + ": slot " + std::to_string(s) + " of no token was written");
}

// Bit copies whatever the dtype; slots repeat.
template <class T>
void gather_kv_case(int64_t num_slots, int64_t row_elems, int64_t n_rows) {
  const auto k_cache = rounded<T>(sim_test::randoms(num_slots * row_elems)), v_cache = rounded<T>(sim_test::randoms(num_slots * row_elems));
  const auto slots = random_indices(n_rows, num_slots);
  std::vector<T> k_out(n_rows * row_elems), v_out(n_rows * row_elems);
  sim_test::poison(k_out);
  sim_test::poison(v_out);
  const std::string what =
      std::string("gather_kv ") + Dtype<T>::name + " " + std::to_string(n_rows) + " rows of " + std::to_string(row_elems);
  check(llm_gather_kv(k_cache.data(), v_cache.data(), num_slots, row_elems, slots.data(), n_rows, k_out.data(), v_out.data(),
                      nullptr).is_ok(),
        what);
  const size_t row_bytes = row_elems * sizeof(T);
  for (int64_t r = 0; r < n_rows; ++r)
    check(!std::memcmp(&k_out[r * row_elems], &k_cache[slots[r] * row_elems], row_bytes) &&
              !std::memcmp(&v_out[r * row_elems], &v_cache[slots[r] * row_elems], row_bytes),
          what + ": row " + std::to_string(r) + " is not slot " + std::to_string(slots[r]));
}

template <class T>
void unpermute_case(int64_t n_rows, int64_t dim) {
  const auto x = rounded<T>(sim_test::randoms(n_rows * dim, -5, 5));
  const auto perm = distinct(n_rows, n_rows);
  std::vector<float> out(n_rows * dim);
  sim_test::poison(out);
  const std::string what = std::string("unpermute ") + Dtype<T>::name + " " + std::to_string(n_rows) + "x" + std::to_string(dim);
  check(llm_unpermute_to_float(Dtype<T>::kind, x.data(), perm.data(), n_rows, dim, out.data(), nullptr).is_ok(), what);
  std::vector<double> want(out.size());
  for (int64_t t = 0; t < n_rows; ++t)
    for (int64_t d = 0; d < dim; ++d) want[t * dim + d] = Dtype<T>::to(x[perm[t] * dim + d]);
  close(out, want, 0, 0, what);
}

void silu_mul_case(int64_t n_tokens, int64_t inter) {
  auto gu = sim_test::randoms(n_tokens * 2 * inter, -12, 12);
  gu[0] = -100.f;  // exp(100) overflows float: the product must still be (-)0
  gu[1] = 100.f;
  std::vector<float> out(n_tokens * inter);
  sim_test::poison(out);
  const std::string what = "silu_mul " + std::to_string(n_tokens) + "x" + std::to_string(inter);
  check(llm_silu_mul(gu.data(), n_tokens, inter, out.data(), nullptr).is_ok(), what);
  std::vector<double> want(out.size());
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t i = 0; i < inter; ++i) {
      const double g = gu[t * 2 * inter + i], u = gu[t * 2 * inter + inter + i];
      want[t * inter + i] = g / (1 + std::exp(-g)) * u;
    }
  close(out, want, 1e-5, 1e-12, what);
}

// What llm_ops.cuh promises for indices the host should have refused: NaN rows for embed, rms_norm
// and unpermute, zero rows for gather_kv, no write for rope_qkv.
void out_of_range_indices() {
  using T = __half;
  const int64_t vocab = 5, dim = 16;
  const auto table = rounded<T>(sim_test::randoms(vocab * dim));
  const std::vector<int32_t> tokens = {1, (int32_t)vocab, -1, 4};
  std::vector<float> emb(tokens.size() * dim, 7.f);  // stale values that bad rows must not keep
  check(llm_embed(AttnDType::kFloat16, table.data(), vocab, dim, tokens.data(), (int64_t)tokens.size(), emb.data(), nullptr).is_ok(),
        "embed with bad tokens: launch");
  check(all_nan(emb, dim, 2 * dim), "embed: a bad token's row is not NaN");
  check(!std::memcmp(&emb[3 * dim], widened(table, 4 * dim, dim).data(), dim * sizeof(float)), "embed: the row after bad tokens");

  const auto x = sim_test::randoms(3 * dim), weight = sim_test::randoms(dim);
  const std::vector<int32_t> rows = {3, -2};
  std::vector<float> normed(rows.size() * dim, 7.f);
  check(llm_rms_norm(x.data(), rows.data(), 2, 3, dim, weight.data(), 1e-5f, normed.data(), nullptr).is_ok(),
        "rms_norm with bad rows: launch");
  check(all_nan(normed, 0, normed.size()), "rms_norm: a bad row is not NaN");

  const auto x16 = rounded<T>(sim_test::randoms(3 * dim));
  const std::vector<int32_t> perm = {3, 0, -1};
  std::vector<float> unperm(3 * dim, 7.f);
  check(llm_unpermute_to_float(AttnDType::kFloat16, x16.data(), perm.data(), 3, dim, unperm.data(), nullptr).is_ok(),
        "unpermute with a bad perm: launch");
  check(all_nan(unperm, 0, dim) && all_nan(unperm, 2 * dim, dim), "unpermute: a bad source row is not NaN");
  check(!std::memcmp(&unperm[dim], widened(x16, 0, dim).data(), dim * sizeof(float)), "unpermute: the good row");

  const int64_t num_slots = 4;
  const auto cache = rounded<T>(sim_test::randoms(num_slots * dim));
  const std::vector<int32_t> slots = {(int32_t)num_slots, 2};
  std::vector<T> k_out(2 * dim), v_out(2 * dim);
  sim_test::poison(k_out);
  sim_test::poison(v_out);
  check(llm_gather_kv(cache.data(), cache.data(), num_slots, dim, slots.data(), 2, k_out.data(), v_out.data(), nullptr).is_ok(),
        "gather_kv with a bad slot: launch");
  const std::vector<T> zero_row(dim, Dtype<T>::from(0.f));
  check(!std::memcmp(&k_out[0], zero_row.data(), dim * sizeof(T)) && !std::memcmp(&v_out[0], zero_row.data(), dim * sizeof(T)),
        "gather_kv: a bad slot's rows are not zeros");
  check(!std::memcmp(&k_out[dim], &cache[2 * dim], dim * sizeof(T)), "gather_kv: the good row");

  // Token 0 has a bad slot (its q is still stored), token 1 a bad q row (its K/V are still stored).
  const int heads = 1, D = dim;
  const auto qkv = sim_test::randoms(2 * 3 * D);
  const auto inv_freq = rope_inv_freq(D, 10000, 1);
  const std::vector<int32_t> positions = {5, 6}, rope_slots = {-1, 1}, rope_perm = {1, 2};
  std::vector<T> q_out(2 * D), k_cache(2 * D), v_cache(2 * D);
  sim_test::poison(q_out);
  sim_test::poison(k_cache);
  sim_test::poison(v_cache);
  RopeQkvArgs a;
  a.dtype = AttnDType::kFloat16;
  a.qkv = qkv.data();
  a.positions = positions.data();
  a.slots = rope_slots.data();
  a.perm = rope_perm.data();
  a.inv_freq = inv_freq.data();
  a.n_tokens = 2;
  a.heads = a.kv_heads = heads;
  a.head_dim = D;
  a.num_slots = 2;
  a.q_out = q_out.data();
  a.k_cache = k_cache.data();
  a.v_cache = v_cache.data();
  check(llm_rope_qkv(a, nullptr).is_ok(), "rope_qkv with bad indices: launch");
  check(all_nan(q_out, 0, D) && all_nan(k_cache, 0, D) && all_nan(v_cache, 0, D), "rope_qkv: a bad index was written through");
  close(widened(q_out, D, D), rotated(qkv.data(), heads, D, 5, inv_freq, 1.f), Dtype<T>::rtol, 1e-5,
        "rope_qkv: q of the token with a bad slot");
  close(widened(k_cache, D, D), rotated(qkv.data() + 3 * D + D, heads, D, 6, inv_freq, 1.f), Dtype<T>::rtol, 1e-5,
        "rope_qkv: k of the token with a bad q row");
}

// Bad arguments give ERR_INVALID_ARGUMENT and launch nothing; empty batches are fine with null pointers.
void argument_errors() {
  std::vector<__half> h16(64);
  std::vector<float> f32(64);
  std::vector<int32_t> idx(4);
  const auto bad_dtype = static_cast<AttnDType>(2);
  check(invalid(llm_embed(bad_dtype, h16.data(), 4, 8, idx.data(), 2, f32.data(), nullptr)), "embed: bad dtype");
  check(invalid(llm_embed(AttnDType::kFloat16, h16.data(), 0, 8, idx.data(), 2, f32.data(), nullptr)), "embed: vocab 0");
  check(invalid(llm_embed(AttnDType::kFloat16, nullptr, 4, 8, idx.data(), 2, f32.data(), nullptr)), "embed: null table");
  check(llm_embed(AttnDType::kFloat16, nullptr, 4, 8, nullptr, 0, nullptr, nullptr).is_ok(), "embed: no tokens");
  check(invalid(llm_embed_int8(reinterpret_cast<int8_t*>(h16.data()), nullptr, 4, 8, idx.data(), 2, f32.data(), nullptr)),
        "embed_int8: null scales");
  check(invalid(llm_rms_norm(f32.data(), nullptr, 5, 4, 8, f32.data(), 1e-5f, f32.data(), nullptr)), "rms_norm: more rows than x has");
  check(invalid(llm_rms_norm(f32.data(), nullptr, 2, 4, 8, f32.data(), -1.f, f32.data(), nullptr)), "rms_norm: negative eps");
  check(invalid(llm_rms_norm(f32.data(), nullptr, 2, 4, 8, f32.data(), NAN, f32.data(), nullptr)), "rms_norm: NaN eps");
  check(invalid(llm_rms_norm(f32.data(), nullptr, 2, 4, 0, f32.data(), 1e-5f, f32.data(), nullptr)), "rms_norm: dim 0");
  check(llm_rms_norm(nullptr, nullptr, 0, 0, 8, nullptr, 1e-5f, nullptr, nullptr).is_ok(), "rms_norm: no rows");

  RopeQkvArgs a;
  a.dtype = AttnDType::kFloat16;
  a.qkv = f32.data();
  a.positions = a.slots = a.perm = idx.data();
  a.inv_freq = f32.data();
  a.n_tokens = 1;
  a.heads = a.kv_heads = 1;
  a.head_dim = 8;
  a.num_slots = 4;
  a.q_out = a.k_cache = a.v_cache = h16.data();
  auto rope_rejects = [&](const char* what, auto&& change) {
    RopeQkvArgs bad = a;
    change(bad);
    check(invalid(llm_rope_qkv(bad, nullptr)), std::string("rope_qkv: ") + what);
  };
  rope_rejects("odd head_dim", [](RopeQkvArgs& b) { b.head_dim = 7; });
  rope_rejects("head_dim 258", [](RopeQkvArgs& b) { b.head_dim = 258; });
  rope_rejects("no kv heads", [](RopeQkvArgs& b) { b.kv_heads = 0; });
  rope_rejects("no slots", [](RopeQkvArgs& b) { b.num_slots = 0; });
  rope_rejects("infinite attention_scaling", [](RopeQkvArgs& b) { b.attention_scaling = INFINITY; });
  rope_rejects("bad dtype", [&](RopeQkvArgs& b) { b.dtype = bad_dtype; });
  rope_rejects("null inv_freq", [](RopeQkvArgs& b) { b.inv_freq = nullptr; });

  check(invalid(llm_gather_kv(h16.data(), h16.data(), 4, 12, idx.data(), 2, h16.data(), h16.data(), nullptr)), "gather_kv: row_elems 12");
  check(invalid(llm_gather_kv(h16.data(), h16.data(), 4, 8, idx.data(), 2, h16.data() + 1, h16.data(), nullptr)),
        "gather_kv: misaligned k_out");
  check(invalid(llm_unpermute_to_float(bad_dtype, h16.data(), idx.data(), 2, 8, f32.data(), nullptr)), "unpermute: bad dtype");
  check(invalid(llm_unpermute_to_float(AttnDType::kBFloat16, h16.data(), idx.data(), 2, 0, f32.data(), nullptr)), "unpermute: dim 0");
  check(invalid(llm_silu_mul(f32.data(), 2, 0, f32.data(), nullptr)), "silu_mul: inter 0");
  check(invalid(llm_silu_mul(f32.data(), -1, 4, f32.data(), nullptr)), "silu_mul: negative tokens");
}

template <class T>
void cases_for_dtype() {
  embed_case<T>(50, 70, 9);  // 630 outputs: three blocks, the last partial
  embed_case<T>(3, 1, 5);
  unpermute_case<T>(7, 45);
  gather_kv_case<T>(6, 8, 5);
  gather_kv_case<T>(11, 264, 9);  // 33 vectors a row: two blocks
  const RopeCase rope_cases[] = {
      {5, 4, 2, 64, 10000, 1, 1.f, 0},            // a prefill from position 0, GQA 2
      {3, 3, 1, 128, 1e6, 8, 1.f, 5000},          // linear scaling, MQA, odd head count
      {2, 3, 3, 256, 500000, 1, 1.1f, 131000},    // the widest head (128 pairs), attention scaling, far positions
      {4, 8, 2, 6, 10000, 1, 0.9f, 37},           // head_dim not a multiple of 8, GQA 4
      {3, 5, 5, 2, 10000, 2, 1.f, 12},            // one pair a head
  };
  for (const RopeCase& c : rope_cases) rope_case<T>(c);
}

}  // namespace

int main() {
  cases_for_dtype<__half>();
  cases_for_dtype<__nv_bfloat16>();
  embed_int8_case(40, 33, 6);
  embed_int8_case(7, 300, 2);
  rms_norm_case(3, 700, {}, 1e-6f);      // 700 columns: three strides of the 256-thread block
  rms_norm_case(5, 256, {4, 0, 4, 2}, 1e-5f);  // repeated, unordered rows
  rms_norm_case(2, 1, {1}, 1e-5f);
  rms_norm_case(4, 33, {}, 0.f);
  silu_mul_case(3, 100);
  silu_mul_case(1, 1);
  out_of_range_indices();
  argument_errors();
  return sim_test::finish("llm_kernels_sim");
}
