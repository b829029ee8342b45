# Traced densities and distribution functions (R/verbs-dist.R) against
# stats, under jit() and eagerly, with gradients against finite differences.

test_that("log-densities match stats under jit, recycled over every parameter", {
  set.seed(1)
  x <- c(-1.2, 0.3, 2.5, 0.7)
  y <- c(0, 1, 3, 7)
  u <- c(0.1, 0.45, 0.8, 0.99)
  pos <- c(0.2, 1.1, 3.4, 0.05)
  cases <- list(
    dnorm = list(function(m, s) sum(dnorm(x, m, s, log = TRUE)), list(c(0.1, -0.2), c(1.5, 0.7, 2, 1))),
    dnorm_p = list(function(m, s) sum(dnorm(x, mean = m, sd = s)), list(0.4, 1.3)),
    dpois = list(function(l) sum(dpois(y, l, log = TRUE)), list(c(0.5, 1.2, 2.7, 6))),
    dpois_p = list(function(l) sum(dpois(y, exp(l))), list(c(0.1, 0.3))),
    dbinom = list(function(p) sum(dbinom(y, 8, p, log = TRUE)), list(c(0.1, 0.4, 0.5, 0.9))),
    dbinom_bern = list(function(p) sum(dbinom(c(0, 1, 1, 0), 1, p, log = TRUE)), list(c(0.2, 0.7, 0.5, 0.4))),
    dnbinom_mu = list(function(mu, k) sum(dnbinom(y, size = k, mu = mu, log = TRUE)), list(c(0.5, 2, 3, 5), 1.7)),
    dnbinom_prob = list(function(p, k) sum(dnbinom(y, k, p, log = TRUE)), list(c(0.3, 0.6), c(2.5, 1, 4, 0.8))),
    dgamma_rate = list(function(a, r) sum(dgamma(pos, a, r, log = TRUE)), list(c(0.7, 2.5), c(1.3, 0.4, 2, 1))),
    dgamma_scale = list(function(a, s) sum(dgamma(pos, shape = a, scale = s, log = TRUE)), list(1.6, c(0.5, 2))),
    dbeta = list(function(a, b) sum(dbeta(u, a, b, log = TRUE)), list(c(0.6, 2, 3, 1), c(1.5, 0.8))),
    dexp = list(function(r) sum(dexp(pos, r, log = TRUE)), list(c(0.5, 1.5, 3, 0.2))),
    dlnorm = list(function(m, s) sum(dlnorm(pos, m, s, log = TRUE)), list(c(0.1, -0.5), 0.8)),
    dt = list(function(d) sum(dt(x, d, log = TRUE)), list(c(1.5, 3, 10, 30))),
    dlogis = list(function(l, s) sum(dlogis(x, l, s, log = TRUE)), list(c(0.2, -1), c(0.5, 1.5, 1, 2))),
    dweibull = list(function(k, s) sum(dweibull(pos, k, s, log = TRUE)), list(c(0.8, 1.7), c(1, 2.5, 0.6, 3))),
    plogis = list(function(q) sum(plogis(q, 0.5, 2) + plogis(q, log.p = TRUE) + plogis(q, lower.tail = FALSE, log.p = TRUE)), list(x)),
    qlogis = list(function(p) sum(qlogis(p, 1, 2) + qlogis(log(p), log.p = TRUE) + qlogis(p, lower.tail = FALSE)), list(u)),
    pnorm = list(function(m) sum(pnorm(x, m, 2, log.p = TRUE)), list(c(0.3, -0.4))),
    qnorm = list(function(p) sum(qnorm(p, 1, 3)), list(u)),
    dunif = list(function(b) sum(dunif(u, 0, b, log = TRUE)), list(c(1.5, 2))),
    pexp = list(function(r) sum(pexp(pos, r) + pexp(pos, r, lower.tail = FALSE, log.p = TRUE)), list(c(0.7, 1.4)))
  )
  for (nm in names(cases)) {
    cs <- cases[[nm]]
    for (k in seq_along(cs[[2]])) expect_traced(cs[[1]], cs[[2]], wrt = k, label = paste(nm, "arg", k))
  }
})

test_that("densities keep the shape of x and work on rj_arrays eagerly", {
  x <- matrix(c(0.5, 1.5, 2, 3), 2)
  expect_eager_verb("dnorm", x, 1, 2, base = stats::dnorm)
  expect_eager_verb("dpois", c(0, 2, 5), c(1.5, 2, 3), TRUE, base = stats::dpois)
  expect_eager_verb("dgamma", x, 2, 3, base = stats::dgamma)
  expect_eager_verb("dbeta", c(0.2, 0.7), 2, 3, base = stats::dbeta)
  expect_eager_verb("dt", x, 4, base = stats::dt)
  expect_eager_verb("plogis", x, base = stats::plogis)
  f <- function(m) dnorm(x, m, 1, log = TRUE)
  got <- plain(jit(f)(0.5))
  expect_equal(dim(got), c(2L, 2L))
  expect_equal(got, f(0.5), tolerance = 1e-12)
})

test_that("edge cases and supports give R's values", {
  f <- function(l) dpois(c(-1, 0, 2, 1.5), l, log = TRUE)
  expect_warning(v <- plain(jit(f)(2)), "non-integer x = 1.500000")
  expect_equal(v, suppressWarnings(stats::dpois(c(-1, 0, 2, 1.5), 2, log = TRUE)))
  expect_equal(plain(jit(function(l) dpois(c(0, 1), l))(0)), c(1, 0))
  expect_equal(plain(jit(function(p) dbinom(c(0, 3, 4), 3, p))(1)), stats::dbinom(c(0, 3, 4), 3, 1))
  expect_equal(plain(jit(function(s) dnorm(c(1, 2), 1, s))(0)), c(Inf, 0))
  expect_equal(plain(jit(function(a) dgamma(c(-1, 0, 2), a))(1)), stats::dgamma(c(-1, 0, 2), 1))
  expect_equal(plain(jit(function(a) dgamma(c(0, 1), a, log = TRUE))(0.5)), stats::dgamma(c(0, 1), 0.5, log = TRUE))
  expect_equal(plain(jit(function(a) dbeta(c(-0.1, 0, 1, 1.2), a, 2))(1)), stats::dbeta(c(-0.1, 0, 1, 1.2), 1, 2))
  expect_equal(plain(jit(function(r) dexp(c(-1, 0, 1), r))(2)), stats::dexp(c(-1, 0, 1), 2))
  expect_equal(plain(jit(function(m) dlnorm(c(-1, 0, 1), m))(0)), stats::dlnorm(c(-1, 0, 1), 0))
  expect_equal(plain(jit(function(p) qlogis(p))(c(0, 1))), c(-Inf, Inf))
  expect_equal(plain(jit(function(z) plogis(z, log.p = TRUE))(c(-800, 800))), stats::plogis(c(-800, 800), log.p = TRUE))
})

test_that("invalid parameters give NaN, with R's warning where R warns", {
  expect_warning(v <- plain(jit(function(s) dnorm(1, 0, s))(-1)), "NaNs produced")
  expect_true(is.nan(v))
  expect_warning(v <- plain(jit(function(l) dpois(2, l))(-1)), "NaNs produced")
  expect_true(is.nan(v))
  expect_warning(v <- plain(jit(function(p) dbinom(1, 3, p))(1.5)), "NaNs produced")
  expect_true(is.nan(v))
  expect_true(is.nan(plain(jit(function(d) dt(1, d))(-2))))
  expect_true(is.nan(plain(jit(function(a) dgamma(1, a))(-1))))
})

test_that("the verbs are stats' functions for plain R data", {
  ns <- asNamespace("rjax")
  expect_identical(ns$tv_dnorm(1:3, 1, 2, TRUE), stats::dnorm(1:3, 1, 2, TRUE))
  expect_identical(ns$tv_dgamma(2, 3, scale = 2), stats::dgamma(2, 3, scale = 2))
  expect_identical(ns$tv_dnbinom(2, 3, mu = 2), stats::dnbinom(2, 3, mu = 2))
  expect_identical(ns$tv_dbeta(0.5, 2, 3, ncp = 1), stats::dbeta(0.5, 2, 3, ncp = 1))
  expect_identical(ns$tv_dt(0.5, 2, ncp = 1), stats::dt(0.5, 2, ncp = 1))
  expect_identical(ns$tv_qlogis(0.3, lower.tail = FALSE), stats::qlogis(0.3, lower.tail = FALSE))
  expect_identical(suppressWarnings(ns$tv_dpois(1.5, 2)), suppressWarnings(stats::dpois(1.5, 2)))
  expect_error(ns$tv_dgamma(2, 3, rate = 1, scale = 2), class = "error")
})

test_that("unsupported options of traced densities are classed errors", {
  expect_error(jit(function(x) dt(x, 3, ncp = 1))(0.5), class = "rjax_unsupported_error")
  expect_error(jit(function(x) dbeta(x, 2, 3, ncp = 1))(0.5), class = "rjax_unsupported_error")
  expect_error(jit(function(m) dnbinom(1, 2, prob = 0.5, mu = m))(1), class = "rjax_type_error")
  expect_error(jit(function(m) dnorm(1, m, log = NA))(1), class = "rjax_type_error")
})
