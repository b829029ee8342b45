# Methods for pln_fit objects. Sign conventions follow PLNmodels: AIC, BIC
# and ICL are "larger is better" (loglik minus penalties).

pln_nb_param <- function(object) {
  p <- object$p
  cov <- switch(object$control$covariance %||% "full", full = p * (p + 1) / 2, diagonal = p, spherical = 1)
  p * object$d + cov
}

pln_entropy <- function(object) 0.5 * (object$n * object$p * log(2 * pi * exp(1)) + sum(log(object$S^2)))

#' Methods for PLN fits
#'
#' @param object,x A `pln_fit`.
#' @param type For `coef()`: `"main"` (the regression coefficients `B`, d x
#'   p) or `"covariance"` (`Sigma`). For `predict()`: `"link"` (latent mean
#'   `O + X B`) or `"response"` (expected counts `exp(O + X B + diag(Sigma)/2)`).
#'   For `plot()`: `"elbo"` or `"correlation"`.
#' @param newdata A data frame with the covariates (and `Offset`) of new
#'   samples, for `predict()`.
#' @param k Unused (PLNmodels' penalties are fixed).
#' @param ... Unused.
#' @return `coef()`, `sigma()`, `vcov()`, `fitted()`, `predict()`,
#'   `latent_means()`: matrices; `logLik()`: a `logLik` object with `df`;
#'   `AIC()`, `BIC()`, `ICL()`: numbers (larger is better).
#' @examples
#' sim <- pln_simulate(60, 5, seed = 2)
#' fit <- pln_fit(sim$Y, O = sim$O, control = pln_control(max_iter = 100))
#' summary(fit)
#' coef(fit); sigma(fit)[1:2, 1:2]
#' logLik(fit); BIC(fit); ICL(fit)
#' head(fitted(fit), 2)
#' @name pln-methods
NULL

#' @rdname pln-methods
#' @export
print.pln_fit <- function(x, ...) {
  cli::cat_line(cli::format_inline("Poisson log-normal fit: {x$n} samples, {x$p} species, {x$d} covariate{?s}"))
  cli::cat_line(cli::format_inline(
    "log-likelihood (ELBO) {format(x$loglik, nsmall = 2)}, {x$n_iter} iterations ",
    "({if (x$converged) 'converged' else 'not converged'}, {format(round(x$seconds, 2))} s, ",
    "{x$control$dtype}, backend {x$control$backend})"))
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
#' @importFrom stats sigma AIC BIC logLik coef vcov fitted predict
#' @export
sigma.pln_fit <- function(object, ...) object$Sigma

#' @rdname pln-methods
#' @details `vcov()` approximates the covariance of `vec(B)` by
#'   `Sigma %x% solve(crossprod(X))`, the Gaussian linear-model value for
#'   the latent layer.
#' @export
vcov.pln_fit <- function(object, ...) {
  v <- kronecker(object$Sigma, solve(crossprod(object$X)))
  nm <- as.vector(outer(rownames(object$B), colnames(object$B), paste, sep = ":"))
  dimnames(v) <- list(nm, nm)
  v
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

#' @rdname pln-methods
#' @export
predict.pln_fit <- function(object, newdata = NULL, type = c("link", "response"), ...) {
  type <- match.arg(type)
  if (is.null(newdata)) {
    X <- object$X; O <- object$O
  } else {
    if (is.null(object$terms)) rj_abort("type", "predict(newdata) needs a fit from the formula interface")
    tt <- stats::delete.response(object$terms)
    mf <- stats::model.frame(tt, newdata, xlev = object$xlevels)
    X <- stats::model.matrix(tt, mf)
    O <- stats::model.offset(mf) %||% 0
    O <- if (length(O) == 1L || length(O) == nrow(X)) matrix(O, nrow(X), object$p) else as.matrix(O)
  }
  link <- O + X %*% object$B
  if (type == "link") return(link)
  exp(sweep(link, 2, diag(object$Sigma) / 2, "+"))
}

#' @rdname pln-methods
#' @export
plot.pln_fit <- function(x, type = c("elbo", "correlation"), ...) {
  type <- match.arg(type)
  if (type == "elbo") {
    graphics::plot(seq_along(x$elbo), x$elbo, type = "l", xlab = "iteration", ylab = "ELBO",
                   main = "PLN fit: ELBO trajectory", ...)
  } else {
    r <- stats::cov2cor(x$Sigma)
    p <- ncol(r)
    graphics::image(seq_len(p), seq_len(p), r[, rev(seq_len(p))], zlim = c(-1, 1), axes = FALSE,
                    xlab = "", ylab = "", main = "Latent correlations",
                    col = grDevices::hcl.colors(51, "Blue-Red 3"), ...)
  }
  invisible(x)
}
