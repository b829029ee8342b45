# stop_gradient() and custom_vjp(): eagerly, under jit, under grad (first
# and second order).

test_that("stop_gradient is the identity on values and blocks gradients", {
  x <- c(1, 2, 3)
  expect_rj_equal(stop_gradient(rj_array(x)), x)
  expect_identical(stop_gradient(x), x)
  f <- function(x) sum(x * stop_gradient(x))
  expect_rj_equal(grad(f)(x), x)
  expect_rj_equal(jit(grad(f))(x), x)
  expect_rj_equal(grad(jit(f))(x), x)
  expect_rj_equal(jit(f)(x), sum(x^2))
  # lists: every array leaf is stopped
  g <- function(p) sum(stop_gradient(p)$a * p$b) + sum(p$a)
  r <- grad(g)(list(a = c(1, 2), b = c(3, 4)))
  expect_rj_equal(r$a, c(1, 1))
  expect_rj_equal(r$b, c(1, 2))
})

test_that("stop_gradient stops gradients at every order", {
  # d/dx [x^2 * sg(x)] = 2 x sg(x); d2/dx2 = 2 sg(x) (the sg factor stays constant)
  f <- function(x) x^2 * stop_gradient(x)
  expect_rj_equal(grad(f)(1.5), 2 * 1.5 * 1.5)
  expect_rj_equal(grad(grad(f))(1.5), 2 * 1.5)
  # a straight-through estimator
  ste <- function(x) x + stop_gradient(round(x) - x)
  expect_rj_equal(jit(ste)(c(0.2, 1.7)), c(0, 2))
  expect_rj_equal(grad(function(x) sum(ste(x) * c(2, 3)))(c(0.2, 1.7)), c(2, 3))
})

test_that("stop_gradient is removed from compiled programs but kept until AD", {
  f <- function(x) sum(exp(stop_gradient(x)) * x)
  ir <- make_ir(f)(c(1, 2))
  expect_false(grepl("stop_gradient", format(ir)))
  tr <- rjax:::trace_graph(f, list(c(1, 2)))
  expect_true(grepl("stop_gradient", .Call(rjax:::C_rjc_graph_print, tr$graph)))
  expect_rj_equal(grad(f)(c(1, 2)), exp(c(1, 2)))
})

softplus_ref <- function(x) log1p(exp(x))
softplus <- custom_vjp(
  function(x) log1p(exp(x)),
  fwd = function(x) list(log1p(exp(x)), list(sig = 1 / (1 + exp(-x)))),
  bwd = function(res, g) list(g * res$sig)
)

test_that("custom_vjp computes f eagerly, under jit and under grad", {
  x <- c(-1, 0, 2)
  expect_equal(softplus(x), softplus_ref(x))
  expect_rj_equal(softplus(rj_array(x)), softplus_ref(x))
  expect_rj_equal(jit(softplus)(x), softplus_ref(x))
  expect_rj_equal(jit(function(x) sum(softplus(x)))(x), sum(softplus_ref(x)))
  sig <- 1 / (1 + exp(-x))
  expect_rj_equal(grad(function(x) sum(softplus(x)))(x), sig)
  expect_rj_equal(jit(grad(function(x) sum(softplus(x) * 2)))(x), 2 * sig)
  expect_rj_equal(grad(jit(function(x) sum(softplus(x))))(x), sig)
  # the custom rule is used, not the derivative of f: finite where f's would overflow
  expect_rj_equal(grad(function(x) sum(softplus(x)))(800), 1)
  # no custom_vjp_call reaches the compiled program
  expect_false(grepl("custom_vjp_call", format(make_ir(function(x) sum(softplus(x)))(x))))
})

test_that("custom_vjp's rule is what grad uses (a deliberately different rule)", {
  twice_grad <- custom_vjp(function(x) x * 1, fwd = function(x) list(x * 1, NULL), bwd = function(res, g) list(2 * g))
  expect_rj_equal(twice_grad(c(1, 2)), c(1, 2))
  expect_rj_equal(grad(function(x) sum(twice_grad(x) * c(3, 4)))(c(1, 2)), c(6, 8))
})

test_that("custom_vjp: several arguments, NULL cotangents, list arguments", {
  f <- custom_vjp(
    function(a, b, p) sum(a * b) + sum(p$w^2),
    fwd = function(a, b, p) list(sum(a * b) + sum(p$w^2), list(a = a, b = b, w = p$w)),
    bwd = function(r, g) list(g * r$b, NULL, list(w = 2 * g * r$w))
  )
  a <- c(1, 2); b <- c(3, 4); p <- list(w = c(0.5, 1.5))
  gr <- grad(function(a, b, p) f(a, b, p) * 2, wrt = 1:3)(a, b, p)
  expect_rj_equal(gr$a, 2 * b)
  expect_rj_equal(gr$b, c(0, 0))  # bwd said NULL
  expect_rj_equal(gr$p$w, 4 * p$w)
})

test_that("custom_vjp works under grad of grad (bwd is differentiated)", {
  cube <- custom_vjp(function(x) x^3, fwd = function(x) list(x^3, x), bwd = function(x, g) list(3 * x^2 * g))
  expect_rj_equal(grad(cube)(2), 12)
  expect_rj_equal(grad(grad(cube))(2), 12)
  expect_rj_equal(jit(grad(grad(cube)))(2), 12)
  check_grads(function(x) sum(cube(x) * c(1, -2)), list(c(0.3, 0.8)), order = 2, label = "custom cube")
})

test_that("custom_vjp reports malformed fwd/bwd with classed errors", {
  bad_fwd <- custom_vjp(function(x) sum(x), fwd = function(x) sum(x), bwd = function(r, g) list(g))
  expect_error(grad(bad_fwd)(c(1, 2)), class = "rjax_grad_error")
  bad_bwd <- custom_vjp(function(x) sum(x), fwd = function(x) list(sum(x), NULL), bwd = function(r, g) g)
  expect_error(grad(bad_bwd)(c(1, 2)), class = "rjax_grad_error")
  bad_shape <- custom_vjp(function(x) sum(x), fwd = function(x) list(sum(x), NULL), bwd = function(r, g) list(c(g, g, g)))
  expect_error(grad(bad_shape)(c(1, 2)), class = "rjax_grad_error")
})

test_that("custom_vjp rejects closures over traced values with a classed error", {
  outer <- function(x) {
    h <- custom_vjp(function(y) y * x, fwd = function(y) list(y * x, NULL), bwd = function(r, g) list(g))
    sum(h(x))
  }
  expect_error(grad(outer)(c(1, 2)), class = "rjax_grad_error")
  expect_error(grad(outer)(c(1, 2)), "as arguments")
})
