# Traced special functions and matrix helpers (R/verbs-math.R), and the
# classed errors of the functions that do not trace.

test_that("lchoose, choose, lbeta, beta, lfactorial and factorial match base R", {
  n <- c(5, 10, 7.5); k <- c(2, 3, 0)
  expect_traced(function(n) sum(lchoose(n, k)), list(n), label = "lchoose")
  expect_traced(function(n) choose(n, k), list(c(5, 10, 7)), grad = FALSE, label = "choose")
  expect_traced(function(a) sum(lbeta(a, 2.5)), list(c(0.5, 3)), label = "lbeta")
  expect_traced(function(a) sum(beta(a, a + 1)), list(c(0.7, 1.4)), label = "beta")
  expect_traced(function(x) sum(lfactorial(x)), list(c(0.5, 3, 8)), label = "lfactorial")
  expect_traced(function(x) sum(factorial(x)), list(c(0.5, 3, 4.2)), label = "factorial")
  expect_identical(rjax:::tv_lchoose(5, 2), base::lchoose(5, 2))
  expect_identical(rjax:::tv_factorial(4), 24)
})

test_that("mahalanobis, chol2inv and quantile match base R", {
  set.seed(9)
  S <- crossprod(matrix(rnorm(9), 3)) + diag(3)
  Y <- matrix(rnorm(12), 4)
  expect_traced(function(m) sum(mahalanobis(Y, m, S)), list(c(0.1, -0.2, 0.3)), label = "mahalanobis")
  expect_traced(function(m) mahalanobis(c(1, 2, 3), m, S), list(c(0.1, -0.2, 0.3)), label = "mahalanobis of a vector")
  R <- chol(S)
  expect_traced(function(R) sum(chol2inv(R)), list(R), label = "chol2inv")
  expect_traced(function(A) sum(diag(chol2inv(chol(crossprod(A) + diag(3))))), list(matrix(rnorm(9), 3)), label = "chol2inv(chol())")
  x <- c(3.1, -1, 2.5, 7, 0.2, 4.4, -3, 1)
  expect_traced(function(x) quantile(x, c(0.1, 0.5, 0.9)), list(x), grad = FALSE, label = "quantile")
  expect_traced(function(x) sum(quantile(x, probs = c(0.25, 0.75)) * c(-1, 1)), list(x), label = "IQR")
  expect_traced(function(x) quantile(x, 0.3), list(x), label = "one quantile")
  expect_error(jit(function(x) quantile(x, 0.5, type = 1))(x), class = "rjax_unsupported_error")
  expect_identical(rjax:::tv_quantile(x, 0.3), stats::quantile(x, 0.3))
})

test_that("ppois and pbinom of known counts trace with gradients", {
  q <- c(0, 2, 5, -1)
  expect_traced(function(l) sum(ppois(q, l)), list(c(0.5, 2, 3.3, 1)), label = "ppois")
  expect_traced(function(l) sum(ppois(q, l, lower.tail = FALSE, log.p = TRUE)), list(2.2), label = "ppois upper log")
  expect_traced(function(p) sum(pbinom(c(0, 3, 6), 6, p)), list(c(0.2, 0.5, 0.7)), label = "pbinom")
  expect_traced(function(p) sum(pbinom(c(1, 4), c(5, 8), p, log.p = TRUE)), list(0.4), label = "pbinom recycled")
  expect_error(jit(function(q) ppois(q, 2))(3), class = "rjax_concretization_error")
  expect_identical(rjax:::tv_ppois(3, 2), stats::ppois(3, 2))
})

test_that("functions that do not trace stop with a classed error naming an alternative", {
  x <- c(0.5, 1.5, 2)
  for (f in list(function(x) pgamma(x, 2), function(x) pt(x, 3), function(x) qt(x / 3, 3),
                 function(x) pbeta(x / 3, 2, 2), function(x) eigen(diag(x)), function(x) svd(diag(x)),
                 function(x) qr(diag(x)), function(x) order(x), function(x) rank(x),
                 function(x) pweibull(x, 2), function(x) pchisq(x, 2))) {
    expect_error(jit(f)(x), class = "rjax_unsupported_error")
  }
  err <- tryCatch(jit(function(x) pgamma(x, 2))(x), error = identity)
  expect_match(conditionMessage(err), "pgamma()", fixed = TRUE)
  expect_match(conditionMessage(err), "dgamma", fixed = TRUE)
  expect_identical(rjax:::tv_pgamma(1, 2), stats::pgamma(1, 2))
  expect_identical(rjax:::tv_order(c(3, 1, 2)), c(2L, 3L, 1L))
})

test_that("which() and numerical routines on traced values are classed errors", {
  # When `[` has become an S4 generic (methods for it from another package, e.g.
  # Matrix, loaded earlier in the session), R re-signals errors raised while
  # evaluating its arguments as a plain error carrying the original message.
  err <- tryCatch(jit(function(x) sum(x[which(x > 0)]))(c(-1, 2)), error = identity)
  expect_match(conditionMessage(err), "which() elements of a traced value", fixed = TRUE)
  expect_error(jit(function(x) sum(which(x > 0)))(c(-1, 2)), class = "rjax_concretization_error")
  expect_error(jit(function(b) integrate(function(t) exp(-b * t), 0, 1)$value)(2), class = "rjax_unsupported_error")
  expect_error(jit(function(b) optimize(function(t) (t - b)^2, c(-5, 5))$minimum)(2), class = "rjax_unsupported_error")
  expect_error(jit(function(b) uniroot(function(t) t - b, c(-5, 5))$root)(2), class = "rjax_unsupported_error")
  # a routine whose function does not involve traced values still works
  f <- function(b) b * integrate(function(t) t^2, 0, 1)$value
  expect_equal(plain(jit(f)(3)), 1, tolerance = 1e-10)
  expect_identical(rjax:::tv_which(c(FALSE, TRUE)), 2L)
})
