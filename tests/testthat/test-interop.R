# R values in, R values out (issue 9 item 1): jitted functions and
# gradients called with plain R data return plain R data, so they plug into
# R's optimisers, root finders, integrators and data frames unchanged.

set.seed(71)
n <- 60
Xd <- cbind(1, rnorm(n), runif(n))
beta_true <- c(0.5, -0.3, 0.8)
yd <- rpois(n, exp(Xd %*% beta_true))
# A Poisson GLM negative log-likelihood, with the data captured from the
# enclosing environment as users write it.
pois_nll <- function(b) {
  eta <- Xd %*% b
  -sum(yd * eta - exp(eta) - lgamma(yd + 1))
}

test_that("results have R's types and dims: scalar, vector, matrix, integer, logical, lists", {
  expect_identical(jit(function(x) sum(x))(c(1, 2)), 3)
  expect_identical(jit(function(x) x * 2)(c(1, 2)), c(2, 4))
  expect_identical(jit(function(x) x * 2)(matrix(1, 2, 2)), matrix(2, 2, 2))
  expect_identical(jit(function(x) x + 1L)(1:3), 2:4)
  expect_identical(jit(function(x) x > 1)(c(1, 2)), c(FALSE, TRUE))
  expect_identical(jit(function(x) as_dtype(x, "f32") * 2)(1.5), 3)
  r <- jit(function(x) list(s = sum(x), v = x * 2, n = list(m = x > 0)))(c(-1, 1))
  expect_identical(r, list(s = 0, v = c(-2, 2), n = list(m = c(FALSE, TRUE))))
  expect_identical(grad(function(x) sum(x^2))(c(1, 2)), c(2, 4))
  vg <- value_and_grad(function(x) sum(x^2))(3)
  expect_identical(vg, list(value = 9, grad = 6))
  expect_null(dim(jit(function(x) sum(x))(matrix(1, 2, 2))))
})

test_that("any rj_array argument keeps results rj_arrays; output = forces either", {
  expect_true(is_rj_array(jit(function(x, y) x + y)(rj_array(1), 2)))
  expect_true(is_rj_array(grad(function(x) sum(x^2))(rj_array(c(1, 2)))))
  expect_true(is_rj_array(jit(function(x) x, output = "rj_array")(1)))
  expect_identical(jit(function(x) x, output = "r")(rj_array(1:2)), 1:2)
})

test_that("optim() BFGS with jit(nll) and jit(grad(nll)) matches glm()", {
  ref <- unname(coef(glm(yd ~ Xd[, -1], family = poisson())))
  ctl <- list(reltol = 1e-14, maxit = 500)
  o <- optim(c(0, 0, 0), jit(pois_nll), jit(grad(pois_nll)), method = "BFGS", control = ctl)
  expect_equal(o$convergence, 0L)
  expect_equal(o$par, ref, tolerance = 1e-5)
  o2 <- optim(c(0, 0, 0), pois_nll, grad(pois_nll), method = "BFGS", control = ctl)
  expect_equal(o2$par, ref, tolerance = 1e-5)
  expect_equal(o$value, pois_nll(o$par), tolerance = 1e-10)
})

test_that("Nelder-Mead, nlminb, optimize, uniroot and integrate take jitted functions", {
  ref <- unname(coef(glm(yd ~ Xd[, -1], family = poisson())))
  nm <- optim(c(0, 0, 0), jit(pois_nll), control = list(maxit = 2000, reltol = 1e-12))
  expect_equal(nm$par, ref, tolerance = 1e-3)
  nb <- nlminb(c(0, 0, 0), jit(pois_nll), jit(grad(pois_nll)))
  expect_equal(nb$par, ref, tolerance = 1e-5)
  expect_equal(optimize(jit(function(x) (x - 2)^2 + 1), c(0, 5))$minimum, 2, tolerance = 1e-4)
  expect_equal(uniroot(jit(function(x) x^3 - 2), c(0, 5), tol = 1e-10)$root, 2^(1 / 3), tolerance = 1e-8)
  expect_equal(integrate(jit(function(x) exp(-x^2 / 2)), -Inf, Inf)$value, sqrt(2 * pi), tolerance = 1e-6)
})

test_that("jitted results work in sapply, data.frame, c, round, if and comparisons", {
  jf <- jit(function(b) sum(b^2))
  expect_identical(sapply(1:3, jf), c(1, 4, 9))
  expect_identical(vapply(c(0.5, 2), jf, 0), c(0.25, 4))
  df <- data.frame(ll = jf(c(1, 2)))
  expect_identical(df$ll, 5)
  expect_identical(c(jf(c(1, 2)), 1), c(5, 1))
  expect_identical(round(jf(c(1.234, 0)), 2), 1.52)
  expect_true(if (jf(2) > 1) TRUE else FALSE)
  expect_identical(jf(2) == 4, TRUE)
  expect_identical(format(jf(1.5)), "2.25")
})

test_that("a concrete rj_array converts where R needs a value", {
  x <- rj_array(c(2, 3))
  expect_identical(as.numeric(x), c(2, 3))
  expect_identical(as.vector(x), c(2, 3))
  expect_identical(as.vector(rj_array(1:2)), 1:2)
  expect_identical(as.logical(rj_array(c(TRUE, FALSE))), c(TRUE, FALSE))
  expect_true(isTRUE(all.equal(x, c(2, 3))))
  expect_true(isTRUE(all.equal(rj_array(matrix(1, 2, 2)), matrix(1, 2, 2))))
  expect_false(isTRUE(all.equal(x, c(2, 4))))
  expect_identical(as.matrix(rj_array(matrix(1:4, 2))), matrix(1:4, 2))
  expect_true(as.logical(rj_array(2) > 1))
  expect_true(if (as.logical(rj_array(2) > 1)) TRUE else FALSE)
})
