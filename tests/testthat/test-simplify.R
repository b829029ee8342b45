# The simplifier (src/transforms/simplify.cpp): smaller programs, same values.

n_ops <- function(g) .Call(rjax:::C_rjc_graph_info, g)$n_ops
graph_of <- function(f, args, pass = NULL) {
  tr <- rjax:::trace_graph(f, args)
  if (is.null(pass)) tr$graph else .Call(rjax:::C_rjc_graph_pass, tr$graph, pass)
}
has_op <- function(g, op) grepl(paste0(" = ", op, "\\b"), .Call(rjax:::C_rjc_graph_print, g))

test_that("sum(diag(A %*% B)) becomes sum(A * t(B)), for every transpose flag", {
  set.seed(1)
  A <- matrix(rnorm(12), 3); B <- matrix(rnorm(12), 4)
  cases <- list(
    function(A, B) sum(diag(A %*% B)),
    function(A, B) sum(diag(crossprod(t(A), B))),
    function(A, B) sum(diag(tcrossprod(A, t(B)))),
    function(A, B) sum(diag(t(B) %*% t(A)))
  )
  for (f in cases) {
    g <- graph_of(f, list(A, B), "optimize")
    expect_false(has_op(g, "matmul"))
    expect_rj_equal(jit(f)(A, B), sum(diag(A %*% B)))
  }
})

test_that("transposes, reshapes, converts, log(exp()) and neutral elements are removed", {
  x <- matrix(c(1, 2, 3, 4, 5, 6), 2)
  f <- function(x) sum(t(t(x)) * 1 + 0) + sum(log(exp(x)) / 1) + sum(-(-x))
  g <- graph_of(f, list(x), "optimize")
  for (op in c("transpose", "log", "exp", "neg", "mul", "div")) expect_false(has_op(g, op), label = op)
  expect_rj_equal(jit(f)(x), 3 * sum(x))
  r <- function(x) { dim(x) <- c(3, 2); dim(x) <- c(6, 1); sum(x * c(1, 2, 3, 4, 5, 6)) }
  g <- graph_of(r, list(x), "optimize")
  expect_lte(lengths(regmatches(.Call(rjax:::C_rjc_graph_print, g), gregexpr("reshape", .Call(rjax:::C_rjc_graph_print, g)))), 1)
  expect_rj_equal(jit(r)(x), sum(x * 1:6))
  a <- function(x) sum(as_dtype(x, "f64") * 2)
  expect_false(has_op(graph_of(a, list(x), "optimize"), "convert"))
})

test_that("products by -1 and additions of negations become neg / sub / add", {
  x <- c(1, 2); y <- c(5, 7)
  f <- function(x, y) sum((x * -1) * 3 + (-y)) + sum(x - (-y))
  g <- graph_of(f, list(x, y), "optimize")
  expect_false(grepl("mul .* -1", .Call(rjax:::C_rjc_graph_print, g)))
  expect_rj_equal(jit(f)(x, y), f(x, y))
  check_grads(f, list(x, y), order = 1, label = "neg rewrites")
})

test_that("x * 0 becomes 0 (documented: as JAX's symbolic zeros)", {
  f <- function(x) sum(exp(x) * 0) + sum(x)
  g <- graph_of(f, list(c(1, 2)), "optimize")
  expect_false(has_op(g, "exp"))
  expect_rj_equal(jit(f)(c(1, 2)), 3)
})

test_that("the simplified PLN ELBO gradient program is smaller and still correct", {
  set.seed(11)
  n <- 10; p <- 4; d <- 2
  data <- grad_pln_data(n, p, d)
  par <- pln_params(n, p, d)
  vg <- value_and_grad(grad_pln_elbo, wrt = c("B", "M", "S"))
  args <- list(B = par$B, M = par$M, S = par$S, Y = data$Y, X = data$X, O = data$O, Omega = par$Omega)
  before <- graph_of(vg, args, "dce")
  after <- graph_of(vg, args, "optimize")
  expect_lt(n_ops(after), n_ops(before))
  # both programs compute the same values, equal to the analytic gradients
  run <- function(g) .Call(rjax:::C_rjc_run, .Call(rjax:::C_rjc_compile, g, "interp"), rjax:::trace_graph(vg, args)$in_leaves)
  rb <- run(before); ra <- run(after)
  for (k in seq_along(rb)) expect_equal(as_r(ra[[k]]), as_r(rb[[k]]), tolerance = 1e-12)
  ref <- pln_grads_analytic(par$B, par$M, par$S, data$Y, data$X, data$O, par$Omega)
  expect_equal(as_r(ra[[2]]), ref$B, tolerance = 1e-8)
  expect_equal(as_r(ra[[4]]), ref$S, tolerance = 1e-8)
  # make_ir shows the simplified program
  ir <- make_ir(vg)(B = par$B, M = par$M, S = par$S, Y = data$Y, X = data$X, O = data$O, Omega = par$Omega)
  expect_equal(summary(ir)$n_ops, n_ops(after))
})
