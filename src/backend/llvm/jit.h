// Compiled kernels with a lifetime: each batch of kernels compiled together
// is one LLVM module in the session's JIT, under its own ORC resource
// tracker. Executables hold the modules of the kernels they call; when the
// last holder lets go, the module's code and data are removed from the JIT
// and its kernels leave the compile cache (a later program that needs the
// same kernel compiles it again).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernel_spec.h"

namespace rj {

struct KernelModule;  // defined in jit.cpp

struct CompiledKernels {
  std::vector<KernelFn> fns;                           // one per spec
  std::vector<std::shared_ptr<KernelModule>> modules;  // keep these while calling fns
  // Where the compile time went (zero when every kernel came from the cache).
  int n_compiled = 0;
  double seconds_ir = 0, seconds_optimise = 0, seconds_machine_code = 0;
};

// Like compile_kernels(), with the modules that keep the code alive.
CompiledKernels compile_kernel_set(const std::vector<KernelSpec>& specs, std::string* dump);

// Modules and kernels currently in the JIT (for tests and diagnostics).
struct JitStats {
  int64_t modules = 0, kernels = 0;
};
JitStats llvm_jit_stats();

}  // namespace rj
