// A fused kernel described without the graph: the ops of its loop body, how
// each operand is read, and its outputs. The code generator works from this
// description only, and its text (key()) is the kernel's structural identity
// in the compile cache: two kernels with the same key compile to the same
// machine code, whatever their array sizes (sizes are run-time arguments).
//
// Kernel calling convention (C ABI):
//   void kernel(void** ptrs, int64_t rows, int64_t ilo, int64_t ihi,
//               int64_t jlo, int64_t jhi, double* red)
// ptrs: one pointer per input, then one per output (a row reduction's
// pointer is a double accumulator per row, which the caller initialises to
// the monoid's identity and finishes with the monoid's finish). The kernel visits columns j in [jlo, jhi) and rows i in
// [ilo, ihi) of the column-major domain with `rows` rows; full reductions
// write their partial result over that range to red[slot].
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../../transforms/fusion.h"

namespace rj {

struct KRef {
  enum Kind : uint8_t { op, input, imm } kind = op;
  int index = -1;                 // op or input index
  IndexMap map = IndexMap::linear;  // inputs only
  int64_t offset = 0;             // inputs read linearly, for slices: element (position + offset),
  int64_t ld = 0;                 // where position is i + j * (ld ? ld : rows) (fusion.h: SliceRead)
  double value = 0;               // imm only: a scalar constant baked into the code
};

struct KOp {
  int prim = -1;                  // primitive id
  Attrs attrs;                    // its attributes (the description may read them)
  DType dtype = DType::f64;       // result dtype
  std::vector<KRef> args;
  std::vector<DType> arg_dtypes;
  int red_slot = -1;              // full reductions: index into red[]
};

struct KernelSpec {
  RedKind red = RedKind::none;
  std::vector<DType> input_dtypes;
  std::vector<KOp> ops;
  std::vector<int> outputs;  // op index of each output
  int n_red_all = 0;         // number of full reductions (size of red[])
  std::string key() const;
};

// An op that only maps indices (reshape, broadcast, a slice): its value is
// its operand read through the KRef's map and offset. Both code generators
// render it so.
bool is_index_map(const KOp& op);

// Describes kernel k of a fusion plan over graph g.
KernelSpec make_spec(const Graph& g, const FusedKernel& k);

// The fusion rule of the LLVM backend: can node v be computed in a loop?
// Element-wise primitives with a scalar description (the code generator
// lowers every basis op for every dtype), monoid reductions of the shapes
// the loops support, and reshapes/broadcasts that are pure index maps.
bool kernel_supports(const Graph& g, int v);

// The size of node v's code in a kernel body, in basis ops: its scalar
// description rendered by a counting builder (the polynomial exp, log and
// tanh of math.cpp count as the ~20 instructions they emit). The fusion
// budget below keeps one body small enough to compile in a few ms.
int kernel_weight(const Graph& g, int v);
constexpr int kKernelMaxWeight = 256;

using KernelFn = void (*)(void** ptrs, int64_t rows, int64_t ilo, int64_t ihi, int64_t jlo, int64_t jhi,
                          double* red);

// Compiles the kernels (those not already in the session's cache together,
// as one LLVM module) and returns their entry points. When dump is non-null,
// appends the optimised LLVM IR and the assembly of newly compiled kernels.
std::vector<KernelFn> compile_kernels(const std::vector<KernelSpec>& specs, std::string* dump);

// The host CPU as LLVM sees it ("sapphirerapids +avx512f,...").
std::string llvm_host_description();

}  // namespace rj
