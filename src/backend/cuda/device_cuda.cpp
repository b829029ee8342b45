// The GPU as a Device (device.h): GPU 0 through the driver API, its primary
// context (cuCtxCreate changed its ABI in CUDA 13; the primary context is
// the one every runtime-API library shares), NVRTC to CUBIN for the
// device's exact architecture, modules cached in-process by source text.
// Nothing here has run on a GPU in this repository's tests: the machines
// that run them have none (tools/gpu-check.sh is the check on a GPU).
#include <map>
#include <mutex>

#include "../../ir/ir.h"
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

struct GpuDevice : Device {
  const cu::Api& a;
  cu::CUdevice dev = 0;
  cu::CUcontext ctx = nullptr;
  cu::DeviceInfo info;
  std::string arch;
  std::mutex mu;
  std::map<std::string, std::shared_ptr<GpuModule>> cache;

  GpuDevice() : a(cu::require_device()) {
    cu::check(a.cuDeviceGet(&dev, 0), "cuDeviceGet");
    cu::check(a.cuDevicePrimaryCtxRetain(&ctx, dev), "retaining the primary context");
    info = cu::devices().at(0);
    if (info.major < 7 || (info.major == 7 && info.minor < 5))
      fail("device", "CUDA device " + info.name + " (sm_" + std::to_string(info.major * 10 + info.minor) +
                         ") is older than sm_75, the oldest architecture CUDA 13 compiles for.");
    arch = "sm_" + std::to_string(info.major * 10 + info.minor);
    current();
  }
  void current() { cu::check(a.cuCtxSetCurrent(ctx), "cuCtxSetCurrent"); }

  std::string name() const override { return "cuda:0 (" + info.name + ", " + arch + ")"; }
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
  int max_blocks() const override { return std::max(1, info.multiprocessors) * 8; }
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
