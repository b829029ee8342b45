// Matrix products compiled for AVX2 + FMA, used when the CPU has them
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

}  // namespace rj
