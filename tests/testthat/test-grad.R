# Gradients of every primitive reachable from R verbs, and of compositions,
# against finite differences (first and second order), from one table.
# Each row: name, f (works on plain R data too: base R gives the finite
# differences), gen() -> list of arguments (respecting the domain: positive
# for log, SPD for chol, ...), optionally wrt and order.

rmat <- function(r, c, lo = -1, hi = 1) matrix(stats::runif(r * c, lo, hi), r, c)
rvec <- function(n, lo = -1, hi = 1) stats::runif(n, lo, hi)
W <- function(r, c) matrix(seq_len(r * c) / (r * c) - 0.3, r, c)  # fixed weights make outputs mix

unary <- function(name, fun, lo = -0.9, hi = 0.9, order = 2) {
  list(name = name, f = function(x) sum(fun(x) * W(3, 2)), gen = function() list(rmat(3, 2, lo, hi)), order = order)
}

grad_table <- list(
  # element-wise unary
  unary("neg", function(x) -x),
  unary("exp", exp),
  unary("log", log, 0.5, 2),
  unary("log1p", log1p, 0.1, 2),
  unary("expm1", expm1),
  unary("sqrt", sqrt, 0.5, 2),
  unary("abs", abs, 0.2, 1),
  unary("abs-negative", abs, -1, -0.2),
  unary("sin", sin), unary("cos", cos), unary("tan", tan),
  unary("asin", asin), unary("acos", acos), unary("atan", atan),
  unary("sinh", sinh), unary("cosh", cosh), unary("tanh", tanh),
  unary("asinh", asinh), unary("acosh", acosh, 1.5, 3), unary("atanh", atanh),
  unary("lgamma", lgamma, 0.5, 3),
  unary("gamma", gamma, 0.5, 3),
  unary("digamma", digamma, 0.5, 3, order = 1),  # trigamma has no gradient rule
  unary("log2", log2, 0.5, 2),
  unary("log-base", function(x) log(x, 3), 0.5, 2),
  unary("square", function(x) x^2),
  unary("cube-root", function(x) x^(1 / 3), 0.5, 2),
  unary("mean-scale", function(x) x / mean(x), 0.5, 2),
  # element-wise binary (both operands differentiated)
  list(name = "add", f = function(x, y) sum((x + y) * W(3, 2)), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "sub", f = function(x, y) sum((x - y)^2), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "mul", f = function(x, y) sum(x * y * x), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "div", f = function(x, y) sum(x / y), gen = function() list(rmat(3, 2), rmat(3, 2, 0.5, 2))),
  list(name = "pow", f = function(x, y) sum(x^y), gen = function() list(rmat(3, 2, 0.5, 2), rmat(3, 2))),
  list(name = "pow-scalar-exponent", f = function(x, y) sum(x^y), gen = function() list(rmat(3, 2, 0.5, 2), 1.7)),
  list(name = "mod", f = function(x, y) sum((x %% y) * W(3, 2)), gen = function() list(rmat(3, 2, 0.1, 0.9), rmat(3, 2, 1.1, 2)), order = 1),
  list(name = "pmax", f = function(x, y) sum(pmax(x, y) * W(3, 2)), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "pmin", f = function(x, y) sum(pmin(x, y, 0.3)^2), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "ifelse", f = function(x, y) sum(ifelse(x > y, x * y, exp(y))), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "compare-mask", f = function(x) sum((x > 0) * x^2), gen = function() list(rmat(3, 2))),
  # reductions
  list(name = "sum", f = function(x) sum(x)^2, gen = function() list(rmat(3, 2))),
  list(name = "prod", f = function(x) prod(x), gen = function() list(rmat(3, 2, 0.5, 2))),
  list(name = "max", f = function(x) max(x) * sum(x), gen = function() list(rmat(3, 2))),
  list(name = "min", f = function(x) min(x)^2, gen = function() list(rmat(3, 2, 0.1, 1))),
  list(name = "mean", f = function(x) mean(x^2), gen = function() list(rmat(3, 2))),
  list(name = "colSums", f = function(x) sum(colSums(x)^2), gen = function() list(rmat(3, 2))),
  list(name = "rowSums", f = function(x) sum(rowSums(x)^3), gen = function() list(rmat(3, 2))),
  list(name = "colMeans", f = function(x) sum(exp(colMeans(x))), gen = function() list(rmat(3, 2))),
  list(name = "rowMeans", f = function(x) sum(rowMeans(x) * c(1, 2, 3))^2, gen = function() list(rmat(3, 2))),
  # broadcasting and R's recycling
  list(name = "recycle-column-vector", f = function(x, v) sum((x + v)^2 * W(3, 4)), gen = function() list(rmat(3, 4), rvec(3))),
  list(name = "recycle-scalar", f = function(x, s) sum(exp(x * s)), gen = function() list(rmat(3, 4), 0.7)),
  list(name = "vector-times-matrix", f = function(x, v) sum(v * x * x), gen = function() list(rmat(2, 3), rvec(2))),
  # shapes
  list(name = "reshape-dim", f = function(x) { dim(x) <- c(2, 6); sum(x[, 1:3]^2) + sum(x[2, ]) }, gen = function() list(rmat(3, 4))),
  list(name = "matrix", f = function(x) sum(matrix(x, 2) %*% c(1, -1, 2)), gen = function() list(rvec(6))),
  list(name = "t", f = function(x) sum(t(x) * W(2, 3)^2), gen = function() list(rmat(3, 2))),
  list(name = "aperm", f = function(x) sum(aperm(x, c(3, 1, 2))[, , 1]^2), gen = function() list(array(rvec(24), c(2, 3, 4)))),
  list(name = "index", f = function(x) sum(x[c(1, 3), -1]^2) + x[2, 2], gen = function() list(rmat(3, 3))),
  list(name = "index-logical", f = function(x) sum(x[c(TRUE, FALSE, TRUE), ]^3), gen = function() list(rmat(3, 2))),
  list(name = "index-linear", f = function(x) sum(x[c(2, 5, 5)]^2), gen = function() list(rmat(3, 2))),
  list(name = "subassign", f = function(x, v) { x[2, ] <- v; sum(x^2 * W(3, 2)) }, gen = function() list(rmat(3, 2), rvec(2))),
  list(name = "subassign-scalar", f = function(x, s) { x[c(1, 4)] <- s; sum(exp(x)) }, gen = function() list(rmat(3, 2), 0.4)),
  list(name = "diag-extract", f = function(x) sum(diag(x)^2) + sum(x), gen = function() list(rmat(3, 3))),
  list(name = "diag-build", f = function(v) sum(diag(v) %*% W(3, 3)^2) + sum(diag(v)^2), gen = function() list(rvec(3))),
  list(name = "cbind", f = function(x, y) sum(cbind(x, y, 1)^2 * W(3, 4)), gen = function() list(rmat(3, 2), rvec(3))),
  list(name = "rbind", f = function(x, y) sum(rbind(x, y)^3), gen = function() list(rmat(2, 3), rmat(1, 3))),
  list(name = "c", f = function(x, y) sum(c(x, y)^2 * 1:5), gen = function() list(rvec(3), rvec(2))),
  list(name = "rep-times", f = function(x) sum(rep(x, 3)^2 * 1:6), gen = function() list(rvec(2))),
  list(name = "rep-each", f = function(x) sum(rep(x, each = 2)^2 * 1:6), gen = function() list(rvec(3))),
  list(name = "rep-length", f = function(x) sum(rep(x, length.out = 5)^2 * 1:5), gen = function() list(rvec(3))),
  # linear algebra
  list(name = "matmul", f = function(a, b) sum((a %*% b)^2), gen = function() list(rmat(3, 2), rmat(2, 4))),
  list(name = "matmul-vector", f = function(a, v) sum(exp(a %*% v)), gen = function() list(rmat(3, 2), rvec(2))),
  list(name = "crossprod", f = function(a, b) sum(crossprod(a, b) * W(2, 4)) + sum(crossprod(a)^2), gen = function() list(rmat(3, 2), rmat(3, 4))),
  list(name = "tcrossprod", f = function(a, b) sum(tcrossprod(a, b)^2) + sum(tcrossprod(a) * W(3, 3)), gen = function() list(rmat(3, 2), rmat(4, 2))),
  list(name = "solve-inverse", f = function(a) sum(solve(a) * W(3, 3)), gen = function() list(rmat(3, 3) + diag(3) * 3)),
  list(name = "solve-system", f = function(a, b) sum(solve(a, b)^2), gen = function() list(rmat(3, 3) + diag(3) * 3, rmat(3, 2))),
  list(name = "solve-vector", f = function(a, b) sum(solve(a, b)), gen = function() list(rmat(3, 3) + diag(3) * 3, rvec(3))),
  list(name = "det", f = function(a) det(a), gen = function() list(rmat(3, 3) + diag(3) * 2)),
  list(name = "determinant", f = function(a) sum(determinant(a)$modulus), gen = function() list(rmat(3, 3) - diag(3) * 2)),
  list(name = "chol", f = function(x) sum(chol(tcrossprod(x) + diag(3)) * W(3, 3)), gen = function() list(rmat(3, 3))),
  list(name = "chol-logdet", f = function(x) 2 * sum(log(diag(chol(crossprod(x) + diag(3))))), gen = function() list(rmat(4, 3))),
  # compositions
  list(name = "mlp-loss", f = function(W1, b1, W2, X, y) {
    h <- tanh(X %*% W1 + rep(b1, each = nrow(X)))
    out <- h %*% W2
    mean((out - y)^2)
  }, gen = function() list(rmat(3, 4), rvec(4), rmat(4, 1), rmat(5, 3), rmat(5, 1)), wrt = 1:3),
  list(name = "logsumexp", f = function(x) { m <- max(x); log(sum(exp(x - m))) + m }, gen = function() list(rvec(5)))
)

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
