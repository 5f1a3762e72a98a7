#include <map>

#include "backends/cuda/cuda_kernel.h"

namespace hs::cuda {
namespace {

std::map<std::string, CudaKernelFactory>& registry() {
  static std::map<std::string, CudaKernelFactory> r;  // key: domain + ":" + op_type
  return r;
}

std::string key(const std::string& domain, const std::string& op) {
  return (domain == "ai.onnx" ? std::string() : domain) + ":" + op;
}

}  // namespace

bool register_cuda_kernel(const std::string& domain, const std::string& op_type, CudaKernelFactory factory) {
  registry()[key(domain, op_type)] = std::move(factory);
  return true;
}

const CudaKernelFactory* find_cuda_kernel(const std::string& domain, const std::string& op_type) {
  auto it = registry().find(key(domain, op_type));
  return it == registry().end() ? nullptr : &it->second;
}

}  // namespace hs::cuda
