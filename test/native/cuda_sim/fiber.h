// Stackful fibers for cuda_sim.h: a block's CUDA threads run as fibers of the host thread that launches
// it, switched where they wait at a barrier. A switch is a few register moves on x86-64 (swapcontext
// would make a system call each time: ~0.7 us here, against a barrier per warp shuffle); other
// architectures (or -DCUDA_SIM_UCONTEXT_FIBERS, to try that path here) use ucontext. Under
// AddressSanitizer every switch is announced to it.
#pragma once
#include <sys/mman.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>

#if defined(__x86_64__) && !defined(CUDA_SIM_UCONTEXT_FIBERS)
#define CUDA_SIM_STACK_SWITCH 1
#else
#define CUDA_SIM_STACK_SWITCH 0
#include <ucontext.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace cuda_sim {

#if CUDA_SIM_STACK_SWITCH
// Saves the callee-saved registers on the current stack and its pointer in *from, then continues on
// the stack `to`, which was left by a switch_stack or laid out by Fiber::start.
[[gnu::naked, gnu::noinline]] inline void switch_stack(void** /*from*/, void* /*to*/) {
  asm volatile(
      "pushq %rbp\n\tpushq %rbx\n\tpushq %r12\n\tpushq %r13\n\tpushq %r14\n\tpushq %r15\n\t"
      "movq %rsp, (%rdi)\n\tmovq %rsi, %rsp\n\t"
      "popq %r15\n\tpopq %r14\n\tpopq %r13\n\tpopq %r12\n\tpopq %rbx\n\tpopq %rbp\n\tret\n\t");
}
#endif

class Fiber {
 public:
  static constexpr size_t kStackBytes = 1 << 20;  // reserved, not committed: device code's locals are small

  Fiber() {
    // A guard page below the stack turns an overflow into a fault rather than a silent overwrite.
    base_ = static_cast<char*>(mmap(nullptr, kStackBytes + kGuard, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
    if (base_ == MAP_FAILED) {
      std::fprintf(stderr, "cuda_sim: no memory for a fiber stack\n");
      std::abort();
    }
    mprotect(base_, kGuard, PROT_NONE);
  }
  ~Fiber() { munmap(base_, kStackBytes + kGuard); }
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Makes the next resume() run entry(arg) from the top of the stack; entry must end in finish().
  void start(void (*entry)(void*), void* arg) {
    char* bottom = base_ + kGuard;
#if defined(__SANITIZE_ADDRESS__)
    __asan_unpoison_memory_region(bottom, kStackBytes);  // what an earlier run left poisoned
    fake_stack_ = nullptr;
#endif
    entry_ = entry;
    arg_ = arg;
#if CUDA_SIM_STACK_SWITCH
    // switch_stack pops six registers and returns into trampoline, whose frame then sits as after a
    // call (rsp + 8 a multiple of 16).
    void** top = reinterpret_cast<void**>(bottom + kStackBytes);
    *--top = nullptr;  // trampoline's return address: it never returns
    *--top = reinterpret_cast<void*>(&trampoline);
    for (int r = 0; r < 6; ++r) *--top = nullptr;
    sp_ = top;
#else
    getcontext(&context_);
    context_.uc_stack.ss_sp = bottom;
    context_.uc_stack.ss_size = kStackBytes;
    context_.uc_link = nullptr;
    makecontext(&context_, &trampoline, 0);
#endif
  }

  // From the host thread: runs the fiber until it yields or finishes.
  void resume() {
    running_ = this;
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_start_switch_fiber(&host_fake_stack_, base_ + kGuard, kStackBytes);
#endif
#if CUDA_SIM_STACK_SWITCH
    switch_stack(&host_sp_, sp_);
#else
    swapcontext(&host_context_, &context_);
#endif
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(host_fake_stack_, nullptr, nullptr);
#endif
  }
  // From the fiber: back to the host thread's resume().
  static void yield() { running_->leave(false); }
  // From the fiber, last: back to resume(), never to come back.
  [[noreturn]] static void finish() {
    running_->leave(true);
    std::abort();
  }

 private:
  static constexpr size_t kGuard = 4096;

  static void trampoline() {
    arrived();
    running_->entry_(running_->arg_);
    std::abort();  // entry ends in finish()
  }

  // A finished fiber's fake stack (ASan's stack-use-after-return frames) is let go.
  void leave(bool finished) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_start_switch_fiber(finished ? nullptr : &fake_stack_, host_bottom_, host_bytes_);
#else
    (void)finished;
#endif
#if CUDA_SIM_STACK_SWITCH
    switch_stack(&sp_, host_sp_);
#else
    swapcontext(&context_, &host_context_);
#endif
    arrived();
  }

  // First thing on the fiber's stack after each switch into it: ASan learns the host's stack.
  static void arrived() {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(running_->fake_stack_, &running_->host_bottom_, &running_->host_bytes_);
#endif
  }

  inline static thread_local Fiber* running_ = nullptr;
  char* base_;
  void (*entry_)(void*) = nullptr;
  void* arg_ = nullptr;
#if CUDA_SIM_STACK_SWITCH
  void* sp_ = nullptr;
  void* host_sp_ = nullptr;
#else
  ucontext_t context_, host_context_;
#endif
  const void* host_bottom_ = nullptr;
  size_t host_bytes_ = 0;
  void* fake_stack_ = nullptr;
  void* host_fake_stack_ = nullptr;
};

}  // namespace cuda_sim
