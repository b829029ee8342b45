# The LLVM backend: fused kernels agree with the interpreter (the reference
# semantics) and with base R; the vectorised math is accurate; the fusion
# plan and the generated code look as designed.

plan_of <- function(jf) {
  d <- jit_dump(jf)
  strsplit(sub("; ---- LLVM IR.*", "", d[[length(d)]]), "\n")[[1]]
}
n_kernels <- function(jf) sum(grepl("^kernel", plan_of(jf)))
n_calls <- function(jf) sum(grepl("^call", plan_of(jf)))

sizes <- c(1, 2, 7, 8, 15, 17, 31, 97, 1000, 65537, 300007)

test_that("element-wise chains agree with the interpreter at odd sizes, f64 and f32", {
  f <- function(x, y) (x * 2 - y) / (abs(y) + 1) + sqrt(abs(x)) - pmax(x, y) * pmin(x, 0.5)
  for (n in sizes) {
    set.seed(n)
    x <- rnorm(n); y <- rnorm(n)
    expect_backends_agree(f, x, y)
    x32 <- rj_array(x, dtype = "f32"); y32 <- rj_array(y, dtype = "f32")
    expect_backends_agree(f, x32, y32, tolerance = 1e-6)
  }
})

test_that("reductions: sum, max, min, prod, colSums, rowSums, means", {
  for (n in c(1, 7, 97, 1003)) {
    for (p in c(1, 3, 17)) {
      set.seed(n + p)
      X <- matrix(rnorm(n * p), n, p)
      expect_backends_agree(function(X) sum(exp(X) * 2), X, tolerance = 1e-12)
      expect_backends_agree(function(X) max(X * 3), X)
      expect_backends_agree(function(X) min(X - 1), X)
      expect_backends_agree(function(X) prod(1 + X / 100), X)
      expect_backends_agree(function(X) colSums(X * X), X)
      expect_backends_agree(function(X) rowSums(X * X + 1), X)
      expect_backends_agree(function(X) colMeans(exp(X)) + 1, X)
      expect_backends_agree(function(X) rowMeans(log1p(X * X)), X)
      X32 <- rj_array(X, dtype = "f32")
      expect_backends_agree(function(X) colSums(X * X), X32, tolerance = 1e-6)
      expect_backends_agree(function(X) rowSums(X * X), X32, tolerance = 1e-6)
      expect_backends_agree(function(X) sum(X * X), X32, tolerance = 1e-6)
    }
  }
  X <- matrix(rnorm(300006), 7)  # large: runs on all threads
  expect_equal(as_r(jit(function(X) rowSums(X))(X)), rowSums(X), tolerance = 1e-12)
  expect_equal(as_r(jit(function(X) sum(X))(X)), sum(X), tolerance = 1e-12)
})

test_that("reductions of empty arrays give the identity values", {
  # (rjax's tracer refuses a zero-length array meeting a scalar, so these
  # use array operands only.)
  expect_equal(as_r(jit(function(x, y) sum(x * y))(numeric(0), numeric(0))), 0)
  expect_warning(r <- jit(function(x, y) max(x - y))(numeric(0), numeric(0)), "no non-missing arguments to max")
  expect_equal(as_r(r), -Inf)
  E <- matrix(0, 0, 3)
  expect_equal(as_r(jit(function(X) colSums(X * X))(E)), c(0, 0, 0))
  expect_equal(as_r(jit(function(X) rowSums(X * X))(t(E))), c(0, 0, 0))
  expect_equal(length(as_r(jit(function(x) exp(x) * x)(numeric(0)))), 0L)
})

test_that("full reductions are deterministic and independent of chunking", {
  x <- rnorm(1e6)
  jf <- jit(function(x) sum(x * 1.5))
  a <- as_r(jf(x)); b <- as_r(jf(x))
  expect_identical(a, b)
  expect_equal(a, sum(x * 1.5), tolerance = 1e-12)
})

test_that("broadcasting: scalars, recycled vectors, row and column stretches", {
  set.seed(3)
  X <- matrix(rnorm(35), 7, 5); v <- rnorm(7); w <- rnorm(5)
  expect_backends_agree(function(X, v) X * v + 1, X, v)
  expect_backends_agree(function(X, s) X / s - s, X, 2.5)
  expect_backends_agree(function(X, w) X - matrix(w, nrow(X), ncol(X), byrow = TRUE), X, w)
  expect_backends_agree(function(X) X - rep(colMeans(X), each = nrow(X)), X)
  expect_backends_agree(function(X) exp(X - max(X)) / sum(exp(X - max(X))), X)
  expect_backends_agree(function(x) x * 3, 2)           # everything scalar
  expect_backends_agree(function(X, v) rowSums(X * v), matrix(rnorm(1), 1, 1), 3)
})

test_that("gradients (broadcasts of reductions, selects) agree with the interpreter", {
  set.seed(4)
  X <- matrix(rnorm(60), 12); B <- matrix(rnorm(15), 5, 3)
  # (One function each: sums of several sums hit a grad bug outside this backend.)
  expect_backends_agree(value_and_grad(function(B, X) sum(colSums(B) * colSums(B))), B, X)
  expect_backends_agree(value_and_grad(function(B, X) sum(rowSums(X %*% B) * X[, 1])), B, X)
  expect_backends_agree(value_and_grad(function(B, X) sum(exp(X %*% B))), B, X)
  g <- function(x) sum(ifelse(x > 0, x * x, -x) + pmax(x, 0.2))
  expect_backends_agree(grad(g), rnorm(33))
})

test_that("NaN, Inf and signed zeros propagate like the interpreter", {
  x <- c(NaN, Inf, -Inf, 0, -0, 1, -1, 1e308, -1e308, 5e-324)
  y <- rev(x)
  expect_backends_agree(function(x, y) x + y, x, y)
  expect_backends_agree(function(x, y) x * y - x / y, x, y)
  expect_backends_agree(function(x, y) pmax(x, y) + pmin(x, y), x, y)
  suppressWarnings(expect_backends_agree(function(x) c(exp(x), log(x), tanh(x), sqrt(x)), x))  # NaNs produced
  expect_backends_agree(function(x, y) ifelse(x > y, x, y), x, y)
  expect_backends_agree(function(x) is.nan(x) | !is.finite(x), x)
  expect_backends_agree(function(x) max(x), x)
  expect_backends_agree(function(x) min(x), x)
  expect_backends_agree(function(x) sum(x), x)
  x32 <- rj_array(x, dtype = "f32")
  expect_backends_agree(function(x) exp(x) + log(abs(x)), x32)
  expect_true(is.infinite(as_r(jit(function(x) exp(x))(rj_array(100, dtype = "f32")))))
  expect_equal(as_r(jit(function(x) exp(x))(c(710, -746, 709.78))), exp(c(710, -746, 709.78)))
})

test_that("integer and logical arithmetic follow the interpreter", {
  a <- c(-7L, -3L, 0L, 3L, 7L, 2147483647L); b <- c(2L, -2L, 3L, 0L, -1L, 1L)
  expect_backends_agree(function(a, b) a %/% b, a, b)
  expect_backends_agree(function(a, b) a %% b, a, b)
  suppressWarnings(expect_backends_agree(function(a, b) a * b + a - b, a, b))  # overflows to NA
  expect_backends_agree(function(a, b) pmax(a, b) - abs(b), a, b)
  expect_backends_agree(function(a, b) (a > b) & (b != 0L) | !(a == b), a, b)
  expect_backends_agree(function(a) sum(a > 0L), a)
  expect_backends_agree(function(x) as.integer(x * 10), c(1.26, -3.7, 0))
  expect_backends_agree(function(x) c(floor(x), ceiling(x), round(x), trunc(x), sign(x)), c(-2.5, -0.5, 0.5, 1.5, 2.7))
})

test_that("warnings raised in fused kernels reach R once per call, with R's text", {
  f <- jit(function(x, k) sum(sqrt(x - k) * 2), backend = "llvm")
  x <- c(seq(0, 1, length.out = 300000), -1)  # large: the kernel runs in several chunks
  expect_warning(r <- f(x, 0), "NaNs produced", fixed = TRUE)
  expect_true(is.nan(as_r(r)))
  expect_no_warning(f(abs(x), 0))
  g <- jit(function(a) colSums(a * 100000L), backend = "llvm")
  expect_warning(r <- g(matrix(c(1L, 100000L, 2L, 3L), 2)), "NAs produced by integer overflow", fixed = TRUE)
  expect_identical(as_r(r), c(NA, 5e5))
})

test_that("kernels that differ only in an attribute do not share code", {
  f <- function(q) pnorm(q, log.p = FALSE) + 1
  g <- function(q) pnorm(q, log.p = TRUE) + 1
  q <- c(-1, 0, 2)
  expect_equal(as_r(jit(f, backend = "llvm")(q)), stats::pnorm(q) + 1, tolerance = 1e-15)
  expect_equal(as_r(jit(g, backend = "llvm")(q)), stats::pnorm(q, log.p = TRUE) + 1, tolerance = 1e-15)
})

test_that("other math functions agree with the interpreter", {
  x <- seq(0.05, 0.95, length.out = 41)
  f <- function(x) sin(x) + cos(x) + tan(x) + asin(x) + acos(x) + atan(x) + sinh(x) + cosh(x) +
    asinh(x) + atanh(x) + acosh(x + 1) + expm1(x) + log1p(x) + lgamma(x) + gamma(x) + digamma(x) + x^1.5 + x^2 +
    trigamma(x) + psigamma(x, 3) + atan2(x, 1 - x) + pnorm(x, 0.2, 2) + qnorm(x, 1, 3, log.p = FALSE)
  expect_backends_agree(f, x, tolerance = 1e-13)
  expect_backends_agree(function(x) x %% 0.3 + x %/% 0.3, x)
})

# Error in units of the spacing of floats at `want` (subnormals: the
# smallest spacing, 2^-1074 or 2^-149).
ulps <- function(got, want, eps, tiny) {
  d <- abs(got - want) / pmax(abs(want) * eps, tiny)
  d[got == want | (is.nan(got) & is.nan(want))] <- 0
  d
}

# f compiled by the llvm backend against R (f64) and against the
# interpreter's libm float functions (f32), within `max_ulps`.
expect_accurate <- function(f, x, max_ulps) {
  got <- as_r(suppressWarnings(jit(f, backend = "llvm")(x)))
  want <- suppressWarnings(f(x))
  expect_identical(is.nan(got), is.nan(want))
  expect_identical(got[is.infinite(want)], want[is.infinite(want)])
  expect_lt(max(ulps(got, want, 2^-52, 2^-1074)), max_ulps)
  x32 <- rj_array(x, dtype = "f32")
  got32 <- as_r(suppressWarnings(jit(f, backend = "llvm")(x32)))
  want32 <- as_r(suppressWarnings(jit(f, backend = "interp")(x32)))
  expect_identical(is.nan(got32), is.nan(want32))
  expect_lt(max(ulps(got32, want32, 2^-23, 2^-149)), max_ulps)
}

test_that("vectorised exp, log and tanh are accurate over wide ranges (vs R)", {
  xe <- c(seq(-750, 750, length.out = 20001), seq(-2, 2, length.out = 4001), -Inf, Inf, NaN, 0, -745.13, 709.78)
  xl <- c(10^seq(-320, 308, length.out = 20001), seq(0.5, 2, length.out = 4001), 0, Inf, NaN, -1, 5e-324)
  xt <- c(seq(-30, 30, length.out = 20001), seq(-1, 1, length.out = 4001), 1e-300, -Inf, Inf, NaN, 0)
  expect_accurate(function(x) exp(x), xe, 2.5)
  expect_accurate(function(x) log(x), xl, 2.5)
  expect_accurate(function(x) tanh(x), xt, 2.5)
})

test_that("vectorised log1p and expm1 are accurate near 0 and over wide ranges (vs R)", {
  small <- c(-(10^seq(-320, -1, length.out = 5001)), 10^seq(-320, -1, length.out = 5001), 0, 5e-324, -5e-324)
  xl <- c(small, seq(-0.999999, 10, length.out = 20001), 10^seq(-1, 308, length.out = 5001), -1, -2, Inf, -Inf, NaN)
  xe <- c(small, seq(-40, 40, length.out = 20001), seq(-750, 750, length.out = 5001), 709.7, 710, -Inf, Inf, NaN)
  expect_accurate(function(x) log1p(x), xl, 4)
  expect_accurate(function(x) expm1(x), xe, 4)
})

test_that("the PLN ELBO expression is one fused pass after the matrix product", {
  set.seed(5)
  n <- 200; p <- 7; d <- 3
  X <- matrix(rnorm(n * d), n); B <- matrix(rnorm(d * p, sd = 0.1), d)
  O <- matrix(rnorm(n * p, sd = 0.1), n); M <- matrix(rnorm(n * p, sd = 0.1), n)
  S2 <- matrix(runif(n * p, 0.1, 0.5), n); Y <- matrix(rpois(n * p, 2), n)
  elbo <- function(B, X, O, M, S2, Y) {
    XB <- X %*% B
    A <- exp(O + M + XB + S2 / 2)
    sum(-A + Y * (O + M + XB) + 0.5 * log(S2))
  }
  jf <- jit(elbo, backend = "llvm")
  expect_equal(as_r(jf(B, X, O, M, S2, Y)), elbo(B, X, O, M, S2, Y), tolerance = 1e-12)
  expect_equal(n_kernels(jf), 1)
  expect_equal(n_calls(jf), 1)  # the matmul
  f32 <- lapply(list(B, X, O, M, S2, Y), rj_array, dtype = "f32")
  expect_equal(as_r(do.call(jf, f32)), elbo(B, X, O, M, S2, Y), tolerance = 1e-5)
  vg <- value_and_grad(elbo)
  expect_backends_agree(vg, B, X, O, M, S2, Y, tolerance = 1e-12)
})

test_that("the generated code is vectorised (dump of LLVM IR and assembly)", {
  old <- options(rjax.dump = TRUE)
  on.exit(options(old))
  # A kernel structure no other test compiles, so it is not a cache hit.
  jf <- jit(function(x, y) sum(exp(x * 0.123) * y + log(y + 4.56)), backend = "llvm")
  jf(rnorm(100), runif(100))
  d <- jit_dump(jf)
  expect_match(d, "LLVM IR", fixed = TRUE)
  expect_match(d, "assembly", fixed = TRUE)
  expect_true(grepl("<(2|4|8|16) x (double|float)>", d))
  expect_true(grepl("%(x|y|z)mm[0-9]", d))
})

test_that("kernels come from the compile cache for a new signature of the same structure", {
  f <- function(x) sum(exp(x * 0.777) + 0.999)
  jf <- jit(f, backend = "llvm")
  jf(rnorm(10))
  t <- system.time(for (n in 11:30) jf(rnorm(n)))[["elapsed"]]
  expect_equal(as_r(jf(1:3 / 10)), f(1:3 / 10))
  expect_lt(t, 2)  # 20 retraces; compiling each would take far longer on this machine
})

test_that("for_backends runs code under every backend", {
  res <- for_backends({
    jf <- jit(function(x) exp(x) + 1)
    list(backend = attr(jf, "rjax")$backend, value = as_r(jf(c(0, 1))))
  })
  expect_setequal(names(res), c("llvm", "interp"))
  for (b in names(res)) {
    expect_equal(res[[b]]$backend, b)
    expect_equal(res[[b]]$value, exp(c(0, 1)) + 1)
  }
})

test_that("backend choice: default option and unknown names", {
  expect_equal(getOption("rjax.backend"), "llvm")
  expect_error(jit(function(x) x, backend = "nope"))
})

test_that("long element-wise chains are cut into kernels within the compile budget and agree", {
  # 600 primitives: mul, add, exp, neg, tanh in a repeating pattern (one
  # body would take seconds to optimise; pieces of the pattern repeat, so
  # the compile cache compiles each distinct piece once).
  chain <- function(x) {
    for (i in 1:150) x <- switch(i %% 3 + 1, tanh(x) * 1.5, exp(-x) + 0.25, x * 0.5 - 0.1)
    x
  }
  set.seed(3)
  x <- rnorm(1003)
  expect_backends_agree(chain, x, tolerance = 1e-12)
  jf <- jit(chain, backend = "llvm")
  jf(x)
  plan <- plan_of(jf)
  expect_gt(n_kernels(jf), 1)
  compiled <- as.integer(sub(".*compiled ([0-9]+) kernel.*", "\\1", grep("; compiled", plan, value = TRUE)))
  expect_lt(compiled, n_kernels(jf))
  # A chain of scalar C-library calls stays correct with its loop kept scalar.
  calls <- function(x) { for (i in 1:12) x <- if (i %% 2) sin(x) else cos(x) * 0.9; x }
  expect_backends_agree(calls, x, tolerance = 1e-12)
  expect_backends_agree(calls, rj_array(x, dtype = "f32"), tolerance = 1e-6)
})

test_that("contiguous slices of vectors (diff) fuse into kernels as shifted reads and agree", {
  five_diff <- function(x) diff(diff(diff(diff(diff(x)))))
  for (n in c(7, 100, 65537)) {
    set.seed(n)
    x <- rnorm(n)
    expect_backends_agree(five_diff, x)
    expect_backends_agree(five_diff, rj_array(x, dtype = "f32"), tolerance = 1e-5)
    expect_equal(as.vector(as.array(jit(five_diff, backend = "llvm")(x))), five_diff(x), tolerance = 1e-12)
  }
  jf <- jit(five_diff, backend = "llvm")
  x <- rnorm(50)
  expect_identical(as.vector(as.array(jf(x))), five_diff(x))
  expect_equal(n_calls(jf), 0)  # no gather left as a library call
  expect_equal(n_kernels(jf), 1)  # the slices sink to x: one pass reading x at 6 offsets
  # Row ranges (columns apart by the matrix's row count) and column ranges of
  # a matrix fuse too.
  X <- matrix(rnorm(63), 9)
  for (f in list(function(X) X[-1, ] - X[-nrow(X), ], function(X) X[, -1] - X[, -ncol(X)],
                 function(X) diff(diff(X)) * X[3:9, ], function(X) X[2:5, 3:6] + X[1:4, 2:5])) {
    jg <- jit(f, backend = "llvm")
    expect_identical(as.array(jg(X)), f(X))
    expect_equal(n_kernels(jg), 1)
    expect_equal(n_calls(jg), 0)
    expect_backends_agree(f, X)
  }
  expect_backends_agree(function(x) x[3:9] * 2 + x[1:7], rnorm(12))
  expect_backends_agree(function(x) diff(x * 3L), 1:20)
  # Not contiguous: still a gather call, same answers.
  expect_backends_agree(function(x) x[c(1, 3, 5)] + x[2:4], rnorm(6))
  expect_backends_agree(function(x) rev(x)[2:5] - x[4:1], rnorm(6))
})
