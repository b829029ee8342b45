// The interpreter's renderer of scalar descriptions (src/ir/scalar.h).
//
// A description is recorded once per (description, input dtypes,
// attributes) into a tape: a list of basis-op instructions over value
// slots. The tape then runs over blocks of kTapeBlock elements: each
// instruction is one tight loop over the block (vectorised by the C++
// compiler for arithmetic), values live in small per-thread slots (reused
// once dead, so a description's working set stays in L1), inputs are read in
// place and the result is written straight into the output. Interpretation
// overhead is one dispatch per instruction per block, not per element.
//
// Reductions and cumulative ops use tapes of their monoid's lift/combine/
// finish (src/prims/reduce.cpp); the LLVM executable uses monoid_merge()
// and monoid_finish() to finish partial results of fused reductions.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../../ir/scalar.h"

namespace rj {

constexpr int kTapeBlock = 512;

struct Tape;
using TapePtr = std::shared_ptr<const Tape>;

// The recorded tape of `build` for inputs of dtypes `in` (cached under
// `key`, which must identify the description and everything it reads).
TapePtr tape_for(const std::string& key, const std::vector<DType>& in,
                 const std::function<SVal(ScalarBuilder&, const std::vector<SVal>&)>& build);
DType tape_result_dtype(const Tape& t);

// Runs t on n elements on the calling thread. in[k] points at n elements,
// or at one element broadcast to all when scalar[k]; out at n elements of
// the result dtype (out may be one of the inputs: element k is written
// after every read of element k). Warnings are ORed into *flags.
void tape_run(const Tape& t, const void* const* in, const char* scalar, void* out, int64_t n, uint32_t* flags);
// The same, split across the thread pool in fixed chunks; raises the warnings.
void tape_run_parallel(const Tape& t, const void* const* in, const char* scalar, void* out, int64_t n);

// Monoid tapes (the same descriptions the LLVM backend lowers).
TapePtr monoid_step_tape(const Monoid& m, DType in);    // (acc, x) -> combine(acc, lift(x))
TapePtr monoid_merge_tape(const Monoid& m, DType in);   // (acc, acc) -> combine
TapePtr monoid_finish_tape(const Monoid& m, DType in, DType out);  // acc -> output value

// The same with tapes looked up once (the LLVM executable keeps them per kernel):
// merge n >= 0 accumulators (n = 0 gives `identity`), and finish n of them.
double tape_merge(const Tape& merge, double identity, const double* parts, int64_t n);
void tape_finish(const Tape& finish, const double* acc, int64_t n, void* dst);

// Combines n accumulators in a fixed order (a balanced tree); n >= 1.
double monoid_merge(const Monoid& m, DType in, const double* parts, int64_t n);
// Merges `lanes` (size a power of two, modified) down to one value, in a fixed tree.
double monoid_merge_lanes(const Monoid& m, DType in, double* lanes, int64_t n);
// dst[i] = finish(acc[i]) for i < n (dst of dtype out); raises warnings.
void monoid_finish(const Monoid& m, DType in, DType out, const double* acc, int64_t n, void* dst);

}  // namespace rj
