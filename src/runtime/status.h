// Warnings raised by native code (kernels, constant folding, generated
// code), collected as bits of one process-wide status word and turned into
// R warnings by the glue once the C++ work of an entry point is done.
//
// raise_warning() is an atomic OR: callable from any thread, and from
// generated LLVM code, which ORs its kernel-local flags into the word whose
// address is rj_status_word() (registered in the JIT as the absolute symbol
// "rj_status_word"). take_warnings() returns the bits and clears them.
// warning_text() gives R's own message for each bit.
#pragma once
#include <cstdint>

namespace rj {

enum WarnCode : uint32_t {
  kWarnIntOverflow = 1u << 0,     // integer +, -, * overflowed
  kWarnNaNProduced = 1u << 1,     // a math function made NaN from non-NaN input
  kWarnIntRange = 1u << 2,        // double -> integer out of range
  kWarnMaxEmpty = 1u << 3,        // max() of nothing
  kWarnMinEmpty = 1u << 4,        // min() of nothing
  kWarnSumOverflow = 1u << 5,     // sum() of integers outside the integer range
  kWarnCumsumOverflow = 1u << 6,  // cumsum() of integers outside the integer range
  kWarnCount = 7
};

void raise_warning(uint32_t codes);
uint32_t take_warnings();
// R's text for one bit (nullptr for an unknown bit).
const char* warning_text(uint32_t code);
// The status word itself (generated code ORs into it atomically).
uint32_t* rj_status_word();

}  // namespace rj
