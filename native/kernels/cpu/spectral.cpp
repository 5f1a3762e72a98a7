// Signal processing operators (opset 17, DFT also 20), as audio front ends export them:
//   HannWindow, HammingWindow, BlackmanWindow: a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N) for
//     n < size, N = size (periodic, the default) or size - 1 (symmetric);
//   DFT: the discrete Fourier transform (or its inverse, scaled by 1/n) along one axis of a real
//     [..., 1] or complex [..., 2] signal, zero-padded or cut to dft_length, all bins or the
//     onesided n/2 + 1;
//   STFT: DFTs of frames of frame_length samples every frame_step, each multiplied by the window;
//   MelWeightMatrix: triangular filters from linear DFT bins to mel bins, as the ONNX reference
//     builds them (mel = 2595 log10(1 + f / 700)).
// Transforms run in double: a radix-2 FFT when the length is a power of two, else Bluestein's
// chirp over power-of-two FFTs; parallel over signals.
#include <cmath>
#include <complex>
#include <vector>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/dense_dtype.h"
#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

using Complex = std::complex<double>;
constexpr double kPi = 3.14159265358979323846;

// The output dtype attribute (TensorProto number, default float32) of the window and mel operators.
Status output_type(const KernelInfo& info, const char* op, DType* out) {
  if (!dtype_from_onnx((int32_t)info.node.attr_int("output_datatype", 1), out) || !is_float(*out))
    HS_FAIL(kType, op, ": output_datatype ", info.node.attr_int("output_datatype", 1), " is not a supported float type");
  return Status::ok();
}

// In-place radix-2 FFT of x (a power-of-two length): x[k] = sum_j x[j] e^(sign 2 pi i j k / n).
void fft_pow2(std::vector<Complex>& x, double sign) {
  const int64_t n = (int64_t)x.size();
  for (int64_t i = 1, j = 0; i < n; ++i) {  // bit reversal
    int64_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(x[(size_t)i], x[(size_t)j]);
  }
  for (int64_t len = 2; len <= n; len <<= 1) {
    const Complex step = std::polar(1.0, sign * 2 * kPi / (double)len);
    for (int64_t start = 0; start < n; start += len) {
      Complex w = 1;
      for (int64_t k = 0; k < len / 2; ++k, w *= step) {
        const Complex a = x[(size_t)(start + k)], b = x[(size_t)(start + k + len / 2)] * w;
        x[(size_t)(start + k)] = a + b;
        x[(size_t)(start + k + len / 2)] = a - b;
      }
    }
  }
}

// The transform of one length, planned once per run and shared by every signal of it:
// out[k] for k < bins = sum_j x[j] e^(-+2 pi i j k / n) (the sign + for the inverse, then / n).
// Lengths other than powers of two go through Bluestein's chirp: jk = (j^2 + k^2 - (k - j)^2) / 2
// turns the sum into a convolution, done by power-of-two FFTs, so every length costs O(n log n);
// the chirp and the FFT of its conjugate are the plan.
class DftPlan {
 public:
  DftPlan(int64_t n, bool inverse) : n_(n), inverse_(inverse), sign_(inverse ? 1.0 : -1.0) {
    if ((n & (n - 1)) == 0) return;
    m_ = 1;
    while (m_ < 2 * n - 1) m_ <<= 1;
    // chirp[k] = e^(sign pi i k^2 / n), with k^2 taken mod 2n so the angle stays exact.
    chirp_.resize((size_t)n);
    for (int64_t k = 0; k < n; ++k) chirp_[(size_t)k] = std::polar(1.0, sign_ * kPi * (double)((k * k) % (2 * n)) / (double)n);
    conj_hat_.assign((size_t)m_, 0.0);
    conj_hat_[0] = std::conj(chirp_[0]);
    for (int64_t k = 1; k < n; ++k) conj_hat_[(size_t)k] = conj_hat_[(size_t)(m_ - k)] = std::conj(chirp_[(size_t)k]);
    fft_pow2(conj_hat_, -1);
  }

  // x holds the n values and is overwritten.
  void run(std::vector<Complex>& x, int64_t bins, Complex* out) const {
    if (m_ == 0) {
      fft_pow2(x, sign_);
      for (int64_t k = 0; k < bins; ++k) out[k] = x[(size_t)k];
    } else {
      std::vector<Complex> a((size_t)m_, 0.0);
      for (int64_t k = 0; k < n_; ++k) a[(size_t)k] = x[(size_t)k] * chirp_[(size_t)k];
      fft_pow2(a, -1);
      for (int64_t k = 0; k < m_; ++k) a[(size_t)k] *= conj_hat_[(size_t)k];
      fft_pow2(a, 1);
      for (int64_t k = 0; k < bins; ++k) out[k] = chirp_[(size_t)k] * a[(size_t)k] / (double)m_;
    }
    if (inverse_)
      for (int64_t k = 0; k < bins; ++k) out[k] /= (double)n_;
  }

 private:
  int64_t n_, m_ = 0;  // m: Bluestein's power-of-two length, 0 for a power-of-two n
  bool inverse_;
  double sign_;
  std::vector<Complex> chirp_, conj_hat_;
};

class WindowKernel : public KernelBase {
 public:
  WindowKernel(const KernelInfo& info, double a0, double a1, double a2)
      : a0_(a0), a1_(a1), a2_(a2), periodic_(info.node.attr_int("periodic", 1) != 0) {
    init_status = output_type(info, info.node.op_type.c_str(), &type_);
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* size_t_;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "window", &size_t_));
    int64_t size;
    HS_RETURN_IF_ERROR(read_int_scalar(*size_t_, "window", "size", &size));
    if (size < 0) HS_FAIL(kInvalidArgument, "window: size must be >= 0, got ", size);
    const double n_total = (double)(periodic_ ? size : size - 1);
    std::vector<double> w((size_t)size);
    for (int64_t n = 0; n < size; ++n) {
      const double angle = n_total > 0 ? 2 * kPi * (double)n / n_total : 0;
      w[(size_t)n] = a0_ - a1_ * std::cos(angle) + a2_ * std::cos(2 * angle);
    }
    return store_from_double(w, ctx.output(0, type_, {size}));
  }

 private:
  double a0_, a1_, a2_;
  bool periodic_;
  DType type_ = DType::kFloat32;
};

struct HannWindow : WindowKernel {
  explicit HannWindow(const KernelInfo& info) : WindowKernel(info, 0.5, 0.5, 0) {}
};
struct HammingWindow : WindowKernel {
  explicit HammingWindow(const KernelInfo& info) : WindowKernel(info, 25.0 / 46, 21.0 / 46, 0) {}
};
struct BlackmanWindow : WindowKernel {
  explicit BlackmanWindow(const KernelInfo& info) : WindowKernel(info, 0.42, 0.5, 0.08) {}
};

// A real [..., 1] or complex [..., 2] signal tensor as double complex values.
Status complex_values(const char* op, const Tensor& x, std::vector<Complex>* out) {
  if (x.rank() < 2 || (x.dim(-1) != 1 && x.dim(-1) != 2))
    HS_FAIL(kShape, op, ": the signal must end in a dimension of 1 (real) or 2 (complex), got shape ", x.shape());
  if (!is_float(x.dtype())) HS_FAIL(kType, op, ": the signal must be a float tensor, got ", dtype_name(x.dtype()));
  const std::vector<double> v = x.to_double_vector();
  const bool complex = x.dim(-1) == 2;
  out->resize(v.size() / (complex ? 2 : 1));
  for (size_t i = 0; i < out->size(); ++i) (*out)[i] = complex ? Complex(v[2 * i], v[2 * i + 1]) : Complex(v[i], 0);
  return Status::ok();
}

Status write_complex(const std::vector<Complex>& values, Tensor* y) {
  std::vector<double> flat(values.size() * 2);
  for (size_t i = 0; i < values.size(); ++i) flat[2 * i] = values[i].real(), flat[2 * i + 1] = values[i].imag();
  return store_from_double(flat, y);
}

class Dft final : public KernelBase {
 public:
  explicit Dft(const KernelInfo& info)
      : opset_(info.opset), axis_attr_(info.node.attr_int("axis", 1)), inverse_(info.node.attr_int("inverse", 0) != 0),
        onesided_(info.node.attr_int("onesided", 0) != 0) {}

  Status compute(KernelContext& ctx) const override {
    const char* op = "DFT";
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    std::vector<Complex> values;
    HS_RETURN_IF_ERROR(complex_values(op, *x, &values));
    const int64_t rank = x->rank();
    int64_t axis = axis_attr_;
    if (opset_ >= 20) {
      axis = -2;
      if (const Tensor* a = ctx.input(2); a && a->numel() > 0) HS_RETURN_IF_ERROR(read_int_scalar(*a, op, "axis", &axis));
    }
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank - 2) HS_FAIL(kInvalidArgument, op, ": axis must name a signal axis of shape ", x->shape());
    const int64_t len = x->dim(axis);
    int64_t n = len;
    if (const Tensor* d = ctx.input(1); d && d->numel() > 0) HS_RETURN_IF_ERROR(read_int_scalar(*d, op, "dft_length", &n));
    if (n < 1) HS_FAIL(kInvalidArgument, op, ": dft_length must be >= 1, got ", n);
    if (onesided_ && x->dim(-1) == 2) HS_FAIL(kInvalidArgument, op, ": onesided needs a real signal");
    const int64_t bins = onesided_ ? n / 2 + 1 : n;
    Shape signal(x->shape().begin(), x->shape().end() - 1);
    const AxisLayout l = layout_around(signal, axis);
    Shape y_shape = x->shape();
    y_shape[(size_t)axis] = bins;
    y_shape.back() = 2;
    std::vector<Complex> result((size_t)(l.outer * bins * l.inner));
    const DftPlan plan(n, inverse_);
    ctx.pool().parallel_for(l.outer * l.inner, 1, [&](int64_t begin, int64_t end) {
      std::vector<Complex> line, out((size_t)bins);
      for (int64_t s = begin; s < end; ++s) {
        const int64_t o = s / l.inner, i = s % l.inner;
        line.assign((size_t)n, Complex(0, 0));
        for (int64_t j = 0; j < std::min(n, len); ++j) line[(size_t)j] = values[(size_t)((o * len + j) * l.inner + i)];
        plan.run(line, bins, out.data());
        for (int64_t k = 0; k < bins; ++k) result[(size_t)((o * bins + k) * l.inner + i)] = out[(size_t)k];
      }
    });
    return write_complex(result, ctx.output(0, x->dtype(), y_shape));
  }

 private:
  int64_t opset_, axis_attr_;
  bool inverse_, onesided_;
};

class Stft final : public KernelBase {
 public:
  explicit Stft(const KernelInfo& info) : onesided_(info.node.attr_int("onesided", 1) != 0) {}

  Status compute(KernelContext& ctx) const override {
    const char* op = "STFT";
    const Tensor *x, *step_t;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, op, &step_t));
    std::vector<Complex> values;
    HS_RETURN_IF_ERROR(complex_values(op, *x, &values));
    if (x->rank() != 3) HS_FAIL(kShape, op, ": the signal must be [batch, length, 1 or 2], got ", x->shape());
    int64_t step, frame = -1;
    HS_RETURN_IF_ERROR(read_int_scalar(*step_t, op, "frame_step", &step));
    const Tensor* window = ctx.input(2) && ctx.input(2)->numel() > 0 ? ctx.input(2) : nullptr;
    if (const Tensor* f = ctx.input(3); f && f->numel() > 0) HS_RETURN_IF_ERROR(read_int_scalar(*f, op, "frame_length", &frame));
    if (window && window->rank() != 1) HS_FAIL(kShape, op, ": the window must be 1-D, got ", window->shape());
    if (frame < 0) {
      if (!window) HS_FAIL(kInvalidArgument, op, " needs a window or a frame_length");
      frame = window->dim(0);
    }
    if (window && window->dim(0) != frame) HS_FAIL(kShape, op, ": the window has ", window->dim(0), " values for frames of ", frame);
    const int64_t batch = x->dim(0), length = x->dim(1);
    if (step < 1 || frame < 1 || frame > length)
      HS_FAIL(kInvalidArgument, op, ": frame_step ", step, " and frame_length ", frame, " do not fit a signal of ", length);
    if (onesided_ && x->dim(2) == 2) HS_FAIL(kInvalidArgument, op, ": onesided needs a real signal");
    const std::vector<double> w = window ? window->to_double_vector() : std::vector<double>((size_t)frame, 1.0);
    const int64_t frames = (length - frame) / step + 1, bins = onesided_ ? frame / 2 + 1 : frame;
    std::vector<Complex> result((size_t)(batch * frames * bins));
    const DftPlan plan(frame, false);
    ctx.pool().parallel_for(batch * frames, 1, [&](int64_t begin, int64_t end) {
      std::vector<Complex> line;
      for (int64_t bf = begin; bf < end; ++bf) {
        const int64_t b = bf / frames, f = bf % frames;
        line.resize((size_t)frame);
        for (int64_t k = 0; k < frame; ++k) line[(size_t)k] = values[(size_t)(b * length + f * step + k)] * w[(size_t)k];
        plan.run(line, bins, result.data() + bf * bins);
      }
    });
    return write_complex(result, ctx.output(0, x->dtype(), {batch, frames, bins, 2}));
  }

 private:
  bool onesided_;
};

class MelWeightMatrix final : public KernelBase {
 public:
  explicit MelWeightMatrix(const KernelInfo& info) { init_status = output_type(info, "MelWeightMatrix", &type_); }

  Status compute(KernelContext& ctx) const override {
    const char* op = "MelWeightMatrix";
    int64_t mel_bins, dft_length, rate;
    const char* names[] = {"num_mel_bins", "dft_length", "sample_rate"};
    int64_t* ints[] = {&mel_bins, &dft_length, &rate};
    for (int i = 0; i < 3; ++i) {
      const Tensor* t;
      HS_RETURN_IF_ERROR(require_input(ctx, i, op, &t));
      HS_RETURN_IF_ERROR(read_int_scalar(*t, op, names[i], ints[i]));
    }
    double edges[2];
    for (int i = 0; i < 2; ++i) {
      const Tensor* t;
      HS_RETURN_IF_ERROR(require_input(ctx, 3 + i, op, &t));
      if (!is_float(t->dtype()) || t->numel() != 1) HS_FAIL(kType, op, ": the edge frequencies must be float scalars");
      edges[i] = t->to_double_vector()[0];
    }
    if (mel_bins < 1 || dft_length < 1 || rate < 1) HS_FAIL(kInvalidArgument, op, ": num_mel_bins, dft_length and sample_rate must be >= 1");
    if (!(edges[0] >= 0 && edges[1] > edges[0] && std::isfinite(edges[1])))
      HS_FAIL(kInvalidArgument, op, ": the edge frequencies must be finite with 0 <= lower < upper, got ", edges[0], " and ", edges[1]);
    const int64_t spectrum = dft_length / 2 + 1;
    auto mel = [](double hz) { return 2595 * std::log10(1 + hz / 700); };
    const double low = mel(edges[0]), step = (mel(edges[1]) - low) / (double)(mel_bins + 2);
    std::vector<int64_t> points((size_t)(mel_bins + 2));
    for (int64_t i = 0; i < mel_bins + 2; ++i) {
      const double hz = 700 * (std::pow(10.0, ((double)i * step + low) / 2595) - 1);
      points[(size_t)i] = (int64_t)std::floor((double)(dft_length + 1) * hz / (double)rate);
    }
    std::vector<double> w((size_t)(spectrum * mel_bins), 0.0);
    auto set = [&](int64_t row, int64_t col, double v) {
      if (row >= 0 && row < spectrum) w[(size_t)(row * mel_bins + col)] = v;
    };
    for (int64_t i = 0; i < mel_bins; ++i) {
      const int64_t left = points[(size_t)i], center = points[(size_t)i + 1], right = points[(size_t)i + 2];
      // Only rows inside the spectrum are written (edges past the Nyquist bin leave the rest out).
      if (center == left) set(center, i, 1);
      else
        for (int64_t j = std::max<int64_t>(left, 0); j <= std::min(center, spectrum - 1); ++j)
          set(j, i, (double)(j - left) / (double)(center - left));
      for (int64_t j = std::max<int64_t>(center, 0); j < std::min(right, spectrum); ++j)
        set(j, i, (double)(right - j) / (double)(right - center));
    }
    return store_from_double(w, ctx.output(0, type_, {spectrum, mel_bins}));
  }

 private:
  DType type_ = DType::kFloat32;
};

}  // namespace

HS_REGISTER_KERNEL("", "HannWindow", HannWindow);
HS_REGISTER_KERNEL("", "HammingWindow", HammingWindow);
HS_REGISTER_KERNEL("", "BlackmanWindow", BlackmanWindow);
HS_REGISTER_KERNEL("", "DFT", Dft);
HS_REGISTER_KERNEL("", "STFT", Stft);
HS_REGISTER_KERNEL("", "MelWeightMatrix", MelWeightMatrix);

}  // namespace hs::cpu
