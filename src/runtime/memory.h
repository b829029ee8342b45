// Host memory for buffers: aligned blocks, a small pool of freed large
// blocks, and the count of live bytes that the R glue reports to R's garbage
// collector (R sees only the small R objects that hold native buffers, so it
// would otherwise never collect them under native memory pressure).
//
// - Blocks are 64-byte aligned. Blocks of 64 KiB or more are mapped directly
//   (mmap), so that freeing them returns the memory to the system; those of
//   4 MiB or more are aligned to 2 MiB and advised as transparent huge pages
//   (one page fault per 2 MiB instead of per 4 KiB, where the kernel allows).
// - Freed blocks of 64 KiB or more are kept for reuse by the next request of
//   the same size (a compiled loop allocates the same sizes every
//   iteration), up to kPoolCap bytes in all; past the cap the oldest kept
//   blocks are given back.
// - The Buffer constructor refuses a request larger than the machine's
//   memory before anything is allocated (Error("memory")).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace rj {

constexpr size_t kPoolCap = size_t(128) << 20;  // bytes of freed blocks kept for reuse

// Allocates `bytes` (rounded up internally); nullptr for 0 bytes and when
// the system refuses (the caller reports it: the runtime throws nothing).
void* alloc_block(size_t bytes);
// Frees a block from alloc_block (the same `bytes`).
void free_block(void* p, size_t bytes);

struct MemoryStats {
  int64_t live_bytes = 0;    // in blocks handed out and not yet freed
  int64_t live_blocks = 0;
  int64_t peak_bytes = 0;    // highest live_bytes so far
  int64_t pooled_bytes = 0;  // freed blocks kept for reuse
  int64_t pooled_blocks = 0;
  int64_t machine_bytes = 0; // physical memory of the machine
};
MemoryStats memory_stats();
int64_t live_bytes();        // memory_stats().live_bytes, cheaply
void release_pooled();       // gives every kept block back to the system

// Physical memory of the machine (0 when unknown): no single buffer can be
// larger, whatever the overcommit setting would let mmap promise.
int64_t machine_bytes();
// "1.2 GB", for messages.
std::string human_bytes(double bytes);

}  // namespace rj
