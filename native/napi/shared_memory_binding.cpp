// POSIX shared memory for tensors that cross processes (CPU workers <-> the GPU process):
//   shmCreate(name, bytes) -> ArrayBuffer   shm_open(O_CREAT|O_EXCL) + ftruncate + mmap
//   shmOpen(name)          -> ArrayBuffer   shm_open of an existing segment, mapped whole
//   shmUnlink(name)        -> boolean       removes the name (false when it was already gone)
// The ArrayBuffer is external memory over the mapping; its finalizer munmaps it, so the mapping
// lives exactly as long as JS can reach it. The file descriptor is closed right after mmap.
// Allocation inside a segment (offsets, rings) is done in TypeScript (ts/process/ShmRing.ts).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "bindings.h"
#include "napi_util.h"

namespace hs_napi {
namespace {

// shm_open names: a leading '/', no other '/', at most NAME_MAX (255) characters in all.
constexpr size_t kMaxNameLength = 255;
// A segment above 16 GiB is a caller bug rather than a plan.
constexpr double kMaxSegmentBytes = 16.0 * 1024 * 1024 * 1024;

std::string segment_name_arg(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  HS_NAPI_CHECK_ARG(env, info.Length() >= 1 && info[0].IsString(), std::string(fn) + "(name): name must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  const bool well_formed = name.size() >= 2 && name.size() <= kMaxNameLength && name[0] == '/' &&
                           name.find('/', 1) == std::string::npos && name.find('\0') == std::string::npos;
  HS_NAPI_CHECK_ARG(env, well_formed,
                    std::string(fn) + "(name): name must start with '/', contain no other '/' and be at most 255 characters, got '" +
                        name + "'");
  return name;
}

Napi::Error errno_error(Napi::Env env, const std::string& call, const std::string& name, int err) {
  return make_error(env, err == ENOENT ? "ERR_NOT_FOUND" : "ERR_IO",
                    call + "('" + name + "') failed: " + std::strerror(err));
}

void unmap_segment(Napi::Env, void* data, size_t* byte_length) {
  munmap(data, *byte_length);
  delete byte_length;
}

// Maps the whole of an open descriptor and wraps the mapping in an external ArrayBuffer.
Napi::ArrayBuffer map_segment(Napi::Env env, int fd, size_t bytes, const std::string& name) {
  void* mapping = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int map_errno = errno;
  close(fd);
  if (mapping == MAP_FAILED) throw errno_error(env, "mmap", name, map_errno);
  auto* length_hint = new size_t(bytes);
  return Napi::ArrayBuffer::New(env, mapping, bytes, unmap_segment, length_hint);
}

Napi::Value shm_create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  std::string name = segment_name_arg(info, "shmCreate");
  HS_NAPI_CHECK_ARG(env, info.Length() >= 2 && info[1].IsNumber(), "shmCreate(name, bytes): bytes must be a number");
  const double requested = info[1].As<Napi::Number>().DoubleValue();
  if (!(requested >= 1 && requested <= kMaxSegmentBytes) || requested != static_cast<double>(static_cast<int64_t>(requested)))
    throw Napi::RangeError::New(env, "shmCreate(name, bytes): bytes must be an integer in [1, 16 GiB], got " +
                                         std::to_string(requested));
  const size_t bytes = static_cast<size_t>(requested);
  int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) throw errno_error(env, "shm_open", name, errno);
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    const int err = errno;
    close(fd);
    shm_unlink(name.c_str());
    throw errno_error(env, "ftruncate", name, err);
  }
  return map_segment(env, fd, bytes, name);
  HS_NAPI_GUARD_END(env)
}

Napi::Value shm_open_existing(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  std::string name = segment_name_arg(info, "shmOpen");
  int fd = shm_open(name.c_str(), O_RDWR, 0);
  if (fd < 0) throw errno_error(env, "shm_open", name, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    throw errno_error(env, "fstat", name, err);
  }
  if (st.st_size <= 0) {
    close(fd);
    throw make_error(env, "ERR_IO", "shared memory segment '" + name + "' is empty");
  }
  return map_segment(env, fd, static_cast<size_t>(st.st_size), name);
  HS_NAPI_GUARD_END(env)
}

Napi::Value shm_unlink_name(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HS_NAPI_GUARD_BEGIN
  std::string name = segment_name_arg(info, "shmUnlink");
  if (shm_unlink(name.c_str()) == 0) return Napi::Boolean::New(env, true);
  if (errno == ENOENT) return Napi::Boolean::New(env, false);
  throw errno_error(env, "shm_unlink", name, errno);
  HS_NAPI_GUARD_END(env)
}

}  // namespace

void init_shared_memory(Napi::Env env, Napi::Object exports) {
  exports.Set("shmCreate", Napi::Function::New(env, shm_create, "shmCreate"));
  exports.Set("shmOpen", Napi::Function::New(env, shm_open_existing, "shmOpen"));
  exports.Set("shmUnlink", Napi::Function::New(env, shm_unlink_name, "shmUnlink"));
}

}  // namespace hs_napi
