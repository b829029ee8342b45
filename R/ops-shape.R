# Shape verbs: t, aperm, dim<-, [ and [<- with static indices, matrix, rep,
# c, cbind, rbind, outer, diag. Indexing is lowered to the gather and
# scatter primitives over per-dimension index sets (0-based in the IR).

rj_reshape <- function(x, shape) {
  shape <- as.integer(shape)
  if (identical(x@shape, shape)) return(x)
  rj_bind("reshape", list(x), list(shape = shape))
}
rj_broadcast <- function(x, shape) rj_bind("broadcast", list(x), list(shape = as.integer(shape)))
rj_transpose <- function(x, perm) rj_bind("transpose", list(x), list(ints = as.integer(perm)))
rj_gather <- function(x, lists) rj_bind("gather", list(x), list(lists = lists))

as_rj <- function(x, like = NULL) {
  if (is_rj_value(x)) return(x)
  check_operand(x, "array construction")
  d <- if (!is.null(like) && is.double(x) && like %in% c("f32", "f64")) like else NULL
  rj_array(x, dtype = d)
}

# The dtype that a set of operands shares (weak R data adopts the arrays').
common_dtype <- function(parts) {
  ds <- unique(vapply(Filter(is_rj_value, parts), function(p) p@dtype, ""))
  if (!length(ds)) return(NULL)
  if (all(c("f32", "f64") %in% ds)) {
    rj_abort("dtype", "the arrays mix f32 and f64; convert one with as_dtype()")
  }
  for (d in c("f64", "f32", "i32", "bool")) if (d %in% ds) return(d)
}

unify <- function(parts) {
  d <- common_dtype(parts)
  if (any(vapply(parts, function(p) !is_rj_value(p) && is.double(p), NA)) && d %in% c("i32", "bool")) d <- "f64"
  lapply(parts, function(p) {
    p <- as_rj(p, d)
    if (p@dtype != d) as_dtype(p, d) else p
  })
}

rj_concat_vectors <- function(parts) {
  parts <- unify(parts)
  parts <- lapply(parts, function(p) rj_reshape(p, length(p)))
  rj_bind("concat", parts, list(ints = 0L))
}

#' Shape and indexing verbs on rjax arrays
#'
#' `t()`, `aperm()`, `dim<-`, `[`, `[<-`, `c()`, `rep()`, `matrix()`,
#' `cbind()`, `rbind()`, `outer()` and `diag()` follow base R. Indices must
#' be known when tracing (R numbers or logicals, not traced values); use
#' [where()] for value-dependent selection. `rep()` takes `times`, `each`
#' and `length.out` as in base R. `x[i] <- v` inside a traced
#' function is a functional update: `x` is rebound, nothing is mutated.
#' @param x,a,data,X,Y rjax arrays (or R data where base R is called).
#' @param i,j Indices: positive or negative numbers, logicals, or missing.
#' @param drop Drop dimensions of extent one, as in R.
#' @param value Replacement values.
#' @param perm Permutation of the dimensions.
#' @param ... Further indices or arrays.
#' @name rj-shape
#' @return An `rj_array` (or a traced value).
#' @examples
#' x <- rj_array(matrix(1:6, 2))
#' t(x); x[2, ]; x[, -1]
#' x[1, 2] <- 0L; x
#' cbind(x, 7:8)
#' diag(rj_array(matrix(1:4, 2)))
NULL

#' @rdname rj-shape
#' @export
t.rj_value <- function(x) {
  switch(as.character(length(x@shape)),
    "0" = rj_reshape(x, c(1L, 1L)),
    "1" = rj_reshape(x, c(1L, x@shape)),
    "2" = rj_transpose(x, c(1L, 0L)),
    rj_abort("shape", "argument is not a matrix")
  )
}

#' @rdname rj-shape
#' @export
aperm.rj_value <- function(a, perm = NULL, ...) {
  r <- length(a@shape)
  if (is.null(perm)) perm <- rev(seq_len(r))
  if (length(perm) != r || !setequal(perm, seq_len(r))) rj_abort("shape", "'perm' is of wrong length or not a permutation")
  rj_transpose(a, perm - 1L)
}

#' @rdname rj-shape
#' @export
setMethod("dim<-", "rj_value", function(x, value) {
  if (is.null(value)) return(rj_reshape(x, length(x)))
  value <- rj_static_size(value, "value", "dim<-")
  if (prod(value) != length(x)) {
    rj_abort("shape", sprintf("dims [product %d] do not match the length of object [%d]", as.integer(prod(value)), length(x)))
  }
  rj_reshape(x, value)
})

# One dimension's index (1-based R semantics) -> 0-based integer positions.
normalize_index <- function(i, n, what = "subscript") {
  if (missing(i) || is.null(i)) return(seq_len(n) - 1L)
  if (is_rj_tracer(i)) {
    rj_concretization_error(i, "index an array with a traced index (indices must be known when tracing; use where() to select by value)")
  }
  if (is_rj_array(i)) i <- rj_values(i)
  if (is.logical(i)) {
    if (anyNA(i)) rj_abort("index", "NA in a logical index")
    if (length(i) > n) rj_abort("index", "(subscript) logical subscript too long")
    return(which(rep_len(i, n)) - 1L)
  }
  if (!is.numeric(i)) rj_abort("index", sprintf("invalid subscript type '%s': rjax arrays have no names", typeof(i)))
  if (anyNA(i)) rj_abort("index", "NA in an index")
  i <- trunc(i)
  if (any(i < 0)) {
    if (any(i > 0)) rj_abort("index", "can't mix positive and negative subscripts")
    return(setdiff(seq_len(n), -i) - 1L)
  }
  i <- i[i != 0]
  if (any(i > n)) rj_abort("index", sprintf("%s out of bounds: index %s of extent %d", what, format(max(i)), n))
  as.integer(i) - 1L
}

is_missing_index <- function(i) is.symbol(i) && identical(as.character(i), "")

# x[m] with a numeric matrix m of one column per dimension of x selects
# elements by (row, column, ...) as in R: here their 0-based positions in
# the column-major flattening. Rows with a 0 are dropped; negative entries
# are an error, as in R.
matrix_index_positions <- function(x, m) {
  shape <- x@shape
  if (anyNA(m)) rj_abort("index", "NA in a matrix index")
  if (any(m < 0)) rj_abort("index", "negative values are not allowed in a matrix subscript")
  m <- trunc(m[apply(m != 0, 1L, all), , drop = FALSE])
  for (d in seq_along(shape)) {
    if (any(m[, d] > shape[[d]])) rj_abort("index", "subscript out of bounds")
  }
  stride <- cumprod(c(1, shape[-length(shape)]))
  as.integer(drop((m - 1) %*% stride))
}

is_matrix_index <- function(x, i) {
  !is_rj_value(i) && is.matrix(i) && is.numeric(i) && length(x@shape) >= 2L && ncol(i) == length(x@shape)
}

index_lists <- function(x, idx, nidx) {
  shape <- x@shape
  extents <- if (nidx == 1L) length(x) else shape
  if (nidx != 1L && nidx != length(shape)) rj_abort("index", sprintf("incorrect number of dimensions: %d indices for an array of shape [%s]", nidx, paste(shape, collapse = ",")))
  lapply(seq_len(nidx), function(d) {
    if (is_missing_index(idx[[d]])) seq_len(extents[[d]]) - 1L
    else normalize_index(idx[[d]], extents[[d]])
  })
}

# Collects the indices of `[`/`[<-` from the calling frame, missing ones as
# empty symbols.
collect_indices <- function(env, n) {
  nms <- c("i", "j")
  out <- vector("list", n)
  for (k in seq_len(min(n, 2L))) {
    out[k] <- list(if (eval(call("missing", as.name(nms[[k]])), env)) quote(expr = ) else get(nms[[k]], envir = env))
  }
  for (k in seq_len(max(n - 2L, 0L))) {  # ..k, one at a time: some may be missing
    dk <- as.name(paste0("..", k))
    out[2L + k] <- list(if (eval(call("missing", dk), env)) quote(expr = ) else eval(dk, env))
  }
  out
}

#' @rdname rj-shape
#' @aliases [,rj_value-method
#' @export
setMethod("[", "rj_value", function(x, i, j, ..., drop = TRUE) {
  nidx <- nargs() - 1L - !missing(drop)
  if (nidx == 0L) return(x)
  idx <- collect_indices(environment(), nidx)
  if (nidx == 1L && is_missing_index(idx[[1L]])) return(x)  # x[] is x
  if (nidx == 1L && is_matrix_index(x, idx[[1L]])) {
    pos <- matrix_index_positions(x, idx[[1L]])
    out <- rj_gather(rj_reshape(x, length(x)), list(pos))
    return(if (length(pos) == 1L) rj_reshape(out, integer()) else out)
  }
  lists <- index_lists(x, idx, nidx)
  src <- if (nidx == 1L) rj_reshape(x, length(x)) else x
  out <- rj_gather(src, lists)
  shape <- lengths(lists)
  if (nidx == 1L || isTRUE(drop)) shape <- shape[shape != 1L]
  if (prod(shape) == 1 && (nidx == 1L || isTRUE(drop))) shape <- integer()
  rj_reshape(out, shape)
})

#' @rdname rj-shape
#' @aliases [<-,rj_value-method
#' @export
setMethod("[<-", "rj_value", function(x, i, j, ..., value) {
  nidx <- nargs() - 2L
  idx <- collect_indices(environment(), nidx)
  v <- if (is_rj_value(value)) value else as_rj(value, x@dtype)
  if (v@dtype != x@dtype) {
    if (v@dtype %in% c("f32", "f64") && x@dtype %in% c("f32", "f64")) {
      rj_abort("dtype", sprintf("cannot assign %s values into a %s array; convert with as_dtype()", v@dtype, x@dtype))
    }
    # As in R, the container widens to the value's type (x <- 1:3; x[1] <- 0.5
    # makes x double); a narrower value is converted to the container's.
    rank <- c(bool = 1L, i32 = 2L, f32 = 3L, f64 = 3L)
    if (rank[[v@dtype]] > rank[[x@dtype]]) x <- as_dtype(x, v@dtype) else v <- as_dtype(v, x@dtype)
  }
  if (nidx == 1L && is_matrix_index(x, idx[[1L]])) {
    idx <- list(matrix_index_positions(x, idx[[1L]]) + 1L)
  }
  # x[mask] <- value with a bool array mask covering x and one value is an
  # element-wise choice: it needs no known index, so it works on traced masks.
  mask <- if (nidx == 1L && !is_missing_index(idx[[1L]])) idx[[1L]]
  if (is_rj_value(mask) && mask@dtype == "bool" && length(mask) == length(x) && length(v) == 1L) {
    return(where(rj_reshape(mask, x@shape), rj_reshape(v, integer()), x))
  }
  lists <- index_lists(x, idx, nidx)
  sel <- lengths(lists)
  n <- prod(sel)
  if (length(v) == 1L) v <- rj_reshape(v, integer())
  else if (length(v) == n) v <- rj_reshape(v, sel)
  else rj_abort("shape", sprintf("number of items to replace (%d) is not the length of the replacement (%d)", as.integer(n), length(v)))
  if (nidx == 1L) {
    flat <- rj_reshape(x, length(x))
    out <- rj_bind("scatter", list(flat, if (length(v@shape)) rj_reshape(v, n) else v), list(lists = lists, ints = 0L))
    return(rj_reshape(out, x@shape))
  }
  rj_bind("scatter", list(x, v), list(lists = lists, ints = 0L))
})

# x[[i]] (and x[[i, j]]) is one element; every index must pick exactly one.
check_one_each <- function(x, idx) {
  for (d in seq_along(idx)) {
    if (is_missing_index(idx[[d]]) || length(idx[[d]]) != 1L) rj_abort("index", "[[ ]] on an rjax array needs exactly one index per dimension")
  }
}

#' @rdname rj-shape
#' @aliases [[,rj_value-method
#' @export
setMethod("[[", "rj_value", function(x, i, j, ...) {
  nidx <- nargs() - 1L
  idx <- collect_indices(environment(), nidx)
  check_one_each(x, idx)
  if (nidx == 1L && is.numeric(idx[[1L]]) && idx[[1L]] > length(x)) rj_abort("index", "subscript out of bounds")
  do.call(`[`, c(list(x), idx))
})

#' @rdname rj-shape
#' @aliases [[<-,rj_value-method
#' @export
setMethod("[[<-", "rj_value", function(x, i, j, ..., value) {
  nidx <- nargs() - 2L
  idx <- collect_indices(environment(), nidx)
  check_one_each(x, idx)
  if (length(value) != 1L) rj_abort("shape", "more elements supplied than there are to replace")
  do.call(`[<-`, c(list(x), idx, list(value = value)))
})

#' @rdname rj-shape
#' @export
setMethod("c", "rj_value", function(x, ...) {
  parts <- c(list(x), list(...))
  if (length(parts) == 1L) return(rj_reshape(x, if (length(x) == 1L) integer() else length(x)))
  rj_concat_vectors(parts)
})

# rep()'s arguments after x, matched as base R matches them.
rep_args <- function(times = 1L, length.out = NA, each = 1L) {
  list(times = times, length.out = length.out, each = each)
}

#' @rdname rj-shape
#' @export
setMethod("rep", "rj_value", function(x, ...) {
  a <- rep_args(...)
  for (nm in names(a)) a[[nm]] <- rj_static_size(a[[nm]], nm, "rep")
  times <- a$times
  each <- a$each
  n <- length(x)
  v <- rj_reshape(x, n)
  if (is.na(a$length.out[1L]) && length(times) == 1L) {
    # Fusable forms: each = k stretches a new leading axis, times = k a trailing one.
    if (each > 1L) v <- rj_reshape(rj_broadcast(rj_reshape(v, c(1L, n)), c(each, n)), each * n)
    m <- length(v)
    if (times > 1L) v <- rj_reshape(rj_broadcast(rj_reshape(v, c(m, 1L)), c(m, times)), m * times)
    return(if (length(v) == 1L) rj_reshape(v, integer()) else v)
  }
  idx <- rep(seq_len(n), times = times, each = each, length.out = a$length.out) - 1L
  out <- rj_gather(v, list(idx))
  if (length(idx) == 1L) rj_reshape(out, integer()) else out
})

#' @rdname rj-shape
#' @param nrow,ncol,byrow,dimnames As in [base::matrix()].
#' @usage matrix(data = NA, nrow = 1, ncol = 1, byrow = FALSE, dimnames = NULL)
tv_matrix <- function(data = NA, nrow = 1, ncol = 1, byrow = FALSE, dimnames = NULL) {
  if (!is_rj_value(data)) return(forward_to_base(base::matrix, match.call(), parent.frame(), list(data = data)))
  n <- length(data)
  if (missing(nrow) && missing(ncol)) { nrow <- n; ncol <- 1L }
  else if (missing(nrow)) nrow <- ceiling(n / ncol)
  else if (missing(ncol)) ncol <- ceiling(n / nrow)
  nrow <- as.integer(nrow); ncol <- as.integer(ncol)
  total <- nrow * ncol
  v <- if (n == total) data else if (n == 1L) rj_broadcast(rj_reshape(data, integer()), total) else rep(data, length.out = total)
  if (byrow) t(rj_reshape(v, c(ncol, nrow))) else rj_reshape(v, c(nrow, ncol))
}

rj_bind_dims <- function(parts, axis) {
  parts <- Filter(Negate(is.null), parts)
  mats <- Filter(function(p) length(dim(p)) == 2L, parts)
  other <- if (axis == 1L) 1L else 2L  # the dimension that must agree
  n <- if (length(mats)) dim(mats[[1L]])[[other]] else max(vapply(parts, length, 1L))
  parts <- unify(parts)
  parts <- lapply(parts, function(p) {
    if (length(p@shape) == 2L) return(p)
    len <- length(p)
    shape <- if (axis == 1L) c(n, 1L) else c(1L, n)
    if (len == n) return(rj_reshape(p, shape))
    if (len == 1L) return(rj_broadcast(rj_reshape(p, integer()), shape))
    rj_abort("shape", sprintf("%s: a vector of length %d does not fit %d %s", if (axis == 1L) "cbind" else "rbind",
                              len, n, if (axis == 1L) "rows" else "columns"))
  })
  rj_bind("concat", parts, list(ints = axis))
}

#' @rdname rj-shape
#' @param deparse.level As in [base::cbind()].
#' @usage cbind(..., deparse.level = 1)
tv_cbind <- function(..., deparse.level = 1) {
  if (!any(vapply(list(...), is_rj_value, NA))) return(base::cbind(..., deparse.level = deparse.level))
  rj_bind_dims(list(...), 1L)
}

#' @rdname rj-shape
#' @usage rbind(..., deparse.level = 1)
tv_rbind <- function(..., deparse.level = 1) {
  if (!any(vapply(list(...), is_rj_value, NA))) return(base::rbind(..., deparse.level = deparse.level))
  rj_bind_dims(list(...), 0L)
}

#' @rdname rj-shape
#' @param FUN A function or operator name, applied element-wise.
#' @usage outer(X, Y, FUN = "*", ...)
tv_outer <- function(X, Y, FUN = "*", ...) {
  if (!is_rj_value(X) && !is_rj_value(Y)) return(base::outer(X, Y, FUN, ...))
  FUN <- match.fun(FUN)
  dX <- if (!is.null(dim(X))) dim(X) else length(X)
  dY <- if (!is.null(dim(Y))) dim(Y) else length(Y)
  nx <- length(X); ny <- length(Y)
  Xb <- if (is_rj_value(X)) rj_broadcast(rj_reshape(X, c(nx, 1L)), c(nx, ny)) else base::matrix(X, nx, ny)
  Yb <- if (is_rj_value(Y)) rj_broadcast(rj_reshape(Y, c(1L, ny)), c(nx, ny)) else base::matrix(Y, nx, ny, byrow = TRUE)
  r <- FUN(Xb, Yb, ...)
  if (!is_rj_value(r)) r <- as_rj(r)
  rj_reshape(r, c(dX, dY))
}

#' @rdname rj-shape
#' @usage X %o% Y
`tv_%o%` <- function(X, Y) outer(X, Y)

#' @rdname rj-shape
#' @param names Unused.
#' @usage diag(x = 1, nrow, ncol, names = TRUE)
tv_diag <- function(x = 1, nrow, ncol, names = TRUE) {
  if (!is_rj_value(x)) return(forward_to_base(base::diag, match.call(), parent.frame(), list(x = x)))
  s <- x@shape
  if (length(s) == 2L) {
    m <- min(s)
    return(rj_gather(rj_reshape(x, prod(s)), list((seq_len(m) - 1L) * (s[[1L]] + 1L))))
  }
  n <- if (!missing(nrow)) as.integer(nrow) else length(x)
  v <- if (length(x) == 1L) rj_reshape(x, integer()) else x
  if (length(v@shape) && length(v) != n) rj_abort("shape", "'x' and 'nrow' do not agree")
  zeros <- as_rj(rep(0, n * n), x@dtype)
  if (x@dtype != zeros@dtype) zeros <- as_dtype(zeros, x@dtype)
  out <- rj_bind("scatter", list(zeros, v), list(lists = list((seq_len(n) - 1L) * (n + 1L)), ints = 0L))
  rj_reshape(out, c(n, n))
}

#' @rdname rj-shape
#' @param lag,differences As in [base::diff()]: a vector's (or a matrix's
#'   rows') lagged differences, repeated `differences` times.
#' @export
diff.rj_value <- function(x, lag = 1L, differences = 1L, ...) {
  lag <- as.integer(lag)
  r <- length(x@shape)
  if (r > 2L) rj_unsupported("diff() of an array of rank > 2")
  n0 <- if (r == 2L) x@shape[[1L]] else length(x)
  if (lag * differences >= n0) return(rj_reshape(x, length(x))[integer(0)])  # base R returns x[0L]
  for (k in seq_len(differences)) {
    n <- if (r == 2L) x@shape[[1L]] else length(x)
    x <- if (r == 2L) x[-seq_len(lag), , drop = FALSE] - x[seq_len(n - lag), , drop = FALSE]
         else rj_reshape(x, n)[-seq_len(lag)] - rj_reshape(x, n)[seq_len(n - lag)]
  }
  x
}
