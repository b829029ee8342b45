# The tutorials' examples (vignettes/transformations.Rmd): derivatives by
# vmap(grad), a curve fit by gradient descent and by Newton's method, the
# box of maximal volume through the Lagrangian's Hessian and a vmapped
# Newton iteration over random starts, and selu.

test_that("derivatives of exp(-x/2) sin(x) by vmap(grad(f)) and vmap(grad(grad(f)))", {
  f <- function(x) exp(-x / 2) * sin(x)
  x <- seq(0, 10, length.out = 101)
  d1 <- exp(-x / 2) * (cos(x) - sin(x) / 2)
  d2 <- exp(-x / 2) * (-3 / 4 * sin(x) - cos(x))
  expect_rj_equal(vmap(grad(f))(x), d1)
  expect_rj_equal(vmap(grad(grad(f)))(x), d2)
})

tutorial_fit <- function() {
  x <- seq(0, 5, length.out = 50)
  y <- exp(-0.5 * x) * sin(2 * x)
  loss <- function(p) sum((y - exp(-p[1] * x) * sin(p[2] * x))^2)
  g <- jit(grad(loss))
  h <- jit(hessian(loss))
  gd <- function(p, lr = 0.01, tol = 1e-6, max_it = 10000) {
    it <- 0
    while (sqrt(sum(as.array(g(p))^2)) > tol && it < max_it) {
      p <- p - lr * as.numeric(g(p))
      it <- it + 1
    }
    list(p = p, iterations = it)
  }
  newton <- function(p, tol = 1e-6, max_it = 100) {
    it <- 0
    while (sqrt(sum(as.array(g(p))^2)) > tol && it < max_it) {
      p <- p - as.numeric(solve(as.array(h(p)), as.array(g(p))))
      it <- it + 1
    }
    list(p = p, iterations = it)
  }
  list(gd = gd(c(0.3, 1.8)), newton = newton(c(0.3, 1.8)), jac = jacfwd(function(p) exp(-p[1] * x) * sin(p[2] * x)))
}

test_that("the curve fit: Newton with hessian() converges in far fewer iterations than gradient descent", {
  r <- tutorial_fit()
  expect_equal(r$gd$p, c(0.5, 2), tolerance = 1e-5)
  expect_equal(r$newton$p, c(0.5, 2), tolerance = 1e-8)
  expect_lt(r$newton$iterations * 5, r$gd$iterations)
  J <- as_r(r$jac(c(0.5, 2)))
  expect_equal(dim(J), c(50L, 2L))
  x <- seq(0, 5, length.out = 50)
  expect_equal(J[, 1], -x * exp(-0.5 * x) * sin(2 * x), tolerance = 1e-12)
})

box_lagrangian <- function(v) v[1] * v[2] * v[3] - v[4] * (2 * (v[1] * v[2] + v[2] * v[3] + v[1] * v[3]) - 24)

test_that("the box of surface 24 with maximal volume, by Newton's method on the Lagrangian", {
  g <- grad(box_lagrangian)
  H <- hessian(box_lagrangian)
  v <- c(1.5, 1.8, 2.5, 0.4)
  for (i in 1:20) v <- as.numeric(v - solve(as.array(H(v)), as.array(g(v))))
  expect_equal(v, c(2, 2, 2, 0.5), tolerance = 1e-10)
  expect_equal(prod(v[1:3]), 8, tolerance = 1e-10)
})

test_that("the Newton step vmapped over 100 random starts keeps the best box, NaN starts ignored", {
  g <- grad(box_lagrangian)
  H <- hessian(box_lagrangian)
  step <- jit(vmap(function(v) v - solve(H(v), g(v))))
  V <- rj_uniform(rj_key(0), c(4, 100)) * c(2.5, 2.5, 2.5, 1) + c(0.5, 0.5, 0.5, 0)
  for (i in 1:30) V <- step(V)
  # a lane is a solution when the Lagrangian's gradient vanishes; others are NaN
  score <- vmap(function(v) ifelse(sqrt(sum(g(v)^2)) < 1e-8, v[1] * v[2] * v[3], NaN))(V)
  s <- as_r(score)
  expect_true(any(is.nan(s)))
  best <- as_r(which.max(score))
  expect_equal(as_r(V)[, best], c(2, 2, 2, 0.5), tolerance = 1e-8)
  expect_equal(s[[best]], 8, tolerance = 1e-10)
  expect_equal(as_r(jit(function(s) which.max(s))(score)), best)
})

test_that("selu's where and its vmap(grad)", {
  selu <- function(x, alpha = 1.67, lambda = 1.05) lambda * ifelse(x > 0, x, alpha * exp(x) - alpha)
  x <- seq(-3, 3, length.out = 13)
  expect_rj_equal(jit(selu)(x), selu(x))
  expect_rj_equal(vmap(grad(selu))(x), ifelse(x > 0, 1.05, 1.05 * 1.67 * exp(x)))
})
