# Linear-algebra verbs whose rjax versions take an rjax value in any
# argument position (the S4 generics of R/overrides.R route to them):
# solve(), backsolve(), forwardsolve(), kronecker() and %x%.

# R data among the operands becomes an array of the rjax operands' float
# dtype (R numbers are weakly typed).
rj_float_like <- function(x, others) {
  if (is_rj_value(x)) return(x)
  d <- common_dtype(Filter(is_rj_value, others))
  as_rj(x, if (!is.null(d) && d %in% c("f32", "f64")) d else NULL)
}

tv_solve <- function(a, b, ...) {
  if (missing(b)) return(solve.rj_value(rj_float_like(a, list())))
  solve.rj_value(rj_float_like(a, list(b)), b, ...)
}

rj_trisolve <- function(verb, r, x, k, upper, transpose) {
  r <- float_of(rj_float_like(r, list(x)))
  x <- rj_float_like(x, list(r))
  if (length(r@shape) != 2L) r <- rj_reshape(r, c(length(r), 1L))
  if (!is.numeric(k) || length(k) != 1L || is.na(k) || k < 1 || k > min(r@shape)) {
    rj_abort("shape", sprintf("%s(): invalid 'k' (it must be between 1 and %d)", verb, min(r@shape)))
  }
  k <- as.integer(k)
  if (k < r@shape[[1L]] || k < r@shape[[2L]]) r <- r[seq_len(k), seq_len(k), drop = FALSE]
  vec <- length(x@shape) < 2L
  xm <- if (vec) rj_reshape(x, c(length(x), 1L)) else x
  if (xm@shape[[1L]] < k) {
    rj_abort("shape", sprintf("%s(): 'x' has %d rows but the triangular system has %d", verb, xm@shape[[1L]], k))
  }
  if (xm@shape[[1L]] > k) xm <- xm[seq_len(k), , drop = FALSE]
  if (xm@dtype != r@dtype) xm <- as_dtype(xm, r@dtype)
  out <- rj_bind("trisolve", list(r, xm), list(ints = c(as.integer(isTRUE(upper)), as.integer(isTRUE(transpose)))))
  if (vec) rj_reshape(out, length(out)) else out
}

tv_backsolve <- function(r, x, k = ncol(r), upper.tri = TRUE, transpose = FALSE) {
  rj_trisolve("backsolve", r, x, if (missing(k)) min(dim(r) %||% length(r)) else k, upper.tri, transpose)
}

tv_forwardsolve <- function(l, x, k = ncol(l), upper.tri = FALSE, transpose = FALSE) {
  rj_trisolve("forwardsolve", l, x, if (missing(k)) min(dim(l) %||% length(l)) else k, upper.tri, transpose)
}

# kronecker(X, Y): with both padded to the same rank r, the result is the
# 2r-dimensional outer product with dims (dY[1], dX[1], dY[2], dX[2], ...)
# read as an array of dims dX * dY (column-major), as base R computes it.
tv_kronecker <- function(X, Y, FUN = "*", make.dimnames = FALSE, ...) {
  FUN <- match.fun(FUN)
  X <- rj_float_like(X, list(Y))
  Y <- rj_float_like(Y, list(X))
  dX <- if (length(X@shape)) X@shape else 1L
  dY <- if (length(Y@shape)) Y@shape else 1L
  r <- max(length(dX), length(dY))
  dX <- c(dX, rep(1L, r - length(dX)))
  dY <- c(dY, rep(1L, r - length(dY)))
  full <- as.vector(rbind(dY, dX))
  xs <- as.vector(rbind(1L, dX))
  ys <- as.vector(rbind(dY, 1L))
  Xb <- rj_broadcast(rj_reshape(X, xs), full)
  Yb <- rj_broadcast(rj_reshape(Y, ys), full)
  out <- FUN(Xb, Yb, ...)
  if (!is_rj_value(out)) out <- as_rj(out)
  rj_reshape(out, dX * dY)
}

`tv_%x%` <- function(X, Y) tv_kronecker(X, Y)
