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
#' @rawNamespace exportPattern("^(crossprod|tcrossprod|solve|backsolve|forwardsolve|outer|%o%|kronecker|%x%|colSums|rowSums|colMeans|rowMeans|diag|norm|matrix|ifelse|pmax|pmin|atan2|psigamma|which\\.max|which\\.min|[dpq](norm|pois|binom|nbinom|gamma|beta|exp|lnorm|t|logis|weibull|unif|cauchy|chisq)|var|sd|cor|cov|scale|sweep|apply|drop|rev|head|tail|rowsum|tabulate|lower\\.tri|upper\\.tri|outer|mean|median|quantile|weighted\\.mean|crossprod|det|chol2inv|tcrossprod|aperm|t|diff|rowsum|prop\\.table|proportions|log1p|expm1|choose|lchoose|lbeta|beta|trigamma|digamma|sweep|ave|cumall|max\\.col|nlevels|seq|rep_len|array|which|isSymmetric|chol|determinant|sort|mahalanobis|col|row|factorial|lfactorial|split|tapply|diag<-|order|cumall)$")
NULL
rj_generics <- rj_make_generics(environment())
# norm(x) without `type`: the implicit generic's own method calls
# base::norm(x, "O"), which would bypass the methods of other packages
# (Matrix's sparse norm); this one dispatches again.
if ("norm" %in% rj_generics) {
  setMethod("norm", signature("ANY", "missing"), function(x, type) norm(x, type = "O"))
}

# rj_array and rj_tracer contain "logical" (R/array.R): every method defined
# for rj_value gets twins for rj_array and rj_tracer (their own class, always the closest), so that
# methods for basic vector classes (the methods package has Ops methods for
# vector, structure, nonStructure, array) and group methods never tie with
# or beat a specific one; for the operator groups, an ANY beside rj_value is
# also spelled out over those basic classes.
rj_pin_array_methods <- function(where) {
  basic <- c("ANY", "vector", "structure", "nonStructure", "array", "matrix", "numeric", "logical", "integer",
             "rj_value", "rj_array", "rj_tracer", "missing")
  groups <- c("Ops", "Arith", "Compare", "Logic")
  # Not the generics made from tv_ verbs above: their only other methods are
  # ANY defaults, which an rj_value method always beats (and twinning their
  # many signatures would make installing slow).
  gens <- setdiff(unique(c(groups, "Math", "Math2", "Summary", methods::getGenerics(where = where))), rj_generics)
  for (g in gens) {
    tbl <- tryCatch(methods::findMethods(g, where = where), error = function(e) list())
    for (nm in names(tbl)) {
      sig <- strsplit(nm, "#", fixed = TRUE)[[1L]]
      if (!"rj_value" %in% sig || "rj_array" %in% sig) next
      def <- tbl[[nm]]
      pos <- which(sig == "rj_value")
      alts <- list(sig)
      for (p in pos) {
        alts <- c(alts, lapply(alts, function(s) replace(s, p, "rj_array")), lapply(alts, function(s) replace(s, p, "rj_tracer")))
      }
      alts <- Filter(function(s) any(c("rj_array", "rj_tracer") %in% s), alts)
      if (g %in% groups && length(sig) == 2L) {
        alts <- unlist(lapply(alts, function(s) {
          if (!"ANY" %in% s) return(list(s))
          lapply(basic, function(b) replace(s, s == "ANY", b))
        }), recursive = FALSE)
      }
      for (s2 in alts) {
        if (!is.null(methods::getMethod(g, s2, where = where, optional = TRUE))) next
        methods::setMethod(g, s2, def, where = where)
      }
    }
  }
}
rj_pin_array_methods(environment())
