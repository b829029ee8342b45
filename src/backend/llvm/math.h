// Vectorisable elementary functions emitted as LLVM IR: straight-line code
// (range reduction, polynomial, exponent arithmetic, selects for special
// cases) that the loop vectoriser widens like any other arithmetic, so a
// fused loop calling exp() runs on full SIMD registers without a libm call.
#pragma once
#include <llvm/IR/IRBuilder.h>

namespace rj {

// x is float or double; the result has x's type.
llvm::Value* emit_exp(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_log(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_tanh(llvm::IRBuilder<>& b, llvm::Value* x);
// log(1 + x) and exp(x) - 1, accurate near 0, from the two above.
llvm::Value* emit_log1p(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_expm1(llvm::IRBuilder<>& b, llvm::Value* x);

}  // namespace rj
