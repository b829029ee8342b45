// MPI opened at run time (see mpi.h for why, and for the failure model).
#include "mpi.h"

#include <dlfcn.h>
#include <sched.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "interrupt.h"

namespace rj {
namespace mpi {
namespace {

// OpenMPI's handles are pointers to its predefined objects; requests are
// pointers too. The entry points below have OpenMPI's signatures with every
// handle type as void*.
using Handle = void*;
constexpr int kSuccess = 0;
constexpr int kThreadFunneled = 1;  // enum { SINGLE, FUNNELED, SERIALIZED, MULTIPLE } in OpenMPI's mpi.h

struct Api {
  int (*Initialized)(int*) = nullptr;
  int (*Finalized)(int*) = nullptr;
  int (*Init_thread)(int*, char***, int, int*) = nullptr;
  int (*Finalize)() = nullptr;
  int (*Abort)(Handle, int) = nullptr;
  int (*Comm_rank)(Handle, int*) = nullptr;
  int (*Comm_size)(Handle, int*) = nullptr;
  int (*Comm_set_errhandler)(Handle, Handle) = nullptr;
  int (*Iallreduce)(const void*, void*, int, Handle, Handle, Handle, Handle*) = nullptr;
  int (*Iallgather)(const void*, int, Handle, void*, int, Handle, Handle, Handle*) = nullptr;
  int (*Test)(Handle*, int*, void*) = nullptr;
  int (*Error_string)(int, char*, int*) = nullptr;
  Handle comm_world = nullptr, errors_return = nullptr;
  Handle t_double = nullptr, t_float = nullptr, t_int32 = nullptr, t_uint8 = nullptr, t_int64 = nullptr;
  Handle op_sum = nullptr, op_max = nullptr, op_min = nullptr;
  Handle in_place = nullptr;  // MPI_IN_PLACE is ((void*) 1) in OpenMPI
};

Api api;
Info state;
bool initialised = false;
bool finalised = false;
double timeout_s = 300;
bool determ = false;
uint64_t seq = 0;
Counters count;
std::mutex init_mutex;

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

template <class F>
void sym(void* lib, const char* name, F& f) {
  f = reinterpret_cast<F>(dlsym(lib, name));
  if (!f) fail("distributed", std::string("libmpi has no symbol ") + name + " (only OpenMPI is supported)");
}
void obj(void* lib, const char* name, Handle& h) {
  h = dlsym(lib, name);
  if (!h) fail("distributed", std::string("libmpi has no object ") + name + " (only OpenMPI is supported)");
}

void* open_libmpi(std::string& which) {
  // RTLD_GLOBAL: OpenMPI's plugins (mca_*.so) resolve libmpi's symbols
  // globally and fail to load otherwise.
  const char* candidates[] = {env("RJAX_LIBMPI"), "libmpi.so.40", "libmpi.so"};
  std::string tried;
  for (const char* c : candidates) {
    if (!c) continue;
    void* h = dlopen(c, RTLD_NOW | RTLD_GLOBAL);
    if (h) {
      which = c;
      return h;
    }
    const char* e = dlerror();
    tried += std::string("\n  ") + c + ": " + (e ? e : "not found");
  }
  fail("distributed", "this process was started by mpirun, but OpenMPI's libmpi could not be opened:" + tried +
                          "\nInstall OpenMPI (tools/install-deps.sh installs Debian's openmpi-bin and libopenmpi-dev) "
                          "or set RJAX_LIBMPI to the library's path.");
}

void load_api(void* lib) {
  sym(lib, "MPI_Initialized", api.Initialized);
  sym(lib, "MPI_Finalized", api.Finalized);
  sym(lib, "MPI_Init_thread", api.Init_thread);
  sym(lib, "MPI_Finalize", api.Finalize);
  sym(lib, "MPI_Abort", api.Abort);
  sym(lib, "MPI_Comm_rank", api.Comm_rank);
  sym(lib, "MPI_Comm_size", api.Comm_size);
  sym(lib, "MPI_Comm_set_errhandler", api.Comm_set_errhandler);
  sym(lib, "MPI_Iallreduce", api.Iallreduce);
  sym(lib, "MPI_Iallgather", api.Iallgather);
  sym(lib, "MPI_Test", api.Test);
  sym(lib, "MPI_Error_string", api.Error_string);
  obj(lib, "ompi_mpi_comm_world", api.comm_world);
  obj(lib, "ompi_mpi_errors_return", api.errors_return);
  obj(lib, "ompi_mpi_double", api.t_double);
  obj(lib, "ompi_mpi_float", api.t_float);
  obj(lib, "ompi_mpi_int32_t", api.t_int32);
  obj(lib, "ompi_mpi_uint8_t", api.t_uint8);
  obj(lib, "ompi_mpi_int64_t", api.t_int64);
  obj(lib, "ompi_mpi_op_sum", api.op_sum);
  obj(lib, "ompi_mpi_op_max", api.op_max);
  obj(lib, "ompi_mpi_op_min", api.op_min);
  api.in_place = reinterpret_cast<Handle>(1);
}

std::string mpi_error(int code) {
  char buf[512] = {0};
  int len = 0;
  if (api.Error_string && api.Error_string(code, buf, &len) == kSuccess) return std::string(buf, len);
  return "MPI error " + std::to_string(code);
}

void check(int code, const char* what) {
  if (code == kSuccess) return;
  state.broken = true;
  fail("distributed", std::string(what) + " failed on rank " + std::to_string(state.rank) + ": " + mpi_error(code));
}

Handle mpi_type(DType d) {
  switch (d) {
    case DType::f64: return api.t_double;
    case DType::f32: return api.t_float;
    case DType::i32: return api.t_int32;
    case DType::b8: return api.t_uint8;
  }
  return api.t_double;
}

Handle mpi_op(Op op) { return op == Op::sum ? api.op_sum : op == Op::max ? api.op_max : api.op_min; }

void atexit_finalize() { finalize(); }

// Waits for a non-blocking collective, at most timeout_s seconds. Spins
// briefly, then sleeps between polls: ranks usually share cores with other
// ranks (oversubscribed runs), and a spinning waiter would slow the rank it
// waits for.
void wait(Handle& req, const char* what) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  for (int64_t polls = 0;; ++polls) {
    int done = 0;
    check(api.Test(&req, &done, nullptr), what);
    if (done) return;
    if (polls < 200) {
      sched_yield();
      continue;
    }
    const double waited = std::chrono::duration<double>(clock::now() - start).count();
    if (waited > timeout_s) {
      state.broken = true;
      fail("distributed_timeout",
           std::string(what) + ": rank " + std::to_string(state.rank) + " waited " + std::to_string((int)waited) +
               " s for the other ranks (limit rjax.mpi_timeout = " + std::to_string((int)timeout_s) +
               " s). A rank has stopped, is stuck, or runs a different program; the job cannot continue.");
    }
    try {
      check_interrupt();
    } catch (...) {
      state.broken = true;  // the collective stays pending: no further communication is safe
      throw;
    }
    struct timespec ts = {0, polls < 2000 ? 20000L : 200000L};
    nanosleep(&ts, nullptr);
  }
}

void usable(const char* what) {
  if (state.broken)
    fail("distributed", std::string(what) + ": an earlier collective failed or timed out on this rank; "
                                            "the MPI job cannot communicate any more (restart it)");
}

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

const char* kind_name(int kind) {
  switch (kind) {
    case 0: return "psum";
    case 1: return "pmax";
    case 2: return "pmin";
    case 3: return "all_gather";
    default: return "agreement check";
  }
}

// Every collective starts here: all ranks must be at the same step with the
// same call. One max-reduction of (h, -h) tells every rank whether all h
// agree; all then fail together.
void agree(int kind, DType d, int64_t n, uint64_t signature) {
  const uint64_t h = mix(mix(mix(mix(mix(0, seq), (uint64_t)kind), (uint64_t)d), (uint64_t)n), signature);
  ++seq;
  int64_t v[2] = {(int64_t)(h >> 2), -(int64_t)(h >> 2)};
  Handle req = nullptr;
  check(api.Iallreduce(api.in_place, v, 2, api.t_int64, api.op_max, api.comm_world, &req), "MPI_Iallreduce");
  wait(req, kind_name(kind));
  count.calls += 1;
  count.bytes += (int64_t)sizeof v;
  if (v[0] != -v[1])
    fail("distributed_mismatch",
         std::string(kind_name(kind)) + " (collective #" + std::to_string(seq) + ", " + dtype_name(d) + "[" +
             std::to_string(n) + "]): the ranks are not running the same program (different shapes, dtypes, "
                                 "number of collectives or program). Every rank must call the same collectives "
                                 "in the same order with the same shapes.");
}

constexpr int64_t kMaxCount = 1 << 30;  // MPI counts are int

}  // namespace

bool launched_by_mpirun() {
  return env("OMPI_COMM_WORLD_SIZE") || env("PMIX_RANK") || env("PMI_SIZE") || env("OMPI_COMM_WORLD_RANK");
}

const Info& init() {
  std::lock_guard<std::mutex> lock(init_mutex);
  if (initialised) return state;
  initialised = true;
  if (const char* t = env("RJAX_MPI_TIMEOUT")) timeout_s = std::atof(t) > 0 ? std::atof(t) : timeout_s;
  if (const char* t = env("RJAX_MPI_DETERMINISTIC")) determ = std::atoi(t) != 0;
  state.launched = launched_by_mpirun();
  if (!state.launched) {
    state.why_inactive = "not started by mpirun";
    return state;
  }
  try {
    void* lib = open_libmpi(state.library);
    load_api(lib);
    int flag = 0;
    check(api.Initialized(&flag), "MPI_Initialized");
    if (!flag) {
      int provided = 0;
      check(api.Init_thread(nullptr, nullptr, kThreadFunneled, &provided), "MPI_Init_thread");
    }
    check(api.Comm_set_errhandler(api.comm_world, api.errors_return), "MPI_Comm_set_errhandler");
    check(api.Comm_rank(api.comm_world, &state.rank), "MPI_Comm_rank");
    check(api.Comm_size(api.comm_world, &state.size), "MPI_Comm_size");
    state.active = true;
    std::atexit(atexit_finalize);
  } catch (Error& e) {
    state.why_inactive = e.what();
    state.broken = true;
    throw;
  }
  return state;
}

const Info& info() { return state; }
int rank() { return init().rank; }
int size() { return init().size; }
double timeout() { return timeout_s; }
void set_timeout(double s) {
  if (!(s > 0)) fail("value", "the MPI timeout must be a positive number of seconds");
  timeout_s = s;
}
bool deterministic() { return determ; }
void set_deterministic(bool on) { determ = on; }
Counters counters() { return count; }
void reset_counters() { count = Counters{}; }

void allgather(const void* send, void* recv, int64_t n, DType d, uint64_t signature) {
  const Info& s = init();
  const size_t bytes = (size_t)n * dtype_size(d);
  if (!s.active) {
    if (recv != send && bytes) std::memcpy(recv, send, bytes);
    return;
  }
  usable("all_gather");
  agree(3, d, n, signature);
  if (n > kMaxCount) fail("unsupported", "all_gather of more than 2^30 elements per rank");
  Handle req = nullptr;
  check(api.Iallgather(send, (int)n, mpi_type(d), recv, (int)n, mpi_type(d), api.comm_world, &req), "MPI_Iallgather");
  wait(req, "all_gather");
  count.calls += 1;
  count.bytes += (int64_t)bytes;
}

void allreduce(const void* send, void* recv, int64_t n, DType d, Op op, uint64_t signature) {
  const Info& s = init();
  const size_t bytes = (size_t)n * dtype_size(d);
  if (!s.active) {
    if (recv != send && bytes) std::memcpy(recv, send, bytes);
    return;
  }
  usable(kind_name((int)op));
  if (determ && op == Op::sum && is_float(d)) {
    // Rank-order sum of the gathered parts: the same bits on every rank.
    std::vector<char> parts(bytes * s.size);
    allgather(send, parts.data(), n, d, mix(signature, 17));
    auto sum = [&](auto z) {
      using T = decltype(z);
      T* out = static_cast<T*>(recv);
      const T* p = reinterpret_cast<const T*>(parts.data());
      for (int64_t i = 0; i < n; ++i) {
        T acc = p[i];
        for (int r = 1; r < s.size; ++r) acc += p[(int64_t)r * n + i];
        out[i] = acc;
      }
    };
    if (d == DType::f64) sum(double{});
    else sum(float{});
    return;
  }
  agree((int)op, d, n, signature);
  const char* src = static_cast<const char*>(send);
  char* dst = static_cast<char*>(recv);
  const size_t esz = dtype_size(d);
  for (int64_t off = 0; off < n || (n == 0 && off == 0); off += kMaxCount) {
    const int64_t m = std::min<int64_t>(kMaxCount, n - off);
    if (m <= 0) break;
    Handle req = nullptr;
    const void* sb = src == dst ? api.in_place : (const void*)(src + off * esz);
    check(api.Iallreduce(sb, dst + off * esz, (int)m, mpi_type(d), mpi_op(op), api.comm_world, &req), "MPI_Iallreduce");
    wait(req, kind_name((int)op));
  }
  count.calls += 1;
  count.bytes += (int64_t)bytes;
}

void check_agreement(uint64_t value, const std::string& what) {
  const Info& s = init();
  if (!s.active) return;
  usable("agreement check");
  int64_t v[2] = {(int64_t)(value >> 2), -(int64_t)(value >> 2)};
  Handle req = nullptr;
  check(api.Iallreduce(api.in_place, v, 2, api.t_int64, api.op_max, api.comm_world, &req), "MPI_Iallreduce");
  wait(req, "agreement check");
  count.calls += 1;
  count.bytes += (int64_t)sizeof v;
  if (v[0] != -v[1])
    fail("distributed_mismatch", what + ": the ranks disagree (rank " + std::to_string(s.rank) +
                                     " differs from another rank). Every rank must run the same program on arguments "
                                     "of the same types and shapes (row-sharded arguments may differ in rows).");
}

void abort_job(int code, const std::string& why) {
  std::fprintf(stderr, "rjax: rank %d ends the MPI job: %s\n", state.rank, why.c_str());
  std::fflush(stderr);
  if (state.active && api.Abort) api.Abort(api.comm_world, code);
  std::_Exit(code);
}

void finalize() {
  std::lock_guard<std::mutex> lock(init_mutex);
  if (!state.active || finalised) return;
  finalised = true;
  int done = 0;
  if (api.Finalized(&done) == kSuccess && done) return;
  // A rank whose collective failed or timed out may have peers stuck in
  // that collective: MPI_Finalize could wait for them forever.
  if (state.broken) {
    std::fprintf(stderr, "rjax: rank %d ends the MPI job after a failed collective\n", state.rank);
    std::fflush(stderr);
    api.Abort(api.comm_world, 1);
    return;
  }
  api.Finalize();
  state.active = false;
}

}  // namespace mpi
}  // namespace rj
