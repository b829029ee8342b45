# Methods for pln_fit objects, following PLNmodels: AIC, BIC and ICL are
# "larger is better" (log-likelihood minus penalties); vcov() is the
# inverse of the variational Fisher information of B.

pln_nb_param <- function(object) {
  p <- object$p
  cov <- switch(object$control$covariance %||% "full", full = p * (p + 1) / 2, diagonal = p, spherical = 1)
  p * object$d + cov
}

# Sums over samples: a distributed fit holds this rank's samples only.
pln_fit_reducers <- function(object) pln_eager_reducers(inherits(object, "pln_fit_distributed"))

pln_entropy <- function(object) {
  w <- object$weights %||% rep(1, nrow(object$M))
  pln_fit_reducers(object)$sum(0.5 * sum(w * (object$p * log(2 * pi * exp(1)) + rowSums(log(object$S^2)))))
}

#' Methods for PLN fits
#'
#' Accessors and criteria for [pln_fit()] results, as PLNmodels offers them.
#'
#' `vcov(type = "main")` is the covariance of `vec(B)` from the
#' *variational Fisher information*, as PLNmodels' default: for species j,
#' `X' diag(A_j) X` with `A = exp(O + X B + M + S^2 / 2)` the expected
#' counts under the variational distribution; the matrix is block-diagonal
#' over species (the information ignores the uncertainty of `Sigma` and of
#' the variational parameters, so it tends to be optimistic).
#' `standard_error()` and `confint()` (Wald intervals) are derived from it.
#' `vcov(type = "covariance")` returns `Sigma`, as in PLNmodels.
#'
#' @param object,x A `pln_fit`.
#' @param type For `coef()` and `vcov()`: `"main"` (the regression
#'   coefficients `B`, d x p) or `"covariance"` (`Sigma`). For `predict()`:
#'   `"link"` (latent mean `O + X B`, or its conditional mean given
#'   `responses`) or `"response"` (expected counts). For `plot()`: see
#'   [plot.pln_fit()].
#' @param newdata A data frame with the covariates (and `Offset`) of new
#'   samples, for `predict()`.
#' @param responses For `predict()`: observed counts of some species in the
#'   new samples (a matrix with `nrow(newdata)` rows and named columns, a
#'   subset of the species): the other species are predicted conditionally
#'   on them (PLNmodels' `predict_cond()`).
#' @param parm,level For `confint()`: which coefficients (names or indices
#'   of `vec(B)`, names `"covariate:species"`) and the confidence level.
#' @param k Unused (PLNmodels' penalties are fixed).
#' @param ... Unused.
#' @return `coef()`, `sigma()`, `vcov()`, `standard_error()`, `confint()`,
#'   `fitted()`, `predict()`, `latent_means()`: matrices; `logLik()`: a
#'   `logLik` object with `df` and `nobs`; `AIC()`, `BIC()`, `ICL()`:
#'   numbers (larger is better); `nobs()`: the number of samples;
#'   `formula()`: the model formula.
#' @examples
#' sim <- pln_simulate(60, 5, d = 2, seed = 2)
#' dat <- pln_data(sim$Y, data.frame(x = sim$X[, 2]), offset = exp(sim$O))
#' fit <- pln_fit(Abundance ~ x + offset(log(Offset)), dat)
#' summary(fit)
#' coef(fit); sigma(fit)[1:2, 1:2]
#' standard_error(fit)
#' confint(fit)[1:4, ]
#' logLik(fit); BIC(fit); ICL(fit); nobs(fit); formula(fit)
#' head(fitted(fit), 2)
#' nd <- data.frame(x = c(0, 1), Offset = I(matrix(100, 2, 5)))
#' predict(fit, nd, type = "response")
#' # conditional on the observed counts of the first two species
#' obs <- sim$Y[1:2, 1:2, drop = FALSE]
#' colnames(obs) <- colnames(coef(fit))[1:2]
#' predict(fit, nd, type = "response", responses = obs)
#' @name pln-methods
NULL

pln_covariates_label <- function(x) {
  cn <- colnames(x$X)
  if (identical(cn, "(Intercept)")) return("intercept-only model (no covariates)")
  vars <- if (!is.null(x$terms)) attr(x$terms, "term.labels") else cn
  sprintf("covariates: %s (%d coefficient%s per species)", paste(vars, collapse = ", "), x$d, if (x$d > 1L) "s" else "")
}

#' @rdname pln-methods
#' @export
print.pln_fit <- function(x, ...) {
  cli::cat_line(cli::format_inline("Poisson log-normal fit: {x$n} samples, {x$p} species, {x$control$covariance} covariance"))
  cli::cat_line("  ", pln_covariates_label(x))
  cli::cat_line(cli::format_inline(
    "  log-likelihood (ELBO) {format(x$loglik, nsmall = 2)}, {x$n_iter} iterations ",
    "({if (x$converged) 'converged' else 'not converged'}, {format(round(x$seconds, 2))} s, ",
    "{x$control$algorithm}, {x$control$dtype}, backend {x$control$backend})"))
  invisible(x)
}

#' @rdname pln-methods
#' @export
summary.pln_fit <- function(object, ...) {
  criteria <- c(loglik = object$loglik, nb_param = pln_nb_param(object), BIC = BIC(object),
                AIC = AIC(object), ICL = ICL(object))
  structure(list(fit = object, criteria = criteria), class = "summary.pln_fit")
}

#' @export
print.summary.pln_fit <- function(x, ...) {
  print(x$fit)
  cli::cat_line("Criteria (PLNmodels' convention, larger is better):")
  print(round(x$criteria, 2))
  invisible(x)
}

#' @rdname pln-methods
#' @export
coef.pln_fit <- function(object, type = c("main", "covariance"), ...) {
  switch(match.arg(type), main = object$B, covariance = object$Sigma)
}

#' @rdname pln-methods
#' @importFrom stats sigma AIC BIC logLik coef vcov fitted predict nobs formula confint
#' @export
sigma.pln_fit <- function(object, ...) object$Sigma

# Variational Fisher information of B, one d x d block per species, inverted.
pln_vcov_blocks <- function(object) {
  A <- fitted(object)
  w <- object$weights %||% rep(1, nrow(A))
  d <- object$d
  info <- vapply(seq_len(object$p), function(j) crossprod(object$X, object$X * (w * A[, j])), matrix(0, d, d))
  info <- array(pln_fit_reducers(object)$sum(as.vector(info)), c(d, d, object$p))
  # A coefficient of a group with only zero counts has (almost) no
  # information: its variance comes out huge (or Inf), not as an error.
  lapply(seq_len(object$p), function(j) {
    tryCatch(solve(matrix(info[, , j], d, d), tol = 0), error = function(e) matrix(Inf, d, d))
  })
}

#' @rdname pln-methods
#' @export
vcov.pln_fit <- function(object, type = c("main", "covariance"), ...) {
  type <- match.arg(type)
  if (type == "covariance") return(object$Sigma)
  blocks <- pln_vcov_blocks(object)
  d <- object$d
  v <- matrix(0, d * object$p, d * object$p)
  for (j in seq_along(blocks)) {
    idx <- (j - 1L) * d + seq_len(d)
    v[idx, idx] <- blocks[[j]]
  }
  nm <- as.vector(outer(rownames(object$B), colnames(object$B), paste, sep = ":"))
  dimnames(v) <- list(nm, nm)
  v
}

#' @rdname pln-methods
#' @export
standard_error <- function(object, ...) UseMethod("standard_error")

#' @rdname pln-methods
#' @export
standard_error.pln_fit <- function(object, ...) {
  se <- vapply(pln_vcov_blocks(object), function(b) sqrt(diag(b)), numeric(object$d))
  matrix(se, object$d, object$p, dimnames = dimnames(object$B))
}

#' @rdname pln-methods
#' @export
confint.pln_fit <- function(object, parm, level = 0.95, ...) {
  est <- as.vector(object$B)
  se <- as.vector(standard_error(object))
  nm <- as.vector(outer(rownames(object$B), colnames(object$B), paste, sep = ":"))
  z <- stats::qnorm(1 - (1 - level) / 2)
  pct <- paste(format(100 * c((1 - level) / 2, 1 - (1 - level) / 2), trim = TRUE, scientific = FALSE, digits = 3), "%")
  ci <- matrix(c(est - z * se, est + z * se), ncol = 2L, dimnames = list(nm, pct))
  if (missing(parm)) ci else ci[parm, , drop = FALSE]
}

#' @rdname pln-methods
#' @export
nobs.pln_fit <- function(object, ...) object$n

#' @rdname pln-methods
#' @export
formula.pln_fit <- function(x, ...) {
  if (!is.null(x$terms)) return(stats::formula(x$terms))
  stats::as.formula("Y ~ 0 + X + offset(O)", env = baseenv())
}

#' @rdname pln-methods
#' @export
logLik.pln_fit <- function(object, ...) {
  structure(object$loglik, df = pln_nb_param(object), nobs = object$n, class = "logLik")
}

#' @rdname pln-methods
#' @export
AIC.pln_fit <- function(object, ..., k = 2) object$loglik - pln_nb_param(object)

#' @rdname pln-methods
#' @export
BIC.pln_fit <- function(object, ...) object$loglik - log(object$n) / 2 * pln_nb_param(object)

#' @rdname pln-methods
#' @export
ICL <- function(object, ...) UseMethod("ICL")

#' @rdname pln-methods
#' @export
ICL.pln_fit <- function(object, ...) BIC(object) - pln_entropy(object)

#' @rdname pln-methods
#' @export
latent_means <- function(object) object$O + object$X %*% object$B + object$M

#' @rdname pln-methods
#' @export
fitted.pln_fit <- function(object, ...) exp(latent_means(object) + object$S^2 / 2)

# Design and offsets of new samples.
pln_new_design <- function(object, newdata) {
  if (is.null(newdata)) return(list(X = object$X, O = object$O))
  if (is.null(object$terms)) rj_abort("type", "predict(newdata = ...) needs a fit from the formula interface (pln_fit(formula, data)).")
  tt <- stats::delete.response(object$terms)
  mf <- stats::model.frame(tt, newdata, xlev = object$xlevels)
  X <- stats::model.matrix(tt, mf)
  list(X = X, O = pln_check_offset(stats::model.offset(mf), nrow(X), object$p))
}

# Variational posterior of the latent layer of the observed species `o`
# with B and Sigma fixed (the VE step): per-element Newton steps, base R.
pln_ve_step <- function(Yo, mu, Oo, Sigma, iters = 300L, tol = 1e-8) {
  Om <- solve(Sigma)
  dO <- matrix(diag(Om), nrow(Yo), ncol(Yo), byrow = TRUE)
  M <- log1p(Yo) - Oo
  t <- matrix(log(0.1), nrow(Yo), ncol(Yo))
  for (i in seq_len(iters)) {
    S2 <- exp(t)
    A <- exp(Oo + M + S2 / 2)
    dm <- pmin(pmax((Yo - A - (M - mu) %*% Om) / (A + dO), -1), 1)
    M <- M + dm
    A <- A * exp(dm)
    H <- A + dO
    dt <- pmin(pmax((0.5 * (1 - S2 * H)) / (-0.5 * S2 * H - A * S2 * S2 / 4), -1), 1)
    t <- t - dt
    if (max(abs(dm), abs(dt)) < tol) break
  }
  list(M = M, S2 = exp(t))
}

#' @rdname pln-methods
#' @export
predict.pln_fit <- function(object, newdata = NULL, type = c("link", "response"), responses = NULL, ...) {
  type <- match.arg(type)
  nd <- pln_new_design(object, newdata)
  mu <- nd$X %*% object$B
  if (is.null(responses)) {
    link <- nd$O + mu
    return(if (type == "link") link else exp(sweep(link, 2, diag(object$Sigma) / 2, "+")))
  }
  Yo <- pln_check_counts(responses, "responses")
  sp <- colnames(object$B)
  o <- match(colnames(Yo), sp)
  if (is.null(colnames(Yo)) || anyNA(o)) rj_abort("pln_data", sprintf("predict(responses = ...): the columns of responses must be named species of the fit (%s, ...).", paste(utils::head(sp, 3L), collapse = ", ")))
  if (nrow(Yo) != nrow(mu)) rj_abort("pln_data", sprintf("predict(responses = ...): responses has %d rows but newdata has %d.", nrow(Yo), nrow(mu)))
  m <- setdiff(seq_along(sp), o)
  if (!length(m)) rj_abort("pln_data", "predict(responses = ...): every species is observed; nothing to predict.")
  Soo <- object$Sigma[o, o, drop = FALSE]
  Smo <- object$Sigma[m, o, drop = FALSE]
  ve <- pln_ve_step(Yo, mu[, o, drop = FALSE], nd$O[, o, drop = FALSE], Soo)
  K <- Smo %*% solve(Soo)  # regression of the missing latent coordinates on the observed
  cond_mean <- mu[, m, drop = FALSE] + (ve$M - mu[, o, drop = FALSE]) %*% t(K)
  link <- nd$O[, m, drop = FALSE] + cond_mean
  colnames(link) <- sp[m]
  if (type == "link") return(link)
  base_var <- diag(object$Sigma[m, m, drop = FALSE] - K %*% t(Smo))
  extra <- ve$S2 %*% t(K * K)  # variance carried over from the observed coordinates
  exp(link + sweep(extra, 2, base_var, "+") / 2)
}
