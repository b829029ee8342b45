// AVX2/FMA instantiation of Eigen's GEMM and of the dense factorisations of
// linalg_dense.inc (see gemm_avx2.h). This file alone is
// compiled with -mavx2 -mfma (src/Makevars.in); Eigen is renamed into a private
// namespace so that its templates, instantiated here with AVX2 code, cannot be
// merged by the linker with the generic instantiations of the other files.
#include <cmath>
#include <limits>

#define Eigen rj_eigen_avx2
#include <Eigen/Dense>

#include "gemm_avx2.h"

namespace rj {
#define RJ_DENSE_NS dense_avx2
#include "linalg_dense.inc"
#undef RJ_DENSE_NS
namespace dense_avx2 {
template LuCheck lu_solve<float>(const float*, int64_t, const float*, int64_t, float*, bool);
template LuCheck lu_solve<double>(const double*, int64_t, const double*, int64_t, double*, bool);
template void sign_logdet<float>(const float*, int64_t, double&, double&);
template void sign_logdet<double>(const double*, int64_t, double&, double&);
template int64_t chol_upper<float>(float*, int64_t);
template int64_t chol_upper<double>(double*, int64_t);
template void tri_solve<float>(const float*, int64_t, float*, int64_t, bool, bool);
template void tri_solve<double>(const double*, int64_t, double*, int64_t, bool, bool);
}  // namespace dense_avx2
}  // namespace rj
#undef Eigen

namespace rj {
namespace {

template <class T>
void gemm(const T* A, int64_t ar, int64_t ac, int64_t lda, const T* B, int64_t br, int64_t bc, int64_t ldb, T* C,
          int64_t ldc, bool ta, bool tb) {
  namespace E = rj_eigen_avx2;
  using Mat = E::Matrix<T, E::Dynamic, E::Dynamic>;
  using Stride = E::OuterStride<>;
  E::Map<const Mat, 0, Stride> a(A, ar, ac, Stride(lda)), b(B, br, bc, Stride(ldb));
  E::Map<Mat, 0, Stride> c(C, ta ? ac : ar, tb ? br : bc, Stride(ldc));
  if (!ta && !tb) c.noalias() = a * b;
  else if (ta && !tb) c.noalias() = a.transpose() * b;
  else if (!ta && tb) c.noalias() = a * b.transpose();
  else c.noalias() = a.transpose() * b.transpose();
}

}  // namespace

bool cpu_has_avx2_fma() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

void gemm_avx2_f32(const float* A, int64_t ar, int64_t ac, int64_t lda, const float* B, int64_t br, int64_t bc,
                   int64_t ldb, float* C, int64_t ldc, bool ta, bool tb) {
  gemm(A, ar, ac, lda, B, br, bc, ldb, C, ldc, ta, tb);
}
void gemm_avx2_f64(const double* A, int64_t ar, int64_t ac, int64_t lda, const double* B, int64_t br, int64_t bc,
                   int64_t ldb, double* C, int64_t ldc, bool ta, bool tb) {
  gemm(A, ar, ac, lda, B, br, bc, ldb, C, ldc, ta, tb);
}

}  // namespace rj
