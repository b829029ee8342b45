// Host memory for buffers (see memory.h).
#include "memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <mutex>
#include <unordered_map>
#include <vector>


namespace rj {
namespace {

constexpr size_t kPoolMin = size_t(1) << 16;  // smaller blocks go straight back to malloc
constexpr size_t kMapMin = kPoolMin;            // mmap from here on: freeing really gives memory back, and
                                               // no malloc heap is fragmented by large blocks
constexpr size_t kHugeMin = size_t(4) << 20;  // huge-page aligned from here on
constexpr size_t kHuge = size_t(2) << 20;

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

// Bytes actually reserved for a request: the pool keys blocks by this.
size_t block_size(size_t n) {
  if (n >= kHugeMin) return round_up(n, kHuge);
  if (n >= kMapMin) return round_up(n, 4096);
  return round_up(n, 64);
}

std::atomic<int64_t> g_live{0}, g_blocks{0}, g_peak{0};

void count(int64_t bytes, int64_t blocks) {
  int64_t now = g_live.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  g_blocks.fetch_add(blocks, std::memory_order_relaxed);
  int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

}  // namespace

int64_t machine_bytes() {
  static const int64_t m = [] {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (int64_t)pages * page : (int64_t)0;
  }();
  return m;
}

std::string human_bytes(double b) {
  char buf[64];
  if (b >= 1e12) std::snprintf(buf, sizeof buf, "%.3g TB", b / 1e12);
  else if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.3g GB", b / 1e9);
  else std::snprintf(buf, sizeof buf, "%.3g MB", b / 1e6);
  return buf;
}

namespace {

void* map_block(size_t size) {
  if (size < kHugeMin) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }
  // Over-map by one huge page, then cut the region down to a 2 MiB-aligned one.
  size_t len = size + kHuge;
  void* raw = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  uintptr_t a = reinterpret_cast<uintptr_t>(raw), b = round_up(a, kHuge);
  if (b > a) munmap(raw, b - a);
  if (b + size < a + len) munmap(reinterpret_cast<void*>(b + size), a + len - (b + size));
  void* p = reinterpret_cast<void*>(b);
#ifdef MADV_HUGEPAGE
  madvise(p, size, MADV_HUGEPAGE);  // advice only: ignored where THP is off
#endif
  return p;
}

void* system_alloc(size_t size) {
  if (size >= kMapMin) return map_block(size);
  return std::aligned_alloc(64, size);
}

void system_free(void* p, size_t size) {
  if (size >= kMapMin) munmap(p, size);
  else std::free(p);
}

// Freed blocks kept for reuse, oldest first; lookup by exact size.
struct BlockPool {
  std::mutex mu;
  struct Kept {
    size_t size;
    void* p;
  };
  std::list<Kept> order;
  std::unordered_multimap<size_t, std::list<Kept>::iterator> by_size;
  size_t bytes = 0;

  void* take(size_t size) {
    std::lock_guard<std::mutex> lk(mu);
    auto it = by_size.find(size);
    if (it == by_size.end()) return nullptr;
    void* p = it->second->p;
    order.erase(it->second);
    by_size.erase(it);
    bytes -= size;
    return p;
  }

  // Keeps p, giving back the oldest blocks past the cap (outside the lock).
  void keep(void* p, size_t size) {
    std::vector<Kept> out;
    {
      std::lock_guard<std::mutex> lk(mu);
      if (size > kPoolCap) {
        out.push_back({size, p});
      } else {
        order.push_back({size, p});
        by_size.emplace(size, std::prev(order.end()));
        bytes += size;
        while (bytes > kPoolCap) out.push_back(pop_oldest());
      }
    }
    for (auto& k : out) system_free(k.p, k.size);
  }

  Kept pop_oldest() {
    Kept k = order.front();
    auto range = by_size.equal_range(k.size);
    for (auto it = range.first; it != range.second; ++it)
      if (it->second == order.begin()) {
        by_size.erase(it);
        break;
      }
    order.pop_front();
    bytes -= k.size;
    return k;
  }

  void release_all() {
    std::vector<Kept> out;
    {
      std::lock_guard<std::mutex> lk(mu);
      while (!order.empty()) out.push_back(pop_oldest());
    }
    for (auto& k : out) system_free(k.p, k.size);
  }
};

BlockPool& pool() {
  static BlockPool* p = new BlockPool;  // never destroyed: buffers may outlive static destruction
  return *p;
}

}  // namespace

void* alloc_block(size_t bytes) {
  if (bytes == 0) return nullptr;
  size_t size = block_size(bytes);
  void* p = size >= kPoolMin ? pool().take(size) : nullptr;
  if (!p) p = system_alloc(size);
  if (!p) {
    release_pooled();  // the kept blocks may be what is missing
    p = system_alloc(size);
  }
  if (!p) return nullptr;
  count((int64_t)size, 1);
  return p;
}

void free_block(void* p, size_t bytes) {
  if (!p) return;
  size_t size = block_size(bytes);
  count(-(int64_t)size, -1);
  if (size >= kPoolMin) pool().keep(p, size);
  else system_free(p, size);
}

int64_t live_bytes() { return g_live.load(std::memory_order_relaxed); }

MemoryStats memory_stats() {
  MemoryStats s;
  s.live_bytes = g_live.load();
  s.live_blocks = g_blocks.load();
  s.peak_bytes = g_peak.load();
  {
    BlockPool& p = pool();
    std::lock_guard<std::mutex> lk(p.mu);
    s.pooled_bytes = (int64_t)p.bytes;
    s.pooled_blocks = (int64_t)p.order.size();
  }
  s.machine_bytes = machine_bytes();
  return s;
}

void release_pooled() { pool().release_all(); }

}  // namespace rj
