// User interrupts (see interrupt.h).
#include "interrupt.h"

#include <pthread.h>
#include <time.h>

#include <atomic>

#include "../ir/ir.h"

namespace rj {
namespace {

std::atomic<InterruptChecker> g_checker{nullptr};
pthread_t g_main;
std::atomic<bool> g_have_main{false};
int64_t g_next_poll_ns = 0;  // main thread only

int64_t coarse_now_ns() {
  timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
  clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

}  // namespace

void set_interrupt_checker(InterruptChecker checker) {
  g_main = pthread_self();
  g_have_main.store(checker != nullptr);
  g_checker.store(checker);
  g_next_poll_ns = 0;
}

bool on_main_thread() { return g_have_main.load(std::memory_order_relaxed) && pthread_equal(pthread_self(), g_main); }

void check_interrupt() {
  if (!on_main_thread()) return;
  int64_t now = coarse_now_ns();
  if (now < g_next_poll_ns) return;
  g_next_poll_ns = now + (int64_t)kInterruptPollMs * 1000000;
  InterruptChecker f = g_checker.load(std::memory_order_relaxed);
  if (f && f()) fail("interrupt", "interrupted by the user");
}

}  // namespace rj
