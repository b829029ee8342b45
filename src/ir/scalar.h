// Scalar descriptions: the one definition of an element-wise primitive's
// math, and of a reduction's monoid, that every backend lowers ("backends
// as renderers"). A description is a C++ function that calls the basis ops
// of a ScalarBuilder; each backend implements only the basis:
//   - the interpreter (src/backend/interp/tape.cpp) records the calls once
//     per (primitive, dtypes, attributes) into a tape and runs it over
//     blocks of elements;
//   - the LLVM backend (src/backend/llvm/codegen.cpp) emits IR for each call
//     inside its fused loops;
//   - the CUDA renderer (src/backend/cuda/render.cpp) emits one CUDA C
//     statement per call (every basis op below has a direct CUDA equivalent).
//
// Basis ops and their exact semantics (T is the operands' common dtype):
//   add sub mul   f32/f64: IEEE. i32: two's complement, wrapping.
//   div           f32/f64: IEEE. i32: quotient truncated toward 0; x / 0 = 0; INT_MIN / -1 = INT_MIN.
//   floordiv floormod
//                 i32 only: floor(a / b) and a - b * floor(a / b) (the result has b's sign);
//                 divisor 0 gives 0; INT_MIN by -1 gives INT_MIN and 0. No trap ever.
//   neg abs       f32/f64: IEEE (sign bit). i32: wrapping (abs(INT_MIN) = INT_MIN).
//   min max       f32/f64: NaN when either operand is NaN (the second one's when both are:
//                 R's pmin/pmax), else the smaller/larger (min(-0, 0) either zero).
//                 i32: signed.
//   eq ne lt le gt ge
//                 any T -> bool 0/1. Floats: IEEE (every comparison with NaN is false, ne true).
//                 i32 signed, bool unsigned bytes.
//   and or not    bool -> bool 0/1; an operand byte is true when non-zero.
//   select        (bool c, T a, T b) -> c != 0 ? a : b.
//   convert(d)    float -> float: IEEE rounding. float -> i32: truncation toward 0,
//                 saturating at the i32 limits, NaN -> 0. i32 -> float: rounding.
//                 bool -> number: 0 -> 0, non-zero -> 1. number -> bool: x != 0 (NaN -> 1).
//                 i32 <-> bool as numbers. (R's NA rules are in the descriptions, not here.)
//   is_nan        floats: x != x; i32/bool: 0.
//   is_na_value   the dtype's NA bit pattern: f64 R's NA_real_ (NaN with low word 1954),
//                 f32 never (0), i32 INT_MIN, bool 0xFF.
//   floor ceil trunc rint
//                 floats: C's floor/ceil/trunc/nearbyint (ties to even).
//   sqrt exp expm1 log log1p sin cos tan asin acos atan atan2 sinh cosh tanh
//   asinh acosh atanh pow tgamma
//                 floats: the C library functions (f32: the float versions, or
//                 equivalent accuracy); NaN in gives NaN out.
//   constant(v, d) v converted to d exactly as a C cast, except that an f64
//                 constant keeps v's bits (NA_real_ survives) and a bool constant is
//                 the byte (uint8_t)v (so 0xFF is NA).
//   call(name, args)
//                 a named special function of src/prims/special.h (list in
//                 special_fns()): float args of one dtype, computed in double,
//                 rounded to the args' dtype. Every name has a host-and-device entry
//                 rj::special::sf_<name> in src/prims/special.h (the CUDA renderer calls it).
//   warn_if(c, code)
//                 raises warning `code` (src/runtime/status.h) if c is non-zero at any element.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../runtime/status.h"
#include "ir.h"

namespace rj {

// An opaque value of a description: an id that only the builder that made
// it interprets, and its dtype.
struct SVal {
  int id = -1;
  DType dtype = DType::f64;
};

enum class SOp : uint8_t {
  add, sub, mul, div, floordiv, floormod, neg, abs, min, max,
  eq, ne, lt, le, gt, ge,
  and_, or_, not_, select, convert, is_nan, is_na_value,
  floor, ceil, trunc, rint,
  sqrt, exp, expm1, log, log1p, sin, cos, tan, asin, acos, atan, atan2,
  sinh, cosh, tanh, asinh, acosh, atanh, pow, tgamma,
  count
};
const char* sop_name(SOp op);
int sop_arity(SOp op);

// A named special function (src/prims/special.h) reachable through call().
struct SpecialFn {
  const char* name;
  int arity;            // 1..3 double arguments
  const char* symbol;   // C-linkage symbol that generated code calls
  void* fn;             // double (*)(double[, double[, double]])
};
const std::vector<SpecialFn>& special_fns();
const SpecialFn& special_fn(const std::string& name);  // throws for unknown names

struct ScalarBuilder {
  virtual ~ScalarBuilder() = default;

  // ---- what a backend implements ----
  virtual SVal constant(double v, DType d) = 0;
  // One basis op; `result` is its dtype (already checked by op()); `to` is
  // the target of convert.
  virtual SVal basis(SOp op, const SVal* args, int n, DType result) = 0;
  virtual SVal call_special(const SpecialFn& f, const std::vector<SVal>& args) = 0;
  virtual void warn_if(SVal cond, uint32_t code) = 0;

  // ---- typed front end (checks dtypes once for every backend) ----
  SVal op(SOp o, SVal a);
  SVal op(SOp o, SVal a, SVal b);
  SVal op(SOp o, SVal a, SVal b, SVal c);
  SVal convert(SVal a, DType d);
  SVal call(const char* name, std::vector<SVal> args);
  SVal c(double v, DType d) { return constant(v, d); }
  SVal c_like(double v, SVal like) { return constant(v, like.dtype); }

  SVal add(SVal a, SVal b) { return op(SOp::add, a, b); }
  SVal sub(SVal a, SVal b) { return op(SOp::sub, a, b); }
  SVal mul(SVal a, SVal b) { return op(SOp::mul, a, b); }
  SVal div(SVal a, SVal b) { return op(SOp::div, a, b); }
  SVal neg(SVal a) { return op(SOp::neg, a); }
  SVal abs(SVal a) { return op(SOp::abs, a); }
  SVal min(SVal a, SVal b) { return op(SOp::min, a, b); }
  SVal max(SVal a, SVal b) { return op(SOp::max, a, b); }
  SVal eq(SVal a, SVal b) { return op(SOp::eq, a, b); }
  SVal ne(SVal a, SVal b) { return op(SOp::ne, a, b); }
  SVal lt(SVal a, SVal b) { return op(SOp::lt, a, b); }
  SVal le(SVal a, SVal b) { return op(SOp::le, a, b); }
  SVal gt(SVal a, SVal b) { return op(SOp::gt, a, b); }
  SVal ge(SVal a, SVal b) { return op(SOp::ge, a, b); }
  SVal and_(SVal a, SVal b) { return op(SOp::and_, a, b); }
  SVal or_(SVal a, SVal b) { return op(SOp::or_, a, b); }
  SVal not_(SVal a) { return op(SOp::not_, a); }
  SVal select(SVal c, SVal a, SVal b) { return op(SOp::select, c, a, b); }
  SVal is_nan(SVal a) { return op(SOp::is_nan, a); }
  SVal is_na_value(SVal a) { return op(SOp::is_na_value, a); }

  // R's NA of dtype d, and R's is.na (NA or NaN for floats, the NA value otherwise).
  SVal na(DType d);
  SVal is_na(SVal a);
};

// A reduction's monoid, defined once and used by the interpreter's
// reductions and cumulative ops, the LLVM backend's fused reductions and
// the executable's combining of partial results. Accumulators are f64 for
// every input dtype (exact for i32 and bool while partial sums stay below
// 2^53; f32 inputs gain precision), so a backend keeps one kind of
// accumulator; R's NA of any input dtype becomes NA_real_ in it.
struct Monoid {
  const char* name;
  // The identity in the accumulator, for inputs of dtype `in`.
  double (*identity)(DType in);
  // Input value (dtype `in`) -> accumulator (f64), keeping NA.
  SVal (*lift)(ScalarBuilder& s, SVal x, DType in);
  // acc (+) v for two accumulators (associative, with R's NaN rules).
  SVal (*combine)(ScalarBuilder& s, SVal acc, SVal v, DType in);
  // Accumulator -> the output dtype (R's overflow rules and warnings).
  SVal (*finish)(ScalarBuilder& s, SVal acc, DType in, DType out);
  // Warning raised when an output reduces no element at all (0: none).
  uint32_t empty_warning;
  // May a backend reassociate combine freely (sums, products)? min/max and
  // the NaN rules do not need it: their selects are order-independent anyway.
  bool reassociative;
};

}  // namespace rj
