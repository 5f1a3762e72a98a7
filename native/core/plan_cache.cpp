// The engine cache on disk. Keys are SHA-256 (FIPS 180-4, written here: no external library) of
// the plan format version, the set of operators this build has kernels for (a plan made where a
// kernel was missing is never reused by a build that has it, and vice versa), the caller's options
// fingerprint (library version, build options, device) and the model bytes. Files are written to
// a unique temporary name, fsync'ed and renamed over the final name, so readers only ever see a
// whole file; any file that does not validate (plan_io.cpp) is a miss.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "core/plan_cache.h"
#include "hs/kernel.h"

namespace hs {
namespace {

class Sha256 {
 public:
  void update(const uint8_t* data, size_t size) {
    total_ += size;
    if (used_) {
      const size_t take = std::min(size, sizeof block_ - used_);
      std::memcpy(block_ + used_, data, take);
      used_ += take;
      data += take;
      size -= take;
      if (used_ < sizeof block_) return;
      compress(block_);
      used_ = 0;
    }
    for (; size >= 64; data += 64, size -= 64) compress(data);
    std::memcpy(block_, data, size);
    used_ = size;
  }
  void update(const std::string& s) { update(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
  void update_u64(uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = (uint8_t)(v >> (56 - 8 * i));
    update(b, 8);
  }

  std::string hex_digest() {
    const uint64_t bits = total_ * 8;
    const uint8_t one = 0x80, zero = 0;
    update(&one, 1);
    while (used_ != 56) update(&zero, 1);
    update_u64(bits);
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (uint32_t word : state_)
      for (int shift = 28; shift >= 0; shift -= 4) out.push_back(digits[(word >> shift) & 0xf]);
    return out;
  }

 private:
  static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

  void compress(const uint8_t* chunk) {
    static const uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = (uint32_t)chunk[4 * i] << 24 | (uint32_t)chunk[4 * i + 1] << 16 | (uint32_t)chunk[4 * i + 2] << 8 |
             (uint32_t)chunk[4 * i + 3];
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3], e = state_[4], f = state_[5],
             g = state_[6], h = state_[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    const uint32_t add[8] = {a, b, c, d, e, f, g, h};
    for (int i = 0; i < 8; ++i) state_[i] += add[i];
  }

  uint32_t state_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  uint8_t block_[64] = {};
  size_t used_ = 0;
  uint64_t total_ = 0;
};

bool valid_key(const std::string& key) {
  if (key.empty() || key.size() > 128) return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string plan_path(const std::string& dir, const std::string& key) { return dir + "/" + key + ".hsplan"; }

Status io_error(const std::string& what, const std::string& path) {
  return Status(StatusCode::kIo, str_cat(what, " '", path, "': ", std::strerror(errno)));
}

// A suffix no other writer (process or thread) uses at the same time.
std::string unique_suffix() {
  static std::atomic<uint64_t> counter{0};
  const uint64_t salt = (uint64_t)std::chrono::steady_clock::now().time_since_epoch().count() ^
                        (uint64_t)std::hash<std::thread::id>()(std::this_thread::get_id()) ^ (counter++ << 48);
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, ".tmp.%ld.%016llx", (long)getpid(), (unsigned long long)salt);
  return suffix;
}

Status write_all(int fd, const std::string& bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("cannot write", path);
    done += (size_t)n;
  }
  return Status::ok();
}

}  // namespace

std::string sha256_hex(const uint8_t* data, size_t size) {
  Sha256 sha;
  if (size) sha.update(data, size);
  return sha.hex_digest();
}

std::string plan_cache_key(const uint8_t* model, size_t model_size, const std::string& options_fingerprint) {
  Sha256 sha;
  sha.update(str_cat("highservice plan cache key, format ", kPlanFormatVersion, "\n"));
  const std::vector<std::string> ops = registered_ops();
  sha.update_u64(ops.size());
  for (const std::string& op : ops) {
    sha.update_u64(op.size());
    sha.update(op);
  }
  sha.update_u64(options_fingerprint.size());
  sha.update(options_fingerprint);
  sha.update_u64(model_size);
  if (model_size) sha.update(model, model_size);
  return sha.hex_digest();
}

std::shared_ptr<Graph> plan_cache_load(const std::string& dir, const std::string& key, std::string* why) {
  std::string ignored;
  std::string& reason = why ? *why : ignored;
  reason.clear();
  if (!valid_key(key)) {
    reason = "invalid plan cache key '" + key + "'";
    return nullptr;
  }
  const std::string path = plan_path(dir, key);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) reason = io_error("cannot open", path).message();
    return nullptr;
  }
  struct stat st;
  std::shared_ptr<Buffer> file;
  if (::fstat(fd, &st) == 0 && st.st_size >= 0) file = Buffer::allocate((size_t)st.st_size);
  size_t done = 0;
  while (file && done < file->bytes()) {
    const ssize_t n = ::read(fd, static_cast<char*>(file->data()) + done, file->bytes() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += (size_t)n;
  }
  ::close(fd);
  if (!file || done != file->bytes()) {
    reason = str_cat("cannot read '", path, "'");
    return nullptr;
  }
  auto graph = deserialize_graph(std::move(file));
  if (!graph.is_ok()) {
    reason = str_cat(path, ": ", graph.status().message());
    return nullptr;
  }
  return graph.take();
}

Status plan_cache_store(const std::string& dir, const std::string& key, const Graph& graph) {
  if (!valid_key(key)) HS_FAIL(kInvalidArgument, "invalid plan cache key '", key, "'");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) HS_FAIL(kIo, "cannot create the cache directory '", dir, "': ", ec.message());
  const std::string bytes = serialize_graph(graph);
  const std::string path = plan_path(dir, key), temp = path + unique_suffix();
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", temp);
  Status st = write_all(fd, bytes, temp);
  if (st.is_ok() && ::fsync(fd) != 0) st = io_error("cannot fsync", temp);
  if (::close(fd) != 0 && st.is_ok()) st = io_error("cannot close", temp);
  if (st.is_ok() && ::rename(temp.c_str(), path.c_str()) != 0) st = io_error("cannot rename into", path);
  if (!st.is_ok()) {
    ::unlink(temp.c_str());
    return st;
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);  // make the rename durable
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::ok();
}

}  // namespace hs
