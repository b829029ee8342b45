// Helpers shared by the primitive definitions in src/prims/*.cpp:
// dtype dispatch for interpreter kernels, a parallel loop on the thread
// pool, small type-rule checks with R-style messages, and the generic
// rules of element-wise primitives (derive.cpp).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "../ir/ir.h"
#include "../runtime/thread_pool.h"

namespace rj {

// Runs f(lo, hi) over [0, n) in chunks of `grain` elements (the last one
// shorter), on the thread pool (src/runtime/thread_pool.h) when n is at
// least `min_parallel`, else inline. The chunks never depend on the number
// of threads, so a caller that keeps one partial result per chunk gets the
// same answer with any thread count. Exceptions propagate to the caller.
// A parallel_for inside another one's chunk runs inline (the pool runs one
// job at a time).
inline bool& in_parallel_for() {
  thread_local bool inside = false;
  return inside;
}
template <class F>
inline void parallel_for(int64_t n, int64_t grain, F f, int64_t min_parallel = -1) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (min_parallel < 0) min_parallel = 2 * grain;
  const int64_t chunks = (n + grain - 1) / grain;
  const bool parallel = n >= min_parallel && chunks > 1 && !in_parallel_for();
  pool_run(chunks, [&](int64_t k) {
    bool& inside = in_parallel_for();
    const bool was = inside;
    inside = true;
    struct Reset { bool& r; bool v; ~Reset() { r = v; } } reset{inside, was};
    f(k * grain, std::min(n, (k + 1) * grain));
  }, parallel);
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

// ---- generic rules of element-wise primitives (derive.cpp) ----------------------

// VJP from PrimDef::partials: ct * d out / d in_k, converted to in_k's dtype
// and summed back to its shape (rank-0 operands were broadcast).
std::vector<int> vjp_from_partials(Builder& b, const Node& n, int out, int ct);
// JVP from PrimDef::partials: sum_k t_k * d out / d in_k.
int jvp_from_partials(Builder& b, const Node& n, int out, const std::vector<int>& in_tangents);
// JVP of a non-differentiable primitive: a zero tangent (-1).
int jvp_zero(Builder& b, const Node& n, int out, const std::vector<int>& in_tangents);
// Batching rule of every element-wise primitive: batched operands are
// brought to one batch axis, unbatched ones broadcast along it (rank-0
// operands stay scalars), and the primitive is applied once.
int batch_elementwise(Builder& b, const Node& n, const std::vector<Type>& in_types, const std::vector<int>& new_inputs,
                      const std::vector<int>& in_batch_axis, int* out_batch_axis);

// b * p where p is a partial derivative, without a product by the constant 1.
int times_partial(Builder& b, int v, int p);

}  // namespace rj

namespace rj {

// ---- generic forward-mode and batching helpers (derive.cpp, jvp.cpp) -----------

// JVP of a primitive that is linear in all its inputs (reshape, transpose,
// gather, concat, reduce_sum, cumsum, scatter, ...): the primitive applied
// to the tangents (zeros where an input has none).
int jvp_linear(Builder& b, const Node& n, int out, const std::vector<int>& in_tangents);
// JVP from the primitive's VJP rule by transposition: the VJP rule is linear
// in its cotangent u, so J t = d/du <vjp(u), t>, taken by the reverse-mode
// transform on the rule itself (src/transforms/jvp.cpp). Used by primitives
// whose forward rule would repeat their VJP's case analysis (prod with
// zeros, ties of max/min, running extremes).
int jvp_by_transpose(Builder& b, const Node& n, int out, const std::vector<int>& in_tangents);

// Axis bookkeeping of batching rules. The batch axis convention of vmap is
// the trailing axis (see src/transforms/vmap.cpp); rules accept any axis.
int move_axis(Builder& b, int v, int from, int to);
// v with its batch axis `ax` (-1: unbatched) moved last; an unbatched v is
// broadcast along a new trailing axis of extent `size`.
int batch_last(Builder& b, int v, int ax, int64_t size);
// The batch size shared by the batched operands.
int64_t batch_size(Builder& b, const std::vector<int>& vals, const std::vector<int>& axes);

}  // namespace rj
