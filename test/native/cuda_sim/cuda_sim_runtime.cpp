// The CUDA runtime, as far as this project calls it, for programs (and the simulated addon) that run
// device code on the host through cuda_sim.h. Device and pinned memory are host memory, counted; each
// stream runs its work at once, in order; a stream being captured records kernels, copies and
// memsets into a graph that cudaGraphLaunch replays. What the real runtime refuses during a capture
// (synchronising the capturing stream, a synchronous copy from the capturing thread) is refused here
// too and invalidates the capture, so capture bugs show up without a GPU. The device reports compute
// capability HS_CUDA_SIM_SM (default 80) and an H100's shared memory and SM count.
#include <chrono>
#include <cstdlib>
#include <map>

#include "cuda_sim.h"

// The runtime's opaque handles, given a body here.
struct CUstream_st {
  std::vector<std::function<void()>>* capture = nullptr;  // the graph being recorded, if capturing
  bool capture_failed = false;
};
struct CUgraph_st {
  std::vector<std::function<void()>> ops;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> ops;
};
struct CUevent_st {
  std::chrono::steady_clock::time_point at;
};

namespace {

constexpr size_t kDeviceBytes = size_t(16) << 30;
std::mutex memory_mutex;
std::map<void*, size_t> device_allocations;
size_t device_in_use = 0;
std::mutex static_shared_mutex;
std::map<const void*, size_t> static_shared_bytes;  // cuda_sim::set_static_shared_bytes
thread_local int capturing_streams = 0;  // streams this thread is capturing (cudaStreamCaptureModeThreadLocal)

int device_sm() {
  static const int sm = [] {
    const char* env = std::getenv("HS_CUDA_SIM_SM");
    return env ? std::atoi(env) : 80;
  }();
  return sm;
}

cudaError_t fail(cudaError_t err) {
  cuda_sim::last_error = err;
  return err;
}

}  // namespace

void cuda_sim::set_static_shared_bytes(const void* kernel, size_t bytes) {
  std::lock_guard<std::mutex> lock(static_shared_mutex);
  static_shared_bytes[kernel] = bytes;
}

void cuda_sim::stream_op(cudaStream_t stream, std::function<void()> op) {
  if (stream && stream->capture) stream->capture->push_back(std::move(op));
  else op();
}

cudaError_t cudaGetLastError() {
  const cudaError_t err = cuda_sim::last_error;
  cuda_sim::last_error = cudaSuccess;
  return err;
}
cudaError_t cudaPeekAtLastError() { return cuda_sim::last_error; }

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureImplicit: return "cudaErrorStreamCaptureImplicit";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    default: return "cudaError (emulated)";
  }
}
const char* cudaGetErrorString(cudaError_t err) { return cudaGetErrorName(err); }

cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "cuda_sim (device code run on the host)");
  prop->major = device_sm() / 10;
  prop->minor = device_sm() % 10;
  prop->totalGlobalMem = kDeviceBytes;
  prop->multiProcessorCount = 132;
  prop->sharedMemPerBlockOptin = 227 * 1024;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }
cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int) {
  switch (attr) {
    case cudaDevAttrComputeCapabilityMajor: *value = device_sm() / 10; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMinor: *value = device_sm() % 10; return cudaSuccess;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = 227 * 1024; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = 132; return cudaSuccess;
    default: return fail(cudaErrorInvalidValue);
  }
}
cudaError_t cudaFuncSetAttribute(const void*, cudaFuncAttribute, int) { return cudaSuccess; }
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, const void* kernel) {
  *attr = cudaFuncAttributes{};
  std::lock_guard<std::mutex> lock(static_shared_mutex);
  const auto it = static_shared_bytes.find(kernel);
  if (it != static_shared_bytes.end()) attr->sharedSizeBytes = it->second;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** p, size_t bytes) {
  std::lock_guard<std::mutex> lock(memory_mutex);
  const size_t rounded = (bytes + 255) / 256 * 256;
  *p = nullptr;
  if (device_in_use + rounded > kDeviceBytes || !(*p = std::aligned_alloc(256, rounded ? rounded : 256)))
    return fail(cudaErrorMemoryAllocation);
  device_allocations[*p] = rounded;
  device_in_use += rounded;
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  std::lock_guard<std::mutex> lock(memory_mutex);
  auto it = device_allocations.find(p);
  if (it == device_allocations.end()) return fail(cudaErrorInvalidValue);
  device_in_use -= it->second;
  device_allocations.erase(it);
  std::free(p);
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void** p, size_t bytes) {
  *p = std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);
  return *p ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}
cudaError_t cudaFreeHost(void* p) {
  std::free(p);
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  std::lock_guard<std::mutex> lock(memory_mutex);
  *free_bytes = kDeviceBytes - device_in_use;
  *total_bytes = kDeviceBytes;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  if (capturing_streams) return fail(cudaErrorStreamCaptureImplicit);
  if (bytes) std::memcpy(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind, cudaStream_t stream) {
  if (bytes) cuda_sim::stream_op(stream, [=] { std::memcpy(dst, src, bytes); });
  return cudaSuccess;
}
cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind, cudaStream_t stream) {
  if (width > dpitch || width > spitch) return fail(cudaErrorInvalidPitchValue);
  if (width && height)
    cuda_sim::stream_op(stream, [=] {
      for (size_t r = 0; r < height; ++r)
        std::memcpy(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch, width);
    });
  return cudaSuccess;
}
cudaError_t cudaMemset(void* p, int value, size_t bytes) {
  if (capturing_streams) return fail(cudaErrorStreamCaptureImplicit);
  if (bytes) std::memset(p, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t stream) {
  if (bytes) cuda_sim::stream_op(stream, [=] { std::memset(p, value, bytes); });
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  *stream = new CUstream_st;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (stream && stream->capture) {
    stream->capture_failed = true;
    return fail(cudaErrorStreamCaptureUnsupported);
  }
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() { return capturing_streams ? fail(cudaErrorStreamCaptureUnsupported) : cudaSuccess; }

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
  if (!stream || stream->capture) return fail(cudaErrorIllegalState);
  stream->capture = new std::vector<std::function<void()>>;
  stream->capture_failed = false;
  ++capturing_streams;
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  if (!stream || !stream->capture) return fail(cudaErrorIllegalState);
  std::unique_ptr<std::vector<std::function<void()>>> ops(stream->capture);
  stream->capture = nullptr;
  --capturing_streams;
  *graph = nullptr;
  if (stream->capture_failed) return fail(cudaErrorStreamCaptureInvalidated);
  *graph = new CUgraph_st{std::move(*ops)};
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  *exec = new CUgraphExec_st{graph->ops};
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  for (const auto& op : exec->ops) cuda_sim::stream_op(stream, op);
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = new CUevent_st;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  cuda_sim::stream_op(stream, [event] { event->at = std::chrono::steady_clock::now(); });
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  *ms = std::chrono::duration<float, std::milli>(end->at - start->at).count();
  return cudaSuccess;
}
