# The semantics table: R's numeric rules (NA, NaN, integer overflow,
# conversions, warnings, result types), each case checked by
# test-semantics.R eagerly and under jit on both backends against base R;
# test-registry.R also reads it to check that every primitive is exercised.
#
# Each row: name, f (an R function of array arguments, meaningful for base
# R data too), args (plain R values), and optionally `ref` (the base R
# reference when f uses an rjax-only verb) or `expect` = list(value,
# warnings) for rjax's documented deviations from base R.

sem_row <- function(name, f, args, ref = f, expect = NULL) {
  list(name = name, f = f, args = args, ref = ref, expect = expect)
}

imax <- .Machine$integer.max

semantics_table <- list(
  # integer arithmetic: NA, overflow -> NA with R's warning
  sem_row("i32 * overflows", function(x, y) x * y, list(c(100000L, 2L, NA), c(100000L, 3L, 1L))),
  sem_row("i32 + overflows", function(x, y) x + y, list(c(imax, 1L), c(1L, 2L))),
  sem_row("i32 - overflows (INT_MIN is NA)", function(x, y) x - y, list(c(-imax, 5L), 1L)),
  sem_row("i32 unary minus keeps NA", function(x) -x, list(c(NA, 3L, -imax))),
  sem_row("i32 abs keeps NA", function(x) abs(x), list(c(NA, -3L, imax))),
  sem_row("%/% and %% by 0L are NA", function(x, y) c(x %/% y, x %% y), list(c(5L, -5L, NA, 0L), 0L)),
  sem_row("%/% and %% floor toward -Inf", function(x, y) c(x %/% y, x %% y), list(c(-7L, 7L, -7L, 7L), c(2L, -2L, -2L, 2L))),
  sem_row("i32 / is double", function(x, y) x / y, list(c(1L, -1L, 0L, NA), 0L)),
  sem_row("i32 ^ is double", function(x, y) x^y, list(c(2L, NA, 0L), c(31L, 0L, -1L))),
  sem_row("pmax/pmin of integers with NA", function(x, y) c(pmax(x, y), pmin(x, y)), list(c(1L, NA, 5L), c(2L, 3L, NA))),
  sem_row("bool arithmetic is integer", function(x, y) x + y, list(c(TRUE, NA, FALSE), c(TRUE, TRUE, FALSE))),
  # doubles: NaN and NA
  sem_row("NA_real_ stays NA through arithmetic", function(x) c(x + 1, x * 2, exp(x), log(x), tanh(x)), list(c(NA, 1))),
  sem_row("double %% and %/% by 0", function(x, y) c(x %% y, x %/% y), list(c(5, -5, 0), 0)),
  sem_row("NaN^0 and 1^NaN are 1", function(x, y) c(x^y, y^x), list(c(NaN, NA), 0)),
  sem_row("negative base to a fraction is NaN, silently", function(x, y) x^y, list(c(-8, 8), 1 / 3)),
  sem_row("pmax/pmin of doubles: the later NaN wins", function(x, y) c(pmax(x, y), pmin(x, y)), list(c(NA, NaN, 1), c(NaN, NA, NaN))),
  # math functions: "NaNs produced"
  sem_row("sqrt(-1) warns", function(x) sqrt(x), list(c(-1, 4, NaN))),
  sem_row("log(-1) warns, log(0) does not", function(x) log(x), list(c(-1, 0, 1))),
  sem_row("log1p below -1 warns", function(x) log1p(x), list(c(-2, -1, 0))),
  sem_row("sin(Inf) warns", function(x) c(sin(x), cos(x), tan(x)), list(c(Inf, 0))),
  sem_row("asin/acos/atanh/acosh outside their domain warn", function(x) c(asin(x), acos(x), atanh(x), acosh(x / 4)), list(c(2, 0.5))),
  sem_row("gamma(0) and gamma of negative integers are NaN", function(x) gamma(x), list(c(0, -1, -1.5, 0.5, 200))),
  sem_row("lgamma at poles is Inf", function(x) lgamma(x), list(c(0, -1, -0.5, Inf))),
  sem_row("digamma and trigamma at poles", function(x) c(digamma(x), trigamma(x)), list(c(0, -1, -1.5, 2))),
  sem_row("psigamma of any order", function(x) c(psigamma(x, 2), psigamma(x, 3), psigamma(x, 0)), list(c(0, -1.5, 2, 1e-3))),
  sem_row("psigamma with a negative order is NaN", function(x) psigamma(x, -1), list(c(1, 3))),
  sem_row("exp/expm1/sinh/cosh overflow quietly", function(x) c(exp(x), expm1(x), sinh(x), cosh(x)), list(c(1000, -Inf))),
  sem_row("atan2 with NA and signed zeros", function(y, x) atan2(y, x), list(c(1, NA, 0, -0, Inf), c(0, 1, -1, -1, Inf))),
  sem_row("floor/ceiling/round/trunc/sign keep NA", function(x) c(floor(x), ceiling(x), round(x), trunc(x), sign(x)), list(c(NA, -2.5, 0.5, 2.5, -0))),
  # the normal distribution
  sem_row("pnorm tails and log.p", function(q) c(pnorm(q), pnorm(q, log.p = TRUE), pnorm(q, lower.tail = FALSE, log.p = TRUE)),
          list(c(-40, -5, 0, 3, 40, Inf, -Inf, NaN))),
  sem_row("pnorm with sd = 0 and sd < 0", function(q, s) pnorm(q, 1, s), list(c(0, 1, 2), c(0, 0, -1))),
  sem_row("qnorm boundaries and domain", function(p) c(qnorm(p), qnorm(p, lower.tail = FALSE)), list(c(0, 1e-300, 0.025, 0.5, 1, 1.5, NA))),
  sem_row("qnorm with log.p", function(p) qnorm(p, 2, 3, log.p = TRUE), list(c(-Inf, -1e5, -1, 0, 0.5))),
  sem_row("qnorm with sd = 0", function(p, s) qnorm(p, 1, s), list(c(0.3, 0.3, 0), c(0, -1, 0))),
  # comparisons and three-valued logic
  sem_row("comparisons with NaN or NA are NA", function(x, y) c(x > y, x == y, x != y, x <= y), list(c(NaN, NA, 1, 2), c(1, 1, NA, 2))),
  sem_row("integer comparisons with NA", function(x, y) c(x < y, x >= y), list(c(NA, 2L, 3L), c(1L, NA, 3L))),
  sem_row("& and | with NA", function(x, y) c(x & y, x | y), list(c(NA, NA, NA, TRUE, FALSE), c(FALSE, TRUE, NA, TRUE, FALSE))),
  sem_row("! keeps NA", function(x) !x, list(c(NA, TRUE, FALSE))),
  sem_row("ifelse with an NA test", function(t, y, n) ifelse(t, y, n), list(c(NA, TRUE, FALSE), c(1, 2, 3), c(-1, -2, -3))),
  sem_row("ifelse on a NaN comparison", function(x) ifelse(x > 0, x, 0), list(c(NaN, 1, -1))),
  sem_row("is.na tells NA and NaN apart from is.nan", function(x) c(is.na(x), is.nan(x), is.finite(x)), list(c(NA, NaN, Inf, 1))),
  sem_row("is.na and is.finite of integers", function(x) c(is.na(x), is.nan(x), is.finite(x)), list(c(NA, 1L))),
  # conversions
  sem_row("double -> integer: out of range and NaN are NA", function(x) as_dtype(x, "i32"),
          list(c(3e9, -2147483648, 2147483647.5, -2.7, NaN, NA)), ref = function(x) as.integer(x)),
  sem_row("bool -> integer and double keep NA", function(x) c(as_dtype(x, "i32") * 2L), list(c(TRUE, NA, FALSE)),
          ref = function(x) as.integer(x) * 2L),
  sem_row("double -> bool: NaN is NA", function(x) as_dtype(x, "bool"), list(c(NaN, 0, 2)), ref = function(x) as.logical(x)),
  sem_row("integer -> double keeps NA", function(x) x * 1.5, list(c(NA, 2L))),
  # reductions
  sem_row("sum of integers that fits stays integer", function(x) sum(x), list(c(imax, -5L, 10L, -imax))),
  sem_row("sum of integers outside the range: NA (static dtype)", function(x) sum(x), list(c(imax, 1L)),
          expect = list(value = NA_integer_, warnings = "integer overflow - use sum(as.numeric(.))")),
  sem_row("sum with NA", function(x) sum(x), list(c(1L, NA))),
  sem_row("sum of bools counts", function(x) sum(x), list(c(TRUE, TRUE, FALSE))),
  sem_row("prod of integers is double", function(x) prod(x), list(c(2L, 3L, imax))),
  sem_row("max/min of nothing: -Inf/Inf with R's warning", function(x) c(max(x), min(x)), list(numeric(0))),
  sem_row("max of an empty integer vector is double", function(x) max(x), list(integer(0))),
  sem_row("max/min: NA beats NaN", function(x) c(max(x), min(x)), list(c(1, NaN, NA))),
  sem_row("max of integers with NA", function(x) max(x), list(c(3L, NA, 5L))),
  sem_row("any/all with NA (three-valued)", function(x, y) c(any(x), all(x), any(y), all(y)), list(c(NA, TRUE), c(NA, FALSE))),
  sem_row("any/all with na.rm", function(x) c(any(x, na.rm = TRUE), all(x, na.rm = TRUE)), list(c(NA, FALSE))),
  sem_row("any/all of nothing", function(x) c(any(x), all(x)), list(logical(0))),
  # cumulative functions
  sem_row("cumsum of integers: NA sticks", function(x) cumsum(x), list(c(1L, NA, 3L))),
  sem_row("cumsum of integers: overflow sticks, with R's warning", function(x) cumsum(x), list(c(imax, 1L, -5L))),
  sem_row("cumsum of bools is integer", function(x) cumsum(x), list(c(TRUE, NA, TRUE))),
  sem_row("cumprod of integers is double", function(x) cumprod(x), list(c(1:5, imax))),
  sem_row("cummax/cummin: the first NaN or NA sticks", function(x) c(cummax(x), cummin(x)), list(c(1, NaN, 2, NA))),
  sem_row("cummax/cummin of integers", function(x) c(cummax(x), cummin(x)), list(c(3L, 5L, NA, 1L))),
  sem_row("cumsum of a matrix runs down its columns", function(x) cumsum(x), list(matrix(c(1, 2, 3, 4, 5, 6), 2))),
  sem_row("cumsum of doubles", function(x) cumsum(x), list(c(0.1, 0.2, NaN, 1))),
  # which.max / which.min
  sem_row("which.max: first maximum, NaN ignored", function(x) which.max(x), list(c(NaN, 3, 1, 3))),
  sem_row("which.min of integers with NA", function(x) which.min(x), list(c(3L, NA, 1L, 1L))),
  sem_row("which.max of bools", function(x) which.max(x), list(c(FALSE, TRUE, NA))),
  sem_row("which.min of nothing", function(x) which.min(x), list(numeric(0))),
  # identity-like primitives
  sem_row("stop_gradient is the identity on values", function(x) stop_gradient(x) * 2, list(c(NA, 1)), ref = function(x) x * 2),
  sem_row("determinant's sign", function(a) determinant(a)$sign * 1, list(matrix(c(2, 1, 1, -3), 2)), ref = function(a) determinant(a)$sign * 1),
  sem_row("while_loop", function(x) while_loop(function(s) s < 100, function(s) s * 2, x), list(3),
          ref = function(x) { while (x < 100) x <- x * 2; x })
)
