# Helpers for the traced-verb and corpus tests: a function written in plain
# R is run by base R, under jit(), and differentiated by rjax; the values
# are compared with base R's and the gradient with central finite
# differences of base R's function (f64).

# A result as plain R data (rj_arrays converted; R values kept).
plain <- function(x) {
  if (is_rj_array(x)) return(as_r(x))
  if (is.list(x) && !is.data.frame(x)) return(lapply(x, plain))
  x
}

# Base R's value without attributes other than dims (traced values carry
# none), doubles for integers where rjax returns f64.
bare <- function(x) {
  if (is.list(x)) return(lapply(x, bare))
  d <- dim(x)
  x <- as.vector(x)
  if (length(d) >= 2L) dim(x) <- d
  x
}

# jit(f)(args) equals f(args) from base R (relative tolerance).
expect_jit_value <- function(f, args, tolerance = 1e-10, label = "") {
  expected <- do.call(f, args)
  got <- bare(plain(do.call(jit(f), args)))
  testthat::expect_equal(as_num_like(got, expected), as_num_like(bare(expected), expected),
                         tolerance = tolerance, label = paste(label, "jit value"))
  invisible(expected)
}

# Numbers compared as doubles (R's integer results against rjax's, which
# may differ in storage type only); dims kept.
as_num_like <- function(x, like) {
  if (is.list(x)) return(x)
  d <- dim(x)
  x <- as.double(x)
  if (length(d) >= 2L) dim(x) <- d
  x
}

# The gradient of scalar f with respect to argument `wrt` (jit(grad(f)))
# against central finite differences of f evaluated by base R.
expect_grad_fd <- function(f, args, wrt = 1L, tolerance = 1e-6, label = "") {
  g <- plain(do.call(jit(grad(f, wrt = wrt)), args))
  fd <- fd_grad(function(xk) {
    a <- args
    a[[wrt]] <- xk
    as.numeric(do.call(f, a))
  }, args[[wrt]])
  testthat::expect_equal(as_num_like(g, fd), as_num_like(fd, fd), tolerance = tolerance, label = paste(label, "gradient"))
  invisible(g)
}

# Both checks.
expect_traced <- function(f, args, wrt = 1L, tolerance = 1e-10, grad_tolerance = 1e-6, label = "", grad = TRUE) {
  expect_jit_value(f, args, tolerance, label)
  if (grad) expect_grad_fd(f, args, wrt, grad_tolerance, label)
}

# The tv_ version called eagerly on rj_arrays equals the base function on R data.
expect_eager_verb <- function(name, ..., tolerance = 1e-10, base = NULL) {
  args <- list(...)
  tv <- get(paste0("tv_", name), envir = asNamespace("rjax"))
  rj_args <- args
  rj_args[[1L]] <- rj_array(args[[1L]])
  got <- plain(do.call(tv, rj_args))
  expected <- do.call(if (is.null(base)) tv else base, args)
  testthat::expect_equal(as_num_like(bare(got), expected), as_num_like(bare(expected), expected),
                         tolerance = tolerance, label = paste0("eager tv_", name))
}
