// The CUDA libraries as rjax sees them: opened at run time with dlopen, so
// that nothing CUDA is needed to build, load or test the package. The few
// types and entry points used are declared here (the driver API and NVRTC
// have stable C ABIs; the _v2 names are the ones current drivers export),
// so the CUDA headers are not needed either.
//
// cuda_api() opens what it can once per process and never throws;
// require_driver()/require_nvrtc()/require_device() throw Error("device", ...)
// saying exactly what is missing (the driver library, a library of the
// toolkit, or a device), which the glue raises as rjax_device_error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rj {
namespace cu {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;
using CUgraph = struct CUgraph_st*;
using CUgraphExec = struct CUgraphExec_st*;
using nvrtcResult = int;
using nvrtcProgram = struct _nvrtcProgram*;
using cublasHandle_t = struct cublasContext*;
using cusolverDnHandle_t = struct cusolverDnContext*;

constexpr int kAttrComputeMajor = 75;  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int kAttrComputeMinor = 76;
constexpr int kAttrMultiprocessors = 16;

struct Api {
  // Driver (libcuda.so.1).
  void* driver = nullptr;
  CUresult (*cuInit)(unsigned) = nullptr;
  CUresult (*cuDriverGetVersion)(int*) = nullptr;
  CUresult (*cuDeviceGetCount)(int*) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice*, int) = nullptr;
  CUresult (*cuDeviceGetName)(char*, int, CUdevice) = nullptr;
  CUresult (*cuDeviceTotalMem)(size_t*, CUdevice) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int*, int, CUdevice) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext*, CUdevice) = nullptr;
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr*, size_t) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr) = nullptr;
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void*, size_t) = nullptr;
  CUresult (*cuMemcpyDtoH)(void*, CUdeviceptr, size_t) = nullptr;
  CUresult (*cuMemcpyDtoD)(CUdeviceptr, CUdeviceptr, size_t) = nullptr;
  CUresult (*cuMemsetD8)(CUdeviceptr, unsigned char, size_t) = nullptr;
  CUresult (*cuModuleLoadData)(CUmodule*, const void*) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction*, CUmodule, const char*) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             CUstream, void**, void**) = nullptr;
  CUresult (*cuStreamCreate)(CUstream*, unsigned) = nullptr;
  CUresult (*cuStreamSynchronize)(CUstream) = nullptr;
  CUresult (*cuStreamQuery)(CUstream) = nullptr;
  CUresult (*cuStreamBeginCapture)(CUstream, int) = nullptr;
  CUresult (*cuStreamEndCapture)(CUstream, CUgraph*) = nullptr;
  CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec*, CUgraph, unsigned long long) = nullptr;
  CUresult (*cuGraphLaunch)(CUgraphExec, CUstream) = nullptr;
  CUresult (*cuGraphExecDestroy)(CUgraphExec) = nullptr;
  CUresult (*cuGraphDestroy)(CUgraph) = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char**) = nullptr;

  // NVRTC (libnvrtc.so.*).
  void* nvrtc = nullptr;
  std::string nvrtc_path;
  nvrtcResult (*nvrtcVersion)(int*, int*) = nullptr;
  nvrtcResult (*nvrtcCreateProgram)(nvrtcProgram*, const char*, const char*, int, const char* const*,
                                    const char* const*) = nullptr;
  nvrtcResult (*nvrtcCompileProgram)(nvrtcProgram, int, const char* const*) = nullptr;
  nvrtcResult (*nvrtcGetProgramLogSize)(nvrtcProgram, size_t*) = nullptr;
  nvrtcResult (*nvrtcGetProgramLog)(nvrtcProgram, char*) = nullptr;
  nvrtcResult (*nvrtcGetCUBINSize)(nvrtcProgram, size_t*) = nullptr;
  nvrtcResult (*nvrtcGetCUBIN)(nvrtcProgram, char*) = nullptr;
  nvrtcResult (*nvrtcGetPTXSize)(nvrtcProgram, size_t*) = nullptr;
  nvrtcResult (*nvrtcGetPTX)(nvrtcProgram, char*) = nullptr;
  nvrtcResult (*nvrtcDestroyProgram)(nvrtcProgram*) = nullptr;
  const char* (*nvrtcGetErrorString)(nvrtcResult) = nullptr;

  // cuBLAS and cuSOLVER (optional: matrix products and factorisations).
  void* cublas = nullptr;
  int (*cublasCreate)(cublasHandle_t*) = nullptr;
  int (*cublasDestroy)(cublasHandle_t) = nullptr;
  int (*cublasSetStream)(cublasHandle_t, CUstream) = nullptr;
  int (*cublasSgemm)(cublasHandle_t, int, int, int, int, int, const float*, const float*, int, const float*, int,
                     const float*, float*, int) = nullptr;
  int (*cublasDgemm)(cublasHandle_t, int, int, int, int, int, const double*, const double*, int, const double*,
                     int, const double*, double*, int) = nullptr;
  void* cusolver = nullptr;
  int (*cusolverDnCreate)(cusolverDnHandle_t*) = nullptr;
  int (*cusolverDnDestroy)(cusolverDnHandle_t) = nullptr;
  int (*cusolverDnSetStream)(cusolverDnHandle_t, CUstream) = nullptr;
  int (*cusolverDnDpotrf_bufferSize)(cusolverDnHandle_t, int, int, double*, int, int*) = nullptr;
  int (*cusolverDnDpotrf)(cusolverDnHandle_t, int, int, double*, int, double*, int, int*) = nullptr;
  int (*cusolverDnSpotrf_bufferSize)(cusolverDnHandle_t, int, int, float*, int, int*) = nullptr;
  int (*cusolverDnSpotrf)(cusolverDnHandle_t, int, int, float*, int, float*, int, int*) = nullptr;

  // What happened when opening them (for messages).
  std::string driver_error, nvrtc_error, cublas_error, cusolver_error;
  int init_result = -1;  // cuInit's result (0: success), -1 when not called
  int device_count = 0;
};

// Opens the libraries once (thread-safe); never throws.
const Api& api();

// Throw Error("device", ...) naming what is missing.
const Api& require_driver();
const Api& require_nvrtc();
const Api& require_device();  // the driver, cuInit and at least one device

// The message of a driver error code ("CUDA_ERROR_OUT_OF_MEMORY: ...").
std::string driver_error_string(CUresult r);
// Throws Error("device", what + the driver's message) when r is not 0.
void check(CUresult r, const char* what);

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  size_t total_memory = 0;
  int major = 0, minor = 0, multiprocessors = 0;
};
// The GPUs the driver reports (empty without a driver or a device).
std::vector<DeviceInfo> devices();

// One line per library: found (path) or why not; for rj_devices() and messages.
std::string describe_libraries();

}  // namespace cu
}  // namespace rj
