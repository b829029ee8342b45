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

# The S4 generics of the traced verbs (R/overrides.R), made last so that every
# tv_ function of every file exists. Exported by the pattern below: a verb
# whose generic is not made (no tv_ function yet) is simply not exported.
#' @rawNamespace exportPattern("^(crossprod|tcrossprod|solve|backsolve|forwardsolve|outer|%o%|kronecker|%x%|colSums|rowSums|colMeans|rowMeans|diag|norm|matrix|ifelse|pmax|pmin|atan2|psigamma|which\\.max|which\\.min|[dpq](norm|pois|binom|nbinom|gamma|beta|exp|lnorm|t|logis|weibull|unif|cauchy|chisq)|var|sd|cor|cov|scale|sweep|apply|drop|rev|head|tail|rowsum|tabulate|lower\\.tri|upper\\.tri|outer|mean|median|quantile|weighted\\.mean|crossprod|det|chol2inv|tcrossprod|aperm|t|diff|rowsum|prop\\.table|proportions|log1p|expm1|choose|lchoose|lbeta|beta|trigamma|digamma|sweep|ave|cumall|max\\.col|nlevels|seq|rep_len|array|which|isSymmetric|chol|determinant|solve)$")
NULL
rj_generics <- rj_make_generics(environment())
# norm(x) without `type`: the implicit generic's own method calls
# base::norm(x, "O"), which would bypass the methods of other packages
# (Matrix's sparse norm); this one dispatches again.
if ("norm" %in% rj_generics) {
  setMethod("norm", signature("ANY", "missing"), function(x, type) norm(x, type = "O"))
}
