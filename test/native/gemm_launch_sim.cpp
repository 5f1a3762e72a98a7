// native/kernels/cuda/gemm.cu and gemm_tc.cu run on the host through cuda_sim (their own launchers,
// translated): gemm(), gemm_f32(), conv2d() and the detail launchers behind them, on every kernel
// (SIMT; the tensor-core tiles 64, 128 and 16 in fp16 and bf16, through their portable MMA), against
// float64 references written from gemm.cuh's contracts, the tensor-core kernels' operands rounded to
// the MMA type first. GEMM: B float32, fp16, bf16 and int8 with per-column scales; A transposed,
// B [K][N] or [N][K], padded rows, misaligned operands, batch items with A or B broadcast; alpha,
// bias, beta * D (dense, transposed, broadcast over rows); every epilogue activation; K = 0.
// Convolution (NCHW): strides, asymmetric pads, dilations, groups (depthwise too), 1-D, bias,
// residual, activations. Sizes leave tails in every tile, K spans several k-steps, M runs from decode
// sizes up. Outputs are poisoned with NaN before each launch and the padding between C's rows must
// stay untouched; the tensor-core tiles must agree bit for bit (they run the same MMAs along k).
// Invalid arguments must give their Status and write nothing. Built and run by gemm-launch-sim.test.ts.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <numbers>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/cuda/gemm.cuh"
#include "sim_test.h"

using namespace hs::cuda;
using hs::Status;
using hs::StatusCode;
using sim_test::check;

namespace {

// A kernel and, for the tensor-core ones, the type their MMAs multiply in.
struct Tactic {
  GemmKernel kernel;
  MmaType mma;
  bool tensor_core() const { return kernel != GemmKernel::kSimt; }
  GemmElem mma_elem() const { return mma == MmaType::kBF16 ? GemmElem::kBF16 : GemmElem::kF16; }
  std::string name() const {
    return std::string(gemm_kernel_name(kernel)) + (tensor_core() ? (mma == MmaType::kBF16 ? " bf16" : " fp16") : "");
  }
};
const std::vector<Tactic> kAllTactics = {
    {GemmKernel::kSimt, MmaType::kF16},  {GemmKernel::kTc64, MmaType::kF16},  {GemmKernel::kTc64, MmaType::kBF16},
    {GemmKernel::kTc128, MmaType::kF16}, {GemmKernel::kTc128, MmaType::kBF16}, {GemmKernel::kTc16, MmaType::kF16},
    {GemmKernel::kTc16, MmaType::kBF16}};

unsigned short to_16bit(GemmElem type, float v) {
  return type == GemmElem::kF16 ? __half_as_ushort(__float2half_rn(v)) : __bfloat16_as_ushort(__float2bfloat16_rn(v));
}
float from_16bit(GemmElem type, unsigned short bits) {
  return type == GemmElem::kF16 ? __half2float(__ushort_as_half(bits)) : __bfloat162float(__ushort_as_bfloat16(bits));
}

// What the tactic multiplies for an operand v: v (SIMT) or v rounded to the MMA type.
double mma_operand(const Tactic& t, float v) { return t.tensor_core() ? from_16bit(t.mma_elem(), to_16bit(t.mma_elem(), v)) : v; }

// Whether the tactic takes B (or weights) stored as `elem`: the tensor cores take float32, int8 and their own type.
bool takes(const Tactic& t, GemmElem elem) {
  return !t.tensor_core() || elem == GemmElem::kF32 || elem == GemmElem::kI8 || elem == t.mma_elem();
}

double activation(const Epilogue& ep, double v) {
  const auto sigmoid = [](double x) { return 1 / (1 + std::exp(-x)); };
  switch (ep.act) {
    case Act::kNone: return v;
    case Act::kRelu: return std::max(v, 0.0);
    case Act::kLeakyRelu: return v < 0 ? v * ep.alpha : v;
    case Act::kSigmoid: return sigmoid(v);
    case Act::kTanh: return std::tanh(v);
    case Act::kClip: return std::min(std::max(v, (double)ep.alpha), (double)ep.beta);
    case Act::kHardSigmoid: return std::clamp(v * ep.alpha + ep.beta, 0.0, 1.0);
    case Act::kHardSwish: return v * std::clamp(v / 6 + 0.5, 0.0, 1.0);
    case Act::kSilu: return v * sigmoid(v);
    case Act::kGelu: return 0.5 * v * (1 + std::erf(v / std::numbers::sqrt2));
    case Act::kGeluTanh: return 0.5 * v * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (v + 0.044715 * v * v * v)));
  }
  return NAN;
}

// Device memory (under cuda_sim, host memory aligned as cudaMalloc's) holding a copy of a host vector.
struct CudaFree {
  void operator()(void* p) const { (void)cudaFree(p); }
};
template <class T>
using Device = std::unique_ptr<T[], CudaFree>;

template <class T>
Device<T> to_device(const std::vector<T>& host) {
  if (host.empty()) return nullptr;
  void* p = nullptr;
  check(cudaMalloc(&p, host.size() * sizeof(T)) == cudaSuccess, "cudaMalloc");
  check(cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess, "cudaMemcpy");
  return Device<T>(static_cast<T*>(p));
}
template <class T>
std::vector<T> to_host(const Device<T>& device, size_t n) {
  std::vector<T> host(n);
  check(cudaMemcpy(host.data(), device.get(), n * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess, "cudaMemcpy");
  return host;
}

int64_t elem_size(GemmElem type) { return type == GemmElem::kF32 ? 4 : type == GemmElem::kI8 ? 1 : 2; }

// Elements stored as `type`, their bytes; `values` become what the type holds (int8: rounded integers).
std::vector<unsigned char> encode(GemmElem type, std::vector<float>& values) {
  std::vector<unsigned char> bytes(values.size() * elem_size(type));
  for (size_t i = 0; i < values.size(); ++i) {
    if (type == GemmElem::kF32) {
      std::memcpy(&bytes[4 * i], &values[i], 4);
    } else if (type == GemmElem::kI8) {
      const signed char q = (signed char)std::lround(values[i]);
      values[i] = q;
      bytes[i] = (unsigned char)q;
    } else {
      const unsigned short bits = to_16bit(type, values[i]);
      values[i] = from_16bit(type, bits);
      std::memcpy(&bytes[2 * i], &bits, 2);
    }
  }
  return bytes;
}

// `count` matrices of rows x cols back to back, each row `ld` >= cols elements apart.
struct Layout {
  int64_t rows, cols, ld, count;
  int64_t item_size() const { return rows * ld; }
  int64_t size() const { return count * item_size(); }
  int64_t at(int64_t item, int64_t r, int64_t c) const { return item * item_size() + r * ld + c; }
};

int64_t product(const std::vector<int64_t>& dims) {
  int64_t p = 1;
  for (int64_t d : dims) p *= d;
  return p;
}

// The stored item that batch item i reads of an operand whose batch dims `own` are those of `batch`
// or 1 (broadcast), and the operand's batch strides for stored items of item_size elements.
int64_t broadcast_item(const std::vector<int64_t>& batch, const std::vector<int64_t>& own, int64_t i) {
  int64_t at = 0, scale = 1;
  for (size_t d = batch.size(); d-- > 0;) {
    if (own[d] != 1) at += i % batch[d] * scale;
    i /= batch[d];
    scale *= own[d];
  }
  return at;
}
Strides broadcast_strides(const std::vector<int64_t>& own, int64_t item_size) {
  Strides s;
  for (size_t d = own.size(); d-- > 0; item_size *= own[d]) s.s[d] = own[d] == 1 ? 0 : item_size;
  return s;
}

// Tolerance of a float32-accumulated sum of K products of values in [-1, 1].
double atol_for(int64_t K) { return 2e-6 * std::sqrt((double)K + 1); }

std::string status_text(const Status& s) { return s.is_ok() ? "ok" : s.message(); }

// Whether a launch ran: it must succeed where the tactic takes the operand type (B or the weights)
// and otherwise refuse it with ERR_TYPE, writing nothing.
bool ran(const Status& status, const Tactic& t, GemmElem elem, const std::vector<float>& out, const std::string& what) {
  if (takes(t, elem)) {
    check(status.is_ok(), what + ": " + status_text(status));
    return true;
  }
  check(status.code() == StatusCode::kType, what + ": another 16-bit type than the MMA's: " + status_text(status));
  check(std::all_of(out.begin(), out.end(), [](float v) { return std::isnan(v); }), what + ": refused, but wrote the output");
  return false;
}

// The tensor-core tiles of one MMA type run the same MMAs along k: their outputs must be the same bits.
class TileAgreement {
 public:
  void add(const Tactic& t, const std::vector<float>& out, const std::string& what) {
    if (!t.tensor_core()) return;
    std::vector<float>& first = first_[(int)t.mma];
    if (first.empty()) first = out;
    else check(first.size() == out.size() && std::memcmp(first.data(), out.data(), out.size() * sizeof(float)) == 0,
               what + ": bits differ from the other tensor-core tiles'");
  }

 private:
  std::vector<float> first_[2];
};

// The launch of a case on a tactic: gemm() or conv2d() unless a case says otherwise.
using GemmLaunch = std::function<Status(const GemmArgs&, const Tactic&)>;
using ConvLaunch = std::function<Status(const Conv2dArgs&, const Tactic&)>;

// ---- GEMM ----

enum class DForm { kNone, kDense, kTransposed, kRow };  // D [M][N], [N][M], or [N] for every row

struct GemmCase {
  std::string name;
  int64_t M, N, K;
  GemmElem b_elem = GemmElem::kF32;
  bool a_transposed = false;  // A stored [K][M], else [M][K]
  bool b_k_major = false;     // B stored [N][K] (the weights' layout), else [K][N]
  int64_t pad = 0;            // elements after each stored row of A, B and C
  int64_t offset = 0;         // elements A and B start past their allocation (1: misaligned)
  std::vector<int64_t> batch = {}, a_batch = {}, b_batch = {};  // A's and B's: batch's dims or 1 (empty: batch's)
  float alpha = 1.f, beta = 0.f;
  bool bias = false;
  DForm d = DForm::kNone;
  Epilogue ep = {};
};

struct GemmData {
  Layout a, b, c;
  std::vector<float> a_values, b_values, scale, bias, d;  // b_values as B's type holds them
  std::vector<unsigned char> b_bytes;
};

GemmData make_gemm_data(const GemmCase& c) {
  GemmData x;
  const int64_t a_items = product(c.a_batch.empty() ? c.batch : c.a_batch), b_items = product(c.b_batch.empty() ? c.batch : c.b_batch);
  x.a = c.a_transposed ? Layout{c.K, c.M, c.M + c.pad, a_items} : Layout{c.M, c.K, c.K + c.pad, a_items};
  x.b = c.b_k_major ? Layout{c.N, c.K, c.K + c.pad, b_items} : Layout{c.K, c.N, c.N + c.pad, b_items};
  x.c = Layout{c.M, c.N, c.N + c.pad, product(c.batch)};
  x.a_values = sim_test::randoms(x.a.size() + c.offset);
  x.b_values = c.b_elem == GemmElem::kI8 ? sim_test::randoms(x.b.size() + c.offset, -127, 127) : sim_test::randoms(x.b.size() + c.offset);
  x.b_bytes = encode(c.b_elem, x.b_values);
  x.scale = sim_test::randoms(c.N, 0.5f / 127, 1.5f / 127);
  x.bias = sim_test::randoms(c.N, -2, 2);
  x.d = sim_test::randoms(c.M * c.N, -2, 2);
  return x;
}

// C(m, n) of every item, from the stored values through the case's layout.
std::vector<double> gemm_reference(const GemmCase& c, const GemmData& x, const Tactic& t) {
  const std::vector<int64_t>& a_batch = c.a_batch.empty() ? c.batch : c.a_batch;
  const std::vector<int64_t>& b_batch = c.b_batch.empty() ? c.batch : c.b_batch;
  std::vector<double> want;
  for (int64_t i = 0; i < x.c.count; ++i) {
    const int64_t ai = broadcast_item(c.batch, a_batch, i), bi = broadcast_item(c.batch, b_batch, i);
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t n = 0; n < c.N; ++n) {
        double sum = 0;
        for (int64_t k = 0; k < c.K; ++k) {
          const float a = x.a_values[c.offset + (c.a_transposed ? x.a.at(ai, k, m) : x.a.at(ai, m, k))];
          const float b = x.b_values[c.offset + (c.b_k_major ? x.b.at(bi, n, k) : x.b.at(bi, k, n))];
          sum += mma_operand(t, a) * mma_operand(t, b);
        }
        if (c.b_elem == GemmElem::kI8) sum *= x.scale[n];
        double v = c.alpha * sum + (c.bias ? x.bias[n] : 0.0);
        if (c.d == DForm::kDense) v += c.beta * x.d[m * c.N + n];
        if (c.d == DForm::kTransposed) v += c.beta * x.d[n * c.M + m];
        if (c.d == DForm::kRow) v += c.beta * x.d[n];
        want.push_back(activation(c.ep, v));
      }
  }
  return want;
}

const GemmLaunch public_gemm = [](const GemmArgs& g, const Tactic& t) { return gemm(g, t.kernel, t.mma, nullptr); };

// Runs the case on the tactics through `launch`, each against its reference.
void gemm_case(const GemmCase& c, const std::vector<Tactic>& tactics = kAllTactics, const GemmLaunch& launch = public_gemm,
               const std::string& via = "gemm") {
  GemmData x = make_gemm_data(c);
  const Device<float> a = to_device(x.a_values), scale = to_device(x.scale), bias = to_device(x.bias), d = to_device(x.d);
  const Device<unsigned char> b = to_device(x.b_bytes);
  GemmArgs g;
  g.M = c.M, g.N = c.N, g.K = c.K;
  g.a = c.K ? a.get() + c.offset : nullptr;  // K = 0 reads neither
  g.a_rs = c.a_transposed ? 1 : x.a.ld, g.a_cs = c.a_transposed ? x.a.ld : 1;
  g.b = c.K ? b.get() + c.offset * elem_size(c.b_elem) : nullptr;
  g.b_elem = c.b_elem;
  g.b_rs = c.b_k_major ? 1 : x.b.ld, g.b_cs = c.b_k_major ? x.b.ld : 1;
  g.b_scale = c.b_elem == GemmElem::kI8 ? scale.get() : nullptr;
  g.c_rs = x.c.ld, g.c_bs = x.c.item_size();
  g.batch.rank = (int)c.batch.size();
  std::copy(c.batch.begin(), c.batch.end(), g.batch.dims);
  g.a_bs = broadcast_strides(c.a_batch.empty() ? c.batch : c.a_batch, x.a.item_size());
  g.b_bs = broadcast_strides(c.b_batch.empty() ? c.batch : c.b_batch, x.b.item_size());
  g.alpha = c.alpha, g.beta = c.beta;
  g.bias = c.bias ? bias.get() : nullptr;
  g.d = c.d == DForm::kNone ? nullptr : d.get();
  g.d_rs = c.d == DForm::kDense ? c.N : c.d == DForm::kTransposed ? 1 : 0;
  g.d_cs = c.d == DForm::kTransposed ? c.M : 1;
  g.ep = c.ep;
  const std::string name = via + " " + c.name + " (" + std::to_string(c.M) + "x" + std::to_string(c.N) + "x" + std::to_string(c.K) + ")";

  TileAgreement tiles;
  for (const Tactic& t : tactics) {
    const std::string what = name + " on " + t.name();
    std::vector<float> out(x.c.size());
    sim_test::poison(out);
    const Device<float> out_device = to_device(out);
    g.c = out_device.get();
    const Status status = launch(g, t);
    out = to_host(out_device, out.size());
    if (!ran(status, t, c.b_elem, out, what)) continue;
    std::vector<float> got;
    int64_t pads_written = 0;
    for (int64_t i = 0; i < x.c.count; ++i)
      for (int64_t m = 0; m < c.M; ++m)
        for (int64_t n = 0; n < x.c.ld; ++n) {
          const float v = out[x.c.at(i, m, n)];
          if (n < c.N) got.push_back(v);
          else pads_written += !std::isnan(v);
        }
    check(pads_written == 0, what + ": " + std::to_string(pads_written) + " elements of C's row padding written");
    sim_test::close(got, gemm_reference(c, x, t), 1e-5, atol_for(c.K), what);
    tiles.add(t, out, what);
  }
}

// Every activation, with parameters (ignored by those that take none), on pre-activation values
// spread over about [-6, 6] by the bias and D.
const std::vector<std::pair<std::string, Epilogue>> kActivations = {
    {"none", {Act::kNone, 2.5f, -1.5f}},          {"Relu", {Act::kRelu, 2.5f, -1.5f}},
    {"LeakyRelu 0.1", {Act::kLeakyRelu, 0.1f}},   {"Sigmoid", {Act::kSigmoid, 2.5f, -1.5f}},
    {"Tanh", {Act::kTanh, 2.5f, -1.5f}},          {"Clip -0.5..0.7", {Act::kClip, -0.5f, 0.7f}},
    {"HardSigmoid 0.25, 0.4", {Act::kHardSigmoid, 0.25f, 0.4f}}, {"HardSwish", {Act::kHardSwish, 2.5f, -1.5f}},
    {"Silu", {Act::kSilu, 2.5f, -1.5f}},          {"Gelu", {Act::kGelu, 2.5f, -1.5f}},
    {"GeluTanh", {Act::kGeluTanh, 2.5f, -1.5f}}};

void gemm_cases() {
  const GemmElem f16 = GemmElem::kF16, bf16 = GemmElem::kBF16, i8 = GemmElem::kI8;
  const std::vector<GemmCase> cases = {
      {.name = "decode, B [K][N]", .M = 1, .N = 40, .K = 136},
      {.name = "decode, fp16 B [N][K], three 256-wide k-steps", .M = 2, .N = 40, .K = 520, .b_elem = f16, .b_k_major = true},
      {.name = "bf16 B [N][K], tails", .M = 5, .N = 65, .K = 40, .b_elem = bf16, .b_k_major = true},
      {.name = "int8 B [N][K] with scales", .M = 8, .N = 40, .K = 136, .b_elem = i8, .b_k_major = true},
      {.name = "int8 B [K][N] with scales", .M = 16, .N = 33, .K = 24, .b_elem = i8},
      {.name = "tails past every tile, odd K", .M = 17, .N = 65, .K = 37},
      {.name = "A transposed, B [N][K], rows padded by 3", .M = 70, .N = 24, .K = 48, .a_transposed = true, .b_k_major = true, .pad = 3},
      {.name = "bf16 B [N][K], rows padded by 8", .M = 130, .N = 24, .K = 40, .b_elem = bf16, .b_k_major = true, .pad = 8},
      {.name = "fp16 B [N][K], K = 37 in rows padded to 40 (vector loads, k tail)", .M = 12, .N = 40, .K = 37, .b_elem = f16,
       .b_k_major = true, .pad = 3},
      {.name = "A and B one element past alignment", .M = 7, .N = 24, .K = 40, .b_elem = f16, .b_k_major = true, .offset = 1},
      {.name = "batch 2x3, B broadcast over the first axis, bias, 0.5 D", .M = 6, .N = 20, .K = 24, .batch = {2, 3},
       .b_batch = {1, 3}, .beta = 0.5f, .bias = true, .d = DForm::kDense},
      {.name = "batch 3, A broadcast, int8 B", .M = 4, .N = 24, .K = 16, .b_elem = i8, .b_k_major = true, .batch = {3}, .a_batch = {1}},
      {.name = "batch 2, fp16 B [N][K]", .M = 3, .N = 16, .K = 32, .b_elem = f16, .b_k_major = true, .batch = {2}},
      {.name = "alpha 0.5, bias, -0.75 D transposed, Relu", .M = 9, .N = 20, .K = 24, .alpha = 0.5f, .beta = -0.75f, .bias = true,
       .d = DForm::kTransposed, .ep = {Act::kRelu}},
      {.name = "2 D broadcast over rows", .M = 3, .N = 20, .K = 16, .beta = 2.f, .d = DForm::kRow},
      {.name = "K = 0: bias + 1.5 D only, A and B null", .M = 5, .N = 12, .K = 0, .beta = 1.5f, .bias = true, .d = DForm::kDense},
  };
  for (const GemmCase& c : cases) gemm_case(c);
  for (const auto& [name, ep] : kActivations)
    gemm_case({.name = "activation " + name, .M = 6, .N = 24, .K = 20, .b_elem = GemmElem::kBF16, .b_k_major = true,
               .beta = 1.f, .bias = true, .d = DForm::kDense, .ep = ep});
}

// ---- Convolution ----

struct ConvCase {
  std::string name;
  int64_t batch, in_channels, out_channels, groups = 1, in_h, in_w, kernel_h, kernel_w;
  int64_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0, dilation_h = 1, dilation_w = 1;
  GemmElem w_elem = GemmElem::kF32;
  bool bias = false, residual = false;
  Epilogue ep = {};
  int64_t out_h() const { return (in_h + pad_top + pad_bottom - dilation_h * (kernel_h - 1) - 1) / stride_h + 1; }
  int64_t out_w() const { return (in_w + pad_left + pad_right - dilation_w * (kernel_w - 1) - 1) / stride_w + 1; }
  int64_t y_size() const { return batch * out_channels * out_h() * out_w(); }
};

struct ConvData {
  std::vector<float> x, w, bias, residual;  // w as its type holds it
  std::vector<unsigned char> w_bytes;
};

std::vector<double> conv_reference(const ConvCase& c, const ConvData& d, const Tactic& t) {
  const int64_t oh = c.out_h(), ow = c.out_w(), per_group_in = c.in_channels / c.groups, per_group_out = c.out_channels / c.groups;
  std::vector<double> y(c.y_size());
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t o = 0; o < c.out_channels; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double sum = 0;
          for (int64_t ci = 0; ci < per_group_in; ++ci)
            for (int64_t kh = 0; kh < c.kernel_h; ++kh)
              for (int64_t kw = 0; kw < c.kernel_w; ++kw) {
                const int64_t ih = i * c.stride_h - c.pad_top + kh * c.dilation_h, iw = j * c.stride_w - c.pad_left + kw * c.dilation_w;
                if (ih < 0 || ih >= c.in_h || iw < 0 || iw >= c.in_w) continue;
                const int64_t channel = o / per_group_out * per_group_in + ci;
                sum += mma_operand(t, d.w[((o * per_group_in + ci) * c.kernel_h + kh) * c.kernel_w + kw]) *
                       mma_operand(t, d.x[((b * c.in_channels + channel) * c.in_h + ih) * c.in_w + iw]);
              }
          const int64_t at = ((b * c.out_channels + o) * oh + i) * ow + j;
          y[at] = activation(c.ep, sum + (c.bias ? d.bias[o] : 0.0) + (c.residual ? d.residual[at] : 0.0));
        }
  return y;
}

const ConvLaunch public_conv = [](const Conv2dArgs& a, const Tactic& t) { return conv2d(a, t.kernel, t.mma, nullptr); };

void conv_case(const ConvCase& c, const ConvLaunch& launch = public_conv, const std::string& via = "conv2d") {
  ConvData d;
  d.x = sim_test::randoms(c.batch * c.in_channels * c.in_h * c.in_w);
  d.w = sim_test::randoms(c.out_channels * (c.in_channels / c.groups) * c.kernel_h * c.kernel_w);
  d.w_bytes = encode(c.w_elem, d.w);
  d.bias = sim_test::randoms(c.out_channels, -2, 2);
  d.residual = sim_test::randoms(c.y_size(), -2, 2);
  const Device<float> x = to_device(d.x), bias = to_device(d.bias), residual = to_device(d.residual);
  const Device<unsigned char> w = to_device(d.w_bytes);
  Conv2dArgs a;
  a.x = x.get(), a.w = w.get(), a.w_elem = c.w_elem;
  a.bias = c.bias ? bias.get() : nullptr;
  a.residual = c.residual ? residual.get() : nullptr;
  a.batch = c.batch, a.in_channels = c.in_channels, a.in_h = c.in_h, a.in_w = c.in_w;
  a.out_channels = c.out_channels, a.out_h = c.out_h(), a.out_w = c.out_w();
  a.kernel_h = c.kernel_h, a.kernel_w = c.kernel_w, a.stride_h = c.stride_h, a.stride_w = c.stride_w;
  a.pad_h = c.pad_top, a.pad_w = c.pad_left, a.dilation_h = c.dilation_h, a.dilation_w = c.dilation_w;
  a.groups = c.groups, a.ep = c.ep;
  const int64_t K = c.in_channels / c.groups * c.kernel_h * c.kernel_w;
  const std::string name = via + " " + c.name;

  TileAgreement tiles;
  for (const Tactic& t : kAllTactics) {
    const std::string what = name + " on " + t.name();
    std::vector<float> y(c.y_size());
    sim_test::poison(y);
    const Device<float> y_device = to_device(y);
    a.y = y_device.get();
    const Status status = launch(a, t);
    y = to_host(y_device, y.size());
    if (!ran(status, t, c.w_elem, y, what)) continue;
    sim_test::close(y, conv_reference(c, d, t), 1e-5, atol_for(K), what);
    tiles.add(t, y, what);
  }
}

const std::vector<ConvCase> kConvCases = {
    {.name = "1x1", .batch = 2, .in_channels = 8, .out_channels = 12, .in_h = 5, .in_w = 7, .kernel_h = 1, .kernel_w = 1, .bias = true},
    {.name = "3x3 pads 1, bias + Relu", .batch = 1, .in_channels = 4, .out_channels = 6, .in_h = 9, .in_w = 9, .kernel_h = 3,
     .kernel_w = 3, .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1, .bias = true, .ep = {Act::kRelu}},
    {.name = "3x2 kernel, strides 2x1, pads 1/2 x 0/1, dilations 2x1, fp16 weights", .batch = 1, .in_channels = 3,
     .out_channels = 5, .in_h = 11, .in_w = 8, .kernel_h = 3, .kernel_w = 2, .stride_h = 2, .pad_top = 1, .pad_left = 0,
     .pad_bottom = 2, .pad_right = 1, .dilation_h = 2, .w_elem = GemmElem::kF16},
    {.name = "2 groups, residual + LeakyRelu 0.2", .batch = 2, .in_channels = 6, .out_channels = 4, .groups = 2, .in_h = 5,
     .in_w = 5, .kernel_h = 3, .kernel_w = 3, .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1, .residual = true,
     .ep = {Act::kLeakyRelu, 0.2f}},
    {.name = "depthwise 3x3, bias + residual + Clip", .batch = 2, .in_channels = 8, .out_channels = 8, .groups = 8, .in_h = 6,
     .in_w = 6, .kernel_h = 3, .kernel_w = 3, .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1, .bias = true,
     .residual = true, .ep = {Act::kClip, -0.5f, 0.7f}},
    {.name = "depthwise x2 channels, stride 2, bf16 weights, HardSwish", .batch = 1, .in_channels = 4, .out_channels = 8,
     .groups = 4, .in_h = 7, .in_w = 7, .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, .pad_top = 1, .pad_left = 1,
     .pad_bottom = 1, .pad_right = 1, .w_elem = GemmElem::kBF16, .bias = true, .ep = {Act::kHardSwish}},
    {.name = "1-D: kernel 5, stride 2, pads 2, dilation 2, Sigmoid", .batch = 2, .in_channels = 3, .out_channels = 16,
     .in_h = 1, .in_w = 30, .kernel_h = 1, .kernel_w = 5, .stride_w = 2, .pad_left = 2, .pad_right = 2, .dilation_w = 2,
     .bias = true, .ep = {Act::kSigmoid}},
    {.name = "K = 288 (two 256-wide k-steps), 20 channels, bf16 weights, GeluTanh", .batch = 1, .in_channels = 32,
     .out_channels = 20, .in_h = 8, .in_w = 8, .kernel_h = 3, .kernel_w = 3, .pad_top = 1, .pad_left = 1, .pad_bottom = 1,
     .pad_right = 1, .w_elem = GemmElem::kBF16, .bias = true, .ep = {Act::kGeluTanh}},
    {.name = "70 channels, pads 3: the corners' windows all padding", .batch = 1, .in_channels = 2, .out_channels = 70,
     .in_h = 3, .in_w = 4, .kernel_h = 3, .kernel_w = 3, .pad_top = 3, .pad_left = 3, .pad_bottom = 3, .pad_right = 3,
     .bias = true, .residual = true},
};

// ---- The detail launchers and gemm_f32 ----

void other_launchers() {
  const GemmLaunch detail_gemm = [](const GemmArgs& g, const Tactic& t) {
    int64_t items = 1;
    for (int i = 0; i < g.batch.rank; ++i) items *= g.batch.dims[i];
    return t.tensor_core() ? detail::gemm_tc(g, items, t.kernel, t.mma, nullptr) : detail::gemm_simt(g, items, nullptr);
  };
  gemm_case({.name = "batch 2, bf16 B [N][K], bias", .M = 5, .N = 40, .K = 48, .b_elem = GemmElem::kBF16, .b_k_major = true,
             .batch = {2}, .bias = true},
            kAllTactics, detail_gemm, "detail::gemm_simt/gemm_tc");
  gemm_case({.name = "int8 B, 0.5 D, Silu", .M = 3, .N = 24, .K = 40, .b_elem = GemmElem::kI8, .b_k_major = true, .beta = 0.5f,
             .d = DForm::kDense, .ep = {Act::kSilu}},
            kAllTactics, detail_gemm, "detail::gemm_simt/gemm_tc");
  gemm_case({.name = "transposed A, Tanh", .M = 20, .N = 30, .K = 40, .a_transposed = true, .ep = {Act::kTanh}},
            {{GemmKernel::kSimt, MmaType::kF16}}, [](const GemmArgs& g, const Tactic&) { return gemm_f32(g, nullptr); }, "gemm_f32");
  conv_case(kConvCases[3],
            [](const Conv2dArgs& a, const Tactic& t) {
              return t.tensor_core() ? detail::conv2d_tc(a, t.kernel, t.mma, nullptr) : detail::conv2d_simt(a, nullptr);
            },
            "detail::conv2d_simt/conv2d_tc");
}

// ---- Invalid and empty arguments ----

// The launch must return `want` and leave the output (`out`, poisoned) as it was.
void expect_status(const std::string& what, StatusCode want, std::vector<float>& out, const std::function<Status()>& launch) {
  sim_test::poison(out);
  const Status status = launch();
  check(status.code() == want, what + ": got '" + status_text(status) + "', want code " + std::to_string((int)want));
  check(std::all_of(out.begin(), out.end(), [](float v) { return std::isnan(v); }), what + ": wrote the output");
}

void invalid_and_empty_arguments() {
  std::vector<float> a(64, 1.f), b(64, 1.f), out(64);
  GemmArgs ok;  // a valid 2x3x4 product
  ok.M = 2, ok.N = 3, ok.K = 4;
  ok.a = a.data(), ok.a_rs = 4, ok.a_cs = 1;
  ok.b = b.data(), ok.b_rs = 3, ok.b_cs = 1;
  ok.c = out.data(), ok.c_rs = 3;
  const auto with = [&](auto change) {
    GemmArgs g = ok;
    change(g);
    return g;
  };
  const Tactic simt{GemmKernel::kSimt, MmaType::kF16}, tc64{GemmKernel::kTc64, MmaType::kF16};
  const std::vector<std::tuple<std::string, GemmArgs, StatusCode>> gemm_bad = {
      {"negative M", with([](GemmArgs& g) { g.M = -1; }), StatusCode::kShape},
      {"negative K", with([](GemmArgs& g) { g.K = -4; }), StatusCode::kShape},
      {"batch rank 9", with([](GemmArgs& g) { g.batch.rank = 9; }), StatusCode::kShape},
      {"null C", with([](GemmArgs& g) { g.c = nullptr; }), StatusCode::kInvalidArgument},
      {"null A", with([](GemmArgs& g) { g.a = nullptr; }), StatusCode::kInvalidArgument},
      {"null B", with([](GemmArgs& g) { g.b = nullptr; }), StatusCode::kInvalidArgument},
      {"fp16 A", with([](GemmArgs& g) { g.a_elem = GemmElem::kF16; }), StatusCode::kType},
      {"int8 B without scales", with([](GemmArgs& g) { g.b_elem = GemmElem::kI8; }), StatusCode::kInvalidArgument},
      {"M = 0", with([](GemmArgs& g) { g.M = 0, g.a = nullptr; }), StatusCode::kOk},
      {"N = 0", with([](GemmArgs& g) { g.N = 0; }), StatusCode::kOk},
      {"batch 2x0", with([](GemmArgs& g) { g.batch.rank = 2, g.batch.dims[0] = 2, g.batch.dims[1] = 0; }), StatusCode::kOk},
  };
  for (const auto& [name, g, want] : gemm_bad)
    for (const Tactic& t : {simt, tc64})
      expect_status("gemm " + name + " on " + t.name(), want, out, [&] { return gemm(g, t.kernel, t.mma, nullptr); });
  // Row tiles past the grid's 65535 (nothing is read: the launcher refuses first).
  for (const auto& [t, rows] : std::vector<std::pair<Tactic, int64_t>>{
           {simt, 64}, {tc64, 64}, {{GemmKernel::kTc128, MmaType::kBF16}, 128}, {{GemmKernel::kTc16, MmaType::kF16}, 16}})
    expect_status("gemm M past the grid on " + t.name(), StatusCode::kShape, out,
                  [&] { return gemm(with([&](GemmArgs& g) { g.M = 65535 * rows + 1; }), t.kernel, t.mma, nullptr); });
  expect_status("detail::gemm_simt with bf16 A", StatusCode::kType, out,
                [&] { return detail::gemm_simt(with([](GemmArgs& g) { g.a_elem = GemmElem::kBF16; }), 1, nullptr); });
  expect_status("detail::gemm_tc with bf16 B on fp16", StatusCode::kType, out, [&] {
    return detail::gemm_tc(with([](GemmArgs& g) { g.b_elem = GemmElem::kBF16; }), 1, GemmKernel::kTc16, MmaType::kF16, nullptr);
  });

  Conv2dArgs conv;  // a valid 1x4x3x3 -> 1x2x3x3 convolution with a 1x1 kernel
  conv.x = a.data(), conv.w = b.data(), conv.y = out.data();
  conv.batch = 1, conv.in_channels = 4, conv.in_h = 3, conv.in_w = 3, conv.out_channels = 2, conv.out_h = 3, conv.out_w = 3;
  const auto conv_with = [&](auto change) {
    Conv2dArgs c = conv;
    change(c);
    return c;
  };
  const std::vector<std::tuple<std::string, Conv2dArgs, StatusCode>> conv_bad = {
      {"negative batch and height (a positive product)", conv_with([](Conv2dArgs& c) { c.batch = -1, c.out_h = -3; }),
       StatusCode::kShape},
      {"negative output channels", conv_with([](Conv2dArgs& c) { c.out_channels = -2; }), StatusCode::kShape},
      {"0 groups", conv_with([](Conv2dArgs& c) { c.groups = 0; }), StatusCode::kShape},
      {"4 input channels in 3 groups", conv_with([](Conv2dArgs& c) { c.groups = 3; }), StatusCode::kShape},
      {"2 output channels in 4 groups", conv_with([](Conv2dArgs& c) { c.groups = 4; }), StatusCode::kShape},
      {"null X", conv_with([](Conv2dArgs& c) { c.x = nullptr; }), StatusCode::kInvalidArgument},
      {"null W", conv_with([](Conv2dArgs& c) { c.w = nullptr; }), StatusCode::kInvalidArgument},
      {"null Y", conv_with([](Conv2dArgs& c) { c.y = nullptr; }), StatusCode::kInvalidArgument},
      {"int8 weights", conv_with([](Conv2dArgs& c) { c.w_elem = GemmElem::kI8; }), StatusCode::kType},
      {"batch 0", conv_with([](Conv2dArgs& c) { c.batch = 0; }), StatusCode::kOk},
      {"0 output channels", conv_with([](Conv2dArgs& c) { c.out_channels = 0; }), StatusCode::kOk},
  };
  for (const auto& [name, c, want] : conv_bad)
    for (const Tactic& t : {simt, tc64})
      expect_status("conv2d " + name + " on " + t.name(), want, out, [&] { return conv2d(c, t.kernel, t.mma, nullptr); });
  expect_status("detail::conv2d_simt with int8 weights", StatusCode::kType, out,
                [&] { return detail::conv2d_simt(conv_with([](Conv2dArgs& c) { c.w_elem = GemmElem::kI8; }), nullptr); });
  expect_status("detail::conv2d_tc with fp16 weights on bf16", StatusCode::kType, out, [&] {
    return detail::conv2d_tc(conv_with([](Conv2dArgs& c) { c.w_elem = GemmElem::kF16; }), GemmKernel::kTc128, MmaType::kBF16, nullptr);
  });
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // failures printed before a sanitizer's abort stay in the output
  gemm_cases();
  for (const ConvCase& c : kConvCases) conv_case(c);
  other_launchers();
  invalid_and_empty_arguments();
  return sim_test::finish("gemm_launch_sim");
}
