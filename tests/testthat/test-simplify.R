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

test_that("static slices sink through element-wise values to the leaves, and gathers compose", {
  five_diff <- function(x) diff(diff(diff(diff(diff(x)))))
  set.seed(3)
  x <- rnorm(40)
  g <- graph_of(five_diff, list(x), "optimize")
  txt <- .Call(rjax:::C_rjc_graph_print, g)
  # Every gather reads the argument itself, at 6 offsets; 15 subtractions.
  gathers <- grep(" = gather", strsplit(txt, "\n")[[1]], value = TRUE)
  expect_length(gathers, 6)
  expect_true(all(grepl("\\] a$", gathers)))
  expect_identical(as.vector(as.array(jit(five_diff)(x))), five_diff(x))
  # Matrices: row ranges, column ranges, both, and diff of a matrix's rows.
  X <- matrix(rnorm(42), 7)
  for (f in list(function(X) X[-1, ] - X[-nrow(X), ], function(X) X[, -1] * 2 - X[, -ncol(X)],
                 function(X) (X[2:6, 2:5] - X[1:5, 1:4])[2:4, -1], function(X) diff(diff(exp(X))))) {
    g <- graph_of(f, list(X), "optimize")
    for (l in grep(" = gather", strsplit(.Call(rjax:::C_rjc_graph_print, g), "\n")[[1]], value = TRUE))
      expect_match(l, "\\] a$")
    expect_equal(as.array(jit(f)(X)), f(X), tolerance = 1e-14)
  }
  # A gather of a gather is one gather, contiguous or not.
  h <- function(x) x[c(5, 2, 9, 9)][c(4, 1, 2)]
  g <- graph_of(h, list(x), "optimize")
  expect_equal(sum(grepl(" = gather", strsplit(.Call(rjax:::C_rjc_graph_print, g), "\n")[[1]])), 1)
  expect_identical(as.vector(as.array(jit(h)(x))), h(x))
})

test_that("slices do not sink through a value that is used otherwise (no duplicated work)", {
  f <- function(x) { y <- exp(x) * 2; list(y, diff(y)) }
  x <- seq(0, 1, length.out = 11)
  g <- graph_of(f, list(x), "optimize")
  txt <- .Call(rjax:::C_rjc_graph_print, g)
  expect_equal(length(gregexpr(" = exp\\b", txt)[[1]]), 1)
  expect_equal(length(gregexpr(" = mul\\b", txt)[[1]]), 1)
  r <- jit(f)(x)
  expect_equal(as.vector(as.array(r[[2]])), diff(exp(x) * 2), tolerance = 1e-15)
})

test_that("gradients through nested diff and matrix slices match finite differences", {
  set.seed(4)
  check_grads(function(x) sum(diff(diff(diff(x)))^2), list(rnorm(9)), label = "diff3")
  check_grads(function(X) sum(sin(X[-1, ] - X[-nrow(X), ])[, -1] * X[-1, -1]), list(matrix(rnorm(12), 4)), label = "rows")
  check_grads(function(X) sum(exp(diff(X[, -1]))), list(matrix(rnorm(12), 3)), label = "cols")
})
