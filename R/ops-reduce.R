# Reductions: sum, prod, max, min, range, any, all (R's Summary group),
# mean, and colSums/rowSums/colMeans/rowMeans.

rj_reduce <- function(prim, x, axes) {
  if (is.null(axes)) axes <- seq_along(x@shape) - 1L
  if (!length(axes)) return(x)
  rj_bind(prim, list(x), list(ints = axes))
}

# sum of integers stays integer (as in R); bool counts as integer. R data
# among the arguments is reduced by base R and stays a weakly typed number,
# so that min(x, 0) keeps an f32 x in f32.
summary_one <- function(g, x, na.rm = FALSE) {
  if (!is_rj_value(x)) {
    check_operand(x, g)
    return(get(g, envir = baseenv())(x, na.rm = na.rm))
  }
  switch(g,
    sum = rj_reduce("reduce_sum", x, NULL),
    prod = rj_reduce("reduce_prod", if (x@dtype %in% c("f32", "f64")) x else as_dtype(x, "f64"), NULL),
    max = rj_reduce("reduce_max", x, NULL),
    min = rj_reduce("reduce_min", x, NULL),
    # Counts rather than max/min, whose identities (-Inf, Inf) an empty
    # bool array cannot hold: all(logical(0)) is TRUE.
    any = rj_reduce("reduce_sum", as_dtype(x, "bool"), NULL) > 0L,
    all = rj_reduce("reduce_sum", !as_dtype(x, "bool"), NULL) == 0L,
    rj_unsupported(g)
  )
}

#' Reductions on rjax arrays
#'
#' `sum()`, `prod()`, `max()`, `min()`, `range()`, `any()`, `all()`,
#' `mean()`, `colSums()`, `rowSums()`, `colMeans()` and `rowMeans()` reduce
#' rjax arrays; the results are rank-0 (scalars) or vectors. Sums of f32
#' arrays accumulate in double precision.
#' @param x An rjax array.
#' @param ... More arrays (for the Summary group) or unused.
#' @param na.rm Drop missing values (`NA`, `NaN`) first, as base R does:
#'   they are replaced by the reduction's identity (0 for sums, 1 for
#'   products, `-Inf`/`Inf` for maxima/minima) and means divide by the
#'   number of values present. Shapes stay static, so this works under jit().
#' @param dims Number of leading dimensions treated as rows (as in base R).
#' @name rj-reduce
#' @return An `rj_array` (or traced value).
#' @examples
#' x <- rj_array(matrix(1:6 / 2, 2))
#' sum(x); colSums(x); rowMeans(x); max(x)
NULL

#' @rdname rj-reduce
#' @export
setMethod("Summary", "rj_value", function(x, ..., na.rm = FALSE) {
  g <- .Generic
  parts <- c(list(x), list(...))
  na.rm <- isTRUE(na.rm)
  if (g == "range") return(rj_concat_vectors(list(do.call(min, c(parts, na.rm = na.rm)), do.call(max, c(parts, na.rm = na.rm)))))
  vals <- lapply(parts, function(p) summary_one(g, if (na.rm) rj_na_fill(p, summary_identity(g, p)) else p, na.rm))
  combine <- switch(g, sum = `+`, prod = `*`, max = function(a, b) rj_ew("max", a, b),
                    min = function(a, b) rj_ew("min", a, b), any = `|`, all = `&`)
  Reduce(combine, vals)
})

#' @rdname rj-reduce
#' @export
#' @param trim Fraction (0 to 0.5) of the smallest and largest values
#'   dropped before the mean is taken, as in [base::mean()].
mean.rj_value <- function(x, trim = 0, na.rm = FALSE, ...) {
  if (isTRUE(na.rm)) {
    if (!identical(trim, 0)) rj_unsupported("mean(trim =, na.rm = TRUE)", "The number of values trimmed would depend on how many are missing; remove missing values before the traced function.")
    return(rj_reduce("reduce_sum", rj_na_fill(float_of(x), 0), NULL) / rj_count_present(x, NULL))
  }
  if (!identical(trim, 0) && length(x)) {
    if (!is.numeric(trim) || length(trim) != 1L || is.na(trim)) rj_abort("type", "'trim' must be numeric of length one")
    if (trim > 0) return(rj_trimmed_mean(float_of(x), trim))
  }
  s <- rj_reduce("reduce_sum", float_of(x), NULL)
  s / length(x)
}

float_of <- function(x) if (x@dtype %in% c("f32", "f64")) x else as_dtype(x, "f64")

# na.rm = TRUE with static shapes: missing values become the reduction's
# identity, and means divide by the count of values present (an all-missing
# slice gives NaN, as base R's colMeans()).
rj_na_fill <- function(x, fill) {
  if (!is_rj_value(x) || x@dtype == "bool") return(x)
  rj_ew("select", rj_ew("is_na", x), fill, x)
}
rj_count_present <- function(x, axes) rj_reduce("reduce_sum", as_dtype(!rj_ew("is_na", x), "f64"), axes)

# Identity of a Summary reduction for x's dtype (integers have no infinity:
# base R's max(c(NA, 1L), na.rm = TRUE) stays integer).
summary_identity <- function(g, x) {
  int <- is_rj_value(x) && !(x@dtype %in% c("f32", "f64"))
  switch(g, sum = if (int) 0L else 0, prod = 1,
         max = if (int) -.Machine$integer.max else -Inf,
         min = if (int) .Machine$integer.max else Inf, any = FALSE, all = TRUE)
}

rj_rowcol <- function(x, dims, rows, mean, na.rm = FALSE) {
  if (!is_rj_value(x)) x <- rj_array(x)
  r <- length(x@shape)
  if (r < 2L) rj_abort("shape", sprintf("'x' must be an array of at least two dimensions, not of shape [%s]", paste(x@shape, collapse = ",")))
  if (dims < 1L || dims >= r) rj_abort("shape", "invalid 'dims'")
  axes <- if (rows) seq.int(dims, r - 1L) else seq_len(dims) - 1L
  if (isTRUE(na.rm)) {
    s <- rj_reduce("reduce_sum", rj_na_fill(float_of(x), 0), axes)
    return(if (mean) s / rj_count_present(x, axes) else s)
  }
  s <- rj_reduce("reduce_sum", float_of(x), axes)
  if (mean) s <- s / prod(x@shape[axes + 1L])
  s
}

#' @rdname rj-reduce
#' @usage colSums(x, na.rm = FALSE, dims = 1L)
tv_colSums <- function(x, na.rm = FALSE, dims = 1L) {
  if (is_rj_value(x)) rj_rowcol(x, dims, FALSE, FALSE, na.rm) else base::colSums(x, na.rm, dims)
}
#' @rdname rj-reduce
#' @usage rowSums(x, na.rm = FALSE, dims = 1L)
tv_rowSums <- function(x, na.rm = FALSE, dims = 1L) {
  if (is_rj_value(x)) rj_rowcol(x, dims, TRUE, FALSE, na.rm) else base::rowSums(x, na.rm, dims)
}
#' @rdname rj-reduce
#' @usage colMeans(x, na.rm = FALSE, dims = 1L)
tv_colMeans <- function(x, na.rm = FALSE, dims = 1L) {
  if (is_rj_value(x)) rj_rowcol(x, dims, FALSE, TRUE, na.rm) else base::colMeans(x, na.rm, dims)
}
#' @rdname rj-reduce
#' @usage rowMeans(x, na.rm = FALSE, dims = 1L)
tv_rowMeans <- function(x, na.rm = FALSE, dims = 1L) {
  if (is_rj_value(x)) rj_rowcol(x, dims, TRUE, TRUE, na.rm) else base::rowMeans(x, na.rm, dims)
}
