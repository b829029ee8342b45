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
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "gemm_avx2.h"
#include "prim_util.h"

namespace rj {
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

// LU of a square matrix that must be invertible (R's solve(): dgesv's exact
// singularity check, then dgecon's reciprocal condition number against eps).
template <class T>
void lu_checked(Eigen::PartialPivLU<Mat<T>>& lu, const std::string& op) {
  auto& U = lu.matrixLU();
  for (int64_t i = 0; i < U.rows(); ++i) {
    T u = U(i, i);
    if (u == 0 || !std::isfinite((double)u))
      fail("singular", op + ": Lapack routine dgesv: system is exactly singular: U[" + std::to_string(i + 1) + "," +
                           std::to_string(i + 1) + "] = " + fmt_g((double)u));
  }
  // R's tolerance (double epsilon) for both dtypes: an f32 matrix whose rcond
  // is below f32 epsilon is still solved (its result is inaccurate, as numpy's
  // and torch's inverses are), so that long f32 loops do not stop half-way.
  double rc = (double)lu.rcond();
  if (!(rc >= std::numeric_limits<double>::epsilon()))
    fail("singular", op + ": system is computationally singular: reciprocal condition number = " + fmt_g(rc));
}

void k_solve(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  bool trans = flag(a, 0);
  dispatch_float(out.dtype, "solve", [&](auto z) {
    using T = decltype(z);
    CMap<T> A = cmap<T>(*in[0]), B = cmap<T>(*in[1]);
    MMap<T> X = mmap<T>(out);
    if (A.rows() == 0) return;  // X is 0 x k
    Eigen::PartialPivLU<Mat<T>> lu(A);
    lu_checked<T>(lu, "solve");
    if (X.size() == 0) return;
    if (trans) X = lu.transpose().solve(B);
    else X = lu.solve(B);
  });
}

void k_trisolve(const std::vector<const Buffer*>& in, Buffer& out, const Attrs& a) {
  bool upper = flag(a, 0), trans = flag(a, 1);
  dispatch_float(out.dtype, "trisolve", [&](auto z) {
    using T = decltype(z);
    CMap<T> Tm = cmap<T>(*in[0]), B = cmap<T>(*in[1]);
    MMap<T> X = mmap<T>(out);
    for (int64_t i = 0; i < Tm.rows(); ++i)  // R's backsolve() check
      if (Tm(i, i) == 0)
        fail("singular", std::string(upper ? "backsolve" : "forwardsolve") +
                             ": singular matrix in 'backsolve'. First zero in diagonal [" + std::to_string(i + 1) + "]");
    if (X.size() == 0) return;
    X = B;
    if (upper) {
      if (trans) Tm.transpose().template triangularView<Eigen::Lower>().solveInPlace(X);
      else Tm.template triangularView<Eigen::Upper>().solveInPlace(X);
    } else {
      if (trans) Tm.transpose().template triangularView<Eigen::Upper>().solveInPlace(X);
      else Tm.template triangularView<Eigen::Lower>().solveInPlace(X);
    }
  });
}

void k_cholesky(const std::vector<const Buffer*>& in, Buffer& out, const Attrs&) {
  dispatch_float(out.dtype, "chol", [&](auto z) {
    using T = decltype(z);
    int64_t n = out.shape[0];
    if (n == 0) return;
    std::memcpy(out.data, in[0]->data, out.nbytes());
    MMap<T> U = mmap<T>(out);
    // Eigen's blocked in-place Cholesky on the upper triangle (what LLT<.., Upper>
    // runs); it returns the first failing column, which R's message reports.
    Eigen::Index k = Eigen::internal::llt_inplace<T, Eigen::Upper>::blocked(U);
    if (k < 0)  // a NaN pivot passes Eigen's `x <= 0` test; LAPACK's dpotrf rejects it
      for (int64_t i = 0; i < n; ++i)
        if (!(U(i, i) > 0)) { k = i; break; }
    if (k >= 0)
      fail("not_pd", "chol: the leading minor of order " + std::to_string(k + 1) + " is not positive");
    T* u = U.data();
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = j + 1; i < n; ++i) u[i + j * n] = 0;
  });
}

// sign(det A) and log|det A| from an LU with partial pivoting.
template <class T>
void sign_logdet(const Buffer& a, double& sign, double& logabs) {
  sign = 1;
  logabs = 0;
  int64_t n = a.shape[0];
  if (n == 0) return;
  Eigen::PartialPivLU<Mat<T>> lu(cmap<T>(a));
  auto& U = lu.matrixLU();
  sign = (double)lu.permutationP().determinant();
  for (int64_t i = 0; i < n; ++i) {
    double u = (double)U(i, i);
    if (u != u) { sign = logabs = u; return; }
    if (u == 0) { sign = 0; logabs = -std::numeric_limits<double>::infinity(); return; }
    if (u < 0) sign = -sign;
    logabs += std::log(std::fabs(u));
  }
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

int transpose2(Builder& b, int x) { return b.transpose(x, {1, 0}); }

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
  return {b.neg(b.mul(full, mask)), dB};
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
  int P = b.mul(b.matmul(u, g, false, true), phi);
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
  return {b.mul(inv_t, g)};  // g is rank 0: implicit scalar broadcast
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
           std::string (*pa)(const Attrs&)) {
  PrimDef d = make_prim(name, arity, infer, eval, vjp, pa);
  d.r_name = r_name;
  return d;
}

PrimRegistration regs[] = {
    PrimRegistration(la("matmul", "%*%", 2, infer_matmul, k_matmul, vjp_matmul, print_matmul)),
    PrimRegistration(la("solve", "solve", 2, infer_solve, k_solve, vjp_solve, print_solve)),
    PrimRegistration(la("trisolve", nullptr /* only in chol()'s gradient so far */, 2, infer_trisolve, k_trisolve, vjp_trisolve, print_trisolve)),
    PrimRegistration(la("cholesky", "chol", 1, infer_cholesky, k_cholesky, vjp_cholesky, print_none)),
    PrimRegistration(la("logabsdet", "determinant", 1, infer_det, k_det<false>, vjp_logabsdet, print_none)),
    PrimRegistration([] {
      PrimDef d = la("detsign", "determinant", 1, infer_det, k_det<true>, nullptr, print_none);
      d.nondiff = "piecewise constant (the sign of the determinant)";
      return d;
    }()),
};

}  // namespace
}  // namespace rj
