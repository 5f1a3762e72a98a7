#include <map>
#include <mutex>

#include "hs/kernel.h"

namespace hs {
namespace {

std::map<std::string, KernelFactory>& registry() {
  static std::map<std::string, KernelFactory> r;  // key: domain + ":" + op_type
  return r;
}

std::string key(const std::string& domain, const std::string& op) {
  return (domain == "ai.onnx" ? std::string() : domain) + ":" + op;
}

}  // namespace

bool register_kernel(const std::string& domain, const std::string& op_type, KernelFactory factory) {
  registry()[key(domain, op_type)] = std::move(factory);
  return true;
}

const KernelFactory* find_kernel(const std::string& domain, const std::string& op_type) {
  auto it = registry().find(key(domain, op_type));
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> registered_ops() {
  std::vector<std::string> out;
  for (auto& [k, v] : registry()) out.push_back(k.front() == ':' ? k.substr(1) : k);
  return out;
}

}  // namespace hs
