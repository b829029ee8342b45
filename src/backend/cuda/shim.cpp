// The host grid shim (device.h). The rendered text is compiled by the
// system C++ compiler into a shared object together with the header below,
// which maps CUDA's built-ins onto plain C++:
//   blocks      a loop over blockIdx (x, then y)
//   threads     one fiber (ucontext) per thread of the block, run round-robin
//   __syncthreads  a fiber barrier over the block
//   __shfl_down_sync  a value exchange between the 32 fibers of a warp,
//                  between two warp barriers (as on the hardware, every
//                  lane of the warp takes part)
//   __shared__  a static array (blocks run one at a time)
// A barrier that can never be released (threads of a block or warp waiting
// at different barriers) is reported as an error instead of hanging.
#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

#include "../../ir/ir.h"
#include "device.h"

namespace rj {
namespace cuda {
namespace {

const char* kShimHeader = R"RJ(
#include <cmath>
#include <math.h>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <ucontext.h>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static
#define RJ_DEV static inline
#define RJ_HOST_DEVICE
struct rj_dim3 { unsigned x, y, z; };
static rj_dim3 threadIdx, blockIdx, blockDim, gridDim;
static inline double rj_bits_f64(unsigned long long b) { double x; std::memcpy(&x, &b, 8); return x; }
static inline float rj_bits_f32(unsigned b) { float x; std::memcpy(&x, &b, 4); return x; }
static inline unsigned long long rj_dbits(double x) { unsigned long long b; std::memcpy(&b, &x, 8); return b; }
static inline unsigned atomicOr(unsigned* p, unsigned v) { unsigned o = *p; *p = o | v; return o; }
namespace rjshim {
enum State { READY, BLOCK_WAIT, WARP_WAIT, DONE };
struct Fiber { ucontext_t ctx; State st; char* stack; };
static const size_t kStack = 256 * 1024;
static Fiber fib[1024];
static int nthreads = 0, cur = 0;
static ucontext_t sched;
static unsigned long long slots[1024];
static void (*kern)(void**) = nullptr;
static void** kargs = nullptr;
static void yield(State s) { fib[cur].st = s; swapcontext(&fib[cur].ctx, &sched); }
static void entry(int t) { kern(kargs); fib[t].st = DONE; }
}
static inline void __syncthreads() { rjshim::yield(rjshim::BLOCK_WAIT); }
template <class T> static inline T __shfl_down_sync(unsigned, T v, int d) {
  using namespace rjshim;
  static_assert(sizeof(T) <= 8, "shuffle of a value wider than 8 bytes");
  unsigned long long b = 0;
  std::memcpy(&b, &v, sizeof(T));
  slots[cur] = b;
  yield(WARP_WAIT);
  T r = v;
  if ((cur & 31) + d < 32 && cur + d < nthreads) std::memcpy(&r, &slots[cur + d], sizeof(T));
  yield(WARP_WAIT);
  return r;
}
// Runs kernel k over the grid; 0 on success, -1 on a barrier deadlock.
extern "C" int rj_shim_launch(void (*k)(void**), void** args, unsigned gx, unsigned gy, unsigned bx) {
  using namespace rjshim;
  if (bx == 0 || bx > 1024 || bx % 32) return -2;
  kern = k; kargs = args; nthreads = (int)bx;
  gridDim = {gx, gy, 1}; blockDim = {bx, 1, 1};
  for (int t = 0; t < nthreads; ++t)
    if (!fib[t].stack) fib[t].stack = (char*)std::malloc(kStack);
  for (unsigned by = 0; by < gy; ++by)
    for (unsigned bxi = 0; bxi < gx; ++bxi) {
      blockIdx = {bxi, by, 0};
      for (int t = 0; t < nthreads; ++t) {
        getcontext(&fib[t].ctx);
        fib[t].ctx.uc_stack.ss_sp = fib[t].stack;
        fib[t].ctx.uc_stack.ss_size = kStack;
        fib[t].ctx.uc_link = &sched;
        makecontext(&fib[t].ctx, (void (*)())entry, 1, t);
        fib[t].st = READY;
      }
      for (;;) {
        for (int t = 0; t < nthreads; ++t)
          if (fib[t].st == READY) {
            cur = t;
            threadIdx = {(unsigned)t, 0, 0};
            swapcontext(&sched, &fib[t].ctx);
          }
        bool released = false, all_done = true, all_block = true;
        for (int w = 0; w < nthreads; w += 32) {
          bool any = false, all = true;
          for (int t = w; t < w + 32; ++t) {
            if (fib[t].st == DONE) continue;
            any = true;
            if (fib[t].st != WARP_WAIT) all = false;
          }
          if (any && all) {
            for (int t = w; t < w + 32; ++t)
              if (fib[t].st == WARP_WAIT) fib[t].st = READY;
            released = true;
          }
        }
        if (released) continue;
        for (int t = 0; t < nthreads; ++t) {
          if (fib[t].st != DONE) all_done = false;
          if (fib[t].st != DONE && fib[t].st != BLOCK_WAIT) all_block = false;
        }
        if (all_done) break;
        if (!all_block) return -1;
        for (int t = 0; t < nthreads; ++t)
          if (fib[t].st == BLOCK_WAIT) fib[t].st = READY;
      }
    }
  return 0;
}
)RJ";

using LaunchFn = int (*)(void (*)(void**), void**, unsigned, unsigned, unsigned);

struct ShimModule : Module {
  void* handle = nullptr;
  LaunchFn launch = nullptr;
  ~ShimModule() override {
    if (handle) dlclose(handle);
  }
  void* function(const std::string& name) override {
    void* f = dlsym(handle, (name + "_shim").c_str());
    if (!f) fail("internal", "cuda shim: kernel " + name + " not found in the compiled module");
    return f;
  }
};

std::string compiler() {
  const char* c = std::getenv("RJAX_SHIM_CXX");
  return c && *c ? c : "c++";
}

int run_shell(const std::string& cmd) {
  int st = std::system(cmd.c_str());
  return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

struct ShimDevice : Device {
  std::mutex mu;
  std::map<std::string, std::weak_ptr<ShimModule>> cache;  // by source text

  std::string name() const override { return "cuda-shim (host emulation of the CUDA grid)"; }
  void* alloc(size_t bytes) override {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!p) fail("memory", "cuda shim: out of memory");
    return p;
  }
  void release(void* p) override { std::free(p); }
  void upload(void* dst, const void* src, size_t n) override { if (n) std::memcpy(dst, src, n); }
  void download(void* dst, const void* src, size_t n) override { if (n) std::memcpy(dst, src, n); }
  void zero(void* dst, size_t n) override { if (n) std::memset(dst, 0, n); }
  void copy(void* dst, const void* src, size_t n) override { if (n) std::memmove(dst, src, n); }
  bool wants_shim_wrappers() const override { return true; }
  // Small blocks and grids, so that grid-stride loops, several warps per
  // block and several blocks per reduction are exercised on small arrays.
  int block() const override { return 64; }
  int max_blocks() const override { return 3; }

  std::shared_ptr<Module> load(const std::string& rendered) override {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(rendered);
    if (it != cache.end())
      if (auto m = it->second.lock()) return m;
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/rjax-shim-XXXXXX";
    if (!mkdtemp(&dir[0])) fail("device", "cuda shim: cannot create a temporary directory");
    std::string src = dir + "/kernels.cpp", so = dir + "/kernels.so", log = dir + "/log.txt";
    {
      std::ofstream f(src);
      f << kShimHeader << rendered;
    }
    std::string cmd = compiler() + " -std=c++17 -O1 -ffp-contract=off -fPIC -shared -w -o '" + so + "' '" + src + "' > '" +
                      log + "' 2>&1";
    int rc = run_shell(cmd);
    std::string msg = rc != 0 ? read_file(log) : "";
    auto m = std::make_shared<ShimModule>();
    if (rc == 0) m->handle = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    std::string dl = rc == 0 && !m->handle ? dlerror() : "";
    unlink(src.c_str());
    unlink(so.c_str());
    unlink(log.c_str());
    rmdir(dir.c_str());
    if (rc == 127 || rc == -1)
      fail("device", "cuda shim: no C++ compiler (" + compiler() + ") could be run; set RJAX_SHIM_CXX");
    if (rc != 0) fail("internal", "cuda shim: the rendered kernels do not compile as host C++:\n" + msg.substr(0, 4000));
    if (!m->handle) fail("internal", "cuda shim: cannot load the compiled kernels: " + dl);
    m->launch = reinterpret_cast<LaunchFn>(dlsym(m->handle, "rj_shim_launch"));
    if (!m->launch) fail("internal", "cuda shim: rj_shim_launch missing");
    cache[rendered] = m;
    return m;
  }

  void launch(Module& mod, void* fn, const Launch& l, void** args) override {
    LaunchFn run = static_cast<ShimModule&>(mod).launch;
    int rc = run(reinterpret_cast<void (*)(void**)>(fn), args, l.gx, l.gy, l.bx);
    if (rc != 0) fail("internal", rc == -1 ? "cuda shim: the threads of a block wait at different barriers (divergent __syncthreads or shuffle)"
                                           : "cuda shim: bad block size");
  }
  void sync() override {}
  // cuBLAS's gemm contract computed plainly on host memory, so that the
  // executable's GEMM steps (transposes, leading dimensions) are tested.
  bool gemm(DType d, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void* a, int64_t lda, const void* b,
            int64_t ldb, void* c, int64_t ldc) override {
    auto run = [&](auto z) {
      using T = decltype(z);
      const T* A = static_cast<const T*>(a);
      const T* B = static_cast<const T*>(b);
      T* C = static_cast<T*>(c);
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < m; ++i) {
          double s = 0;
          for (int64_t l = 0; l < k; ++l) s += (double)(ta ? A[l + i * lda] : A[i + l * lda]) * (double)(tb ? B[j + l * ldb] : B[l + j * ldb]);
          C[i + j * ldc] = (T)s;
        }
    };
    if (d == DType::f32) run(0.0f);
    else run(0.0);
    return true;
  }
};

}  // namespace

Device& shim_device() {
  static ShimDevice d;
  return d;
}

}  // namespace cuda
}  // namespace rj
