// NCCL opened at run time (see nccl.h for when it is used and why).
#include "nccl.h"

#include <dlfcn.h>
#include <sched.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "mpi.h"

namespace rj {
namespace nccl {
namespace {

// NCCL's ABI, from nccl.h: results and enums are ints, the communicator a
// pointer, the unique id a 128-byte struct passed by value.
using Result = int;
using Comm = void*;
struct UniqueId {
  char internal[128];
};
constexpr Result kSuccess = 0;
constexpr Result kInProgress = 7;
constexpr int kFloat32 = 7, kFloat64 = 8;  // ncclFloat32, ncclFloat64
constexpr int kSum = 0;                    // ncclSum

struct Api {
  Result (*GetVersion)(int*) = nullptr;
  Result (*GetUniqueId)(UniqueId*) = nullptr;
  Result (*CommInitRank)(Comm*, int, UniqueId, int) = nullptr;
  Result (*CommAbort)(Comm) = nullptr;
  Result (*CommGetAsyncError)(Comm, Result*) = nullptr;
  Result (*AllReduce)(const void*, void*, size_t, int, int, Comm, void*) = nullptr;
  Result (*AllGather)(const void*, void*, size_t, int, Comm, void*) = nullptr;
  const char* (*GetErrorString)(Result) = nullptr;
};

std::mutex mu;
bool opened = false;
Api api;
Info state;
bool decided = false;  // the job's choice (state.in_use) is made
Comm comm = nullptr;

template <class F>
bool bind(void* h, const char* name, F*& slot, std::string* missing) {
  slot = reinterpret_cast<F*>(dlsym(h, name));
  if (!slot) *missing += std::string(missing->empty() ? "" : ", ") + name;
  return slot != nullptr;
}

void open_library() {
  if (opened) return;
  opened = true;
  void* h = nullptr;
  for (const char* name : {"libnccl.so.2", "libnccl.so"}) {
    if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL))) {
      state.library = name;
      break;
    }
  }
  if (!h) {
    state.why_not = "libnccl.so.2 was not found (install NCCL, e.g. Debian's libnccl2 or NVIDIA's package, "
                    "or add its directory to LD_LIBRARY_PATH)";
    return;
  }
  std::string miss;
  bool ok = bind(h, "ncclGetVersion", api.GetVersion, &miss) & bind(h, "ncclGetUniqueId", api.GetUniqueId, &miss) &
            bind(h, "ncclCommInitRank", api.CommInitRank, &miss) & bind(h, "ncclCommAbort", api.CommAbort, &miss) &
            bind(h, "ncclCommGetAsyncError", api.CommGetAsyncError, &miss) &
            bind(h, "ncclAllReduce", api.AllReduce, &miss) & bind(h, "ncclAllGather", api.AllGather, &miss) &
            bind(h, "ncclGetErrorString", api.GetErrorString, &miss);
  if (!ok) {
    state.why_not = state.library + " lacks " + miss;
    dlclose(h);
    return;
  }
  api.GetVersion(&state.version);
  state.loaded = true;
}

std::string message(Result r) {
  const char* s = api.GetErrorString ? api.GetErrorString(r) : nullptr;
  return s ? s : ("NCCL error " + std::to_string(r));
}

[[noreturn]] void broken(const std::string& kind, const std::string& why) {
  if (comm) api.CommAbort(comm);
  comm = nullptr;
  state.in_use = false;
  decided = true;  // no further NCCL calls; the MPI job is unusable as well
  fail(kind, "NCCL: " + why);
}

// The job's choice, made once by every rank together (a collective).
bool decide() {
  if (decided) return state.in_use;
  open_library();
  int32_t here = state.loaded ? 1 : 0, all = 0;
  mpi::allreduce(&here, &all, 1, DType::i32, mpi::Op::min, 0x6e63636cULL);
  decided = true;
  if (!all) return false;
  // Rank 0's unique id to every rank (gathered: MPI here has no broadcast).
  UniqueId id{};
  if (mpi::rank() == 0) {
    Result r = api.GetUniqueId(&id);
    if (r != kSuccess) broken("distributed", "ncclGetUniqueId failed: " + message(r));
  }
  std::vector<UniqueId> ids(mpi::size());
  mpi::allgather(&id, ids.data(), sizeof(UniqueId) / 4, DType::i32, 0x6e6363696dULL);
  Result r = api.CommInitRank(&comm, mpi::size(), ids[0], mpi::rank());
  if (r != kSuccess) broken("distributed", "ncclCommInitRank failed: " + message(r));
  state.in_use = true;
  return true;
}

// Waits for the queued collective: polls the stream and NCCL's
// asynchronous error, at most mpi::timeout() seconds.
void wait(const std::function<bool()>& done, const char* what) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  for (int64_t polls = 0; !done(); ++polls) {
    Result async = kSuccess;
    api.CommGetAsyncError(comm, &async);
    if (async != kSuccess && async != kInProgress) broken("distributed", std::string(what) + ": " + message(async));
    if (polls < 200) {
      sched_yield();
      continue;
    }
    const double waited = std::chrono::duration<double>(clock::now() - start).count();
    if (waited > mpi::timeout())
      broken("distributed_timeout", std::string(what) + ": rank " + std::to_string(mpi::rank()) + " waited " +
                                        std::to_string((int)waited) + " s for the other GPUs");
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

bool usable(DType d) {
  if (!is_float(d) || mpi::size() < 2 || mpi::deterministic()) return false;
  return decide();
}

}  // namespace

Info info() {
  std::lock_guard<std::mutex> lock(mu);
  open_library();
  return state;
}

namespace {
// One device collective: agreement over MPI, the NCCL call, the bounded wait.
template <class Call>
bool collective(DType d, int64_t count, uint64_t signature, const char* what, const std::function<bool()>& done,
                Call call) {
  std::lock_guard<std::mutex> lock(mu);
  if (!usable(d)) return false;
  mpi::check_agreement(signature ^ (uint64_t)count * 0x9e3779b97f4a7c15ULL, std::string(what) + " on the GPU");
  Result r = call(d == DType::f32 ? kFloat32 : kFloat64);
  if (r != kSuccess) broken("distributed", std::string(what) + ": NCCL failed: " + message(r));
  wait(done, what);
  state.calls += 1;
  state.bytes += count * (int64_t)dtype_size(d);
  return true;
}
}  // namespace

bool allreduce_sum(const void* send, void* recv, int64_t count, DType d, uint64_t signature,
                   const std::function<bool()>& done) {
  return collective(d, count, signature, "rj_psum", done,
                    [&](int t) { return api.AllReduce(send, recv, (size_t)count, t, kSum, comm, nullptr); });
}

bool allgather(const void* send, void* recv, int64_t count, DType d, uint64_t signature,
               const std::function<bool()>& done) {
  return collective(d, count, signature, "rj_all_gather", done,
                    [&](int t) { return api.AllGather(send, recv, (size_t)count, t, comm, nullptr); });
}

}  // namespace nccl
}  // namespace rj
