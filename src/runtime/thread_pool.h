// The one pool of worker threads that runs all of rjax's parallel work
// (fused kernels, matrix products, parallel loops of the primitives).
//
// Work is a number of chunks; threads take chunk indices from a shared
// counter as they become free, the caller included, so the caller never
// waits for a worker that has nothing to do: it waits only for chunks that
// are running. Which thread runs a chunk never changes what the chunk
// computes, so results (reductions included, which keep one partial per
// chunk) do not depend on the number of threads.
//
// Idle workers spin briefly (adaptively: not at all after they were
// preempted, i.e. when the machine is busy) and then park on a condition
// variable, so they leave the cores to other processes.
//
// Threads: options(rjax.threads) / RJAX_NUM_THREADS (the R glue calls
// set_pool_threads()); the default is the number of CPUs this process may
// run on. If threads cannot be created the pool runs with those it got
// (down to none: the caller alone) and reports it (pool_take_notice()).
// After fork() the child never touches the parent's workers: its pool is
// re-created on first use, single-threaded unless set_pool_threads() is
// called in the child.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace rj {

// Runs fn(chunk) for chunk in [0, n_chunks). Runs inline on the calling
// thread when `parallel` is false, when there is one chunk, when the pool
// has no workers, or when called from inside a chunk (nested parallelism
// runs inline). The first exception thrown by fn is rethrown here once the
// chunks already running have finished (the rest are skipped). On the main
// thread check_interrupt() runs between chunks (an interrupt stops the
// workers taking more chunks and is thrown here).
void pool_run(int64_t n_chunks, const std::function<void(int64_t)>& fn, bool parallel = true);

// Number of threads that run chunks (workers + the caller).
int pool_threads();

// Threads a pool_run() called here and now would use: 1 inside a chunk (or
// while another thread's job holds the pool), else pool_threads(). Callers
// that must split work themselves (a GEMM's blocks) ask this first.
int pool_available();

// Whether work of `work` units (elements, flops) is worth running in
// parallel, given `min_work` units per thread below which waking workers
// costs more than it saves: pool_available() > 1 && work >= 2 * min_work.
bool pool_should_split(double work, double min_work);

// Resizes the pool to n threads in all (the caller included); n <= 0 means
// the default. Returns the number of threads the pool now has (fewer than
// asked when threads could not be created, or the request was above
// kMaxThreads). Must not be called from inside a chunk.
int set_pool_threads(int n);
constexpr int kMaxThreads = 256;

// The default thread count: RJAX_NUM_THREADS when it is a positive integer,
// else the number of CPUs this process may run on; 1 in a forked child.
int pool_default_threads();

// A message about the last problem the pool met (threads that could not be
// created, a capped request), returned once; "" when there is none.
std::string pool_take_notice();

// Checks of the pool's contract on the current pool (pool_selftest.cpp);
// "" when all pass, else what failed. For the tests.
std::string pool_selftest();

}  // namespace rj
