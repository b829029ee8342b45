# Linear algebra: %*%, crossprod, tcrossprod, solve, chol, determinant/det,
# norm. Vectors follow R's rules (a vector is a column, or a row where only
# that conforms). Products and solves need float operands of one dtype.

float_pair <- function(x, y) {
  parts <- unify(list(x, y))
  lapply(parts, function(p) if (p@dtype %in% c("f32", "f64")) p else as_dtype(p, "f64"))
}

# R's rules for vectors in x %*% y: a vector is a row on the left and a
# column on the right when that conforms, else the other way round.
rj_matmul <- function(x, y, ta = FALSE, tb = FALSE) {
  xy <- float_pair(x, y)
  x <- xy[[1L]]; y <- xy[[2L]]
  rx <- length(x@shape); ry <- length(y@shape)
  if (rx > 2L || ry > 2L) rj_abort("shape", "%*% needs vectors or matrices")
  if (rx < 2L && ry < 2L) {
    x <- rj_reshape(x, c(1L, length(x)))
    y <- rj_reshape(y, c(length(y), 1L))
  } else if (rx < 2L) {
    n <- length(x)
    x <- rj_reshape(x, if (n == y@shape[[if (tb) 2L else 1L]]) c(1L, n) else c(n, 1L))
  } else if (ry < 2L) {
    n <- length(y)
    y <- rj_reshape(y, if (n == x@shape[[if (ta) 1L else 2L]]) c(n, 1L) else c(1L, n))
  }
  rj_bind("matmul", list(x, y), list(ints = c(as.integer(ta), as.integer(tb))))
}

#' Matrix products and decompositions on rjax arrays
#'
#' `%*%`, `crossprod()`, `tcrossprod()`, `solve()` (inverse, and `A x = b`),
#' `chol()` (upper triangular, as R), `determinant()`, `det()` and `norm()`.
#' All are differentiable. Compute log-determinants with
#' `determinant(x)$modulus` or `2 * sum(log(diag(chol(x))))` rather than
#' `log(det(x))`, which overflows in f32 for moderately large matrices.
#' @param x,y,a,b rjax arrays (or R data).
#' @param logarithm Return the log of the modulus (as R).
#' @param type Norm type: `"O"`, `"I"`, `"F"`, `"M"`, or `"2"` for vectors.
#' @param ... Unused.
#' @name rj-linalg
#' @return An `rj_array` (or a traced value); `determinant()` a list of
#'   class `det`.
#' @examples
#' A <- rj_array(matrix(c(4, 1, 1, 3), 2))
#' A %*% A; crossprod(A); solve(A); solve(A, c(1, 2)); chol(A)
#' det(A); determinant(A)$modulus
NULL

#' @rdname rj-linalg
#' @export
setMethod("%*%", signature("rj_value", "ANY"), function(x, y) rj_matmul(x, y))
#' @rdname rj-linalg
#' @export
setMethod("%*%", signature("ANY", "rj_value"), function(x, y) rj_matmul(x, y))
#' @rdname rj-linalg
#' @export
setMethod("%*%", signature("rj_value", "rj_value"), function(x, y) rj_matmul(x, y))

# crossprod (t(x) %*% y) and tcrossprod (x %*% t(y)); vectors are columns.
rj_cross <- function(x, y, transpose_left) {
  if (!is_rj_value(x)) x <- rj_float_like(if (is.null(dim(x))) base::matrix(x) else x, list(y))
  if (is.null(y)) {
    x <- float_pair(x, x)[[1L]]
    y <- x
  }
  if (length(x@shape) < 2L) x <- rj_reshape(x, c(length(x), 1L))
  if (is_rj_value(y) && length(y@shape) < 2L) y <- rj_reshape(y, c(length(y), 1L))
  if (!is_rj_value(y) && is.null(dim(y))) dim(y) <- c(length(y), 1L)
  rj_matmul(x, y, ta = transpose_left, tb = !transpose_left)
}

#' @rdname rj-linalg
#' @usage crossprod(x, y = NULL)
tv_crossprod <- function(x, y = NULL) {
  if (!is_rj_value(x) && !is_rj_value(y)) return(base::crossprod(x, y))
  rj_cross(x, y, TRUE)
}

#' @rdname rj-linalg
#' @usage tcrossprod(x, y = NULL)
tv_tcrossprod <- function(x, y = NULL) {
  if (!is_rj_value(x) && !is_rj_value(y)) return(base::tcrossprod(x, y))
  rj_cross(x, y, FALSE)
}

check_square <- function(a, what) {
  if (length(a@shape) != 2L || a@shape[[1L]] != a@shape[[2L]]) {
    rj_abort("shape", sprintf("'%s' must be a square matrix, not of shape [%s]", what, paste(a@shape, collapse = ",")))
  }
}

#' @rdname rj-linalg
#' @method solve rj_value
#' @export
solve.rj_value <- function(a, b, ...) {
  if (length(a@shape) < 2L) a <- rj_reshape(a, c(length(a), 1L))  # as base R's as.matrix(a)
  if (missing(b)) {
    a <- float_of(a)
    check_square(a, "a")
    b <- diag(1, a@shape[[1L]])
  }
  ab <- float_pair(a, b)
  a <- ab[[1L]]; b <- ab[[2L]]
  check_square(a, "a")
  vec <- length(b@shape) < 2L
  if (vec) b <- rj_reshape(b, c(length(b), 1L))
  if (b@shape[[1L]] != a@shape[[1L]]) {
    rj_abort("shape", sprintf("solve: 'b' has %d rows but 'a' is %d x %d", b@shape[[1L]], a@shape[[1L]], a@shape[[2L]]))
  }
  x <- rj_bind("solve", list(a, b), list(ints = 0L))
  if (vec) rj_reshape(x, if (length(x) == 1L) integer() else length(x)) else x
}

#' @rdname rj-linalg
#' @export
chol.rj_value <- function(x, ...) {
  x <- float_of(x)
  check_square(x, "x")
  rj_bind("cholesky", list(x))
}

#' @rdname rj-linalg
#' @export
determinant.rj_value <- function(x, logarithm = TRUE, ...) {
  x <- float_of(x)
  check_square(x, "x")
  mod <- rj_bind("logabsdet", list(x))
  if (!logarithm) mod <- exp(mod)
  structure(list(modulus = structure(mod, logarithm = logarithm), sign = rj_bind("detsign", list(x))), class = "det")
}

#' @rdname rj-linalg
#' @usage norm(x, type = c("O", "I", "F", "M", "2"))
tv_norm <- function(x, type = c("O", "I", "F", "M", "2")) {
  if (!is_rj_value(x)) return(forward_to_base(base::norm, match.call(), parent.frame(), list(x = x)))
  type <- toupper(substr(type[[1L]], 1L, 1L))
  x <- float_of(x)
  if (length(x@shape) < 2L) x <- rj_reshape(x, c(length(x), 1L))
  switch(type,
    O = , "1" = max(colSums(abs(x))),
    I = max(rowSums(abs(x))),
    F = , E = sqrt(sum(x * x)),
    M = max(abs(x)),
    "2" = if (x@shape[[2L]] == 1L) sqrt(sum(x * x)) else rj_unsupported("norm(x, \"2\") of a matrix", "It needs an SVD."),
    rj_abort("type", sprintf("invalid 'type' for norm: %s", type))
  )
}


# backsolve()/forwardsolve(): the triangular solve primitive on the leading
# k x k block (only its upper / lower triangle is read, as in R).
rj_trisolve <- function(r, x, k, upper.tri, transpose) {
  r <- as_rj(r)
  if (length(r@shape) != 2L) rj_abort("shape", "'r' must be a matrix")
  vec <- is.null(dim(x))
  xx <- as_rj(if (vec && !is_rj_value(x)) base::matrix(x) else x)
  if (length(xx@shape) < 2L) xx <- rj_reshape(xx, c(length(xx), 1L))
  k <- as.integer(k)
  if (k < 1L || k > min(r@shape)) rj_abort("shape", "invalid 'k' argument")
  if (xx@shape[[1L]] < k) rj_abort("shape", "invalid argument values in 'backsolve'")
  if (any(r@shape != k)) r <- r[seq_len(k), seq_len(k), drop = FALSE]
  if (xx@shape[[1L]] != k) xx <- xx[seq_len(k), , drop = FALSE]
  rx <- float_pair(r, xx)
  out <- rj_bind("trisolve", rx, list(ints = c(as.integer(upper.tri), as.integer(transpose))))
  if (vec) rj_reshape(out, if (k == 1L) integer() else k) else out
}

tv_backsolve <- function(r, x, k = ncol(r), upper.tri = TRUE, transpose = FALSE) {
  if (!rj_any_value(r, x)) return(base::backsolve(r, x, k, upper.tri, transpose))
  rj_trisolve(r, x, k, upper.tri, transpose)
}

tv_forwardsolve <- function(l, x, k = ncol(l), upper.tri = FALSE, transpose = FALSE) {
  if (!rj_any_value(l, x)) return(base::forwardsolve(l, x, k, upper.tri, transpose))
  rj_trisolve(l, x, k, upper.tri, transpose)
}

# kronecker(X, Y): outer(X, Y, FUN) laid out as R does, [i, j] blocks
# X[i, j] * Y, by one permutation of the outer product's dimensions.
tv_kronecker <- function(X, Y, FUN = "*", make.dimnames = FALSE, ...) {
  if (!rj_any_value(X, Y)) return(base::kronecker(X, Y, FUN, make.dimnames, ...))
  dX <- dim(X) %||% length(X)
  dY <- dim(Y) %||% length(Y)
  r <- max(length(dX), length(dY))
  dX <- c(dX, rep(1L, r - length(dX)))
  dY <- c(dY, rep(1L, r - length(dY)))
  op <- outer(X, Y, FUN, ...)
  op <- rj_reshape(as_rj(op), c(dX, dY))
  perm <- as.vector(rbind(r + seq_len(r), seq_len(r)))  # (Y1, X1, Y2, X2, ...)
  rj_reshape(aperm(op, perm), dX * dY)
}

`tv_%x%` <- function(X, Y) tv_kronecker(X, Y)
