// Dense linear algebra: matmul, solve, cholesky, trisolve, logabsdet, detsign.
// Matrices are rank-2, column-major (R's layout = Eigen's default), so the
// kernels map Buffer data with Eigen::Map and never copy or transpose.
// Inputs must share one float dtype (f32 or f64). Each definition holds its
// type rule, interpreter kernel (Eigen) and VJP rule (written in IR, so that
// it is itself differentiable: it only uses differentiable primitives).
//
// Attributes (attrs.ints):
//   matmul    {ta, tb}       C = op(A) op(B), op transposes when the flag is 1
//   solve     {transA}       X = op(A)^{-1} B (LU with partial pivoting)
//   trisolve  {upper, transA} X = op(T)^{-1} B, T triangular (only that triangle is read)
//   cholesky  {}             U upper with t(U) U = A (R's chol(); reads A's upper triangle)
//   logabsdet {}             log|det A|, rank 0
//   detsign   {}             sign(det A) in {-1, 0, 1}, rank 0
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "gemm_avx2.h"
#include "prim_util.h"

namespace rj {
#define RJ_DENSE_NS dense_generic
#include "linalg_dense.inc"
#undef RJ_DENSE_NS
namespace {

template <class T> using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T> using CMap = Eigen::Map<const Mat<T>>;
template <class T> using MMap = Eigen::Map<Mat<T>>;

template <class T> CMap<T> cmap(const Buffer& b) { return CMap<T>(b.as<T>(), b.shape[0], b.shape[1]); }
template <class T> MMap<T> mmap(Buffer& b) { return MMap<T>(b.as<T>(), b.shape[0], b.shape[1]); }

int64_t flag(const Attrs& a, size_t i) { return i < a.ints.size() ? a.ints[i] : 0; }

std::string sq(const Shape& s) { return "[" + shape_str(s) + "]"; }

// ---- type rules ----------------------------------------------------------------

// All inputs share one float dtype; returns it.
DType check_float(const std::vector<Type>& in, const std::string& op) {
  for (auto& t : in)
    if (!is_float(t.dtype))
      fail("dtype", op + " needs floating-point matrices (f32 or f64), got " + dtype_name(t.dtype));
  for (auto& t : in)
    if (t.dtype != in[0].dtype)
      fail("dtype", op + ": operands have dtypes " + dtype_name(in[0].dtype) + " and " + dtype_name(t.dtype) +
                        "; convert one with as_dtype()");
  return in[0].dtype;
}

void check_matrix(const Type& t, const std::string& op, const char* what) {
  if (t.rank() != 2) fail("shape", op + ": " + what + " must be a matrix, got shape " + sq(t.shape));
}

void check_square(const Type& t, const std::string& op, const char* what) {
  check_matrix(t, op, what);
  if (t.shape[0] != t.shape[1]) fail("shape", op + ": " + what + " " + sq(t.shape) + " must be square");
}

const char* matmul_name(bool ta, bool tb) {
  return ta ? (tb ? "t(x) %*% t(y)" : "crossprod") : (tb ? "tcrossprod" : "%*%");
}

Type infer_matmul(const std::vector<Type>& in, const Attrs& a) {
  check_arity(in, 2, "matmul");
  bool ta = flag(a, 0), tb = flag(a, 1);
  std::string op = matmul_name(ta, tb);
  DType d = check_float(in, op);
  check_matrix(in[0], op, "x");
  check_matrix(in[1], op, "y");
  const Shape &s = in[0].shape, &t = in[1].shape;
  int64_t m = ta ? s[1] : s[0], ka = ta ? s[0] : s[1];
  int64_t kb = tb ? t[1] : t[0], n = tb ? t[0] : t[1];
  if (ka != kb) fail("shape", op + ": non-conformable arguments: " + sq(s) + " and " + sq(t));
  return Type{d, {m, n}};
}

Type infer_solve(const std::vector<Type>& in, const Attrs&) {
  check_arity(in, 2, "solve");
  DType d = check_float(in, "solve");
  check_square(in[0], "solve", "'a'");
  check_matrix(in[1], "solve", "'b'");
  if (in[1].shape[0] != in[0].shape[0])
    fail("shape", "solve: 'b' " + sq(in[1].shape) + " must be compatible with 'a' " + sq(in[0].shape));
  return Type{d, in[1].shape};
}

Type infer_trisolve(const std::vector<Type>& in, const Attrs& a) {
  check_arity(in, 2, "trisolve");
  std::string op = flag(a, 0) ? "backsolve" : "forwardsolve";
  DType d = check_float(in, op);
  check_square(in[0], op, "the triangular matrix");
  check_matrix(in[1], op, "the right-hand side");
  if (in[1].shape[0] != in[0].shape[0])
    fail("shape", op + ": non-conformable arguments: triangular " + sq(in[0].shape) + " and right-hand side " +
                      sq(in[1].shape));
  return Type{d, in[1].shape};
}

Type infer_cholesky(const std::vector<Type>& in, const Attrs&) {
  check_arity(in, 1, "chol");
  DType d = check_float(in, "chol");
  check_square(in[0], "chol", "'x'");
  return Type{d, in[0].shape};
}

Type infer_det(const std::vector<Type>& in, const Attrs&) {
  check_arity(in, 1, "determinant");
  DType d = check_float(in, "determinant");
  check_square(in[0], "determinant", "'a'");
  return Type{d, {}};
}

// ---- kernels -------------------------------------------------------------------

// One GEMM on strided blocks: C (m x n, ldc) = op(A) op(B), A ar x ac (lda),
// B br x bc (ldb). AVX2/FMA kernels when the CPU has them, else Eigen's
// generic ones; single-threaded either way (no OpenMP anywhere).
template <class T>
void gemm_block(const T* A, int64_t ar, int64_t ac, int64_t lda, const T* B, int64_t br, int64_t bc, int64_t ldb,
                T* C, int64_t ldc, bool ta, bool tb) {
  if (cpu_has_avx2_fma()) {
    if constexpr (std::is_same<T, float>::value) gemm_avx2_f32(A, ar, ac, lda, B, br, bc, ldb, C, ldc, ta, tb);
    else gemm_avx2_f64(A, ar, ac, lda, B, br, bc, ldb, C, ldc, ta, tb);
    return;
  }
  using Stride = Eigen::OuterStride<>;
  Eigen::Map<const Mat<T>, 0, Stride> a(A, ar, ac, Stride(lda)), b(B, br, bc, Stride(ldb));
  Eigen::Map<Mat<T>, 0, Stride> c(C, ta ? ac : ar, tb ? br : bc, Stride(ldc));
  if (!ta && !tb) c.noalias() = a * b;
  else if (ta && !tb) c.noalias() = a.transpose() * b;
  else if (!ta && tb) c.noalias() = a * b.transpose();
  else c.noalias() = a.transpose() * b.transpose();
}

// C = op(A) op(B) on the thread pool. The work is cut into a fixed number
// of blocks that depends only on the sizes (never on the thread count), so
// results are the same with any number of threads:
//   - a long inner dimension (crossprod(X) of a tall X): k is split, each
//     block computes a partial product, and the partials are added to C in
//     block order;
//   - otherwise the rows of C (m >= n) or its columns are split, each block
//     one GEMM writing its part of C in place.
template <class T>
void gemm_parallel(const T* A, int64_t ar, int64_t ac, const T* B, int64_t br, int64_t bc, T* C, bool ta, bool tb) {
  const int64_t m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
  const int64_t lda = std::max<int64_t>(ar, 1), ldb = std::max<int64_t>(br, 1), ldc = std::max<int64_t>(m, 1);
  constexpr int64_t kBlocks = 8;
  auto split = [](int64_t extent, int64_t align) {
    int64_t b = (extent + kBlocks - 1) / kBlocks;
    return std::max<int64_t>(align, (b + align - 1) / align * align);
  };
  if ((double)m * n * k < 4e6) return gemm_block(A, ar, ac, lda, B, br, bc, ldb, C, ldc, ta, tb);
  if (k >= 4 * std::max(m, n)) {
    const int64_t kc = split(k, 256), parts = (k + kc - 1) / kc;
    std::vector<T> partial((size_t)((parts - 1) * m * n));
    parallel_for(parts, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t p = lo; p < hi; ++p) {
        const int64_t k0 = p * kc, kk = std::min(kc, k - k0);
        T* Cp = p == 0 ? C : partial.data() + (p - 1) * m * n;
        const T* Ab = ta ? A + k0 : A + k0 * lda;
        const T* Bb = tb ? B + k0 * ldb : B + k0;
        gemm_block(Ab, ta ? kk : ar, ta ? ac : kk, lda, Bb, tb ? br : kk, tb ? kk : bc, ldb, Cp, ldc, ta, tb);
      }
    }, 2);
    parallel_for(m * n, 1 << 14, [&](int64_t lo, int64_t hi) {
      for (int64_t p = 1; p < parts; ++p) {
        const T* src = partial.data() + (p - 1) * m * n;
        for (int64_t i = lo; i < hi; ++i) C[i] += src[i];
      }
    });
    return;
  }
  if (m >= n) {
    const int64_t mc = split(m, 16), parts = (m + mc - 1) / mc;
    parallel_for(parts, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t p = lo; p < hi; ++p) {
        const int64_t i0 = p * mc, mm = std::min(mc, m - i0);
        const T* Ab = ta ? A + i0 * lda : A + i0;
        gemm_block(Ab, ta ? ar : mm, ta ? mm : ac, lda, B, br, bc, ldb, C + i0, ldc, ta, tb);
      }
    }, 2);
    return;
  }
  const int64_t nc = split(n, 8), parts = (n + nc - 1) / nc;
  parallel_for(parts, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const int64_t j0 = p * nc, nn = std::min(nc, n - j0);
      const T* Bb = tb ? B + j0 : B + j0 * ldb;
      gemm_block(A, ar, ac, lda, Bb, tb ? nn : br, tb ? bc : nn, ldb, C + j0 * ldc, ldc, ta, tb);
    }
  }, 2);
}

void k_matmul(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  bool ta = flag(a, 0), tb = flag(a, 1);
  dispatch_float(out.dtype, "matmul", [&](auto z) {
    using T = decltype(z);
    const Buffer &A = *in[0], &B = *in[1];
    int64_t inner = ta ? A.shape[0] : A.shape[1];
    if (out.size() == 0) return;
    if (inner == 0) {
      std::memset(out.data, 0, out.nbytes());
      return;
    }
    gemm_parallel<T>(A.as<T>(), A.shape[0], A.shape[1], B.as<T>(), B.shape[0], B.shape[1], out.as<T>(), ta, tb);
  });
}

std::string fmt_g(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// The dense factorisations (linalg_dense.inc): the AVX2 + FMA build when
// the CPU has it, else the generic one compiled here.
template <class T>
LuCheck lu_solve(const T* A, int64_t n, const T* B, int64_t k, T* X, bool trans) {
  return cpu_has_avx2_fma() ? dense_avx2::lu_solve(A, n, B, k, X, trans) : dense_generic::lu_solve(A, n, B, k, X, trans);
}
template <class T>
void sign_logdet(const Buffer& a, double& sign, double& logabs) {
  const int64_t n = a.shape[0];
  if (cpu_has_avx2_fma()) dense_avx2::sign_logdet(a.as<T>(), n, sign, logabs);
  else dense_generic::sign_logdet(a.as<T>(), n, sign, logabs);
}
template <class T>
int64_t chol_upper(T* U, int64_t n) {
  return cpu_has_avx2_fma() ? dense_avx2::chol_upper(U, n) : dense_generic::chol_upper(U, n);
}
template <class T>
void tri_solve(const T* Tp, int64_t n, T* X, int64_t k, bool upper, bool trans) {
  if (cpu_has_avx2_fma()) dense_avx2::tri_solve(Tp, n, X, k, upper, trans);
  else dense_generic::tri_solve(Tp, n, X, k, upper, trans);
}

// R's solve() on a square matrix that must be invertible: dgesv's exact
// singularity check, then dgecon's reciprocal condition number against
// eps -- R's tolerance (double epsilon) for both dtypes: an f32 matrix whose
// rcond is below f32 epsilon is still solved (its result is inaccurate, as
// numpy's and torch's inverses are), so that long f32 loops do not stop
// half-way.
void lu_fail(const LuCheck& c, const std::string& op) {
  if (c.bad_pivot >= 0)
    fail("singular", op + ": Lapack routine dgesv: system is exactly singular: U[" + std::to_string(c.bad_pivot + 1) +
                         "," + std::to_string(c.bad_pivot + 1) + "] = " + fmt_g(c.bad_value));
  if (!(c.rcond >= std::numeric_limits<double>::epsilon()))
    fail("singular", op + ": system is computationally singular: reciprocal condition number = " + fmt_g(c.rcond));
}

void k_solve(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  bool trans = flag(a, 0);
  dispatch_float(out.dtype, "solve", [&](auto z) {
    using T = decltype(z);
    const Buffer &A = *in[0], &B = *in[1];
    const int64_t n = A.shape[0];
    if (n == 0) return;  // X is 0 x k
    lu_fail(lu_solve<T>(A.as<T>(), n, B.as<T>(), out.size() / n, out.as<T>(), trans), "solve");
  });
}

void k_trisolve(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  bool upper = flag(a, 0), trans = flag(a, 1);
  dispatch_float(out.dtype, "trisolve", [&](auto z) {
    using T = decltype(z);
    CMap<T> Tm = cmap<T>(*in[0]);
    for (int64_t i = 0; i < Tm.rows(); ++i)  // R's backsolve() check
      if (Tm(i, i) == 0)
        fail("singular", std::string(upper ? "backsolve" : "forwardsolve") +
                             ": singular matrix in 'backsolve'. First zero in diagonal [" + std::to_string(i + 1) + "]");
    if (out.size() == 0) return;
    std::memcpy(out.data, in[1]->data, out.nbytes());
    tri_solve<T>(Tm.data(), Tm.rows(), out.as<T>(), out.size() / Tm.rows(), upper, trans);
  });
}

void k_cholesky(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  dispatch_float(out.dtype, "chol", [&](auto z) {
    using T = decltype(z);
    int64_t n = out.shape[0];
    if (n == 0) return;
    std::memcpy(out.data, in[0]->data, out.nbytes());
    T* u = out.as<T>();
    // Eigen's blocked in-place Cholesky on the upper triangle (what LLT<.., Upper>
    // runs); it returns the first failing column, which R's message reports.
    int64_t k = chol_upper<T>(u, n);
    if (k < 0)  // a NaN pivot passes Eigen's `x <= 0` test; LAPACK's dpotrf rejects it
      for (int64_t i = 0; i < n; ++i)
        if (!(u[i + i * n] > 0)) { k = i; break; }
    if (k >= 0)
      fail("not_pd", "chol: the leading minor of order " + std::to_string(k + 1) + " is not positive");
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = j + 1; i < n; ++i) u[i + j * n] = 0;
  });
}

template <bool Sign>
void k_det(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  dispatch_float(out.dtype, Sign ? "detsign" : "logabsdet", [&](auto z) {
    using T = decltype(z);
    double s, l;
    sign_logdet<T>(*in[0], s, l);
    out.as<T>()[0] = (T)(Sign ? s : l);
  });
}


// ---- stacks of matrices (vmap's batching rules) -------------------------------
// An operand of rank 3 is a stack of matrices along its trailing axis (vmap's
// batch axis: the column-major slices x[, , k] are contiguous); a rank-2
// operand is shared by every slice. The result is stacked the same way
// (logabsdet/detsign: a vector, one value per slice). Each slice runs the
// matrix kernel on views (no copies), the slices in parallel. A singular
// (or, for chol, non positive definite) slice gives NaN for that lane.

// The batch dims of the stacked operands (shape[2:]; empty: none stacked).
Shape stack_dims(const std::vector<Type>& in) {
  Shape B;
  bool any = false;
  for (auto& t : in)
    if (t.rank() > 2) {
      Shape d(t.shape.begin() + 2, t.shape.end());
      if (any && d != B)
        fail("shape", "batched linear algebra: stacks of matrices of shapes [" + shape_str(B) + "] and [" + shape_str(d) + "]");
      B = d;
      any = true;
    }
  return B;
}

template <InferFn F>
Type infer_stacked(const std::vector<Type>& in, const Attrs& a) {
  const Shape B = stack_dims(in);
  if (B.empty()) return F(in, a);
  std::vector<Type> m = in;
  for (auto& t : m) t.shape.resize(2);
  Type r = F(m, a);
  r.shape.insert(r.shape.end(), B.begin(), B.end());
  return r;
}

// Matrix k of a stack (or element k of a vector of per-matrix values).
BufferPtr slice_view(const Buffer& x, int64_t k, int64_t count, size_t keep) {
  BufferPtr base(const_cast<Buffer*>(&x), [](Buffer*) {});  // a view for the kernel's call only
  Shape s = x.shape;
  s.resize(keep);
  const int64_t per = count ? x.size() / count : 0;
  return buffer_view(base, (size_t)(k * per) * dtype_size(x.dtype), x.dtype, s);
}

template <EvalFn K>
void k_stacked(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  int64_t B = -1;
  for (auto* x : in)
    if (x->shape.size() > 2) B = shape_size(Shape(x->shape.begin() + 2, x->shape.end()));
  if (B < 0) return K(in, out, a);
  const size_t out_keep = out.shape.size() - (in[0]->shape.size() > 2 ? in[0]->shape.size() - 2 : in[1]->shape.size() - 2);
  parallel_for(B, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      std::vector<BufferPtr> views;
      std::vector<const Buffer*> vin;
      for (auto* x : in) {
        if (x->shape.size() > 2) {
          views.push_back(slice_view(*x, k, B, 2));
          vin.push_back(views.back().get());
        } else {
          vin.push_back(x);
        }
      }
      BufferPtr o = slice_view(out, k, B, out_keep);
      try {
        K(vin, *o, a);
      } catch (const Error& e) {
        // A lane whose matrix is singular (or not positive definite) gives
        // NaN, as in JAX, instead of stopping every other lane of the batch.
        if (e.kind != "singular" && e.kind != "not_pd") throw;
        dispatch_float(o->dtype, "linear algebra", [&](auto z) {
          using T = decltype(z);
          std::fill(o->as<T>(), o->as<T>() + o->size(), std::numeric_limits<T>::quiet_NaN());
        });
      }
    }
  });
}

// ---- VJP rules -------------------------------------------------------------------
// Notation: g the cotangent of the output; for X = M^{-1} B,
//   dX = M^{-1}(dB - dM X)  =>  Bbar = M^{-T} g,  Mbar = -Bbar X^T.

Attrs ints_attrs(std::vector<int64_t> v) {
  Attrs a;
  a.ints = std::move(v);
  return a;
}

// Constant n x n matrix with entry f(i, j) (i row, j column).
template <class F>
int const_matrix(Builder& b, DType d, int64_t n, F f) {
  BufferPtr buf = make_buffer(d, {n, n});
  dispatch_float(d, "constant", [&](auto z) {
    using T = decltype(z);
    T* p = buf->as<T>();
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < n; ++i) p[i + j * n] = (T)f(i, j);
  });
  return b.constant(buf);
}

int trisolve(Builder& b, int t, int rhs, bool upper, bool trans) {
  return b.emit("trisolve", {t, rhs}, ints_attrs({upper ? 1 : 0, trans ? 1 : 0}));
}

int transpose2(Builder& b, int x) {  // each matrix of a stack
  std::vector<int64_t> perm = {1, 0};
  for (int i = 2; i < b.type(x).rank(); ++i) perm.push_back(i);
  return b.transpose(x, perm);
}

// A matrix [m, n] spread over the stack of shape s ([m, n, B...]).
int spread_matrix(Builder& b, int m, const Shape& s) {
  Shape r = b.type(m).shape;
  r.resize(s.size(), 1);
  return b.broadcast_to(b.reshape(m, r), s);
}

// x * m for a constant matrix m, on a matrix or a stack of them.
int times_matrix(Builder& b, int x, int m) {
  const Shape s = b.type(x).shape;
  if (s.size() > 2) m = spread_matrix(b, m, s);
  return b.mul(x, m);
}

// A per-matrix scalar (rank 0, or one per slice of a stack) spread over x's matrices.
int per_matrix(Builder& b, int g, int x) {
  const Shape s = b.type(x).shape;
  if (s.size() > 2 && b.type(g).rank() > 0) {
    Shape r = {1, 1};
    const Shape gs = b.type(g).shape;
    r.insert(r.end(), gs.begin(), gs.end());
    return b.broadcast_to(b.reshape(g, r), s);
  }
  return g;
}

// C = A' B' with A' = op(A), B' = op(B): A'bar = g B'^T, B'bar = A'^T g; when an
// operand is transposed its cotangent is the transpose of that, written as one
// matmul with flipped flags: Abar = ta ? B' g^T : g B'^T, Bbar = tb ? g^T A' : A'^T g.
std::vector<int> vjp_matmul(Builder& b, const Node& n, int, int g) {
  bool ta = flag(n.attrs, 0), tb = flag(n.attrs, 1);
  int A = n.in[0], B = n.in[1];
  int dA = ta ? b.matmul(B, g, tb, true) : b.matmul(g, B, false, !tb);
  int dB = tb ? b.matmul(g, A, true, ta) : b.matmul(A, g, !ta, false);
  return {dA, dB};
}

// X = op(A)^{-1} B with M = op(A): Bbar = M^{-T} g = solve(A, g, !transA);
// Mbar = -Bbar X^T, so Abar = -Bbar X^T (transA = 0) or -(Bbar X^T)^T = -X Bbar^T.
std::vector<int> vjp_solve(Builder& b, const Node& n, int x, int g) {
  bool trans = flag(n.attrs, 0);
  int A = n.in[0];
  int dB = b.emit("solve", {A, g}, ints_attrs({trans ? 0 : 1}));
  int dA = b.neg(trans ? b.matmul(x, dB, false, true) : b.matmul(dB, x, false, true));
  return {dA, dB};
}

// Same as solve, with the cotangent of T restricted to the triangle it reads.
std::vector<int> vjp_trisolve(Builder& b, const Node& n, int x, int g) {
  bool upper = flag(n.attrs, 0), trans = flag(n.attrs, 1);
  int Tm = n.in[0];
  int dB = trisolve(b, Tm, g, upper, !trans);
  int full = trans ? b.matmul(x, dB, false, true) : b.matmul(dB, x, false, true);
  int64_t m = b.type(Tm).shape[0];
  int mask = const_matrix(b, b.type(Tm).dtype, m, [&](int64_t i, int64_t j) { return upper ? i <= j : i >= j; });
  return {b.neg(times_matrix(b, full, mask)), dB};
}

// A = L L^T with L = U^T (Murray 2016): forward dL = L Phi(L^{-1} dA L^{-T}),
// Phi = lower triangle with halved diagonal (self-adjoint), so
// Abar = S = L^{-T} P L^{-1} with P = Phi(L^T Lbar), symmetrised (dA is symmetric).
// In terms of U and g = Ubar = Lbar^T: P = Phi(U g^T), S = U^{-1} P U^{-T}, and
// S^T = U^{-1} (U^{-1} P)^T: two triangular solves and a transpose.
std::vector<int> vjp_cholesky(Builder& b, const Node&, int u, int g) {
  DType d = b.type(u).dtype;
  int64_t m = b.type(u).shape[0];
  int phi = const_matrix(b, d, m, [](int64_t i, int64_t j) { return i > j ? 1.0 : i == j ? 0.5 : 0.0; });
  int P = times_matrix(b, b.matmul(u, g, false, true), phi);
  int Y = trisolve(b, u, P, true, false);                // U^{-1} P
  int St = trisolve(b, u, transpose2(b, Y), true, false);  // S^T = U^{-1} P^T U^{-T}
  int S = transpose2(b, St);
  return {b.mul(b.add(S, St), b.scalar(0.5, d))};
}

// d log|det A| = tr(A^{-1} dA)  =>  Abar = g A^{-T} = g solve(A, I, transA = 1).
std::vector<int> vjp_logabsdet(Builder& b, const Node& n, int, int g) {
  int A = n.in[0];
  int64_t m = b.type(A).shape[0];
  int I = const_matrix(b, b.type(A).dtype, m, [](int64_t i, int64_t j) { return i == j ? 1.0 : 0.0; });
  int inv_t = b.emit("solve", {A, I}, ints_attrs({1}));
  return {b.mul(inv_t, per_matrix(b, g, A))};  // g is rank 0 (implicit scalar broadcast) or one per matrix
}


// ---- JVP rules -------------------------------------------------------------------
// dC = op(dA) op(B) + op(A) op(dB); for X = M^{-1} B: dX = M^{-1}(dB - dM X);
// chol: with M = U^{-T} dA U^{-1} (dA symmetrised, as the VJP assumes),
// dU = Psi(M) U, Psi the upper triangle with halved diagonal (so that
// dU^T U + U^T dU = dA); d log|det A| = tr(A^{-1} dA) = sum(A^{-T} * dA).

int tangent_or_zero(Builder& b, int t, int like) { return t >= 0 ? t : b.zeros_like(like); }

// x - y where one of them may be a stack of the other's matrices (a shared
// right-hand side minus a per-slice correction).
int sub_stacked(Builder& b, int x, int y) {
  const Shape sx = b.type(x).shape, sy = b.type(y).shape;
  if (sx.size() == 2 && sy.size() > 2) x = spread_matrix(b, x, sy);
  if (sy.size() == 2 && sx.size() > 2) y = spread_matrix(b, y, sx);
  return b.sub(x, y);
}

int jvp_matmul(Builder& b, const Node& n, int, const std::vector<int>& t) {
  int r = -1;
  if (t[0] >= 0) r = b.emit("matmul", {t[0], n.in[1]}, n.attrs);
  if (t[1] >= 0) {
    int s = b.emit("matmul", {n.in[0], t[1]}, n.attrs);
    r = r < 0 ? s : b.add(r, s);
  }
  return r;
}

int jvp_solve(Builder& b, const Node& n, int x, const std::vector<int>& t) {
  if (t[0] < 0 && t[1] < 0) return -1;
  bool trans = flag(n.attrs, 0);
  int rhs = tangent_or_zero(b, t[1], n.in[1]);
  if (t[0] >= 0) rhs = sub_stacked(b, rhs, b.matmul(t[0], x, trans, false));
  return b.emit("solve", {n.in[0], rhs}, n.attrs);
}

int jvp_trisolve(Builder& b, const Node& n, int x, const std::vector<int>& t) {
  if (t[0] < 0 && t[1] < 0) return -1;
  bool upper = flag(n.attrs, 0), trans = flag(n.attrs, 1);
  int rhs = tangent_or_zero(b, t[1], n.in[1]);
  if (t[0] >= 0) {
    int64_t m = b.type(n.in[0]).shape[0];
    int mask = const_matrix(b, b.type(n.in[0]).dtype, m, [&](int64_t i, int64_t j) { return upper ? i <= j : i >= j; });
    rhs = sub_stacked(b, rhs, b.matmul(times_matrix(b, t[0], mask), x, trans, false));
  }
  return b.emit("trisolve", {n.in[0], rhs}, n.attrs);
}

int jvp_cholesky(Builder& b, const Node&, int u, const std::vector<int>& t) {
  if (t[0] < 0) return -1;
  DType d = b.type(u).dtype;
  int64_t m = b.type(u).shape[0];
  int dA = b.mul(b.add(t[0], transpose2(b, t[0])), b.scalar(0.5, d));
  int Y = trisolve(b, u, dA, true, true);                          // U^{-T} dA
  int M = transpose2(b, trisolve(b, u, transpose2(b, Y), true, true));  // U^{-T} dA U^{-1}
  int psi = const_matrix(b, d, m, [](int64_t i, int64_t j) { return i < j ? 1.0 : i == j ? 0.5 : 0.0; });
  return b.matmul(times_matrix(b, M, psi), u);
}

int jvp_logabsdet(Builder& b, const Node& n, int, const std::vector<int>& t) {
  if (t[0] < 0) return -1;
  int A = n.in[0];
  int64_t m = b.type(A).shape[0];
  int I = const_matrix(b, b.type(A).dtype, m, [](int64_t i, int64_t j) { return i == j ? 1.0 : 0.0; });
  int prod = b.mul(b.emit("solve", {A, I}, ints_attrs({1})), t[0]);
  return b.sum(prod, {0, 1});  // a stack keeps its trailing axis
}

// ---- batching rules ------------------------------------------------------------
// Operands go to stacks along the trailing axis; an unbatched operand stays a
// matrix shared by every slice. When only the right-hand side is batched
// (matmul without transposing it, solve, trisolve), the stack [k, n, B] is
// the matrix [k, n B]: one GEMM / one factorisation serves every slice.

// An operand of the batched node: its batch axis last. A rank-2 operand
// that is not batched stays one matrix shared by every slice; an operand
// that was already a stack (a node batched before, as in nested vmap) and is
// not batched now is spread along the new axis.
int stack_of(Builder& b, int v, int ax, const Type& unbatched, int64_t B) {
  if (ax < 0 && unbatched.rank() == 2) return v;
  return batch_last(b, v, ax, B);
}

int wide_rhs(Builder& b, const Node& n, int lhs, int rhs, int* oax) {
  const Shape s = b.type(rhs).shape;  // [k, n, B...]
  const int64_t cols = shape_size(s) / s[0];
  int r = b.emit(n.prim, {lhs, b.reshape(rhs, {s[0], cols})}, n.attrs);
  Shape rs = s;
  rs[0] = b.type(r).shape[0];
  *oax = (int)s.size() - 1;
  return b.reshape(r, rs);
}

int batch_matmul(Builder& b, const Node& n, const std::vector<Type>& ts, const std::vector<int>& v,
                 const std::vector<int>& ax, int* oax) {
  const int64_t B = batch_size(b, v, ax);
  int A = stack_of(b, v[0], ax[0], ts[0], B), C = stack_of(b, v[1], ax[1], ts[1], B);
  if (ax[0] < 0 && ts[0].rank() == 2 && !flag(n.attrs, 1)) return wide_rhs(b, n, A, C, oax);
  int r = b.emit("matmul", {A, C}, n.attrs);
  *oax = b.type(r).rank() - 1;
  return r;
}

int batch_solve(Builder& b, const Node& n, const std::vector<Type>& ts, const std::vector<int>& v,
                const std::vector<int>& ax, int* oax) {
  const int64_t B = batch_size(b, v, ax);
  int A = stack_of(b, v[0], ax[0], ts[0], B), C = stack_of(b, v[1], ax[1], ts[1], B);
  if (ax[0] < 0 && ts[0].rank() == 2) return wide_rhs(b, n, A, C, oax);
  int r = b.emit(n.prim, {A, C}, n.attrs);
  *oax = b.type(r).rank() - 1;
  return r;
}

int batch_unary(Builder& b, const Node& n, const std::vector<Type>& ts, const std::vector<int>& v,
                const std::vector<int>& ax, int* oax) {
  int r = b.emit(n.prim, {stack_of(b, v[0], ax[0], ts[0], batch_size(b, v, ax))}, n.attrs);
  *oax = b.type(r).rank() - 1;
  return r;
}

// ---- registration ------------------------------------------------------------------

std::string print_matmul(const Attrs& a) {
  return "ta=" + std::to_string(flag(a, 0)) + " tb=" + std::to_string(flag(a, 1));
}
std::string print_solve(const Attrs& a) { return "transA=" + std::to_string(flag(a, 0)); }
std::string print_trisolve(const Attrs& a) {
  return "upper=" + std::to_string(flag(a, 0)) + " transA=" + std::to_string(flag(a, 1));
}
std::string print_none(const Attrs&) { return ""; }

PrimDef la(const char* name, const char* r_name, int arity, InferFn infer, EvalFn eval, VjpFn vjp,
           std::string (*pa)(const Attrs&), JvpFn jvp, BatchFn batch) {
  PrimDef d = make_prim(name, arity, infer, eval, vjp, pa);
  d.r_name = r_name;
  d.jvp = jvp;
  d.batch = batch;
  return d;
}

PrimRegistration regs[] = {
    PrimRegistration(la("matmul", "%*%", 2, infer_stacked<infer_matmul>, k_stacked<k_matmul>, vjp_matmul, print_matmul,
                        jvp_matmul, batch_matmul)),
    PrimRegistration(la("solve", "solve", 2, infer_stacked<infer_solve>, k_stacked<k_solve>, vjp_solve, print_solve,
                        jvp_solve, batch_solve)),
    PrimRegistration(la("trisolve", nullptr /* only in chol()'s gradient so far */, 2, infer_stacked<infer_trisolve>,
                        k_stacked<k_trisolve>, vjp_trisolve, print_trisolve, jvp_trisolve, batch_solve)),
    PrimRegistration(la("cholesky", "chol", 1, infer_stacked<infer_cholesky>, k_stacked<k_cholesky>, vjp_cholesky,
                        print_none, jvp_cholesky, batch_unary)),
    PrimRegistration(la("logabsdet", "determinant", 1, infer_stacked<infer_det>, k_stacked<k_det<false>>, vjp_logabsdet,
                        print_none, jvp_logabsdet, batch_unary)),
    PrimRegistration([] {
      PrimDef d = la("detsign", "determinant", 1, infer_stacked<infer_det>, k_stacked<k_det<true>>, nullptr, print_none,
                     jvp_zero, batch_unary);
      d.nondiff = "piecewise constant (the sign of the determinant)";
      return d;
    }()),
};

}  // namespace
}  // namespace rj
