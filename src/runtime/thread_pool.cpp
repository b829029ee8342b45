// The persistent thread pool (see thread_pool.h).
#include "thread_pool.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace rj {
namespace {

class Pool {
 public:
  explicit Pool(int n_workers) {
    for (int i = 0; i < n_workers; ++i) workers_.emplace_back([this] { loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return (int)workers_.size() + 1; }

  void run(int64_t n, const std::function<void(int64_t)>& fn) {
    std::lock_guard<std::mutex> one_job(job_mu_);  // one parallel job at a time
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      n_ = n;
      next_.store(0);
      active_ = (int)workers_.size();
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    work();
    std::unique_lock<std::mutex> lk(mu_);
    done_.wait(lk, [this] { return active_ == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work() {
    for (;;) {
      int64_t k = next_.fetch_add(1);
      if (k >= n_) return;
      try {
        (*fn_)(k);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu_);
        if (!error_) error_ = std::current_exception();
        next_.store(n_);  // stop handing out chunks
      }
    }
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        wake_.wait(lk, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      work();
      std::lock_guard<std::mutex> lk(mu_);
      if (--active_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_, job_mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  std::atomic<int64_t> next_{0};
  int active_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

int wanted_threads() {
  if (const char* s = std::getenv("RJAX_NUM_THREADS")) {
    int n = std::atoi(s);
    if (n >= 1) return n;
  }
  unsigned h = std::thread::hardware_concurrency();
  return h ? (int)h : 1;
}

Pool& pool() {
  // Leaked on purpose: joining threads from a static destructor at process
  // exit (after R has unloaded us) can deadlock.
  static Pool* p = new Pool(wanted_threads() - 1);
  return *p;
}

}  // namespace

int pool_threads() { return pool().size(); }

void pool_run(int64_t n_chunks, const std::function<void(int64_t)>& fn, bool parallel) {
  if (n_chunks <= 0) return;
  if (!parallel || n_chunks == 1 || pool().size() == 1) {
    for (int64_t k = 0; k < n_chunks; ++k) fn(k);
    return;
  }
  pool().run(n_chunks, fn);
}

}  // namespace rj
