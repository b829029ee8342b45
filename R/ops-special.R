# R verbs for the primitives added with the one-definition core: atan2(),
# psigamma(), pnorm(), qnorm(), the cumulative functions, which.max() and
# which.min(), any()/all() with R's three-valued logic, and is.na()/is.nan()
# that tell NA from NaN. Each falls back to base R (or stats) for ordinary
# data. (To be folded into the package's dispatch design: see
# inst/DESIGN-NOTES.md.)

rj_any_value <- function(...) any(vapply(list(...), is_rj_value, NA))

check_flag <- function(x, what) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    rj_abort("type", sprintf("'%s' must be TRUE or FALSE (a plain R value, fixed when the function is traced)", what))
  }
  as.integer(x)
}

#' Arc-tangent of y / x on rjax arrays
#'
#' `atan2(y, x)` is the angle of the point `(x, y)`, element-wise with R's
#' recycling; integers give `"f64"`. Plain R data goes to [base::atan2()].
#' @param y,x rjax arrays or R numbers.
#' @return An `rj_array` (or a traced value).
#' @examples
#' atan2(rj_array(c(1, -1)), 0)
#' grad(function(y) sum(atan2(y, 2)))(c(1, 3))
#' @name atan2
#' @usage atan2(y, x)
tv_atan2 <- function(y, x) {
  if (!rj_any_value(y, x)) return(base::atan2(y, x))
  check_operand(y, "atan2")
  check_operand(x, "atan2")
  rj_ew("atan2", y, x)
}

#' Polygamma functions on rjax arrays
#'
#' `psigamma(x, deriv)` is the `deriv`-th derivative of [digamma()]
#' (`deriv = 0`: digamma, `1`: trigamma), for `deriv` from 0 to 100 as in R.
#' Each order is differentiable (its derivative is the next order), so
#' `lgamma`, `digamma` and `trigamma` have derivatives of every order.
#' @param x An rjax array (or R numbers, for base R's psigamma).
#' @param deriv A non-negative whole number (a plain R number; rounded as R does).
#' @return An `rj_array` (or a traced value).
#' @examples
#' psigamma(rj_array(c(0.5, 2)), 2)
#' grad(function(x) sum(trigamma(x)))(c(1, 2)) # psigamma(x, 2)
#' @name psigamma
#' @usage psigamma(x, deriv = 0L)
tv_psigamma <- function(x, deriv = 0L) {
  if (!is_rj_value(x)) return(base::psigamma(x, deriv))
  if (is_rj_value(deriv) || !is.numeric(deriv) || length(deriv) != 1L || is.na(deriv)) {
    rj_abort("unsupported", "psigamma(x, deriv): 'deriv' must be one plain R number (it is fixed when the function is traced)")
  }
  rj_bind("ew:psigamma", list(x), list(ints = as.integer(round(deriv))))
}

#' The normal distribution function and its quantiles on rjax arrays
#'
#' `pnorm()` and `qnorm()` with R's arguments, element-wise and recycled
#' over `q`/`p`, `mean` and `sd` as in R. `pnorm` uses W. J. Cody's rational
#' approximations (as R does), with an accurate `log.p` far in the tails;
#' `qnorm` uses Wichura's algorithm AS 241. Both are differentiable in all
#' three array arguments (the quantile's derivative is `sd / dnorm`).
#' Plain R data goes to [stats::pnorm()] and [stats::qnorm()].
#' @param q,p Quantiles / probabilities (log-probabilities when `log.p`).
#' @param mean,sd Means and standard deviations (recycled).
#' @param lower.tail,log.p As in R: `TRUE`/`FALSE` (plain R values).
#' @return An `rj_array` (or a traced value).
#' @examples
#' pnorm(rj_array(c(-1, 0, 1.96)))
#' qnorm(rj_array(c(0.025, 0.5)), mean = 10, sd = 2)
#' grad(function(m) sum(pnorm(1, m, 2, log.p = TRUE)))(c(0, 1))
#' @name rj-normal
NULL

#' @rdname rj-normal
#' @usage pnorm(q, mean = 0, sd = 1, lower.tail = TRUE, log.p = FALSE)
tv_pnorm <- function(q, mean = 0, sd = 1, lower.tail = TRUE, log.p = FALSE) {
  if (!rj_any_value(q, mean, sd)) return(stats::pnorm(q, mean, sd, lower.tail, log.p))
  for (a in list(q, mean, sd)) check_operand(a, "pnorm")
  rj_bind("ew:pnorm", list(q, mean, sd), list(ints = c(check_flag(lower.tail, "lower.tail"), check_flag(log.p, "log.p"))))
}

#' @rdname rj-normal
#' @usage qnorm(p, mean = 0, sd = 1, lower.tail = TRUE, log.p = FALSE)
tv_qnorm <- function(p, mean = 0, sd = 1, lower.tail = TRUE, log.p = FALSE) {
  if (!rj_any_value(p, mean, sd)) return(stats::qnorm(p, mean, sd, lower.tail, log.p))
  for (a in list(p, mean, sd)) check_operand(a, "qnorm")
  rj_bind("ew:qnorm", list(p, mean, sd), list(ints = c(check_flag(lower.tail, "lower.tail"), check_flag(log.p, "log.p"))))
}

#' Cumulative sums, products, maxima and minima of rjax arrays
#'
#' As in R, the result is a vector along the array's elements (column-major
#' order) with R's types: `cumsum` of integers (or logicals) stays integer
#' and turns to `NA` with R's warning once the running total leaves the
#' integer range; `cumprod` is double; `cummax`/`cummin` keep integers. An
#' `NA` or `NaN` propagates to every later element. All four are
#' differentiable (`cumprod`'s gradient is exact with zeros in `x`).
#' @param x An rjax array.
#' @return An `rj_array` (or a traced value).
#' @examples
#' x <- rj_array(c(1, 3, 2, 5))
#' cumsum(x); cumprod(x); cummax(x); cummin(x)
#' grad(function(x) sum(cumprod(x)))(c(2, 0, 3))
#' @name rj-cumulative
NULL

rj_cumulative <- function(prim, x) {
  if (length(x@shape) > 1L) x <- rj_reshape(x, length(x))
  rj_bind(prim, list(x), list(ints = 0L))
}

#' @rdname rj-cumulative
#' @export
setMethod("cumsum", "rj_value", function(x) rj_cumulative("cumsum", x))
#' @rdname rj-cumulative
#' @export
setMethod("cumprod", "rj_value", function(x) rj_cumulative("cumprod", x))
#' @rdname rj-cumulative
#' @export
setMethod("cummax", "rj_value", function(x) rj_cumulative("cummax", x))
#' @rdname rj-cumulative
#' @export
setMethod("cummin", "rj_value", function(x) rj_cumulative("cummin", x))

#' Position of the first maximum or minimum of an rjax array
#'
#' As R's `which.max()`/`which.min()`: the 1-based position of the first
#' maximum (minimum), `NA` and `NaN` ignored, `integer(0)` when there is
#' none. Under [jit()] the result's length must be known while tracing, so
#' an array whose elements are all `NA`/`NaN` gives `NA` there (an empty
#' array still gives `integer(0)`): the one difference from base R.
#' @param x An rjax array (or R data, for base R's versions).
#' @return An `rj_array` of dtype `"i32"` (or a traced value).
#' @examples
#' which.max(rj_array(c(NaN, 3, 1, 3)))
#' which.min(rj_array(c(2L, NA, 1L)))
#' @name rj-which
NULL

rj_which <- function(prim, x) {
  if (length(x) == 0L) return(rj_array(integer(0)))
  i <- rj_bind(prim, list(x))
  if (is_rj_tracer(i)) return(rj_ew("select", i < 0L, NA_integer_, i + 1L))
  if (as.vector(i) < 0L) return(rj_array(integer(0)))
  i + 1L
}

#' @rdname rj-which
#' @usage which.max(x)
tv_which.max <- function(x) if (is_rj_value(x)) rj_which("argmax", x) else base::which.max(x)
#' @rdname rj-which
#' @usage which.min(x)
tv_which.min <- function(x) if (is_rj_value(x)) rj_which("argmin", x) else base::which.min(x)

#' Logical reductions of rjax arrays
#'
#' `any()` and `all()` follow R's three-valued logic (`any(c(NA, TRUE))` is
#' `TRUE`, `any(c(NA, FALSE))` is `NA`; `na.rm = TRUE` drops the `NA`s).
#' Arrays keep R's `NA`: `is.na()` is `TRUE` for `NA` and `NaN`,
#' `is.nan()` only for `NaN` (f32 arrays cannot tell `NA` from `NaN`).
#' @param x,... rjax arrays or R values.
#' @param na.rm Drop missing values first?
#' @return An `rj_array` (or a traced value) of dtype `"bool"`.
#' @examples
#' x <- rj_array(c(NA, 1, NaN))
#' is.na(x); is.nan(x)
#' any(x > 0); all(x > 0, na.rm = TRUE)
#' @name rj-logical
NULL

rj_logical_reduce <- function(prim, parts, na.rm, fill) {
  vals <- lapply(parts, function(p) {
    if (!is_rj_value(p)) return(get(if (prim == "reduce_any") "any" else "all", envir = baseenv())(p, na.rm = na.rm))
    b <- if (identical(p@dtype, "bool")) p else as_dtype(p, "bool")
    if (na.rm) b <- rj_ew("select", rj_ew("is_na", b), fill, b)
    if (!length(b@shape)) return(b)
    rj_bind(prim, list(b), list(ints = seq_along(b@shape) - 1L))
  })
  Reduce(function(a, b) if (prim == "reduce_any") a | b else a & b, vals)
}

#' @rdname rj-logical
#' @export
setMethod("any", "rj_value", function(x, ..., na.rm = FALSE) rj_logical_reduce("reduce_any", c(list(x), list(...)), na.rm, FALSE))
#' @rdname rj-logical
#' @export
setMethod("all", "rj_value", function(x, ..., na.rm = FALSE) rj_logical_reduce("reduce_all", c(list(x), list(...)), na.rm, TRUE))
# is.na()/is.nan() on the primitives that tell NA from NaN. These replace
# the methods of R/ops-math.R (collated before this file), which map both to
# is_nan; documented with the other operators there (rj-ops).
setMethod("is.na", "rj_value", function(x) rj_ew("is_na", x))
setMethod("is.nan", "rj_value", function(x) rj_ew("is_nan", x))
