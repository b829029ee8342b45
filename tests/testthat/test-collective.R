# Collectives and shard_map() in one process: the axis has one rank, so
# collectives are the identity (a local reduction) and every rule can be
# checked here; test-distributed.R runs the same code under mpirun. The
# gradients of every collective against finite differences are rows of the
# gradient table (helper-table-collective.R, run by test-grad.R); this file
# checks values, errors, the jvp and batching rules, and shard_map().

rule_check <- function(name, args, extra = NULL, attrs = NULL, mode = "value") {
  lapply(.Call(rjax:::C_rjc_rule_check, name, args, extra, attrs, mode), function(x) if (is_rj_array(x)) as_r(x) else x)
}
in_axis <- function(f, ...) shard_map(f, in_specs = "replicated", out_specs = "replicated", axis = "i")(...)

test_that("one process is a job of one rank without MPI", {
  info <- rj_mpi_info()
  expect_false(info$active)
  expect_identical(info$rank, 0L)
  expect_identical(info$size, 1L)
})

test_that("collectives of one rank are the identity, R data in gives R data out", {
  x <- matrix(c(1.5, -2, 3, NA), 2)
  expect_identical(in_axis(function(x) rj_psum(x, "i"), x), x)
  expect_identical(in_axis(function(x) rj_pmean(x, "i"), x), x)
  expect_identical(in_axis(function(x) rj_pmax_axis(x, "i"), x), x)
  expect_identical(in_axis(function(x) rj_pmin_axis(x, "i"), 1:3), 1:3)
  expect_identical(in_axis(function(x) rj_all_gather(x, "i"), x), x)
  expect_identical(in_axis(function(x) rj_all_gather(x, "i", dim = 2), x), x)
  expect_identical(in_axis(function(x) rj_all_gather(x, "i"), 2.5), 2.5)
  expect_identical(in_axis(function(x) rj_axis_index("i"), 1), 0L)
  # rjax arrays stay rjax arrays
  y <- in_axis(function(x) rj_psum(x, "i"), rj_array(x))
  expect_true(is_rj_array(y))
  expect_identical(as_r(y), x)
})

test_that("collectives agree under jit on both backends", {
  f <- function(x) {
    shard_map(function(x) {
      list(rj_psum(x * 2, "i"), rj_pmax_axis(x, "i") - rj_pmin_axis(x, "i"), rj_all_gather(exp(x), "i", dim = 2),
           rj_axis_index("i") + 1L)
    }, in_specs = "rows", out_specs = c("replicated", "replicated", "replicated", "replicated"), axis = "i")(x)
  }
  x <- matrix(seq(-1, 1, length.out = 6), 3)
  r <- expect_backends_agree(f, x)
  expect_equal(r$llvm[[1]], 2 * x)
  expect_equal(r$llvm[[2]], 0 * x)
  expect_equal(r$llvm[[3]], exp(x))
  expect_identical(r$llvm[[4]], 1L)
})

test_that("collectives are library calls in compiled programs, never folded", {
  f <- jit(function(x) in_axis(function(x) rj_psum(x + 1, "i"), x))
  expect_equal(as_r(f(c(1, 2))), c(2, 3))
  tr <- rjax:::trace_graph(function(x) in_axis(function(x) rj_psum(x * 2, "i"), x), list(c(1, 2)))
  expect_true("psum" %in% .Call(rjax:::C_rjc_graph_prims, tr$graph))
})

test_that("bad uses of collectives are classed errors", {
  expect_error(rj_psum(1, "i"), class = "rjax_axis_error")
  expect_error(in_axis(function(x) rj_psum(x, "j"), 1), "not bound", class = "rjax_axis_error")
  expect_error(in_axis(function(x) rj_psum(x, 1), 1), class = "rjax_value_error")
  expect_error(in_axis(function(x) rj_psum(x, "i"), 1:3), "floating-point", class = "rjax_dtype_error")
  expect_error(in_axis(function(x) rj_all_gather(x, "i", dim = 3), matrix(1, 2, 2)), class = "rjax_shape_error")
  expect_error(in_axis(function(x) rj_pmax_axis(x, "i"), TRUE), class = "rjax_dtype_error")
  expect_error(in_axis(function(x) rj_psum(x, "i"), "a"), class = "rjax_type_error")
})

test_that("pmax/pmin keep R's NA rules", {
  expect_identical(in_axis(function(x) rj_pmax_axis(x, "i"), c(NA, NaN, 1)), c(NA, NaN, 1))
  expect_identical(in_axis(function(x) rj_pmin_axis(x, "i"), c(NA_integer_, 2L)), c(NA_integer_, 2L))
})

test_that("jvp rules of the collectives are the collective of the tangent", {
  x <- c(0.5, -1, 2)
  t <- c(1, 2, -3)
  for (p in c("psum", "pmax_axis", "pmin_axis", "shard_replicated_in", "shard_sum_out", "shard_replicated_out")) {
    got <- rule_check(p, list(x), list(t), list(ints = 1L), "jvp")
    expect_equal(got[[1]], x, label = p)
    expect_equal(got[[2]], t, label = paste("jvp of", p))
  }
  got <- rule_check("all_gather", list(matrix(x, 3)), list(matrix(t, 3)), list(ints = c(1L, 1L, 0L)), "jvp")
  expect_equal(got[[2]], matrix(t, 3))
  expect_equal(rule_check("axis_index", list(), list(), list(ints = 1L), "jvp")[[2]], 0L)
})

test_that("batching rules keep the batch axis (slice by slice)", {
  set.seed(4)
  xb <- array(stats::runif(24), c(2, 3, 4))
  for (p in c("psum", "pmax_axis", "pmin_axis", "shard_replicated_in", "shard_sum_out", "shard_replicated_out")) {
    for (ax in 0:2) {
      got <- rule_check(p, list(xb), ax, list(ints = 1L), "batch")
      expect_identical(got[[2]], ax, label = paste(p, ax))
      expect_equal(got[[1]], xb, label = paste(p, ax))
    }
  }
  # all_gather along each dimension, batched on each axis: slice by slice
  for (dim in 0:1) {
    for (ax in 0:2) {
      got <- rule_check("all_gather", list(xb), ax, list(ints = c(1L, dim, 0L)), "batch")
      expect_identical(got[[2]], ax)
      expect_equal(got[[1]], xb)
    }
  }
  got <- rule_check("all_gather", list(c(1, 2, 3)), 0L, list(ints = c(1L, 0L, 0L)), "batch")
  expect_equal(got[[1]], matrix(c(1, 2, 3), 3))
  expect_identical(got[[2]], 0L)
})

test_that("shard_map checks its specs", {
  f <- function(x, y) x + y
  expect_error(shard_map(f, "rows", "replicated", axis = "")(1, 2), class = "rjax_value_error")
  expect_error(shard_map(f, c("rows", "cols"), "replicated")(1, 2), "one of", class = "rjax_value_error")
  expect_error(shard_map(f, c("rows", "rows", "rows"), "replicated")(1, 2), "3 entries for 2 arguments",
               class = "rjax_value_error")
  expect_error(shard_map(function(x) list(x, x), "rows", c("rows", "rows", "local"))(1), "3 entries for 2 outputs",
               class = "rjax_value_error")
  nested <- shard_map(function(x) shard_map(function(y) y, "rows", "rows", axis = "i")(x), "rows", "rows", axis = "i")
  expect_error(nested(1), "already bound", class = "rjax_unsupported_error")
  expect_error(shard_map(function(x) x, "rows", "rows")(array(1, c(2, 2, 2))), class = "rjax_unsupported_error")
})

test_that("rows are split in contiguous blocks, the first n %% K ranks one longer", {
  blocks <- lapply(0:3, function(r) rjax:::rank_rows(10L, 4L, r))
  expect_identical(blocks, list(1:3, 4:6, 7:8, 9:10))
  expect_identical(unlist(lapply(0:2, function(r) rjax:::rank_rows(2L, 3L, r))), 1:2)
  expect_identical(rjax:::rank_rows(2L, 3L, 2L), integer())
})

test_that("shard_map returns what f returns on one rank, for every spec", {
  X <- matrix(1:6 / 3, 3)
  f <- shard_map(function(X, b, L) list(X %*% b, rj_psum(crossprod(X), "k"), L * 2),
                 in_specs = c("rows", "replicated", "local"), out_specs = c("rows", "replicated", "local"), axis = "k")
  r <- f(X, c(1, -1), 3)
  expect_equal(r[[1]], X %*% c(1, -1))
  expect_equal(r[[2]], crossprod(X))
  expect_equal(r[[3]], 6)
  j <- jit(f)(X, c(1, -1), 3)
  expect_equal(as_r(j[[1]]), r[[1]])
  expect_equal(as_r(j[[2]]), r[[2]])
})

test_that("grad outside shard_map is the gradient of the global function", {
  set.seed(2)
  X <- matrix(stats::rnorm(12), 6)
  y <- stats::rnorm(6)
  plain <- function(beta) sum((y - X %*% beta)^2)
  dist <- function(beta) {
    shard_map(function(beta, X, y) rj_psum(sum((y - X %*% beta)^2), "i"),
              in_specs = c("replicated", "rows", "rows"), out_specs = "replicated", axis = "i")(beta, X, y)
  }
  b <- c(0.3, -0.2)
  expect_equal(as_r(grad(dist)(b)), as_r(grad(plain)(b)), tolerance = 1e-12)
  expect_equal(as_r(jit(grad(dist))(b)), as_r(grad(plain)(b)), tolerance = 1e-12)
  # gradients with respect to a row-sharded argument are assembled from blocks
  gx <- grad(function(X) sum(shard_map(function(X) X^3, "rows", "rows", axis = "i")(X)))(X)
  expect_equal(as_r(gx), 3 * X^2, tolerance = 1e-12)
})

test_that("shard_map composes with jvp, vmap and hessian", {
  set.seed(5)
  X <- matrix(stats::rnorm(10), 5)
  y <- stats::rnorm(5)
  loss <- function(b) {
    shard_map(function(b, X, y) rj_psum(sum((y - X %*% b)^2), "i"),
              in_specs = c("replicated", "rows", "rows"), out_specs = "replicated", axis = "i")(b, X, y)
  }
  plain <- function(b) sum((y - X %*% b)^2)
  b <- c(0.5, -1)
  expect_equal(as_r(jvp(loss, list(b), list(c(1, 2)))$tangent), sum(as_r(grad(plain)(b)) * c(1, 2)), tolerance = 1e-12)
  Bs <- cbind(b, -b, 2 * b)
  expect_equal(as.vector(as_r(vmap(loss)(Bs))), unname(apply(Bs, 2, plain)), tolerance = 1e-12)
  expect_equal(as_r(hessian(loss)(b)), 2 * crossprod(X), tolerance = 1e-10)
})

test_that("shard_map composes with fori_loop and scan_loop", {
  step <- shard_map(function(w, X) w - 0.1 * rj_psum(crossprod(X, X %*% w - 1), "i") / 6,
                    in_specs = c("replicated", "rows"), out_specs = "replicated", axis = "i")
  X <- cbind(1, seq(0, 1, length.out = 6))
  loop <- jit(function(w, X) fori_loop(1, 20, function(i, w) step(w, X), w))
  w <- c(0, 0)
  for (i in 1:20) w <- w - 0.1 * crossprod(X, X %*% w - 1) / 6
  expect_equal(as.vector(as_r(loop(c(0, 0), X))), as.vector(w), tolerance = 1e-12)
  sc <- scan_loop(function(w, xi) list(step(w, rj_array(X)), sum(w)), c(0, 0), 1:3)
  w <- c(0, 0)
  for (i in 1:3) w <- w - 0.1 * crossprod(X, X %*% w - 1) / 6
  expect_equal(as.vector(as_r(sc$carry)), as.vector(w), tolerance = 1e-12)
})

test_that("rj_nccl_info() says whether NCCL can be opened, and why not", {
  info <- rj_nccl_info()
  expect_named(info, c("loaded", "library", "version", "why_not", "in_use", "calls", "bytes"))
  expect_type(info$loaded, "logical")
  if (info$loaded) {
    expect_match(info$library, "nccl")
    expect_gt(info$version, 20000L)
  } else {
    expect_match(info$why_not, "libnccl")
  }
  # one process: device collectives never go through NCCL
  expect_false(info$in_use)
  expect_identical(info$calls, 0)
})
