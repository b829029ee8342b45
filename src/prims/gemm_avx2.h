// Matrix products and dense factorisations compiled for AVX2 + FMA, used when the CPU has them
// (checked at run time). R builds packages for a generic x86-64 target, where
// Eigen's GEMM runs SSE2 kernels at less than half the speed.
#pragma once
#include <cstdint>

namespace rj {

bool cpu_has_avx2_fma();

// C (m x n, leading dimension ldc) = op(A) op(B), column-major; op transposes
// when the flag is set. A is ar x ac as stored with leading dimension lda, B
// br x bc with ldb (so blocks of larger matrices can be multiplied in place).
// Single-threaded: linalg.cpp splits products across the thread pool.
void gemm_avx2_f32(const float* A, int64_t ar, int64_t ac, int64_t lda, const float* B, int64_t br, int64_t bc,
                   int64_t ldb, float* C, int64_t ldc, bool ta, bool tb);
void gemm_avx2_f64(const double* A, int64_t ar, int64_t ac, int64_t lda, const double* B, int64_t br, int64_t bc,
                   int64_t ldb, double* C, int64_t ldc, bool ta, bool tb);

// The outcome of an LU's checks (linalg_dense.inc): the first zero or
// non-finite pivot, else the reciprocal condition number.
struct LuCheck {
  int64_t bad_pivot = -1;
  double bad_value = 0;
  double rcond = 1;
};

// The dense factorisations of linalg_dense.inc compiled for AVX2 + FMA
// (instantiated for float and double in gemm_avx2.cpp); linalg.cpp calls
// them when cpu_has_avx2_fma(), else its own generic instantiation.
namespace dense_avx2 {
template <class T> LuCheck lu_solve(const T* A, int64_t n, const T* B, int64_t k, T* X, bool trans);
template <class T> void sign_logdet(const T* A, int64_t n, double& sign, double& logabs);
template <class T> int64_t chol_upper(T* U, int64_t n);
template <class T> void tri_solve(const T* Tp, int64_t n, T* X, int64_t k, bool upper, bool trans);
}  // namespace dense_avx2

}  // namespace rj
