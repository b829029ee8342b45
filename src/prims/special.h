// Special functions the C++ standard library lacks (or lacks thread-safely).
#pragma once
#include <cmath>
#include <limits>

namespace rj {

// lgamma without touching the global signgam (thread-safe).
inline double lgamma_r_safe(double x) {
  int sign;
  return ::lgamma_r(x, &sign);
}

// digamma(x): reflection for x < 0, recurrence up to x >= 6, then the
// asymptotic series. Poles (0, -1, -2, ...) give NaN, as R does.
inline double digamma(double x) {
  if (std::isnan(x)) return x;
  if (x == -std::numeric_limits<double>::infinity()) return std::numeric_limits<double>::quiet_NaN();
  if (x <= 0 && x == std::floor(x)) return std::numeric_limits<double>::quiet_NaN();
  double r = 0;
  if (x < 0) {  // psi(1 - x) - psi(x) = pi cot(pi x)
    const double pi = 3.14159265358979323846;
    r = -pi / std::tan(pi * x);
    x = 1 - x;
  }
  while (x < 6) {
    r -= 1 / x;
    x += 1;
  }
  double f = 1 / (x * x);
  double t = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12)))))));
  return r + std::log(x) - 0.5 / x + t;
}

// trigamma(x) = psi'(x), same scheme.
inline double trigamma(double x) {
  if (std::isnan(x)) return x;
  if (x <= 0 && x == std::floor(x)) return std::numeric_limits<double>::infinity();
  double r = 0;
  if (x < 0) {  // psi1(1 - x) + psi1(x) = pi^2 / sin^2(pi x)
    const double pi = 3.14159265358979323846;
    double s = std::sin(pi * x);
    return -trigamma(1 - x) + pi * pi / (s * s);
  }
  while (x < 6) {
    r += 1 / (x * x);
    x += 1;
  }
  double f = 1 / (x * x);
  double t = 1 / x + f / 2 + f / x * (1.0 / 6 + f * (-1.0 / 30 + f * (1.0 / 42 + f * (-1.0 / 30 + f * (5.0 / 66 + f * (-691.0 / 2730 + f * (7.0 / 6)))))));
  return r + t;
}

// R's %% and %/% on doubles (arithmetic.c myfmod/myfloor): the remainder is
// taken in extended precision and corrected so that it has the divisor's sign
// and x == (x %/% y) * y + x %% y holds as closely as doubles allow. f32
// operands use the same double computation, rounded once at the end.
inline double r_fmod(double x1, double x2) {
  const double eps = std::numeric_limits<double>::epsilon();
  if (x2 == 0.0) return std::numeric_limits<double>::quiet_NaN();
  if (std::fabs(x2) * eps > 1 && std::isfinite(x1) && std::fabs(x1) <= std::fabs(x2))
    return std::fabs(x1) == std::fabs(x2) ? 0 : ((x1 < 0 && x2 > 0) || (x2 < 0 && x1 > 0)) ? x1 + x2 : x1;
  double q = x1 / x2;
  long double tmp = (long double)x1 - std::floor(q) * (long double)x2;
  return (double)(tmp - std::floor(tmp / x2) * x2);
}
inline double r_ffloor(double x1, double x2) {
  const double eps = std::numeric_limits<double>::epsilon();
  double q = x1 / x2;
  if (x2 == 0.0 || std::fabs(q) * eps > 1 || !std::isfinite(q)) return q;
  if (std::fabs(q) < 1) return (q < 0) ? -1 : ((x1 < 0 && x2 > 0) || (x1 > 0 && x2 < 0) ? -1 : 0);
  long double tmp = (long double)x1 - std::floor(q) * (long double)x2;
  return (double)(std::floor(q) + std::floor(tmp / x2));
}

}  // namespace rj
