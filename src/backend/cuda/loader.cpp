// Opening the CUDA libraries at run time (see api.h). Search order for the
// toolkit's libraries: $CUDA_HOME/lib64, $CUDA_PATH/lib64, /usr/local/cuda/lib64,
// then the default search path (or only $RJAX_CUDA_LIB_DIR when it is set);
// several sonames per library, newest first, so that one build works with
// CUDA 12 and 13. The driver comes with the NVIDIA driver, not the toolkit:
// libcuda.so.1 from the default search path.
#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "../../ir/ir.h"
#include "api.h"

namespace rj {
namespace cu {
namespace {

template <class F>
bool bind(void* h, const char* name, F*& slot, std::string* missing) {
  slot = reinterpret_cast<F*>(dlsym(h, name));
  if (!slot && missing->empty()) *missing = std::string("symbol ") + name + " not found";
  return slot != nullptr;
}

// $RJAX_CUDA_LIB_DIR, when set, is the only place searched (exactly that toolkit).
std::vector<std::string> lib_dirs() {
  const char* only = std::getenv("RJAX_CUDA_LIB_DIR");
  if (only && *only) return {only};
  std::vector<std::string> dirs;
  for (const char* env : {"CUDA_HOME", "CUDA_PATH"}) {
    const char* v = std::getenv(env);
    if (v && *v) dirs.push_back(std::string(v) + "/lib64");
  }
  dirs.push_back("/usr/local/cuda/lib64");
  dirs.push_back("");  // the default search path
  return dirs;
}

// Tries every soname in every directory; returns the handle (or nullptr and
// what was tried in *err), and the path that opened in *path.
void* open_first(const std::vector<std::string>& sonames, std::string* path, std::string* err) {
  for (const std::string& d : lib_dirs())
    for (const std::string& so : sonames) {
      std::string p = d.empty() ? so : d + "/" + so;
      if (void* h = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL)) {
        if (path) *path = p;
        return h;
      }
      dlerror();  // clear
    }
  const char* only = std::getenv("RJAX_CUDA_LIB_DIR");
  *err = "not found (tried " + sonames.front() + " and " + std::to_string(sonames.size() - 1) + " other names in " +
         (only && *only ? std::string(only) + ", $RJAX_CUDA_LIB_DIR"
                        : std::string("$CUDA_HOME/lib64, /usr/local/cuda/lib64 and the default search path")) + ")";
  return nullptr;
}

void open_driver(Api& a) {
  a.driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!a.driver) a.driver = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
  if (!a.driver) {
    a.driver_error = "the NVIDIA driver library libcuda.so.1 was not found (no NVIDIA driver is installed)";
    return;
  }
  std::string miss;
  bool ok = bind(a.driver, "cuInit", a.cuInit, &miss) & bind(a.driver, "cuDriverGetVersion", a.cuDriverGetVersion, &miss) &
            bind(a.driver, "cuDeviceGetCount", a.cuDeviceGetCount, &miss) & bind(a.driver, "cuDeviceGet", a.cuDeviceGet, &miss) &
            bind(a.driver, "cuDeviceGetName", a.cuDeviceGetName, &miss) &
            bind(a.driver, "cuDeviceTotalMem_v2", a.cuDeviceTotalMem, &miss) &
            bind(a.driver, "cuDeviceGetAttribute", a.cuDeviceGetAttribute, &miss) &
            bind(a.driver, "cuDevicePrimaryCtxRetain", a.cuDevicePrimaryCtxRetain, &miss) &
            bind(a.driver, "cuDevicePrimaryCtxRelease_v2", a.cuDevicePrimaryCtxRelease, &miss) &
            bind(a.driver, "cuCtxSetCurrent", a.cuCtxSetCurrent, &miss) & bind(a.driver, "cuCtxSynchronize", a.cuCtxSynchronize, &miss) &
            bind(a.driver, "cuMemAlloc_v2", a.cuMemAlloc, &miss) & bind(a.driver, "cuMemFree_v2", a.cuMemFree, &miss) &
            bind(a.driver, "cuMemcpyHtoD_v2", a.cuMemcpyHtoD, &miss) & bind(a.driver, "cuMemcpyDtoH_v2", a.cuMemcpyDtoH, &miss) &
            bind(a.driver, "cuMemcpyDtoD_v2", a.cuMemcpyDtoD, &miss) & bind(a.driver, "cuMemsetD8_v2", a.cuMemsetD8, &miss) &
            bind(a.driver, "cuModuleLoadData", a.cuModuleLoadData, &miss) & bind(a.driver, "cuModuleUnload", a.cuModuleUnload, &miss) &
            bind(a.driver, "cuModuleGetFunction", a.cuModuleGetFunction, &miss) &
            bind(a.driver, "cuLaunchKernel", a.cuLaunchKernel, &miss) & bind(a.driver, "cuStreamCreate", a.cuStreamCreate, &miss) &
            bind(a.driver, "cuStreamSynchronize", a.cuStreamSynchronize, &miss) &
            bind(a.driver, "cuStreamQuery", a.cuStreamQuery, &miss) &
            bind(a.driver, "cuStreamBeginCapture_v2", a.cuStreamBeginCapture, &miss) &
            bind(a.driver, "cuStreamEndCapture", a.cuStreamEndCapture, &miss) &
            bind(a.driver, "cuGraphInstantiateWithFlags", a.cuGraphInstantiateWithFlags, &miss) &
            bind(a.driver, "cuGraphLaunch", a.cuGraphLaunch, &miss) & bind(a.driver, "cuGraphExecDestroy", a.cuGraphExecDestroy, &miss) &
            bind(a.driver, "cuGraphDestroy", a.cuGraphDestroy, &miss) & bind(a.driver, "cuGetErrorString", a.cuGetErrorString, &miss);
  if (!ok) {
    a.driver_error = "the NVIDIA driver library is too old for rjax (" + miss + "); install driver 525 or newer";
    dlclose(a.driver);
    a.driver = nullptr;
    return;
  }
  a.init_result = a.cuInit(0);
  if (a.init_result == 0) a.cuDeviceGetCount(&a.device_count);
}

void open_nvrtc(Api& a) {
  const char* env = std::getenv("RJAX_NVRTC");
  std::vector<std::string> names = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"};
  if (env && *env) a.nvrtc = dlopen(env, RTLD_NOW | RTLD_LOCAL), a.nvrtc_path = env;
  if (!a.nvrtc) a.nvrtc = open_first(names, &a.nvrtc_path, &a.nvrtc_error);
  if (!a.nvrtc) {
    a.nvrtc_error = "the CUDA runtime compiler NVRTC (libnvrtc.so) was " + a.nvrtc_error +
                    "; install the CUDA toolkit or set RJAX_NVRTC to the library's path";
    return;
  }
  a.nvrtc_error.clear();
  std::string miss;
  bool ok = bind(a.nvrtc, "nvrtcVersion", a.nvrtcVersion, &miss) & bind(a.nvrtc, "nvrtcCreateProgram", a.nvrtcCreateProgram, &miss) &
            bind(a.nvrtc, "nvrtcCompileProgram", a.nvrtcCompileProgram, &miss) &
            bind(a.nvrtc, "nvrtcGetProgramLogSize", a.nvrtcGetProgramLogSize, &miss) &
            bind(a.nvrtc, "nvrtcGetProgramLog", a.nvrtcGetProgramLog, &miss) &
            bind(a.nvrtc, "nvrtcGetCUBINSize", a.nvrtcGetCUBINSize, &miss) & bind(a.nvrtc, "nvrtcGetCUBIN", a.nvrtcGetCUBIN, &miss) &
            bind(a.nvrtc, "nvrtcGetPTXSize", a.nvrtcGetPTXSize, &miss) & bind(a.nvrtc, "nvrtcGetPTX", a.nvrtcGetPTX, &miss) &
            bind(a.nvrtc, "nvrtcDestroyProgram", a.nvrtcDestroyProgram, &miss) &
            bind(a.nvrtc, "nvrtcGetErrorString", a.nvrtcGetErrorString, &miss);
  if (!ok) {
    a.nvrtc_error = "NVRTC at " + a.nvrtc_path + " is unusable (" + miss + ")";
    dlclose(a.nvrtc);
    a.nvrtc = nullptr;
  }
}

void open_blas(Api& a) {
  a.cublas = open_first({"libcublas.so.13", "libcublas.so.12", "libcublas.so"}, nullptr, &a.cublas_error);
  if (a.cublas) {
    std::string miss;
    bool ok = bind(a.cublas, "cublasCreate_v2", a.cublasCreate, &miss) & bind(a.cublas, "cublasDestroy_v2", a.cublasDestroy, &miss) &
              bind(a.cublas, "cublasSetStream_v2", a.cublasSetStream, &miss) &
              bind(a.cublas, "cublasSgemm_v2", a.cublasSgemm, &miss) & bind(a.cublas, "cublasDgemm_v2", a.cublasDgemm, &miss);
    if (!ok) a.cublas_error = "cuBLAS is unusable (" + miss + ")", dlclose(a.cublas), a.cublas = nullptr;
    else a.cublas_error.clear();
  } else {
    a.cublas_error = "cuBLAS (libcublas.so) was " + a.cublas_error;
  }
  a.cusolver = open_first({"libcusolver.so.12", "libcusolver.so.11", "libcusolver.so"}, nullptr, &a.cusolver_error);
  if (a.cusolver) {
    std::string miss;
    bool ok = bind(a.cusolver, "cusolverDnCreate", a.cusolverDnCreate, &miss) &
              bind(a.cusolver, "cusolverDnDestroy", a.cusolverDnDestroy, &miss) &
              bind(a.cusolver, "cusolverDnSetStream", a.cusolverDnSetStream, &miss) &
              bind(a.cusolver, "cusolverDnDpotrf_bufferSize", a.cusolverDnDpotrf_bufferSize, &miss) &
              bind(a.cusolver, "cusolverDnDpotrf", a.cusolverDnDpotrf, &miss) &
              bind(a.cusolver, "cusolverDnSpotrf_bufferSize", a.cusolverDnSpotrf_bufferSize, &miss) &
              bind(a.cusolver, "cusolverDnSpotrf", a.cusolverDnSpotrf, &miss);
    if (!ok) a.cusolver_error = "cuSOLVER is unusable (" + miss + ")", dlclose(a.cusolver), a.cusolver = nullptr;
    else a.cusolver_error.clear();
  } else {
    a.cusolver_error = "cuSOLVER (libcusolver.so) was " + a.cusolver_error;
  }
}

}  // namespace

const Api& api() {
  static Api a;
  static std::once_flag once;
  std::call_once(once, [] {
    open_driver(a);
    open_nvrtc(a);
    open_blas(a);
  });
  return a;
}

const Api& require_driver() {
  const Api& a = api();
  if (!a.driver) fail("device", "CUDA is not available: " + a.driver_error + ".");
  return a;
}

const Api& require_nvrtc() {
  const Api& a = api();
  if (!a.nvrtc) fail("device", "CUDA kernels cannot be compiled: " + a.nvrtc_error + ".");
  return a;
}

const Api& require_device() {
  const Api& a = require_driver();
  if (a.init_result != 0)
    fail("device", "CUDA is not available: the NVIDIA driver could not be initialised (" +
                       driver_error_string(a.init_result) + "); check that a GPU is present and visible (nvidia-smi).");
  if (a.device_count == 0) fail("device", "CUDA is not available: the NVIDIA driver reports no GPU.");
  require_nvrtc();
  return a;
}

std::string driver_error_string(CUresult r) {
  const Api& a = api();
  const char* s = nullptr;
  if (a.cuGetErrorString && a.cuGetErrorString(r, &s) == 0 && s) return std::string(s) + " (code " + std::to_string(r) + ")";
  return "CUDA error " + std::to_string(r);
}

void check(CUresult r, const char* what) {
  if (r != 0) fail("device", std::string("CUDA: ") + what + " failed: " + driver_error_string(r));
}

std::vector<DeviceInfo> devices() {
  const Api& a = api();
  std::vector<DeviceInfo> out;
  if (!a.driver || a.init_result != 0) return out;
  for (int k = 0; k < a.device_count; ++k) {
    DeviceInfo d;
    d.ordinal = k;
    CUdevice dev;
    if (a.cuDeviceGet(&dev, k) != 0) continue;
    char name[256] = {0};
    a.cuDeviceGetName(name, sizeof name - 1, dev);
    d.name = name;
    a.cuDeviceTotalMem(&d.total_memory, dev);
    a.cuDeviceGetAttribute(&d.major, kAttrComputeMajor, dev);
    a.cuDeviceGetAttribute(&d.minor, kAttrComputeMinor, dev);
    a.cuDeviceGetAttribute(&d.multiprocessors, kAttrMultiprocessors, dev);
    out.push_back(d);
  }
  return out;
}

std::string describe_libraries() {
  const Api& a = api();
  std::string s;
  s += "driver:   " + (a.driver ? std::string("libcuda.so.1") + (a.init_result == 0 ? ", " + std::to_string(a.device_count) + " device(s)"
                                                                       : ", cuInit failed: " + driver_error_string(a.init_result))
                             : a.driver_error) + "\n";
  s += "nvrtc:    " + (a.nvrtc ? a.nvrtc_path : a.nvrtc_error) + "\n";
  s += "cublas:   " + (a.cublas ? std::string("found") : a.cublas_error) + "\n";
  s += "cusolver: " + (a.cusolver ? std::string("found") : a.cusolver_error) + "\n";
  return s;
}

}  // namespace cu
}  // namespace rj
