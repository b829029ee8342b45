// Helpers shared by the primitive definitions in src/prims/*.cpp:
// dtype dispatch for interpreter kernels, a parallel loop, and small
// type-rule checks with R-style messages.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

#include "../ir/ir.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace rj {

// Runs f(lo, hi) over [0, n), split across threads when n is large enough to
// pay for it (below ~1e5 elements thread start-up costs more than the work).
template <class F>
inline void parallel_for(int64_t n, F f, int64_t grain = 1 << 16) {
#ifdef _OPENMP
  if (n >= 2 * grain && omp_get_max_threads() > 1) {
    int nt = omp_get_max_threads();
#pragma omp parallel num_threads(nt)
    {
      int t = omp_get_thread_num(), k = omp_get_num_threads();
      int64_t lo = n * t / k, hi = n * (t + 1) / k;
      if (lo < hi) f(lo, hi);
    }
    return;
  }
#endif
  if (n > 0) f(0, n);
}

// Calls f(T{}) with T the C++ type of dtype d.
template <class F>
inline void dispatch(DType d, F f) {
  switch (d) {
    case DType::f32: f(float{}); break;
    case DType::f64: f(double{}); break;
    case DType::i32: f(int32_t{}); break;
    case DType::b8: f(uint8_t{}); break;
  }
}

template <class F>
inline void dispatch_float(DType d, const std::string& op, F f) {
  switch (d) {
    case DType::f32: f(float{}); break;
    case DType::f64: f(double{}); break;
    default: fail("dtype", op + " needs a floating-point input, got " + dtype_name(d));
  }
}

inline void check_arity(const std::vector<Type>& in, size_t n, const std::string& op) {
  if (in.size() != n) fail("internal", op + " takes " + std::to_string(n) + " inputs");
}

inline std::string ints_attr(const char* name, const std::vector<int64_t>& v) {
  return std::string(name) + "=(" + shape_str(v) + ")";
}

// A primitive definition from its rules (the fields most primitives set);
// callers adjust the rest (elementwise, foldable, ...) on the result.
inline PrimDef make_prim(const char* name, int arity, InferFn infer, EvalFn eval, VjpFn vjp,
                         std::string (*print_attrs)(const Attrs&) = nullptr) {
  PrimDef d;
  d.name = name;
  d.arity = arity;
  d.infer = infer;
  d.eval = eval;
  d.vjp = vjp;
  d.print_attrs = print_attrs;
  return d;
}

// Cotangent of an operand that was implicitly broadcast (a rank-0 scalar in
// an element-wise op, or a broadcast input): sum back to its shape.
inline int unbroadcast(Builder& b, int ct, int operand) {
  return b.sum_to_shape(ct, b.type(operand).shape);  // copied by sum_to_shape before it emits
}

}  // namespace rj
