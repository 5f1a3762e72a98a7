// CudaPlan::choose_tactics: the kernel choice for nodes with several (GEMM, convolution). Each
// candidate runs the node once on random inputs of the build-time shapes (constants are the real
// weights) into NaN-poisoned outputs and must match the first own kernel that runs (simt64 where
// offered: exact fp32 products) within the precision's bound; a failing or erroring candidate is
// never chosen. The survivors are timed with CUDA events (median of 5 after a warm-up run) and
// the fastest wins. Nothing here runs without a device.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>

#include "backends/cuda/cuda_plan.h"
#include "backends/cuda/device_memory.h"
#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {

constexpr const char* kTacticAttr = "hs_cuda_tactic";
constexpr int kTimedRuns = 5;

std::shared_ptr<void> device_block(size_t bytes, Status* st) {
  void* p = nullptr;
  const cudaError_t err = device_alloc(&p, std::max<size_t>(bytes, 1));
  if (err != cudaSuccess) {
    *st = cuda_status(err, "cudaMalloc(tactic timing)", __FILE__, __LINE__);
    return nullptr;
  }
  const size_t n = std::max<size_t>(bytes, 1);
  return std::shared_ptr<void>(p, [n](void* q) { device_free(q, n); });
}

// One node's inputs on the device; outputs and scratch are fresh (poisoned) device memory.
class TimingContext final : public CudaKernelContext {
 public:
  TimingContext(std::vector<const DeviceTensor*> inputs, int outputs, cudaStream_t stream, int* flag)
      : inputs_(std::move(inputs)), outputs_((size_t)outputs), stream_(stream), flag_(flag) {}

  int num_inputs() const override { return (int)inputs_.size(); }
  const DeviceTensor* input(int i) const override { return i >= 0 && i < num_inputs() ? inputs_[i] : nullptr; }
  const Tensor* host_input(int) const override { return nullptr; }
  int num_outputs() const override { return (int)outputs_.size(); }
  bool output_wanted(int i) const override { return i == 0; }
  // Outputs and scratch are kept from call to call (same sizes: reused), so that timed calls make
  // no cudaMalloc; only a checked call poisons its outputs.
  Result<DeviceTensor*> output(int i, DType dtype, const Shape& shape) override {
    if (i < 0 || i >= num_outputs()) HS_FAIL(kInternal, "output ", i, " out of range");
    DeviceTensor& t = outputs_[i];
    const DeviceTensor want{dtype, shape, nullptr, nullptr};
    if (!t.owner || t.nbytes() != want.nbytes()) {
      Status st;
      t.owner = device_block(want.nbytes(), &st);
      if (!t.owner) return st;
    }
    t.dtype = dtype, t.shape = shape, t.data = t.owner.get();
    if (poison_) HS_CUDA_CHECK(cudaMemsetAsync(t.data, 0xff, t.nbytes(), stream_));
    return &t;
  }
  void set_output(int i, DeviceTensor view) override {
    if (i >= 0 && i < num_outputs()) outputs_[i] = std::move(view);
  }
  void set_host_output(int, Tensor) override {}
  Result<void*> scratch(size_t bytes) override {
    if (next_scratch_ < scratch_.size() && scratch_[next_scratch_].second >= bytes)
      return scratch_[next_scratch_++].first.get();
    Status st;
    auto block = device_block(bytes, &st);
    if (!block) return st;
    scratch_.resize(next_scratch_);
    scratch_.emplace_back(block, bytes);
    return scratch_[next_scratch_++].first.get();
  }
  cudaStream_t stream() const override { return stream_; }
  int* error_flag() const override { return flag_; }

  // Before each compute() call (the stream idle when poisoning changes).
  void begin_call(bool poison) {
    poison_ = poison;
    next_scratch_ = 0;
  }
  const DeviceTensor& out0() const { return outputs_[0]; }

 private:
  std::vector<const DeviceTensor*> inputs_;
  std::vector<DeviceTensor> outputs_;
  std::vector<std::pair<std::shared_ptr<void>, size_t>> scratch_;
  size_t next_scratch_ = 0;
  bool poison_ = true;
  cudaStream_t stream_;
  int* flag_;
};

Status check(cudaError_t err, const char* what) {
  return err == cudaSuccess ? Status::ok() : cuda_status(err, what, __FILE__, __LINE__);
}

// Random float32 values in [-1, 1) (a fixed LCG, so builds are repeatable).
std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::vector<float> v((size_t)n);
  uint32_t x = seed * 2654435761u + 1;
  for (float& f : v) {
    x = x * 1664525u + 1013904223u;
    f = (float)(x >> 8) / (float)(1u << 23) - 1.f;
  }
  return v;
}

// max |a - ref| / max |ref|, infinite when a has a NaN that ref has not.
double rel_error(const std::vector<float>& a, const std::vector<float>& ref) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (std::isnan(ref[i])) continue;
    if (!std::isfinite(a[i])) return INFINITY;
    diff = std::max(diff, (double)std::fabs(a[i] - ref[i]));
    scale = std::max(scale, (double)std::fabs(ref[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

struct Stream {
  cudaStream_t s = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  int* flag = nullptr;
  ~Stream() {
    if (s) cudaStreamSynchronize(s);
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    if (flag) device_free(flag, sizeof(int));
    if (s) cudaStreamDestroy(s);
  }
};

}  // namespace

Status CudaPlan::choose_tactics() {
  const char* forced_env = std::getenv("HS_CUDA_TACTIC");
  const std::string forced = forced_env ? forced_env : "";
  const auto& steps = plan_->steps();
  const double bound = precision_ == "fp32" ? 1e-4 : precision_ == "fp16" ? 2e-2 : 6e-2;
  std::unique_ptr<Stream> timing;
  std::vector<std::shared_ptr<void>> random_inputs;

  for (size_t i = 0; i < steps.size(); ++i) {
    CudaOpKernel* k = kernels_[i].get();
    const std::vector<std::string> candidates = k ? k->tactics() : std::vector<std::string>{};
    if (candidates.size() < 2) continue;
    const Node& node = *steps[i].node;
    BackendReport::Tactic rec;
    rec.node = node.describe();
    const auto& nodes = plan_->graph().nodes;
    rec.node_index = steps[i].node >= nodes.data() && steps[i].node < nodes.data() + nodes.size()
                         ? (size_t)(steps[i].node - nodes.data())
                         : SIZE_MAX;
    auto is_candidate = [&](const std::string& t) { return std::find(candidates.begin(), candidates.end(), t) != candidates.end(); };
    const std::string cached = node.attr_string(kTacticAttr, "");
    if (!forced.empty() && is_candidate(forced)) {
      rec.tactic = forced, rec.how = "forced";
    } else if (!cached.empty() && is_candidate(cached)) {
      rec.tactic = cached, rec.how = "cached";
    } else {
      // Inputs: the uploaded constants, else random tensors of the static build-time shapes.
      std::vector<const DeviceTensor*> ins;
      std::vector<DeviceTensor> owned(steps[i].inputs.size());
      bool timeable = true;
      for (size_t j = 0; j < node.inputs.size() && timeable; ++j) {
        const int s = j < steps[i].inputs.size() ? steps[i].inputs[j] : -1;
        if (s < 0 || node.inputs[j].empty()) {
          ins.push_back(nullptr);
          continue;
        }
        if (const DeviceTensor* w = weight(s)) {
          ins.push_back(w);
          continue;
        }
        const passes::ValueType& t = step_inputs_[i][j];
        if (!t.is_static() || t.dtype != DType::kFloat32) {
          timeable = false;
          break;
        }
        if (!timing) {
          timing = std::make_unique<Stream>();
          HS_CUDA_CHECK(cudaStreamCreateWithFlags(&timing->s, cudaStreamNonBlocking));
          HS_CUDA_CHECK(cudaEventCreate(&timing->start));
          HS_CUDA_CHECK(cudaEventCreate(&timing->stop));
          HS_CUDA_CHECK(device_alloc(reinterpret_cast<void**>(&timing->flag), sizeof(int)));
        }
        DeviceTensor& d = owned[j];
        d.dtype = DType::kFloat32, d.shape = t.static_shape();
        Status st;
        d.owner = device_block(d.nbytes(), &st);
        if (!d.owner) return st;
        d.data = d.owner.get();
        const std::vector<float> values = random_floats(d.numel(), (uint32_t)(i * 31 + j));
        HS_CUDA_CHECK(cudaMemcpy(d.data, values.data(), d.nbytes(), cudaMemcpyHostToDevice));
        ins.push_back(&d);
      }
      if (!timeable) {
        rec.tactic = candidates[0], rec.how = "default";
      } else {
        TimingContext ctx(ins, (int)node.outputs.size(), timing->s, timing->flag);
        std::vector<float> reference;
        std::vector<std::string> order = candidates;  // the reference first
        auto simt = std::find(order.begin(), order.end(), "simt64");
        if (simt != order.end()) std::rotate(order.begin(), simt, simt + 1);
        double best = INFINITY;
        for (const std::string& c : order) {
          double ms = -1;
          Status st = k->select_tactic(c);
          ctx.begin_call(true);
          if (st.is_ok()) st = run_kernel(*k, ctx);
          if (st.is_ok()) st = check(cudaStreamSynchronize(timing->s), "cudaStreamSynchronize");
          std::vector<float> out;
          if (st.is_ok() && ctx.out0().dtype == DType::kFloat32) {
            out.resize((size_t)ctx.out0().numel());
            st = check(cudaMemcpy(out.data(), ctx.out0().data, ctx.out0().nbytes(), cudaMemcpyDeviceToHost),
                       "cudaMemcpy(tactic check)");
          }
          if (st.is_ok() && reference.empty()) reference = out;
          const bool correct = st.is_ok() && !out.empty() && rel_error(out, reference) <= bound;
          if (!st.is_ok()) cudaGetLastError();  // a candidate that fails is not chosen; the build goes on
          std::vector<float> times;
          for (int r = 0; correct && r < kTimedRuns; ++r) {
            ctx.begin_call(false);
            float t = 0;
            Status rs = check(cudaEventRecord(timing->start, timing->s), "cudaEventRecord");
            if (rs.is_ok()) rs = run_kernel(*k, ctx);
            if (rs.is_ok()) rs = check(cudaEventRecord(timing->stop, timing->s), "cudaEventRecord");
            if (rs.is_ok()) rs = check(cudaEventSynchronize(timing->stop), "cudaEventSynchronize");
            if (rs.is_ok()) rs = check(cudaEventElapsedTime(&t, timing->start, timing->stop), "cudaEventElapsedTime");
            if (!rs.is_ok()) break;
            times.push_back(t);
          }
          // A candidate that failed leaves the stream idle and a non-sticky error cleared; a sticky
          // one (a fault on the device) fails the build here.
          cudaGetLastError();
          HS_CUDA_CHECK(cudaStreamSynchronize(timing->s));
          if (times.size() == (size_t)kTimedRuns) {
            std::sort(times.begin(), times.end());
            ms = times[kTimedRuns / 2];
          }
          rec.timings_ms.emplace_back(c, ms);
          if (ms >= 0 && ms < best) best = ms, rec.tactic = c;
        }
        rec.how = "timed";
        if (rec.tactic.empty()) rec.tactic = candidates[0], rec.how = "default";
      }
    }
    HS_RETURN_IF_ERROR(k->select_tactic(rec.tactic));
    report_.tactics.push_back(std::move(rec));
  }
  return Status::ok();
}

}  // namespace hs::cuda
