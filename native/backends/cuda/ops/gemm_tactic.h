// The tactics of the GEMM-like nodes (MatMul, Gemm, Conv and their fused forms): which kernel runs
// them. Candidates depend on the engine's precision and the device:
//   fp32:       simt64 (exact fp32 products) and cublaslt (fp32 compute) when the library loaded;
//   fp16/bf16:  the weights are stored in that type; tc64, tc128 and tc16 (mma.sync, sm_80+), simt64,
//               and cublaslt (16-bit A and B, fp32 accumulation and output).
// The first candidate is the default where nothing was timed. A cuBLASLt choice that a run's
// shapes or strides do not fit runs the first own kernel instead.
#pragma once
#include <string>
#include <vector>

#include "backends/cuda/cuda_kernel.h"
#include "kernels/cuda/gemm.cuh"

namespace hs::cuda::ops {

class GemmTactics {
 public:
  // `lt_capable`: whether this node's problems can ever go to cuBLASLt (not implicit convolutions).
  void init(const CudaKernelInfo& info, bool lt_capable);

  const std::vector<std::string>& candidates() const { return candidates_; }
  Status select(const std::string& name);
  const std::string& selected() const { return selected_; }

  // The dtype that constant weights are stored in on the device (kUndefined: as they are).
  DType weight_dtype() const { return weight_dtype_; }
  bool use_cublaslt() const { return lt_; }
  // The own kernel: the selected one, or the default when cuBLASLt is selected.
  GemmKernel kernel() const { return kernel_; }
  MmaType mma() const { return mma_; }

 private:
  std::vector<std::string> candidates_;
  std::string selected_;
  DType weight_dtype_ = DType::kUndefined;
  bool lt_ = false;
  GemmKernel kernel_ = GemmKernel::kSimt, default_kernel_ = GemmKernel::kSimt;
  MmaType mma_ = MmaType::kF16;
};

// The GemmElem of a device tensor's dtype (float32, float16, bfloat16), or ERR_TYPE.
Status gemm_elem(const DeviceTensor* t, const char* what, GemmElem* out);

// Runs `g` with the tactic: through cuBLASLt when selected and it fits (16-bit B makes A go through
// a rounded copy in scratch memory), else the own kernel.
Status run_gemm(const GemmTactics& tactics, const GemmArgs& g, CudaKernelContext& ctx);

}  // namespace hs::cuda::ops
