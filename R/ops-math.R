# Element-wise verbs: R's Arith, Compare, Logic, Math and Math2 groups,
# ifelse()/where(), pmax()/pmin(). R's recycling and type rules are applied
# in C++ (r_elementwise), shared by eager and traced values.

.ew_binary <- c("+" = "add", "-" = "sub", "*" = "mul", "/" = "div", "^" = "pow",
                "%%" = "mod", "%/%" = "idiv", "==" = "eq", "!=" = "ne", "<" = "lt",
                "<=" = "le", ">" = "gt", ">=" = "ge", "&" = "and", "|" = "or")

rj_ew <- function(prim, ...) rj_bind(paste0("ew:", prim), list(...))

check_operand <- function(x, op) {
  if (!is_rj_value(x) && !(is.atomic(x) && (is.numeric(x) || is.logical(x)))) {
    rj_abort("type", sprintf("non-numeric argument to '%s': got %s", op, class(x)[[1L]]))
  }
}

ops_binary <- function(e1, e2) {
  op <- .Generic
  check_operand(e1, op)
  check_operand(e2, op)
  rj_ew(.ew_binary[[op]], e1, e2)
}

#' Arithmetic, comparison and logic on rjax arrays
#'
#' The operators of R's `Ops` group work on `rj_array` values and on traced
#' values, with R's recycling rules (a scalar or a vector whose length is the
#' number of rows recycles over a matrix) and R's result types (integer
#' division gives `"f64"`, comparisons give `"bool"`).
#' @param e1,e2 Operands: rjax arrays or R numbers.
#' @name rj-ops
#' @return An `rj_array` (or a traced value).
#' @examples
#' x <- rj_array(matrix(1:6, 2))
#' x * 2 + 1
#' x > 3
NULL

#' @rdname rj-ops
#' @export
setMethod("Ops", signature("rj_value", "rj_value"), ops_binary)
#' @rdname rj-ops
#' @export
setMethod("Ops", signature("rj_value", "ANY"), ops_binary)
#' @rdname rj-ops
#' @export
setMethod("Ops", signature("ANY", "rj_value"), ops_binary)
#' @rdname rj-ops
#' @export
setMethod("Arith", signature("rj_value", "missing"), function(e1, e2) {
  switch(.Generic, "-" = rj_ew("neg", e1), "+" = e1)
})
#' @rdname rj-ops
#' @param x An rjax array.
#' @export
setMethod("!", "rj_value", function(x) rj_ew("not", x))

.math_prims <- c(
  abs = "abs", sign = "sign", sqrt = "sqrt", ceiling = "ceiling", floor = "floor",
  trunc = "trunc", exp = "exp", expm1 = "expm1", log1p = "log1p", cos = "cos",
  cosh = "cosh", sin = "sin", sinh = "sinh", tan = "tan", tanh = "tanh", acos = "acos",
  acosh = "acosh", asin = "asin", asinh = "asinh", atan = "atan", atanh = "atanh",
  gamma = "gamma", lgamma = "lgamma", digamma = "digamma", trigamma = "trigamma"
)

#' @rdname rj-ops
#' @export
setMethod("is.na", "rj_value", function(x) rj_ew("is_nan", x))
#' @rdname rj-ops
#' @export
setMethod("is.nan", "rj_value", function(x) rj_ew("is_nan", x))
#' @rdname rj-ops
#' @export
setMethod("is.finite", "rj_value", function(x) rj_ew("is_finite", x))
#' @rdname rj-ops
#' @export
setMethod("is.infinite", "rj_value", function(x) !rj_ew("is_finite", x) & !rj_ew("is_na", x))

#' Mathematical functions on rjax arrays
#'
#' R's `Math` group (`exp`, `log`, `sqrt`, `abs`, trigonometric and
#' hyperbolic functions, `lgamma`, `digamma`, ...) applies element-wise.
#' Integer input gives `"f64"` output, as in R.
#' @param x An rjax array.
#' @param base Base of the logarithm.
#' @param digits Only `0` is supported by `round()`.
#' @name rj-math
#' @return An `rj_array` (or a traced value).
#' @examples
#' x <- rj_array(c(0.5, 1, 2))
#' exp(x); log(x, 2); lgamma(x)
NULL

#' @rdname rj-math
#' @export
setMethod("Math", "rj_value", function(x) {
  g <- .Generic
  prim <- .math_prims[g]
  if (!is.na(prim)) return(rj_ew(prim[[1L]], x))
  switch(g,
    log2 = rj_ew("log", x) / log(2),
    log10 = rj_ew("log", x) / log(10),
    cospi = rj_ew("cos", x * pi),
    sinpi = rj_ew("sin", x * pi),
    tanpi = rj_ew("tan", x * pi),
    rj_unsupported(g, "Cumulative functions (cumsum, cumprod, cummax, cummin) are not implemented yet; use scan_loop().")
  )
})

#' @rdname rj-math
#' @export
setMethod("log", "rj_value", function(x, base = exp(1)) {
  r <- rj_ew("log", x)
  if (missing(base) || identical(base, exp(1))) r else r / log(base)
})

#' @rdname rj-math
#' @export
setMethod("Math2", "rj_value", function(x, digits) {
  if (!missing(digits) && !identical(as.numeric(digits), 0)) {
    rj_unsupported(paste0(.Generic, "(x, digits)"), "Only digits = 0 is supported: scale, round and rescale.")
  }
  if (.Generic == "round") rj_ew("round", x) else rj_unsupported("signif")
})

#' Element-wise choice
#'
#' `where(test, yes, no)` picks `yes` where `test` is true and `no`
#' elsewhere; `ifelse()` does the same on rjax arrays (with R's usual
#' behaviour on plain R data). Unlike R's `if`, both work on traced values.
#' Gradients flow to the branch that was picked.
#' @param test A logical (bool) array or R logical.
#' @param yes,no Values of the result where `test` is `TRUE` / `FALSE`.
#' @return An `rj_array` (or traced value) of the shape of `test`.
#' @examples
#' x <- rj_array(c(-1, 0.5, 2))
#' where(x > 0, x, 0)
#' selu <- function(x, alpha = 1.67, lambda = 1.05) lambda * ifelse(x > 0, x, alpha * exp(x) - alpha)
#' jit(selu)(x)
#' @export
where <- function(test, yes, no) {
  check_operand(test, "ifelse")
  check_operand(yes, "ifelse")
  check_operand(no, "ifelse")
  rj_ew("select", test, yes, no)
}

#' @rdname where
#' @usage ifelse(test, yes, no)
tv_ifelse <- function(test, yes, no) {
  if (is_rj_value(test) || is_rj_value(yes) || is_rj_value(no)) where(test, yes, no) else base::ifelse(test, yes, no)
}

#' Parallel maxima and minima
#'
#' `pmax()`/`pmin()` on rjax arrays (R's versions elsewhere).
#' @param ... Arrays or numbers, recycled as in R.
#' @param na.rm Drop missing values: a position is `NA` only when every
#'   argument is missing there (as in base R).
#' @return An `rj_array` (or traced value).
#' @examples
#' pmax(rj_array(c(-1, 2, 3)), 0)
#' @name pmax
#' @usage pmax(..., na.rm = FALSE)
tv_pmax <- function(..., na.rm = FALSE) {
  args <- list(...)
  if (!any(vapply(args, is_rj_value, NA))) return(base::pmax(..., na.rm = na.rm))
  Reduce(rj_parallel_combine("max", na.rm), args)
}

#' @rdname pmax
#' @usage pmin(..., na.rm = FALSE)
tv_pmin <- function(..., na.rm = FALSE) {
  args <- list(...)
  if (!any(vapply(args, is_rj_value, NA))) return(base::pmin(..., na.rm = na.rm))
  Reduce(rj_parallel_combine("min", na.rm), args)
}

# Pairwise step of pmax/pmin; with na.rm a missing side yields the other.
rj_parallel_combine <- function(prim, na.rm) {
  if (!isTRUE(na.rm)) return(function(a, b) rj_ew(prim, a, b))
  function(a, b) {
    m <- rj_ew(prim, a, b)
    rj_ew("select", rj_ew("is_na", as_rj(a)), b, rj_ew("select", rj_ew("is_na", as_rj(b)), a, m))
  }
}
