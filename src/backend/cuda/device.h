// Where rendered kernels run: a Device hands out memory, loads a set of
// rendered kernels (render.h) as a module and launches them. Two devices
// implement it:
//   - the GPU (device_cuda.cpp): driver API, primary context, NVRTC to
//     CUBIN for the device's exact architecture;
//   - the host grid shim (shim.cpp): the same text compiled as host C++
//     with a small grid emulation (blocks in a loop, the threads of a block
//     as fibers, __syncthreads and warp shuffles as fiber barriers), so the
//     whole CUDA executable -- index arithmetic, two-stage reductions,
//     shuffles, warnings -- runs and is checked on machines without a GPU.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../backend.h"
#include "render.h"

namespace rj {
namespace cuda {

struct Module {
  virtual ~Module() = default;
  // The entry point of a kernel by name; throws Error("internal") if absent.
  virtual void* function(const std::string& name) = 0;
};

struct Device {
  virtual ~Device() = default;
  virtual std::string name() const = 0;
  // Device memory; alloc(0) gives a valid, distinct pointer.
  virtual void* alloc(size_t bytes) = 0;
  virtual void release(void* p) = 0;
  virtual void upload(void* dst, const void* src, size_t n) = 0;
  virtual void download(void* dst, const void* src, size_t n) = 0;
  virtual void zero(void* dst, size_t n) = 0;
  virtual void copy(void* dst, const void* src, size_t n) = 0;  // device to device
  // Compiles and loads rendered kernels (with shim wrappers when the device
  // is the shim: wants_shim_wrappers()).
  virtual std::shared_ptr<Module> load(const std::string& rendered) = 0;
  virtual bool wants_shim_wrappers() const { return false; }
  // args: cuLaunchKernel's kernelParams (a pointer to each parameter).
  virtual void launch(Module& m, void* fn, const Launch& l, void** args) = 0;
  virtual void sync() = 0;
  // C (m x n, ldc) = op(A) op(B) in column-major storage (cuBLAS's gemm with
  // alpha 1, beta 0; op = transpose when ta/tb), f32 or f64 on device
  // pointers. False when the device has no BLAS (the caller falls back).
  virtual bool gemm(DType, bool /*ta*/, bool /*tb*/, int64_t /*m*/, int64_t /*n*/, int64_t /*k*/, const void* /*a*/,
                    int64_t /*lda*/, const void* /*b*/, int64_t /*ldb*/, void* /*c*/, int64_t /*ldc*/) {
    return false;
  }
  // Collectives over the MPI job on device buffers (NCCL on the GPU,
  // src/runtime/nccl.h): recv = sum over ranks of send, or the ranks'
  // blocks in rank order. False when the device does not run them (the
  // shim; one rank; NCCL absent): the caller takes the host path.
  virtual bool allreduce_sum(DType, const void* /*send*/, void* /*recv*/, int64_t /*count*/, uint64_t /*sig*/) {
    return false;
  }
  virtual bool allgather(DType, const void* /*send*/, void* /*recv*/, int64_t /*count*/, uint64_t /*sig*/) {
    return false;
  }
  // Block size and x-grid cap the executable plans launches with.
  virtual int block() const { return kBlock; }
  virtual int max_blocks() const { return 1024; }
};

// The GPU of this process: $RJAX_CUDA_DEVICE, else its rank on the node in an
// MPI job modulo the GPUs, else GPU 0 (throws Error("device") saying what is
// missing: driver, NVRTC, device).
Device& gpu_device();
// The host grid shim; compiles with $RJAX_SHIM_CXX, else c++ (throws
// Error("device") when no compiler runs).
Device& shim_device();

// A whole program on a device (executable.cpp).
ExecutablePtr compile_on_device(GraphPtr g, Device& dev, const std::string& backend);

// Runs a program compiled by compile_on_device() `iters` times with the
// state on the device: after each iteration output carry[k].first becomes
// input carry[k].second (a device-to-device copy; nothing crosses to the
// host between iterations but the rank-0 outputs listed in `record`, whose
// values per iteration go to *recorded). Inputs are uploaded once; returns
// the last iteration's outputs. The loop a scan/fori_loop body needs.
std::vector<BufferPtr> run_chain(Executable& e, const std::vector<BufferPtr>& inputs, int iters,
                                 const std::vector<std::pair<int, int>>& carry, const std::vector<int>& record,
                                 std::vector<std::vector<double>>* recorded);

// The rendered CUDA source of a program's fused kernels (for inspection and
// the NVRTC tests), without compiling anything.
std::string render_program(const Graph& g);

}  // namespace cuda
}  // namespace rj
