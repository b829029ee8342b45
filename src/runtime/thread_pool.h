// A persistent pool of worker threads for the native backends' kernels.
//
// Work is a number of chunks; threads (the caller included) take chunk
// indices from a shared counter. Which thread runs a chunk never changes
// what the chunk computes, so results (reductions included, which keep one
// partial per chunk) do not depend on the number of threads.
//
// Idle workers sleep on a condition variable rather than spin: on a small
// machine they share the cores with the interpreter's OpenMP threads.
#pragma once
#include <cstdint>
#include <functional>

namespace rj {

// Runs fn(chunk) for chunk in [0, n_chunks). Runs inline on the calling
// thread when `parallel` is false, when there is one chunk, or when the pool
// has no workers. The first exception thrown by fn is rethrown here.
void pool_run(int64_t n_chunks, const std::function<void(int64_t)>& fn, bool parallel = true);

// Number of threads that run chunks (workers + the caller). Set from the
// environment variable RJAX_NUM_THREADS at first use, else the hardware's.
int pool_threads();

}  // namespace rj
