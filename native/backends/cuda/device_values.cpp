#include "backends/cuda/device_values.h"

#include <cstring>

#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {

Result<DeviceTensor> DeviceValues::allocate(DType dtype, const Shape& shape) {
  if (dtype == DType::kString || dtype_size(dtype) == 0)
    return Status(StatusCode::kType, str_cat("a ", dtype_name(dtype), " tensor cannot live on the device"));
  DeviceTensor t{dtype, shape, nullptr, nullptr};
  auto block = arena_.allocate(t.nbytes());
  if (!block.is_ok()) return block.status();
  t.owner = block.take();
  t.data = t.owner.get();
  if (poison_ && t.nbytes()) HS_CUDA_CHECK(cudaMemsetAsync(t.data, 0xff, t.nbytes(), stream_));
  return t;
}

Status DeviceValues::to_device(int s, const std::string& what) {
  Slot& slot = slots_[(size_t)s];
  // Already there, or no value at all (an omitted optional input): the kernel sees nullptr.
  if (slot.on_device || !slot.on_host || !slot.host.defined()) return Status::ok();
  if (!slot.host.is_tensor())
    return Status(StatusCode::kType, str_cat(what, " is a ", value_kind_name(slot.host.kind()),
                                             "; only tensors go to the device"));
  const Tensor& t = slot.host.tensor();
  auto dev = allocate(t.dtype(), t.shape());
  if (!dev.is_ok()) return dev.status();
  if (t.nbytes()) {
    auto staged = staging_.reserve(t.nbytes());
    if (!staged.is_ok()) return staged.status();
    std::memcpy(staged.value(), t.raw(), t.nbytes());
    HS_CUDA_CHECK(cudaMemcpyAsync(dev.value().data, staged.value(), t.nbytes(), cudaMemcpyHostToDevice, stream_));
  }
  slot.device = dev.take();
  slot.on_device = true;
  ++uploads_;
  return Status::ok();
}

Status DeviceValues::queue_download(int s, std::vector<std::pair<int, const void*>>* finish) {
  Slot& slot = slots_[(size_t)s];
  if (slot.on_host || !slot.on_device) return Status::ok();  // there, or no value: the reader sees nullptr
  for (auto& [queued, staged] : *finish)
    if (queued == s) return Status::ok();
  const DeviceTensor& d = slot.device;
  const void* staged = nullptr;
  if (d.nbytes()) {
    auto r = staging_.reserve(d.nbytes());
    if (!r.is_ok()) return r.status();
    HS_CUDA_CHECK(cudaMemcpyAsync(r.value(), d.data, d.nbytes(), cudaMemcpyDeviceToHost, stream_));
    staged = r.value();
  }
  finish->emplace_back(s, staged);
  return Status::ok();
}

void DeviceValues::finish_download(int s, const void* staged) {
  Slot& slot = slots_[(size_t)s];
  Tensor t = Tensor::empty(slot.device.dtype, slot.device.shape);
  if (staged) std::memcpy(t.raw(), staged, t.nbytes());
  slot.host = Value(std::move(t));
  slot.on_host = true;
  ++downloads_;
}

Status DeviceValues::to_host(int s) { return to_host_all({s}); }

Status DeviceValues::to_host_all(const std::vector<int>& slots) {
  std::vector<std::pair<int, const void*>> finish;
  for (int s : slots) HS_RETURN_IF_ERROR(queue_download(s, &finish));
  if (finish.empty()) return Status::ok();
  HS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  for (auto& [s, staged] : finish) finish_download(s, staged);
  return Status::ok();
}

}  // namespace hs::cuda
