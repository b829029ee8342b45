// Checks of the thread pool's contract that R code cannot reach directly
// (tests/testthat/test-threads.R calls it through the glue): every chunk
// runs once, errors come back after the running chunks finished, nested and
// concurrent calls run inline, many small jobs back to back all finish.
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "thread_pool.h"

namespace rj {

// Returns "" when every check passes, else what failed.
std::string pool_selftest() {
  std::string bad;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok && bad.empty()) bad = what;
  };
  for (int64_t n : {0, 1, 2, 7, 64, 1000}) {
    std::vector<std::atomic<int>> hits(n > 0 ? n : 1);
    for (auto& h : hits) h = 0;
    pool_run(n, [&](int64_t k) { hits[k].fetch_add(1); });
    for (int64_t k = 0; k < n; ++k) check(hits[k].load() == 1, "chunk " + std::to_string(k) + " of " + std::to_string(n) + " ran " + std::to_string(hits[k].load()) + " times");
  }

  // An error: rethrown once the chunks that were running have finished.
  std::atomic<bool> returned{false};
  std::atomic<int> late{0};
  bool caught = false;
  try {
    pool_run(200, [&](int64_t k) {
      if (k == 3) throw std::runtime_error("chunk 3");
      for (volatile int i = 0; i < 20000; ++i) {
      }
      if (returned.load()) late.fetch_add(1);
    });
  } catch (std::runtime_error& e) {
    caught = std::string(e.what()) == "chunk 3";
  }
  returned = true;
  check(caught, "an exception in a chunk is rethrown by pool_run");
  check(late.load() == 0, "no chunk runs after pool_run returned");

  // Nested calls run inline on the calling thread.
  std::atomic<int> nested_ok{0};
  pool_run(8, [&](int64_t) {
    std::thread::id me = std::this_thread::get_id();
    bool same = true;
    pool_run(4, [&](int64_t) { same = same && std::this_thread::get_id() == me; });
    if (same && pool_available() == 1) nested_ok.fetch_add(1);
  });
  check(nested_ok.load() == 8, "nested pool_run runs inline");

  // Jobs from several threads at once: each completes (inline if the pool is busy).
  std::vector<std::thread> ts;
  std::atomic<int64_t> total{0};
  for (int t = 0; t < 3; ++t)
    ts.emplace_back([&] {
      for (int j = 0; j < 200; ++j) pool_run(16, [&](int64_t k) { total.fetch_add(k); });
    });
  for (auto& t : ts) t.join();
  check(total.load() == 3 * 200 * (15 * 16 / 2), "concurrent pool_run calls");

  // Many small jobs back to back (a lost wake-up would hang here).
  std::atomic<int64_t> count{0};
  for (int j = 0; j < 20000; ++j) pool_run(3, [&](int64_t) { count.fetch_add(1); });
  check(count.load() == 60000, "20000 back-to-back jobs");

  return bad;
}

}  // namespace rj
