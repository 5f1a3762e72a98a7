// malloc_in_use_bytes(): what the C allocator has handed out and not taken back, in the whole process
// (operator new, V8's external buffers, every library). Unlike the resident size it does not move when
// malloc keeps freed pages for reuse or trims them, so a leak test can ask for a few kilobytes of
// tolerance, not tens of megabytes. glibc's mallinfo2 (2.33+) is looked up at run time so the prebuilt
// addon still loads on older C libraries; where there is none the figure is unknown (-1).
#include "hs/tensor.h"

#if defined(__linux__) && defined(__GLIBC__)
#include <dlfcn.h>
#include <malloc.h>
#endif

namespace hs {

int64_t malloc_in_use_bytes() {
#if defined(__linux__) && defined(__GLIBC__)
  // Laid out as glibc's struct mallinfo2 (ten size_t fields); declared here so that older headers build.
  struct Mallinfo2 {
    size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
  };
  using Fn = Mallinfo2 (*)();
  static const Fn mallinfo2_fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "mallinfo2"));
  if (!mallinfo2_fn) return -1;
  const Mallinfo2 info = mallinfo2_fn();
  return (int64_t)(info.uordblks + info.hblkhd);  // chunks in use in every arena + mmapped chunks
#else
  return -1;
#endif
}

}  // namespace hs
