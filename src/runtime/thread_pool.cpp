// The thread pool (see thread_pool.h).
//
// A job is published by pointer (a shared Job, so a worker that wakes late
// holds a valid object and simply finds no chunk left); the caller takes
// chunks like everyone else and waits only until every chunk has run —
// never for workers to check in or out. Workers spin for at most spin_ns_
// before parking; a worker that finds it was preempted since its last job
// (another process wanted its core) sets the spin to zero, and quiet jobs
// let it grow back.
#include "thread_pool.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "interrupt.h"

namespace rj {
namespace {

constexpr int64_t kSpinMaxNs = 50000;   // idle workers spin at most this long before parking
constexpr int64_t kSpinMinNs = 2000;
constexpr int64_t kWaitSpinNs = 20000;  // the caller's spin before it sleeps on running chunks
constexpr size_t kStackBytes = size_t(8) << 20;

thread_local bool tl_busy = false;  // a worker, or a caller inside its job: nested runs go inline

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

long involuntary_switches() {
#ifdef RUSAGE_THREAD
  rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) == 0) return ru.ru_nivcsw;
#endif
  return 0;
}

struct Job {
  const std::function<void(int64_t)>* fn = nullptr;
  int64_t n = 0;
  std::atomic<int64_t> next{0}, done{0};
  std::atomic<bool> cancel{false};
  std::mutex err_mu;
  std::exception_ptr err;

  void fail_with(std::exception_ptr e) {
    std::lock_guard<std::mutex> lk(err_mu);
    if (!err) err = e;
    cancel.store(true);
  }
};

class Pool {
 public:
  // Starts up to n_workers threads; `notice` receives what went wrong.
  Pool(int n_workers, std::string* notice) {
    threads_.reserve((size_t)std::max(0, n_workers));  // no allocation once threads run
    sigset_t all, old;
    sigfillset(&all);
    // Workers inherit a mask that blocks every signal: SIGINT and friends
    // must reach R's handlers on the main thread.
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kStackBytes);
    int err = 0;
    for (int i = 0; i < n_workers; ++i) {
      pthread_t t;
      err = pthread_create(&t, &attr, &Pool::thread_main, this);
      if (err) break;
      threads_.push_back(t);
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (err && notice)
      *notice = "rjax could start only " + std::to_string(threads_.size()) + " of " + std::to_string(n_workers) +
                " worker threads (" + std::strerror(err) + ")";
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(park_mu_);
      stop_.store(true);
    }
    park_cv_.notify_all();
    for (pthread_t t : threads_) pthread_join(t, nullptr);
  }

  int size() const { return (int)threads_.size() + 1; }
  std::mutex& job_mutex() { return job_mu_; }

  // Runs the job; false (nothing run) when another job holds the pool.
  bool try_run(int64_t n, const std::function<void(int64_t)>& fn) {
    std::unique_lock<std::mutex> one_job(job_mu_, std::try_to_lock);
    if (!one_job.owns_lock()) return false;
    auto job = std::make_shared<Job>();
    job->fn = &fn;
    job->n = n;
    {
      std::lock_guard<std::mutex> lk(job_ptr_mu_);
      job_ = job;
    }
    gen_.fetch_add(1);
    wake((int)std::min<int64_t>(n - 1, (int64_t)threads_.size()));
    struct Busy {
      Busy() { tl_busy = true; }
      ~Busy() { tl_busy = false; }
    } busy;
    work(*job, true);
    wait_done(*job);
    {
      std::lock_guard<std::mutex> lk(job_ptr_mu_);
      job_.reset();
    }
    if (job->err) std::rethrow_exception(job->err);
    return true;
  }

 private:
  static void* thread_main(void* self) {
    tl_busy = true;
    static_cast<Pool*>(self)->loop();
    return nullptr;
  }

  void wake(int want) {
    if (want <= 0 || parked_.load() == 0) return;
    std::lock_guard<std::mutex> lk(park_mu_);  // a worker between its check and its sleep sees the new job
    if (want >= parked_.load()) park_cv_.notify_all();
    else
      for (int i = 0; i < want; ++i) park_cv_.notify_one();
  }

  // Takes chunks until none is left. The caller polls for interrupts
  // between chunks; a pending one cancels the job (workers skip the rest).
  void work(Job& j, bool caller) {
    for (;;) {
      if (caller && !j.cancel.load(std::memory_order_relaxed)) {
        try {
          check_interrupt();
        } catch (...) {
          j.fail_with(std::current_exception());
        }
      }
      int64_t k = j.next.fetch_add(1, std::memory_order_relaxed);
      if (k >= j.n) return;
      if (!j.cancel.load(std::memory_order_relaxed)) {
        try {
          (*j.fn)(k);
        } catch (...) {
          j.fail_with(std::current_exception());
        }
      }
      if (j.done.fetch_add(1) + 1 == j.n && !caller && caller_waiting_.load()) {
        std::lock_guard<std::mutex> lk(done_mu_);
        done_cv_.notify_one();
      }
    }
  }

  // The caller waits for chunks still running on workers: a short spin
  // (none when workers saw the machine busy), then sleep.
  void wait_done(Job& j) {
    if (j.done.load() == j.n) return;
    int64_t spin = std::min(kWaitSpinNs, spin_ns_.load(std::memory_order_relaxed));
    if (spin > 0) {
      int64_t end = now_ns() + spin;
      for (int i = 0; j.done.load() != j.n; ++i) {
        cpu_relax();
        if ((i & 63) == 63 && now_ns() >= end) break;
      }
    }
    if (j.done.load() == j.n) return;
    std::unique_lock<std::mutex> lk(done_mu_);
    caller_waiting_.store(true);
    done_cv_.wait(lk, [&] { return j.done.load() == j.n; });
    caller_waiting_.store(false);
  }

  void loop() {
    uint64_t seen = gen_.load();
    long switches = involuntary_switches();
    int quiet = 0;
    for (;;) {
      bool found = false;
      int64_t spin = spin_ns_.load(std::memory_order_relaxed);
      if (spin > 0) {
        int64_t end = now_ns() + spin;
        for (int i = 0;; ++i) {
          if (gen_.load() != seen || stop_.load()) {
            found = true;
            break;
          }
          cpu_relax();
          if ((i & 63) == 63 && now_ns() >= end) break;
        }
      }
      if (!found) {
        std::unique_lock<std::mutex> lk(park_mu_);
        parked_.fetch_add(1);
        park_cv_.wait(lk, [&] { return stop_.load() || gen_.load() != seen; });
        parked_.fetch_sub(1);
      }
      if (stop_.load()) return;
      seen = gen_.load();
      std::shared_ptr<Job> j;
      {
        std::lock_guard<std::mutex> lk(job_ptr_mu_);
        j = job_;
      }
      if (j) work(*j, false);
      // Preempted since the last job: the cores are contended, so idle
      // spinning would take time from the caller or another process.
      long s = involuntary_switches();
      if (s != switches) {
        spin_ns_.store(0, std::memory_order_relaxed);
        quiet = 0;
      } else if (++quiet >= 8) {
        quiet = 0;
        int64_t cur = spin_ns_.load(std::memory_order_relaxed);
        spin_ns_.store(std::min(kSpinMaxNs, std::max(kSpinMinNs, cur * 2)), std::memory_order_relaxed);
      }
      switches = s;
    }
  }

  std::vector<pthread_t> threads_;
  std::mutex job_mu_;      // one job at a time
  std::mutex job_ptr_mu_;  // guards job_
  std::shared_ptr<Job> job_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<bool> stop_{false};
  std::mutex park_mu_;
  std::condition_variable park_cv_;
  std::atomic<int> parked_{0};
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::atomic<bool> caller_waiting_{false};
  std::atomic<int64_t> spin_ns_{kSpinMaxNs};
};

// ---- the process's pool -------------------------------------------------

std::mutex g_mu;                    // creation, resizing, the notice
std::atomic<Pool*> g_pool{nullptr};
int g_requested = 0;                // set_pool_threads(n > 0); 0: default
bool g_forked = false;              // in a child of fork(): default 1 thread
std::string g_notice;

int cpu_count() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned h = std::thread::hardware_concurrency();
  return h ? (int)h : 1;
}

// The default, with a notice when RJAX_NUM_THREADS is set but unusable.
int default_threads(std::string* notice) {
  if (g_forked) return 1;
  if (const char* s = std::getenv("RJAX_NUM_THREADS")) {
    if (*s) {
      char* end = nullptr;
      errno = 0;
      long v = std::strtol(s, &end, 10);
      while (end && (*end == ' ' || *end == '\t' || *end == '\n')) ++end;
      if (errno == 0 && end && *end == '\0' && v >= 1) return (int)std::min<long>(v, 1L << 20);
      if (notice)
        *notice = std::string("RJAX_NUM_THREADS=\"") + s +
                  "\" is not a positive whole number; using the default (" + std::to_string(cpu_count()) + " threads)";
    }
  }
  return cpu_count();
}

void fork_prepare() {
  g_mu.lock();
  if (Pool* p = g_pool.load()) p->job_mutex().lock();  // no job is in flight while the process forks
}
void fork_parent() {
  if (Pool* p = g_pool.load()) p->job_mutex().unlock();
  g_mu.unlock();
}
void fork_child() {
  // The parent's workers do not exist here: forget (leak) that pool
  // without touching its threads, locks or condition variables.
  g_pool.store(nullptr);
  g_forked = true;
  g_requested = 0;
  g_mu.unlock();
}

// Replaces the pool with one of `want` threads in all. Holds g_mu.
Pool* rebuild(int want, std::string notice) {
  static bool registered = (pthread_atfork(fork_prepare, fork_parent, fork_child), true);
  (void)registered;
  if (want > kMaxThreads) {
    notice = "rjax uses at most " + std::to_string(kMaxThreads) + " threads (" + std::to_string(want) +
             " were asked for)";
    want = kMaxThreads;
  }
  if (Pool* old = g_pool.load()) {
    g_pool.store(nullptr);
    { std::lock_guard<std::mutex> lk(old->job_mutex()); }  // let a job in flight finish
    delete old;
  }
  std::string made;
  Pool* p = nullptr;
  try {
    p = new Pool(std::max(0, want - 1), &made);
    // Threads could not all be created (a memory or process limit): keep
    // no more than there are CPUs, so that the address space the others
    // reserved for their stacks is left to the work itself.
    if (!made.empty() && p->size() > cpu_count()) {
      delete p;
      p = nullptr;
      std::string again;
      p = new Pool(cpu_count() - 1, &again);
      if (!again.empty()) made += "; then " + again;
    }
    if (!made.empty())
      made += "; running with " + std::to_string(p->size()) + " thread" + (p->size() == 1 ? "" : "s") +
              ". Set options(rjax.threads = ) or RJAX_NUM_THREADS to a smaller number";
  } catch (...) {  // out of memory for the pool itself: run on the caller alone
    made = "rjax could not create its thread pool (out of memory); running single-threaded";
    p = new (std::nothrow) Pool(0, nullptr);
    if (!p) throw;
  }
  if (!made.empty()) notice = notice.empty() ? made : notice + "; " + made;
  if (!notice.empty()) g_notice = notice;
  g_pool.store(p);
  return p;
}

Pool* get_pool() {
  Pool* p = g_pool.load(std::memory_order_acquire);
  if (p) return p;
  std::lock_guard<std::mutex> lk(g_mu);
  p = g_pool.load();
  if (p) return p;
  std::string notice;
  int want = g_requested > 0 ? g_requested : default_threads(&notice);
  return rebuild(want, notice);
}

}  // namespace

void pool_run(int64_t n_chunks, const std::function<void(int64_t)>& fn, bool parallel) {
  if (n_chunks <= 0) return;
  if (parallel && n_chunks > 1 && !tl_busy) {
    Pool* p = get_pool();
    if (p->size() > 1 && p->try_run(n_chunks, fn)) return;
  }
  for (int64_t k = 0; k < n_chunks; ++k) {
    check_interrupt();
    fn(k);
  }
}

int pool_threads() { return get_pool()->size(); }

int pool_available() {
  if (tl_busy) return 1;
  return get_pool()->size();
}

bool pool_should_split(double work, double min_work) { return work >= 2 * min_work && pool_available() > 1; }

int set_pool_threads(int n) {
  std::lock_guard<std::mutex> lk(g_mu);
  std::string notice;
  int want = n > 0 ? n : default_threads(&notice);
  g_requested = n > 0 ? n : 0;
  Pool* p = g_pool.load();
  if (p && p->size() == std::min(want, kMaxThreads) && notice.empty()) return p->size();
  return rebuild(want, notice)->size();
}

int pool_default_threads() {
  std::lock_guard<std::mutex> lk(g_mu);
  return default_threads(nullptr);
}

std::string pool_take_notice() {
  std::lock_guard<std::mutex> lk(g_mu);
  std::string s;
  s.swap(g_notice);
  return s;
}

}  // namespace rj
