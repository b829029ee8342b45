# Traced special functions and matrix helpers that likelihoods use beside
# the densities: lchoose, choose, lbeta, beta, lfactorial, factorial,
# mahalanobis, chol2inv, quantile (type 7), ppois and pbinom (finite sums of
# the densities, for counts known while tracing); and the table of base and
# stats functions that do not trace, each of which stops with a classed
# error naming what to write instead.

tv_lchoose <- function(n, k) {
  if (!rj_any_value(n, k)) return(base::lchoose(n, k))
  k <- round(k)
  where(k < 0, -Inf, dist_lchoose(n, safe_at(k < 0, k, 0)))
}

tv_choose <- function(n, k) {
  if (!rj_any_value(n, k)) return(base::choose(n, k))
  # whole numbers, as R rounds choose() for n integer-valued
  round(exp(tv_lchoose(n, k)))
}

tv_lbeta <- function(a, b) {
  if (!rj_any_value(a, b)) return(base::lbeta(a, b))
  lgamma(a) + lgamma(b) - lgamma(a + b)
}

tv_beta <- function(a, b) {
  if (!rj_any_value(a, b)) return(base::beta(a, b))
  exp(tv_lbeta(a, b))
}

tv_lfactorial <- function(x) if (!is_rj_value(x)) base::lfactorial(x) else lgamma(x + 1)
tv_factorial <- function(x) if (!is_rj_value(x)) base::factorial(x) else gamma(x + 1)

tv_mahalanobis <- function(x, center, cov, inverted = FALSE, ...) {
  if (!rj_any_value(x, center, cov)) return(stats::mahalanobis(x, center, cov, inverted, ...))
  if (is.null(dim(x))) x <- rj_reshape(as_rj(x), c(1L, length(x)))
  if (!isFALSE(center)) x <- sweep_rj(x, 2L, center, `-`)
  if (!inverted) cov <- solve(cov, ...)
  rowSums((x %*% cov) * x)
}

tv_chol2inv <- function(x, size = NCOL(x), LINPACK = FALSE) {
  if (!is_rj_value(x)) return(base::chol2inv(x, size, LINPACK))
  size <- as.integer(size)
  Ri <- tv_backsolve(x, diag(size), k = size)
  tcrossprod(Ri)
}

tv_quantile <- function(x, ...) {
  if (!is_rj_value(x)) return(stats::quantile(x, ...))
  a <- list(...)
  probs <- a$probs %||% (if (length(a) && (is.null(names(a)) || !nzchar(names(a)[[1L]]))) a[[1L]] else seq(0, 1, 0.25))
  type <- a$type %||% 7
  if (!identical(as.numeric(type), 7)) rj_unsupported(sprintf("quantile(type = %s)", type), "Only R's default type 7 is traced.")
  if (is_rj_value(probs)) rj_concretization_error(probs, "use traced 'probs' in quantile()")
  n <- length(x)
  s <- rj_sort_values(x)
  # type 7: h = (n - 1) p; x[floor(h) + 1] + (h - floor(h)) (x[floor(h) + 2] - x[floor(h) + 1])
  h <- (n - 1) * probs
  lo <- floor(h + 4 * .Machine$double.eps)
  hi <- pmin(lo + 1, n - 1)
  out <- s[lo + 1] + (h - lo) * (s[hi + 1] - s[lo + 1])
  if (length(probs) == 1L) rj_reshape(out, integer()) else out
}

# P(X <= q) for counts as the sum of the densities at 0, ..., max(q): the
# upper end must be known while tracing.
check_known_counts <- function(what, q) {
  if (is_rj_value(q)) rj_concretization_error(q, sprintf("use traced quantiles 'q' in %s() (the number of terms must be known)", what))
}

count_cdf <- function(what, q, dens, lower.tail, log.p) {
  q <- floor(q + 1e-7)
  m <- max(0, q[is.finite(q)])
  if (m > 10000) rj_unsupported(sprintf("%s() with counts above 10000", what), "Use pnorm() with a continuity correction or a normal approximation.")
  ks <- 0:m
  terms <- dens(ks)  # [length(q) x (m + 1)]
  mask <- outer(q, ks, ">=") + 0
  p <- rowSums(terms * mask)
  p <- where(q < 0, 0, p)
  lp <- if (check_flag(lower.tail, "lower.tail")) p else 1 - p
  if (check_flag(log.p, "log.p")) log(lp) else lp
}

# A [length(q) x length(ks)] matrix of parameters recycled along q.
recycle_rows <- function(param, nq, nk) {
  p <- as_rj(param)
  n <- max(nq, length(p))
  if (length(p) == 1L) return(rj_broadcast(rj_reshape(p, integer()), c(n, nk)))
  rj_broadcast(rj_reshape(rep(p, length.out = n), c(n, 1L)), c(n, nk))
}

tv_ppois <- function(q, lambda, lower.tail = TRUE, log.p = FALSE) {
  if (!rj_any_value(q, lambda)) return(stats::ppois(q, lambda, lower.tail, log.p))
  check_known_counts("ppois", q)
  n <- max(length(q), length(lambda))
  q <- rep_len(q, n)
  count_cdf("ppois", q, function(ks) {
    tv_dpois(base::matrix(ks, n, length(ks), byrow = TRUE), recycle_rows(lambda, n, length(ks)))
  }, lower.tail, log.p)
}

tv_pbinom <- function(q, size, prob, lower.tail = TRUE, log.p = FALSE) {
  if (!rj_any_value(q, size, prob)) return(stats::pbinom(q, size, prob, lower.tail, log.p))
  check_known_counts("pbinom", q)
  if (is_rj_value(size)) rj_concretization_error(size, "use a traced 'size' in pbinom()")
  n <- max(length(q), length(size), length(prob))
  q <- pmin(rep_len(q, n), rep_len(size, n))
  count_cdf("pbinom", q, function(ks) {
    K <- base::matrix(ks, n, length(ks), byrow = TRUE)
    S <- base::matrix(rep_len(size, n), n, length(ks))
    tv_dbinom(K, S, recycle_rows(prob, n, length(ks)))
  }, lower.tail, log.p)
}

# Functions that do not trace: with an rjax value among the arguments they
# stop with rjax_unsupported_error naming the alternative; otherwise they
# are the base/stats function.
rj_untraced <- list(
  pgamma = c("stats", "The incomplete gamma function is not traced; write the likelihood with dgamma(), or compute this outside the traced function."),
  qgamma = c("stats", "Gamma quantiles are not traced; compute them outside the traced function."),
  pbeta = c("stats", "The incomplete beta function is not traced; write the likelihood with dbeta()."),
  qbeta = c("stats", "Beta quantiles are not traced; compute them outside the traced function."),
  pt = c("stats", "The t distribution function is not traced; use dt() for likelihoods or pnorm() for large df."),
  qt = c("stats", "t quantiles are not traced; compute them outside the traced function (they rarely depend on parameters)."),
  pchisq = c("stats", "The chi-squared distribution function is not traced; compute it outside the traced function."),
  qchisq = c("stats", "Chi-squared quantiles are not traced; compute them outside the traced function."),
  pweibull = c("stats", "Write the Weibull survival as exp(-(q / scale)^shape), which traces."),
  plnorm = c("stats", "Write it as pnorm(log(q), meanlog, sdlog), which traces."),
  punif = c("stats", "Write it as pmin(pmax((q - min) / (max - min), 0), 1), which traces."),
  dmultinom = c("stats", "Write the multinomial log-likelihood as lgamma(sum(x) + 1) - sum(lgamma(x + 1)) + sum(x * log(prob))."),
  eigen = c("base", "Eigendecompositions are not traced; for log-determinants use determinant() or chol(), for inverses solve()."),
  svd = c("base", "Singular value decompositions are not traced; use chol(), solve() or crossprod() where the algebra allows."),
  qr = c("base", "QR decompositions are not traced; solve least squares with solve(crossprod(X), crossprod(X, y)) or chol()."),
  order = c("base", "The order of traced values is not known while tracing; use sort() (traced) or where() for value-dependent choices."),
  rank = c("base", "Ranks of traced values are not known while tracing; use sort() (traced) or compute ranks outside."),
  kappa = c("base", "Condition numbers need a QR or singular value decomposition, which are not traced; compute it outside the traced function."),
  lm.fit = c("stats", "Least squares by QR is not traced; use solve(crossprod(X), crossprod(X, y))."),
  lsfit = c("stats", "Least squares by QR is not traced; use solve(crossprod(X), crossprod(X, y))."),
  fft = c("stats", "Fourier transforms are not traced; compute them outside the traced function."),
  besselJ = c("base", "Bessel functions are not traced; compute them outside the traced function."),
  besselY = c("base", "Bessel functions are not traced; compute them outside the traced function."),
  besselI = c("base", "Bessel functions are not traced; compute them outside the traced function."),
  besselK = c("base", "Bessel functions are not traced; compute them outside the traced function."),
  # Base and stats functions whose C code would see a traced value's empty
  # placeholder data and return a silently wrong, usually empty, result.
  unique = c("base", "The distinct values of traced data are not known while tracing (the result's length depends on them); compute them outside the traced function."),
  duplicated = c("base", "Which traced values repeat is not known while tracing; compute it outside the traced function."),
  anyDuplicated = c("base", "Which traced values repeat is not known while tracing; compute it outside the traced function."),
  match = c("base", "Matching traced values is not known while tracing; compare with == and use where() (traced)."),
  max.col = c("base", "The position of each row's maximum depends on the traced values; use apply(x, 1, max) (traced) for the values."),
  table = c("base", "Counts of traced values are not known while tracing; use tabulate() (traced) on integer codes, or count outside."),
  cut = c("base", "Binning traced values makes a factor, which does not trace; use findInterval() outside, or comparisons (traced)."),
  findInterval = c("base", "Interval indices of traced values are not traced; use comparisons such as sum(x >= breaks) (traced)."),
  rle = c("base", "Run lengths of traced values are not known while tracing; compute them outside the traced function."),
  dist = c("stats", "Write the distances with traced operations, e.g. sqrt(pmax(outer(rowSums(X^2), rowSums(X^2), \"+\") - 2 * tcrossprod(X), 0))."),
  mvfft = c("stats", "Fourier transforms are not traced; compute them outside the traced function."),
  convolve = c("stats", "convolve() uses Fourier transforms, which are not traced; write the sum with traced operations or compute it outside.")
)

make_untraced_verb <- function(name, pkg, hint) {
  fun <- getExportedValue(pkg, name)
  force(hint)
  function(...) {
    if (any(vapply(list(...), is_rj_value, NA))) rj_unsupported(paste0(name, "()"), hint)
    fun(...)
  }
}

for (nm in names(rj_untraced)) {
  assign(paste0("tv_", nm), make_untraced_verb(nm, rj_untraced[[nm]][[1L]], rj_untraced[[nm]][[2L]]))
}
rm(nm)

tv_which <- function(x, arr.ind = FALSE, useNames = TRUE) {
  if (!is_rj_value(x)) return(base::which(x, arr.ind, useNames))
  rj_concretization_error(x, "find which() elements of a traced value are TRUE (the length of the result would depend on the values); use where(cond, x, 0) or ifelse() to select element-wise")
}

# Numerical routines of stats that call an R function with numbers: when
# that function depends on traced values they fail inside; while tracing the
# failure becomes a classed error saying what to write instead.
make_numeric_routine <- function(name, hint) {
  fun <- getExportedValue("stats", name)
  force(hint)
  function(...) {
    if (!is_tracing()) return(fun(...))
    tryCatch(fun(...), error = function(e) {
      if (inherits(e, "rjax_error")) stop(e)
      rj_unsupported(paste0(name, "() on a function of traced values"), hint)
    })
  }
}

rj_numeric_routines <- list(
  integrate = "Integrate on a fixed grid written with vectors (trapezoid, Simpson or Gauss-Legendre nodes), which traces.",
  optimize = "Run a fixed number of Newton or golden-section steps, or use while_loop().",
  optimise = "Run a fixed number of Newton or golden-section steps, or use while_loop().",
  uniroot = "Run a fixed number of Newton or bisection steps (with ifelse()), or use while_loop().",
  optim = "Optimise outside: optim(par, jit(f), jit(grad(f))); inside, unroll a fixed number of gradient or Newton steps.",
  nlminb = "Optimise outside: nlminb(par, jit(f), jit(grad(f))); inside, unroll a fixed number of Newton steps.",
  nlm = "Optimise outside the traced function, or unroll a fixed number of Newton steps inside."
)

for (nm in names(rj_numeric_routines)) assign(paste0("tv_", nm), make_numeric_routine(nm, rj_numeric_routines[[nm]]))
rm(nm)

# unique(), duplicated() and anyDuplicated() are S3 generics: on a concrete
# rj_array they answer for its values (base R's C code would otherwise see
# the object's empty placeholder data and return logical(0)); on a traced
# value, wherever they are called from, they are the classed error above.
rj_s3_on_values <- function(name) {
  force(name)
  function(x, ...) {
    if (is_rj_tracer(x)) rj_unsupported(paste0(name, "()"), rj_untraced[[name]][[2L]])
    get(name, envir = baseenv())(rj_values(x), ...)
  }
}

#' @method unique rj_value
#' @export
unique.rj_value <- rj_s3_on_values("unique")
#' @method duplicated rj_value
#' @export
duplicated.rj_value <- rj_s3_on_values("duplicated")
#' @method anyDuplicated rj_value
#' @export
anyDuplicated.rj_value <- rj_s3_on_values("anyDuplicated")

# Data frames hold R vectors: a traced value cannot be a column (base R's
# code would keep the S4 object whole in one cell and, e.g., do.call(pmax,
# as.data.frame(t(x))) would silently return x). Concrete rj_arrays become
# their values.
#' @method as.data.frame rj_value
#' @export
as.data.frame.rj_value <- function(x, ...) {
  if (is_rj_tracer(x)) {
    rj_unsupported("as.data.frame() / data.frame() of a traced value",
                   "Keep traced data in matrices and vectors (cbind(), rowSums(), apply()); make data frames outside the traced function.")
  }
  as.data.frame(rj_values(x), ...)
}

# proportions() / prop.table(): base R's version calls sweep() from the
# base namespace, which cannot see a traced value's dims.
tv_proportions <- function(x, margin = NULL) {
  if (!is_rj_value(x)) return(base::proportions(x, margin))
  if (is.null(margin) || !length(margin)) return(x / sum(x))
  if (length(margin) == 1L && margin %in% 1:2 && length(dim(x)) == 2L) {
    return(tv_sweep(x, margin, if (margin == 1) rowSums(x) else colSums(x), "/"))
  }
  rj_unsupported("proportions() over several margins or of an array of rank > 2", "Divide by the sums you need, e.g. x / rowSums(x).")
}
tv_prop.table <- tv_proportions
