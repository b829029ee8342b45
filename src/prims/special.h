// Special functions that are not basis scalar ops (src/ir/scalar.h): each is
// written once here and reached by name through ScalarBuilder::call(), so
// the interpreter calls it per element and the LLVM backend calls the same
// code through an absolute symbol (src/prims/special_fns.cpp).
//
// Written to compile as CUDA device code later: plain C++ on doubles,
// inline, no std::vector, no exceptions, no allocation, fixed-size local
// arrays; RJ_HOST_DEVICE becomes __host__ __device__ there. Loops have a
// fixed trip count (or one set by an attribute, never by the data), so that
// lanes of a vector or warp do not diverge on data.
//
// Semantics follow R's (nmath): NaN in gives the NaN back (its payload kept,
// so R's NA stays NA), poles and domain errors give R's values. The caller's
// scalar description raises R's "NaNs produced" warning where R does.
#pragma once
#include <cmath>
#include <limits>

#ifndef RJ_HOST_DEVICE
#define RJ_HOST_DEVICE
#endif

namespace rj {
namespace special {

constexpr double kPi = 3.14159265358979323846;
constexpr double kInvSqrt2Pi = 0.398942280401432677939946059934;  // 1 / sqrt(2 pi)
constexpr double kLnSqrt2Pi = 0.918938533204672741780329736406;   // log(sqrt(2 pi))
constexpr int kMaxPsigammaDeriv = 100;                             // R's limit for psigamma's deriv

RJ_HOST_DEVICE inline double nan_value() { return std::numeric_limits<double>::quiet_NaN(); }
RJ_HOST_DEVICE inline double inf_value() { return std::numeric_limits<double>::infinity(); }

// log|Gamma(x)| without touching the global signgam (thread-safe).
RJ_HOST_DEVICE inline double lgamma(double x) {
#ifdef __CUDA_ARCH__
  return ::lgamma(x);
#else
  int sign;
  return ::lgamma_r(x, &sign);
#endif
}

// ---- polygamma ------------------------------------------------------------------
// psi^(n)(x), the n-th derivative of digamma (n = 0: digamma, 1: trigamma).
//
// x > 0: the recurrence psi^(n)(x) = psi^(n)(x + 1) + (-1)^(n+1) n! / x^(n+1)
// is applied a fixed S = n + 16 times (not "until x is large": the trip count
// must not depend on the data), then the asymptotic series at y = x + S >= n + 16
//   n = 0:  log y - 1/(2y) - sum_k B_2k / (2k y^2k)
//   n >= 1: (-1)^(n+1) (n-1)!/y^n [1 + n/(2y) + sum_k B_2k/(2k)! (n)_(2k) / y^2k]
// with (n)_(2k) = n (n+1) ... (n+2k-1); ten terms, whose ratio is below 0.04
// there, give full double precision.
// x < 0 (not an integer): the reflection formula
//   psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^(n+1) P_n(cot(pi x)),
// where pi^(n+1) P_n(cot(pi x)) is the n-th derivative of pi cot(pi x):
// P_0(c) = c, P_{m+1}(c) = -(1 + c^2) P_m'(c), coefficients built up to degree n + 1.
// Poles (x = 0, -1, -2, ...): +Inf for odd n (the limit from both sides), NaN
// for even n (no limit), as R gives.

RJ_HOST_DEVICE inline double psigamma_positive(double x, int n) {
  const double bern[10] = {1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66,
                           -691.0 / 2730, 7.0 / 6, -3617.0 / 510, 43867.0 / 798, -174611.0 / 330};
  const int steps = n + 16;
  double nfact = 1;  // n!
  for (int j = 2; j <= n; ++j) nfact *= j;
  double shift = 0;
  for (int k = 0; k < steps; ++k) shift += std::pow(x + k, -(double)(n + 1));
  const double sign = (n % 2 == 0) ? -1.0 : 1.0;  // (-1)^(n+1)
  shift *= sign * nfact;
  const double y = x + steps;
  const double y2 = 1 / (y * y);
  double asym;
  if (n == 0) {
    double s = 0, p = y2;
    for (int k = 1; k <= 10; ++k) {
      s += bern[k - 1] / (2 * k) * p;
      p *= y2;
    }
    asym = std::log(y) - 0.5 / y - s;
  } else {
    double base = 1 / y;  // (n-1)! / y^n
    for (int j = 1; j < n; ++j) base *= j / y;
    double s = 1 + n / (2 * y), f = 1, fact2k = 1;
    for (int k = 1; k <= 10; ++k) {
      f *= (double)(2 * k + n - 2) * (double)(2 * k + n - 1) * y2;
      fact2k *= (double)(2 * k - 1) * (double)(2 * k);
      s += bern[k - 1] / fact2k * f;
    }
    asym = sign * base * s;
  }
  return asym + shift;
}

RJ_HOST_DEVICE inline double psigamma(double x, int n) {
  if (x != x) return x;
  if (n < 0 || n > kMaxPsigammaDeriv) return nan_value();
  if (x == inf_value()) return n == 0 ? x : 0.0;
  if (x == -inf_value()) return nan_value();
  if (x <= 0 && x == std::floor(x)) return (n % 2 == 1) ? inf_value() : nan_value();
  if (x > 0) return psigamma_positive(x, n);
  // Reflection. Derivatives of cot: coefficients of P_m in c, degree m + 1.
  double coef[kMaxPsigammaDeriv + 2], next[kMaxPsigammaDeriv + 2];
  for (int i = 0; i < n + 2; ++i) coef[i] = 0;
  coef[1] = 1;  // P_0 = c
  for (int m = 0; m < n; ++m) {
    // P' has coefficients (i+1) coef[i+1] at c^i; times -(1 + c^2).
    for (int i = 0; i < n + 2; ++i) next[i] = 0;
    for (int i = 0; i + 1 <= m + 1; ++i) {
      double d = (i + 1) * coef[i + 1];
      next[i] -= d;
      next[i + 2] -= d;
    }
    for (int i = 0; i < n + 2; ++i) coef[i] = next[i];
  }
  const double c = 1 / std::tan(kPi * x);
  double p = 0;
  for (int i = n + 1; i >= 0; --i) p = p * c + coef[i];
  const double pin1 = std::pow(kPi, (double)(n + 1));
  const double refl = psigamma_positive(1 - x, n);
  return ((n % 2 == 0) ? refl : -refl) - pin1 * p;
}

// ---- R's %% and %/% on doubles -------------------------------------------------
// R's algorithm (arithmetic.c myfmod/myfloor, re-derived): the remainder is
// taken in extended precision and corrected so that it has the divisor's
// sign and x == (x %/% y) * y + x %% y holds as closely as doubles allow.
// (long double is plain double on a GPU: results may differ in the last bit there.)
RJ_HOST_DEVICE inline double r_fmod(double x1, double x2) {
  const double eps = std::numeric_limits<double>::epsilon();
  if (x1 != x1) return x1;
  if (x2 != x2) return x2;
  if (x2 == 0.0) return nan_value();
  if (std::fabs(x2) * eps > 1 && std::isfinite(x1) && std::fabs(x1) <= std::fabs(x2))
    return std::fabs(x1) == std::fabs(x2) ? 0 : ((x1 < 0 && x2 > 0) || (x2 < 0 && x1 > 0)) ? x1 + x2 : x1;
  double q = x1 / x2;
  long double tmp = (long double)x1 - std::floor(q) * (long double)x2;
  return (double)(tmp - std::floor(tmp / x2) * x2);
}

RJ_HOST_DEVICE inline double r_fdiv(double x1, double x2) {
  const double eps = std::numeric_limits<double>::epsilon();
  if (x1 != x1) return x1;
  if (x2 != x2) return x2;
  double q = x1 / x2;
  if (x2 == 0.0 || std::fabs(q) * eps > 1 || !std::isfinite(q)) return q;
  if (std::fabs(q) < 1) return (q < 0) ? -1 : ((x1 < 0 && x2 > 0) || (x1 > 0 && x2 < 0) ? -1 : 0);
  long double tmp = (long double)x1 - std::floor(q) * (long double)x2;
  return (double)(std::floor(q) + std::floor(tmp / x2));
}

// ---- the normal distribution ------------------------------------------------------
// pnorm_std(z, lower, log_p): Phi(z) (lower tail) or 1 - Phi(z), or their logs,
// by W. J. Cody's rational Chebyshev approximations (Cody 1969, "Rational
// Chebyshev approximations for the error function", Math. Comp. 23; the
// normal-CDF arrangement of his SPECFUN/ANORM routine, ACM TOMS 715, 1993):
// three regions |z| <= 0.66291, <= sqrt(32), beyond. The smaller tail is
// computed directly (exp(-z^2/2) split as exp(-zr^2/2) exp(-d/2) with zr = z
// rounded to 1/16, so that z^2 is exact), the larger one as 1 - smaller (log1p
// in log scale); in log scale the smaller tail is -zr^2/2 - d/2 + log(r)
// without exponentiating, so log.p stays accurate far in the tails.
RJ_HOST_DEVICE inline void pnorm_tails(double z, double* lower, double* upper, double* log_lower,
                                       double* log_upper) {
  const double a[5] = {2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582,
                       18154.981253343561249, 0.065682337918207449113};
  const double b[4] = {47.20258190468824187, 976.09855173777669322, 10260.932208618978205,
                       45507.789335026729956};
  const double c[9] = {0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979,
                       597.27027639480026226, 2494.5375852903726711, 6848.1904505362823326,
                       11602.651437647350124, 9842.7148383839780218, 1.0765576773720192317e-8};
  const double d[8] = {22.266688044328115691, 235.38790178262499861, 1519.377599407554805,
                       6485.558298266760755, 18615.571640885098091, 34900.952721145977266,
                       38912.003286093271411, 19685.429676859990727};
  const double p[6] = {0.21589853405795699, 0.1274011611602473639, 0.022235277870649807,
                       0.001421619193227893466, 2.9112874951168792e-5, 0.02307344176494017303};
  const double q[5] = {1.28426009614491121, 0.468238212480865118, 0.0659881378689285515,
                       0.00378239633202758244, 7.29751555083966205e-5};
  const double y = std::fabs(z);
  if (y <= 0.66291) {
    double ysq = z * z, num = a[4] * ysq, den = ysq;
    for (int i = 0; i < 3; ++i) {
      num = (num + a[i]) * ysq;
      den = (den + b[i]) * ysq;
    }
    double t = z * (num + a[3]) / (den + b[3]);
    *lower = 0.5 + t;
    *upper = 0.5 - t;
    *log_lower = std::log(*lower);
    *log_upper = std::log(*upper);
    return;
  }
  double r;  // the smaller tail is exp(-z^2/2) * r
  if (y <= 5.656854249492380195206754896838) {  // sqrt(32)
    double num = c[8] * y, den = y;
    for (int i = 0; i < 7; ++i) {
      num = (num + c[i]) * y;
      den = (den + d[i]) * y;
    }
    r = (num + c[7]) / (den + d[7]);
  } else {
    double ysq = 1 / (z * z), num = p[5] * ysq, den = ysq;
    for (int i = 0; i < 4; ++i) {
      num = (num + p[i]) * ysq;
      den = (den + q[i]) * ysq;
    }
    r = ysq * (num + p[4]) / (den + q[4]);
    r = (kInvSqrt2Pi - r) / y;
  }
  const double yr = std::trunc(y * 16) / 16;
  const double del = (y - yr) * (y + yr);
  const double log_small = -yr * yr * 0.5 - del * 0.5 + std::log(r);
  const double small = std::exp(-yr * yr * 0.5) * std::exp(-del * 0.5) * r;
  const double log_big = std::log1p(-small);
  const double big = 1 - small;
  if (z > 0) {
    *lower = big; *upper = small; *log_lower = log_big; *log_upper = log_small;
  } else {
    *lower = small; *upper = big; *log_lower = log_small; *log_upper = log_big;
  }
}

RJ_HOST_DEVICE inline double pnorm_std(double z, double lower_tail, double log_p) {
  if (z != z) return z;
  const bool lt = lower_tail != 0, lg = log_p != 0;
  if (z == inf_value() || z == -inf_value()) {
    bool one = (z > 0) == lt;  // the probability is 1 (else 0)
    return lg ? (one ? 0.0 : -inf_value()) : (one ? 1.0 : 0.0);
  }
  double lo, up, llo, lup;
  pnorm_tails(z, &lo, &up, &llo, &lup);
  return lt ? (lg ? llo : lo) : (lg ? lup : up);
}

// qnorm_std(p, lower, log_p): the standard normal quantile by M. J. Wichura's
// algorithm AS 241 (PPND16, Applied Statistics 37, 1988): a rational
// approximation in q = p - 1/2 for |q| <= 0.425, else in r = sqrt(-log(tail))
// with two pieces split at r = 5 (about 1e-16 relative accuracy). With log_p
// the tail's log is used as given, so tiny probabilities keep their accuracy.
// p outside [0, 1] (log p > 0) is NaN; p = 0 and 1 give -Inf and Inf.
RJ_HOST_DEVICE inline double qnorm_std(double p, double lower_tail, double log_p) {
  const double a[8] = {3.3871328727963666080e0, 1.3314166789178437745e+2, 1.9715909503065514427e+3,
                       1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
                       3.3430575583588128105e+4, 2.5090809287301226727e+3};
  const double b[8] = {1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
                       2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4,
                       5.2264952788528545610e+3};
  const double c[8] = {1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
                       3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
                       2.27238449892691845833e-2, 7.74545014278341407640e-4};
  const double d[8] = {1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
                       1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
                       1.05075007164441684324e-9};
  const double e[8] = {6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
                       2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
                       2.71155556874348757815e-5, 2.01033439929228813265e-7};
  const double f[8] = {1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
                       7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
                       2.04426310338993978564e-15};
  if (p != p) return p;
  const bool lt = lower_tail != 0, lg = log_p != 0;
  // Boundaries and the domain, in the given scale.
  const double zero = lg ? -inf_value() : 0.0, one = lg ? 0.0 : 1.0;
  if (lg ? p > 0 : (p < 0 || p > 1)) return nan_value();
  if (p == zero) return lt ? -inf_value() : inf_value();
  if (p == one) return lt ? inf_value() : -inf_value();
  // Lower-tail probability and the logs of both tails.
  double plo, log_lo, log_up;
  if (lg) {
    double other = std::log1p(-std::exp(p));  // log of the other tail
    log_lo = lt ? p : other;
    log_up = lt ? other : p;
    plo = std::exp(log_lo);
  } else {
    plo = lt ? p : 0.5 - p + 0.5;
    log_lo = std::log(plo);
    log_up = lt ? std::log1p(-p) : std::log(p);
  }
  const double q = plo - 0.5;
  auto poly = [](const double* k, double x) {
    double s = k[7];
    for (int i = 6; i >= 0; --i) s = s * x + k[i];
    return s;
  };
  if (std::fabs(q) <= 0.425) {
    double r = 0.180625 - q * q;
    return q * poly(a, r) / poly(b, r);
  }
  double r = std::sqrt(-(q < 0 ? log_lo : log_up));
  double val;
  if (r <= 5) {
    r -= 1.6;
    val = poly(c, r) / poly(d, r);
  } else {
    r -= 5;
    val = poly(e, r) / poly(f, r);
  }
  return q < 0 ? -val : val;
}

// ---- the entry points of ScalarBuilder::call() ---------------------------------------
// One per row of special_fns() (src/prims/special_fns.cpp), all-double
// signatures, named sf_<name>: the C-linkage symbols of the CPU backends
// forward to these, and the CUDA renderer calls them by that name.
RJ_HOST_DEVICE inline double sf_lgamma(double x) { return lgamma(x); }
RJ_HOST_DEVICE inline double sf_psigamma(double x, double n) { return psigamma(x, (int)n); }
RJ_HOST_DEVICE inline double sf_r_fmod(double x, double y) { return r_fmod(x, y); }
RJ_HOST_DEVICE inline double sf_r_fdiv(double x, double y) { return r_fdiv(x, y); }
RJ_HOST_DEVICE inline double sf_pnorm(double z, double lower, double log_p) { return pnorm_std(z, lower, log_p); }
RJ_HOST_DEVICE inline double sf_qnorm(double p, double lower, double log_p) { return qnorm_std(p, lower, log_p); }

}  // namespace special
}  // namespace rj
