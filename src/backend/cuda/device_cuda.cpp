// The GPU as a Device (device.h): GPU 0 through the driver API, its primary
// context (cuCtxCreate changed its ABI in CUDA 13; the primary context is
// the one every runtime-API library shares), NVRTC to CUBIN for the
// device's exact architecture, modules cached in-process by source text.
// Nothing here has run on a GPU in this repository's tests: the machines
// that run them have none (tools/gpu-check.sh is the check on a GPU).
#include <cstdlib>
#include <map>
#include <mutex>

#include "../../ir/ir.h"
#include "../../runtime/nccl.h"
#include "api.h"
#include "device.h"

namespace rj {
namespace cuda {
namespace {

struct GpuModule : Module {
  cu::CUmodule mod = nullptr;
  ~GpuModule() override {
    if (mod) cu::api().cuModuleUnload(mod);
  }
  void* function(const std::string& name) override {
    cu::CUfunction f = nullptr;
    cu::check(cu::api().cuModuleGetFunction(&f, mod, name.c_str()), ("finding kernel " + name).c_str());
    return f;
  }
};

// The GPU of this process: $RJAX_CUDA_DEVICE when set; else, in an MPI job
// (one process per GPU, as NCCL needs), the process's rank on its node
// modulo the node's GPUs; else GPU 0.
int chosen_device(int count) {
  if (const char* v = std::getenv("RJAX_CUDA_DEVICE")) {
    char* end = nullptr;
    long k = std::strtol(v, &end, 10);
    if (!*v || *end || k < 0 || k >= count)
      fail("device", std::string("RJAX_CUDA_DEVICE=") + v + " is not a GPU index of this machine (0 to " +
                         std::to_string(count - 1) + ")");
    return (int)k;
  }
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* v = std::getenv(name)) return count > 0 ? (int)(std::strtol(v, nullptr, 10) % count) : 0;
  return 0;
}

struct GpuDevice : Device {
  const cu::Api& a;
  cu::CUdevice dev = 0;
  cu::CUcontext ctx = nullptr;
  cu::DeviceInfo info;
  std::string arch;
  std::mutex mu;
  std::map<std::string, std::shared_ptr<GpuModule>> cache;

  int index = 0;

  GpuDevice() : a(cu::require_device()) {
    const std::vector<cu::DeviceInfo> all = cu::devices();
    index = chosen_device((int)all.size());
    cu::check(a.cuDeviceGet(&dev, index), "cuDeviceGet");
    cu::check(a.cuDevicePrimaryCtxRetain(&ctx, dev), "retaining the primary context");
    info = all.at(index);
    if (info.major < 7 || (info.major == 7 && info.minor < 5))
      fail("device", "CUDA device " + info.name + " (sm_" + std::to_string(info.major * 10 + info.minor) +
                         ") is older than sm_75, the oldest architecture CUDA 13 compiles for.");
    arch = "sm_" + std::to_string(info.major * 10 + info.minor);
    current();
  }
  void current() { cu::check(a.cuCtxSetCurrent(ctx), "cuCtxSetCurrent"); }

  std::string name() const override { return "cuda:" + std::to_string(index) + " (" + info.name + ", " + arch + ")"; }
  void* alloc(size_t bytes) override {
    current();
    cu::CUdeviceptr p = 0;
    cu::check(a.cuMemAlloc(&p, bytes ? (bytes + 255) / 256 * 256 : 256), "allocating device memory");
    return reinterpret_cast<void*>(p);
  }
  void release(void* p) override {
    if (p) a.cuMemFree(reinterpret_cast<cu::CUdeviceptr>(p));
  }
  void upload(void* dst, const void* src, size_t n) override {
    if (n) cu::check(a.cuMemcpyHtoD(reinterpret_cast<cu::CUdeviceptr>(dst), src, n), "copying to the device");
  }
  void download(void* dst, const void* src, size_t n) override {
    if (n) cu::check(a.cuMemcpyDtoH(dst, reinterpret_cast<cu::CUdeviceptr>(src), n), "copying from the device");
  }
  void zero(void* dst, size_t n) override {
    if (n) cu::check(a.cuMemsetD8(reinterpret_cast<cu::CUdeviceptr>(dst), 0, n), "clearing device memory");
  }
  void copy(void* dst, const void* src, size_t n) override {
    if (n)
      cu::check(a.cuMemcpyDtoD(reinterpret_cast<cu::CUdeviceptr>(dst), reinterpret_cast<cu::CUdeviceptr>(src), n),
                "copying on the device");
  }
  std::shared_ptr<Module> load(const std::string& rendered) override {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(rendered);
    if (it != cache.end()) return it->second;
    std::string cubin = compile_nvrtc(rendered, arch);
    current();
    auto m = std::make_shared<GpuModule>();
    cu::check(a.cuModuleLoadData(&m->mod, cubin.data()), "loading the compiled kernels");
    cache[rendered] = m;
    return m;
  }
  void launch(Module&, void* fn, const Launch& l, void** args) override {
    cu::check(a.cuLaunchKernel(static_cast<cu::CUfunction>(fn), l.gx, l.gy, 1, l.bx, 1, 1, 0, nullptr, args, nullptr),
              "launching a kernel");
  }
  void sync() override { cu::check(a.cuCtxSynchronize(), "waiting for the device"); }

  cu::cublasHandle_t blas = nullptr;
  bool gemm(DType d, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void* A, int64_t lda, const void* B,
            int64_t ldb, void* C, int64_t ldc) override {
    if (!a.cublas) return false;
    current();
    if (!blas && a.cublasCreate(&blas) != 0) return false;
    if (m == 0 || n == 0) return true;
    if (k == 0) {
      zero(C, (size_t)(ldc * n) * dtype_size(d));
      return true;
    }
    const int opa = ta ? 1 : 0, opb = tb ? 1 : 0;  // CUBLAS_OP_N = 0, CUBLAS_OP_T = 1
    int st;
    if (d == DType::f32) {
      const float one = 1, zero_ = 0;
      st = a.cublasSgemm(blas, opa, opb, (int)m, (int)n, (int)k, &one, (const float*)A, (int)lda, (const float*)B,
                         (int)ldb, &zero_, (float*)C, (int)ldc);
    } else {
      const double one = 1, zero_ = 0;
      st = a.cublasDgemm(blas, opa, opb, (int)m, (int)n, (int)k, &one, (const double*)A, (int)lda, (const double*)B,
                         (int)ldb, &zero_, (double*)C, (int)ldc);
    }
    if (st != 0) fail("device", "cuBLAS gemm failed with status " + std::to_string(st));
    return true;
  }
  int max_blocks() const override { return std::max(1, info.multiprocessors) * 8; }

  // NCCL on the default stream, where the kernels run; waited for by
  // polling it (nccl.cpp bounds the wait).
  std::function<bool()> stream_done() {
    return [this] {
      cu::CUresult r = a.cuStreamQuery(nullptr);
      if (r != 0 && r != 600) cu::check(r, "waiting for a collective");  // 600: CUDA_ERROR_NOT_READY
      return r == 0;
    };
  }
  bool allreduce_sum(DType d, const void* send, void* recv, int64_t count, uint64_t sig) override {
    current();
    return nccl::allreduce_sum(send, recv, count, d, sig, stream_done());
  }
  bool allgather(DType d, const void* send, void* recv, int64_t count, uint64_t sig) override {
    current();
    return nccl::allgather(send, recv, count, d, sig, stream_done());
  }
};

}  // namespace

Device& gpu_device() {
  static std::mutex mu;
  static std::unique_ptr<GpuDevice> d;
  std::lock_guard<std::mutex> lock(mu);
  if (!d) d = std::make_unique<GpuDevice>();  // throws (and retries next time) when there is no GPU
  return *d;
}

}  // namespace cuda
}  // namespace rj
