# The verbs of R/ops-special.R against base R (values and dtypes, eager and
# jit, f64 and f32), their fallbacks for plain R data, and their errors.

test_that("atan2, psigamma, pnorm and qnorm match base R in f64 and f32", {
  set.seed(11)
  y <- matrix(rnorm(6), 2); x <- matrix(rnorm(6), 2)
  p <- runif(5); q <- rnorm(5, sd = 3)
  for (fl in c("f64", "f32")) {
    expect_verb(function(y, x) atan2(y, x), y, x, float = fl)
    expect_verb(function(x) psigamma(x, 2) + psigamma(x, 0), abs(x) + 0.1, float = fl)
    expect_verb(function(q) pnorm(q) + pnorm(q, 1, 2, lower.tail = FALSE) + pnorm(q, log.p = TRUE), q, float = fl)
    expect_verb(function(p) qnorm(p) + qnorm(p, 3, 0.5, lower.tail = FALSE) + qnorm(log(p), log.p = TRUE), p, float = fl,
                tolerance = if (fl == "f32") 1e-4 else NULL)
  }
})

test_that("pnorm and qnorm recycle over mean and sd as R does", {
  expect_verb(function(q, m, s) pnorm(q, m, s), 1, c(0, 1), c(1, 2, 3, 4))
  expect_verb(function(p, m, s) qnorm(p, m, s), c(0.1, 0.9), c(0, 1, 2, 3), 2)
  expect_verb(function(q, m) pnorm(q, mean = m), matrix(c(-1, 0, 1, 2), 2), c(0.5, -0.5))
})

test_that("the verbs fall back to base R for plain data", {
  expect_identical(atan2(1, 2), base::atan2(1, 2))
  expect_identical(psigamma(2, 1), base::psigamma(2, 1))
  expect_identical(pnorm(1.5, 1, 2, FALSE, TRUE), stats::pnorm(1.5, 1, 2, FALSE, TRUE))
  expect_identical(qnorm(0.2), stats::qnorm(0.2))
  expect_identical(which.max(c(3, 9, 2)), 2L)
  expect_identical(which.min(c(a = 3, b = 1)), c(b = 2L))
})

test_that("cumulative verbs flatten arrays and keep R's types, eagerly and under jit", {
  m <- matrix(c(2L, 1L, 4L, 3L, 6L, 5L), 2)
  expect_verb(function(x) cumsum(x), m)
  expect_verb(function(x) cumprod(x), m)
  expect_verb(function(x) cummax(x), m)
  expect_verb(function(x) cummin(x), m)
  expect_verb(function(x) cumsum(x) + cumprod(x / 2), c(0.5, 1.5, -2))
  expect_verb(function(x) cumsum(x > 1), c(0.5, 1.5, 2))
  x <- rnorm(3000)  # long enough to run in several blocks
  expect_verb(function(x) cumsum(x) - cummax(x), x)
})

test_that("which.max and which.min match base R", {
  expect_verb(function(x) which.max(x), c(1, 5, 5, 2))
  expect_verb(function(x) which.min(x), matrix(c(4, 2, 2, 8), 2))
  expect_verb(function(x) which.max(x), c(NA, 2L, 7L))
})

test_that("attributes of the verbs must be plain R values", {
  x <- rj_array(c(1, 2))
  expect_error(psigamma(x, rj_array(1)), class = "rjax_unsupported_error")
  expect_error(psigamma(x, c(1, 2)), class = "rjax_unsupported_error")
  expect_error(pnorm(x, lower.tail = NA), class = "rjax_type_error")
  expect_error(qnorm(x, log.p = "yes"), class = "rjax_type_error")
})

test_that("psigamma gives lgamma, digamma and trigamma derivatives of every order", {
  for (x in c(0.7, 2.5, -1.3)) {
    expect_rj_equal(grad(lgamma)(x), digamma(x))
    expect_rj_equal(grad(grad(lgamma))(x), trigamma(x))
    expect_rj_equal(grad(grad(grad(lgamma)))(x), psigamma(x, 2))
    expect_rj_equal(grad(grad(trigamma))(x), psigamma(x, 3))
    expect_rj_equal(jit(grad(grad(grad(digamma))))(x), psigamma(x, 3))
  }
})

test_that("the gradient of cumprod is exact with several zeros", {
  x <- c(2, 0, 3, 0, 5)
  w <- c(1, -1, 2, 1, 3)
  f <- function(x) sum(cumprod(x) * w)
  # d/dx_s = sum_{t >= s} w_t prod_{u <= t, u != s} x_u, computed directly
  exact <- vapply(seq_along(x), function(s) sum(vapply(s:5, function(t) w[t] * prod(x[setdiff(seq_len(t), s)]), 0)), 0)
  expect_rj_equal(grad(f)(x), exact)
  expect_rj_equal(jit(grad(f), backend = "interp")(x), exact)
  expect_rj_equal(grad(function(x) prod(x))(x), c(0, 0, 0, 0, 0))
  expect_rj_equal(grad(function(x) prod(x))(c(2, 0, 3)), c(0, 6, 0))
})
