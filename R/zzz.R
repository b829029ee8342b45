#' @useDynLib rjax, .registration = TRUE, .fixes = "C_"
#' @importFrom Rcpp evalCpp
NULL

.onLoad <- function(libname, pkgname) {
  .Call(C_rjc_init, methods::new("rj_array"), methods::new("rj_tracer"))
  op <- options()
  defaults <- list(rjax.backend = "llvm")
  toset <- !(names(defaults) %in% names(op))
  if (any(toset)) options(defaults[toset])
  invisible()
}
