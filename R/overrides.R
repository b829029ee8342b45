# Base R functions that do not dispatch on S4 objects (closures calling
# .Internal code) have rjax versions, exported so that they mask base when
# rjax is attached, and placed in front of a traced function's enclosure by
# call_traced() so that rjax::jit(f) works with rjax only loaded. Each falls
# back to base R for ordinary data.

rj_override_names <- c(
  "crossprod", "tcrossprod", "colSums", "rowSums", "colMeans", "rowMeans",
  "diag", "ifelse", "pmax", "pmin", "matrix", "cbind", "rbind", "outer", "%o%", "norm",
  "is.matrix", "is.array"
)

# Traced verbs: a namespace function named `tv_<verb>` is rjax's version of
# the base/stats function `<verb>`, used while tracing. It is called with the
# base function's formals and must itself fall back to the base function when
# no argument is an rjax value.
rj_traced_verbs <- function() {
  ns <- asNamespace("rjax")
  nms <- grep("^tv_", ls(ns, all.names = TRUE), value = TRUE)
  stats::setNames(mget(nms, envir = ns), sub("^tv_", "", nms))
}

rj_override_list <- function() {
  ns <- asNamespace("rjax")
  .rj_state$overrides %||% {
    ov <- mget(rj_override_names, envir = ns)
    tv <- rj_traced_verbs()
    ov[names(tv)] <- tv
    .rj_state$overrides <- ov
    .rj_state$overrides
  }
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# Calls base R's version with the caller's arguments exactly as given (some
# base functions look at nargs() or missing()), reusing values already forced.
forward_to_base <- function(fun, call, env, forced) {
  for (nm in names(forced)) if (!is.null(call[[nm]])) call[[nm]] <- forced[[nm]]
  call[[1L]] <- fun
  eval(call, env)
}

#' Is it a matrix or an array?
#'
#' Versions of [base::is.matrix()] and [base::is.array()] that also answer
#' for rjax arrays (whose dims live in the native buffer).
#' @param x Any R object.
#' @return `TRUE` or `FALSE`.
#' @examples
#' is.matrix(rj_array(matrix(1:4, 2)))
#' @export
is.matrix <- function(x) if (is_rj_value(x)) length(x@shape) == 2L else base::is.matrix(x)

#' @rdname is.matrix
#' @export
is.array <- function(x) if (is_rj_value(x)) length(x@shape) >= 2L else base::is.array(x)
