// Lowers a kernel description to an LLVM IR function (see kernel_spec.h for
// the calling convention).
#pragma once
#include <llvm/IR/Module.h>

#include <string>

#include "kernel_spec.h"

namespace rj {

struct TargetDesc {
  std::string cpu, features;
  bool avx512 = false;
  // glibc's libmvec is loaded: sin and cos have vector variants the loop
  // vectoriser calls (so a body with them stays worth vectorising).
  bool vector_sincos = false;
};

// Adds the external function `name` implementing spec to module m.
void emit_kernel(llvm::Module& m, const std::string& name, const KernelSpec& spec, const TargetDesc& target);

}  // namespace rj
