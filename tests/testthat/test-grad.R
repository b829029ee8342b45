# Gradients of every primitive reachable from R verbs, and of compositions,
# against finite differences (first and second order), from the table in
# helper-grad-table.R.

set.seed(42)
for (row in grad_table) {
  local({
    row <- row
    args <- row$gen()
    test_that(sprintf("gradients of '%s' match finite differences (order %d) and agree across jit", row$name, row$order %||% 2), {
      check_grads(row$f, args, wrt = row$wrt %||% seq_along(args), order = row$order %||% 2, label = row$name)
    })
  })
}

# ---- the grad API ------------------------------------------------------------

test_that("wrt by name and by several positions give the right gradients", {
  f <- function(a, b, c) sum(a * b) + sum(c^2)
  a <- c(1, 2); b <- c(3, 4); c <- c(0.5, -1)
  g <- grad(f, wrt = "b")(a, b, c)
  expect_rj_equal(g, a)
  g2 <- grad(f, wrt = c(3, 1))(a, b, c)
  expect_named(g2, c("c", "a"))
  expect_rj_equal(g2$c, 2 * c)
  expect_rj_equal(g2$a, b)
  g3 <- grad(f, wrt = c("a", "c"))(a = a, c = c, b = b)  # named call, any order
  expect_rj_equal(g3$a, b)
  expect_rj_equal(g3$c, 2 * c)
})

test_that("nested list params give a gradient of the same structure", {
  loss <- function(params, x) {
    h <- tanh(x %*% params$layer1$W + params$layer1$b)
    sum((h %*% params$out)^2) + params$scale[[1]]^2
  }
  set.seed(3)
  params <- list(layer1 = list(W = matrix(rnorm(6), 3), b = 0.1), out = rnorm(2), scale = list(2))
  x <- matrix(rnorm(9), 3)
  g <- grad(loss)(params, x)
  expect_equal(names(g), names(params))
  expect_equal(names(g$layer1), c("W", "b"))
  expect_equal(dim(g$layer1$W), c(3L, 2L))
  expect_rj_equal(g$scale[[1]], 4)
  # each leaf against finite differences
  flat <- unlist(params)
  fl <- function(v) {
    p <- relist(v, params)
    loss(p, x)
  }
  fd <- fd_grad(function(v) fl(v), flat)
  ad <- c(as_r(g$layer1$W), as_r(g$layer1$b), as_r(g$out), as_r(g$scale[[1]]))
  expect_equal(unname(ad), unname(fd), tolerance = 1e-6)
})

test_that("has_aux passes the auxiliary value through", {
  f <- function(x) list(sum(x^2), list(norm = sqrt(sum(x^2)), n = length(x)))
  x <- c(3, 4)
  r <- grad(f, has_aux = TRUE)(x)
  expect_rj_equal(r$grad, 2 * x)
  expect_rj_equal(r$aux$norm, 5)
  vr <- value_and_grad(f, has_aux = TRUE)(x)
  expect_rj_equal(vr$value, 25)
  expect_rj_equal(vr$grad, 2 * x)
  expect_rj_equal(vr$aux$norm, 5)
  jr <- jit(value_and_grad(f, has_aux = TRUE))(x)
  expect_rj_equal(jr$aux$norm, 5)
})

test_that("value_and_grad returns the value", {
  f <- function(x) sum(exp(x))
  x <- c(0, 1)
  r <- value_and_grad(f)(x)
  expect_rj_equal(r$value, sum(exp(x)))
  expect_rj_equal(r$grad, exp(x))
})

test_that("grad of grad of a scalar function", {
  f <- function(x) x^3 + sin(x)
  expect_rj_equal(grad(grad(f))(0.7), 6 * 0.7 - sin(0.7))
  expect_rj_equal(grad(grad(grad(f)))(0.7), 6 - cos(0.7))
  expect_rj_equal(jit(grad(grad(f)))(0.7), 6 * 0.7 - sin(0.7))
})

test_that("a non-scalar result is a classed error", {
  f <- function(x) x^2
  expect_error(grad(f)(c(1, 2)), class = "rjax_grad_error")
  expect_error(grad(f)(c(1, 2)), "scalar")
  expect_error(grad(function(x) "a")(1), class = "rjax_grad_error")
  expect_error(jit(grad(f))(c(1, 2)), class = "rjax_grad_error")
})

test_that("differentiating with respect to an integer argument is a classed error", {
  f <- function(x, k) sum(x * k)
  expect_error(grad(f, wrt = 2)(c(1, 2), 1:2), class = "rjax_grad_error")
  expect_error(grad(f, wrt = 2)(c(1, 2), 1:2), "i32")
  expect_rj_equal(grad(f)(c(1, 2), 1:2), c(1, 2))  # the integer as data is fine
  expect_error(grad(f, wrt = "z")(c(1, 2), 1:2), class = "rjax_grad_error")
})

test_that("a function that does not depend on wrt has a zero gradient", {
  f <- function(x, y) sum(y^2)
  expect_rj_equal(grad(f)(c(1, 2), c(3, 4)), c(0, 0))
})

test_that("f32 gradients keep the dtype and agree with f64", {
  set.seed(5)
  f <- function(a, x) sum(tanh(x %*% a)^2) + sum(log(abs(a) + 1))
  a <- matrix(rnorm(6), 3); x <- matrix(rnorm(12), 4)
  g64 <- grad(f)(a, x)
  g32 <- grad(f)(rj_array(a, dtype = "f32"), rj_array(x, dtype = "f32"))
  expect_equal(dtype(g32), "f32")
  expect_equal(as_r(g32), as_r(g64), tolerance = 1e-5)
})

test_that("an R number passed through jit into grad stays weakly typed (f32 stays f32)", {
  f <- function(x, k) sum(x * x) - k
  g <- jit(function(x, k) grad(f)(x, k))
  x <- rj_array(c(1, 2), dtype = "f32")
  r <- g(x, 3)
  expect_equal(dtype(r), "f32")
  expect_equal(as.vector(r), c(2, 4))
})

test_that("un-jitted grad re-traces: captured values are never stale, R values out", {
  k <- 1
  g <- grad(function(x) sum(x * k))
  expect_identical(g(c(1, 2)), c(1, 1))
  k <- 5
  expect_identical(g(c(1, 2)), c(5, 5))
  vg <- value_and_grad(function(x, y) sum(x * y), wrt = 2)
  expect_identical(vg(c(1, 2), c(3, 4)), list(value = 11, grad = c(1, 2)))
  expect_identical(names(formals(args(grad(function(a, b = 1) a * b)))), c("a", "b"))
})
