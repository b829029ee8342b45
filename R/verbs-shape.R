# Traced shape verbs: drop, rev, head, tail, array, lower.tri/upper.tri, and
# the replacement functions `[<-`, `[[<-` and `diag<-` for the case base R
# cannot dispatch: a plain R vector or matrix (numeric(n), matrix(0, n, m))
# receiving a traced value. `[<-` dispatches on its first argument only, so
# out[i] <- tracer would reach R's internal code with an S4 value; here the
# plain container becomes an rjax array first (R's own promotion: the
# container takes the value's type where that is wider).

# The value of `x` as an rjax array whose dtype can hold `value`'s.
rj_container <- function(x, value) {
  if (is_rj_value(x)) return(x)
  d <- if (is_rj_value(value)) value@dtype else NULL
  if (!is.null(d) && d %in% c("f32", "f64")) return(as_rj(if (is.double(x)) x else as.double(x), d))
  as_rj(x)
}

# Does a call of a replacement function need rjax: is the container or the
# value an rjax value, and the container not a list (lists hold tracers)?
rj_replaces <- function(x, value) (is_rj_value(x) || is_rj_value(value)) && !is.list(x)

# Calls base's replacement function with the caller's arguments as given
# (missing indices stay missing, so x[, j] <- v keeps its meaning), x and
# value replaced by the values here.
forward_replacement <- function(fun, x, value, call, env) {
  nms <- names(call)
  at <- if (!is.null(nms) && "value" %in% nms) match("value", nms) else length(call)
  call[[1L]] <- fun
  call[[2L]] <- x
  call[at] <- list(value)
  eval(call, env)
}

`tv_[<-` <- function(x, i, j, ..., value) {
  if (rj_replaces(x, value)) x <- rj_container(x, value)
  forward_replacement(base::`[<-`, x, value, sys.call(), parent.frame())
}

`tv_[[<-` <- function(x, i, j, ..., value) {
  if (rj_replaces(x, value)) x <- rj_container(x, value)
  forward_replacement(base::`[[<-`, x, value, sys.call(), parent.frame())
}

`tv_diag<-` <- function(x, value) {
  if (!rj_replaces(x, value)) return(base::`diag<-`(x, value))
  x <- rj_container(x, value)
  if (length(x@shape) != 2L) rj_abort("shape", "only matrix diagonals can be replaced")
  k <- seq_len(min(x@shape))
  if (length(value) != 1L && length(value) != length(k)) {
    rj_abort("shape", "replacement diagonal has wrong length")
  }
  x[cbind(k, k)] <- value
  x
}

tv_drop <- function(x) {
  if (!is_rj_value(x)) return(base::drop(x))
  rj_reshape(x, x@shape[x@shape != 1L])
}

tv_rev <- function(x) {
  if (!is_rj_value(x)) return(base::rev(x))
  n <- length(x)
  v <- rj_reshape(x, if (n == 1L) integer() else n)
  if (n <= 1L) v else v[n:1L]
}

# head()/tail()'s n: a count from the start (end), negative = all but |n|.
head_count <- function(n, len) {
  if (!is.numeric(n) || length(n) != 1L || is.na(n)) {
    rj_abort("type", "head()/tail() on rjax arrays need one plain number 'n'")
  }
  if (n < 0) max(len + n, 0) else min(n, len)
}

tv_head <- function(x, n = 6L, ...) {
  if (!is_rj_value(x)) return(utils::head(x, n, ...))
  if (length(x@shape) == 2L) return(x[seq_len(head_count(n, x@shape[[1L]])), , drop = FALSE])
  rj_reshape(x, length(x))[seq_len(head_count(n, length(x)))]
}

tv_tail <- function(x, n = 6L, ...) {
  if (!is_rj_value(x)) return(utils::tail(x, n, ...))
  len <- if (length(x@shape) == 2L) x@shape[[1L]] else length(x)
  k <- head_count(n, len)
  idx <- seq.int(to = len, length.out = k)
  if (length(x@shape) == 2L) return(x[idx, , drop = FALSE])
  rj_reshape(x, length(x))[idx]
}

tv_array <- function(data = NA, dim = length(data), dimnames = NULL) {
  if (!is_rj_value(data)) return(base::array(data, dim, dimnames))
  dim <- as.integer(dim)
  n <- prod(dim)
  v <- if (length(data) == n) data else if (length(data) == 1L) {
    rj_broadcast(rj_reshape(data, integer()), n)
  } else {
    rep(data, length.out = n)
  }
  rj_reshape(v, dim)
}

# The positions are known from the shape alone, so these give plain R
# logical matrices, as base R does.
tri_dims <- function(x) if (length(x@shape) == 2L) x@shape else c(length(x), 1L)

tv_lower.tri <- function(x, diag = FALSE) {
  if (!is_rj_value(x)) return(base::lower.tri(x, diag))
  d <- tri_dims(x)
  if (diag) .row(d) >= .col(d) else .row(d) > .col(d)
}

tv_upper.tri <- function(x, diag = FALSE) {
  if (!is_rj_value(x)) return(base::upper.tri(x, diag))
  d <- tri_dims(x)
  if (diag) .row(d) <= .col(d) else .row(d) < .col(d)
}

tv_row <- function(x, as.factor = FALSE) {
  if (!is_rj_value(x)) return(base::row(x, as.factor))
  .row(tri_dims(x))
}

tv_col <- function(x, as.factor = FALSE) {
  if (!is_rj_value(x)) return(base::col(x, as.factor))
  .col(tri_dims(x))
}
