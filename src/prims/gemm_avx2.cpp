// AVX2/FMA instantiation of Eigen's GEMM (see gemm_avx2.h). This file alone is
// compiled with -mavx2 -mfma (src/Makevars.in); Eigen is renamed into a private
// namespace so that its templates, instantiated here with AVX2 code, cannot be
// merged by the linker with the generic instantiations of the other files.
#define Eigen rj_eigen_avx2
#include <Eigen/Dense>
#undef Eigen

#include "gemm_avx2.h"

namespace rj {
namespace {

template <class T>
void gemm(const T* A, int64_t ar, int64_t ac, const T* B, int64_t br, int64_t bc, T* C, bool ta, bool tb) {
  using Mat = rj_eigen_avx2::Matrix<T, rj_eigen_avx2::Dynamic, rj_eigen_avx2::Dynamic>;
  rj_eigen_avx2::Map<const Mat> a(A, ar, ac), b(B, br, bc);
  rj_eigen_avx2::Map<Mat> c(C, ta ? ac : ar, tb ? br : bc);
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

void gemm_avx2_f32(const float* A, int64_t ar, int64_t ac, const float* B, int64_t br, int64_t bc, float* C, bool ta,
                   bool tb) {
  gemm(A, ar, ac, B, br, bc, C, ta, tb);
}
void gemm_avx2_f64(const double* A, int64_t ar, int64_t ac, const double* B, int64_t br, int64_t bc, double* C,
                   bool ta, bool tb) {
  gemm(A, ar, ac, B, br, bc, C, ta, tb);
}

}  // namespace rj
