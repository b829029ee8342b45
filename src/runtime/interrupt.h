// User interrupts (Ctrl-C) in long native work. The core knows no R: the
// host (the R glue) registers a checker that says whether an interrupt is
// pending, and long-running code calls check_interrupt() at safe points —
// per iteration of the control-flow executors, between chunks of kernels on
// the thread pool. It throws Error("interrupt", ...), so everything unwinds
// and is freed; the glue then raises the host's own interrupt condition.
#pragma once

namespace rj {

// Returns true when an interrupt is pending (and consumes it). Called only
// on the thread that registered it.
using InterruptChecker = bool (*)();

// Registers the checker; the calling thread becomes the one thread that
// polls (the R main thread). nullptr unregisters.
void set_interrupt_checker(InterruptChecker checker);

// Throws Error("interrupt", "interrupted by the user") when the checker
// reports a pending interrupt. Rate-limited: the checker runs at most every
// kInterruptPollMs; in between a call costs a coarse clock read. A no-op on
// any other thread than the registering one, and without a checker.
void check_interrupt();
constexpr int kInterruptPollMs = 40;

// True on the thread that registered the checker.
bool on_main_thread();

}  // namespace rj
