# Helpers for the gradient tests, in the spirit of JAX's check_grads:
# reverse-mode gradients are compared with central finite differences in
# f64, at first order (d f) and second order (d <grad f, v> for a fixed
# random direction v), and the eager, jit(grad(f)) and grad(jit(f)) paths
# are compared with each other.

# Plain R values (dims kept) of an rj_array, a list of them, or R data.
to_r <- function(x) {
  if (methods::is(x, "rj_array")) return(as_r(x))
  if (is.list(x)) return(lapply(x, to_r))
  x
}

# Central finite differences of the scalar function h (R values in, a
# number out) with respect to the numeric vector/array x. The step is
# relative to |x| so that large entries are not swamped by rounding.
fd_grad <- function(h, x, eps = 1e-5) {
  g <- x
  for (i in seq_along(x)) {
    step <- eps * max(1, abs(x[[i]]))
    xp <- x; xp[[i]] <- x[[i]] + step
    xm <- x; xm[[i]] <- x[[i]] - step
    g[[i]] <- (h(xp) - h(xm)) / (2 * step)
  }
  g
}

# Finite-difference gradient of f (called with plain R data) with respect
# to each argument in `wrt` (positions), as a list.
fd_grads <- function(f, args, wrt) {
  lapply(wrt, function(k) {
    fd_grad(function(xk) {
      a <- args
      a[[k]] <- xk
      as.numeric(to_r(do.call(f, a)))
    }, args[[k]])
  })
}

# A list of gradients as plain R data (a single gradient becomes a list).
grads_as_list <- function(g, nwrt) {
  g <- to_r(g)
  if (nwrt == 1L) list(g) else unname(g)
}

# Checks the gradients of f at args (a list of R arrays):
# - first order: rjax's gradient against central finite differences;
# - the same gradient through jit(grad(f)) and grad(jit(f)), and on the
#   interpreter backend;
# - second order (order >= 2): the gradient of s(x) = sum_k <grad_k f(x), v_k>
#   (computed by rjax's grad of grad) against finite differences of s
#   (evaluated with rjax's first-order gradient, checked just before).
check_grads <- function(f, args, wrt = seq_along(args), order = 2, tol = 1e-6, label = "") {
  nwrt <- length(wrt)
  g_eager <- grads_as_list(do.call(grad(f, wrt = wrt), lapply(args, rj_array)), nwrt)
  g_fd <- fd_grads(f, args, wrt)
  for (k in seq_len(nwrt)) {
    testthat::expect_equal(g_eager[[k]], g_fd[[k]], tolerance = tol,
                           label = sprintf("%s: grad wrt argument %d", label, wrt[[k]]))
  }
  g_jit_grad <- grads_as_list(do.call(jit(grad(f, wrt = wrt)), args), nwrt)
  g_grad_jit <- grads_as_list(do.call(grad(jit(f), wrt = wrt), args), nwrt)
  testthat::expect_equal(g_jit_grad, g_eager, tolerance = 1e-12, label = sprintf("%s: jit(grad(f))", label))
  testthat::expect_equal(g_grad_jit, g_eager, tolerance = 1e-12, label = sprintf("%s: grad(jit(f))", label))
  # The same gradient program on the other backend (llvm is the default).
  g_interp <- grads_as_list(do.call(jit(grad(f, wrt = wrt), backend = "interp"), args), nwrt)
  testthat::expect_equal(g_interp, g_eager, tolerance = 1e-12, label = sprintf("%s: interp vs llvm", label))
  if (order < 2) return(invisible(g_eager))

  v <- lapply(wrt, function(k) {
    x <- args[[k]]
    x[] <- stats::rnorm(length(x))
    x
  })
  gf <- grad(f, wrt = wrt)
  s <- function(...) {
    gs <- gf(...)
    if (nwrt == 1L) gs <- list(gs)
    tot <- 0
    for (k in seq_len(nwrt)) tot <- tot + sum(gs[[k]] * v[[k]])
    tot
  }
  h_ad <- grads_as_list(do.call(grad(s, wrt = wrt), args), nwrt)
  h_fd <- fd_grads(s, args, wrt)
  for (k in seq_len(nwrt)) {
    testthat::expect_equal(h_ad[[k]], h_fd[[k]], tolerance = tol,
                           label = sprintf("%s: second order wrt argument %d", label, wrt[[k]]))
  }
  invisible(g_eager)
}

`%||%` <- function(a, b) if (is.null(a)) b else a
