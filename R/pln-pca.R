# PLNPCA (ALGORITHMS.md; Chiquet, Mariadassou, Robin 2018): the rank-q
# Poisson log-normal model Z_i = C W_i, W_i ~ N(0, I_q), fitted by the
# engine of pln_fit() (R/pln-engine.R: SQUAREM around a fixed-point step,
# compiled chunks, the same stopping rule) over a grid of ranks with warm
# starts. The step: Newton steps with the diagonal of (a majorant of) the
# Hessian for M, then B (the Newton step along X shared with pln_fit())
# and C, then t = log(S^2); A is recomputed between blocks.

pln_pca_A <- function(par, dat) {
  C <- par$C
  exp(dat$O + dat$X %*% par$B + tcrossprod(par$M, C) + 0.5 * tcrossprod(exp(par$t), C * C))
}

# The ELBO at par, up to the log-factorials (A: pln_pca_A(par, dat)).
pln_pca_elbo <- function(par, dat, A = pln_pca_A(par, dat)) {
  M <- par$M
  sum(dat$Y * (dat$O + dat$X %*% par$B + tcrossprod(M, par$C)) - A) - 0.5 * sum(M * M + exp(par$t) - par$t) +
    0.5 * length(M)
}

pln_pca_step_fn <- function() {
  function(par, dat) {
    C <- par$C
    M <- par$M
    S2 <- exp(par$t)
    A <- pln_pca_A(par, dat)
    C2 <- C * C
    elbo <- pln_pca_elbo(par, dat, A)
    # M: gradient (Y - A) C - M, curvature A (C * C) + 1.
    # Steps are limited so that no log-rate moves by more than about 1
    # (a move of M[, k] by d changes log-rates by d * C[, k]).
    AC2 <- A %*% C2
    cmax <- dat$ones_n %*% matrix(pmax(sqrt(colSums(C2)), 1), 1L)
    M <- M + pln_clamp(((dat$Y - A) %*% C - M) / (AC2 + 1) * cmax) / cmax
    par1 <- list(B = par$B, C = C, M = M, t = par$t)
    A <- pln_pca_A(par1, dat)
    # B and C from the same A. C: gradient (Y - A)' M - (A' S2) * C, with the
    # diagonal of a (Gershgorin) majorant of its Hessian.
    dB <- pln_x_newton(dat, A)
    aM <- abs(M)
    aC <- abs(C)
    Q <- A * (rowSums(aM) + tcrossprod(S2, aC))
    hC <- crossprod(Q, aM) + aC * crossprod(Q, S2) + crossprod(A, S2)
    gC <- crossprod(dat$Y - A, M) - crossprod(A, S2) * C
    mmax <- dat$ones_p %*% matrix(pmax(sqrt(colSums(M * M) / nrow(M)), 1), 1L)
    C <- C + pln_clamp(gC / pmax(hC, dat$tiny) * mmax) / mmax
    par2 <- list(B = par$B + dB, C = C, M = M, t = par$t)
    A <- pln_pca_A(par2, dat)
    # t = log(S^2): gradient 0.5 (1 - S2 (A C2 + 1)), concave in t.
    C2 <- C * C
    H <- A %*% C2 + 1
    g <- 0.5 * (1 - S2 * H)
    h <- -0.5 * S2 * H - 0.25 * S2 * S2 * (A %*% (C2 * C2))
    par2$t <- par$t - pln_clamp(g / h)
    list(par = par2, elbo = elbo)
  }
}

pln_pca_programs <- new.env(parent = emptyenv())

pln_pca_chunk <- function(backend, dtype) {
  key <- paste(backend, dtype)
  if (is.null(pln_pca_programs[[key]])) {
    pln_pca_programs[[key]] <- pln_chunk_program(pln_squarem(pln_pca_step_fn(), pln_tiny(dtype)), backend)
  }
  pln_pca_programs[[key]]
}

# The ELBO of the final parameters, compiled: its n x p terms never exist as
# R matrices (at single-cell sizes each would be gigabytes of doubles).
pln_pca_elbo_program <- function(backend, dtype) {
  key <- paste("elbo", backend, dtype)
  if (is.null(pln_pca_programs[[key]])) pln_pca_programs[[key]] <- jit(pln_pca_elbo, backend = backend)
  pln_pca_programs[[key]]
}

pln_pca_nb_param <- function(p, d, q) p * d + p * q - q * (q - 1) / 2

# One rank from a starting point (R matrices); returns a pln_pca_fit.
pln_pca_one <- function(init, md, control, const) {
  dt <- control$dtype
  arr <- function(x) rj_array(x, dtype = dt)
  n <- nrow(md$Y)
  # B is fitted on the coefficients of the Newton design (pln_newton_design()).
  nd <- pln_newton_design(md$X)
  init$B <- solve(nd$to_B, init$B)
  dat <- list(Y = arr(md$Y), O = arr(md$O), X = arr(nd$Xn), Xn = arr(nd$Xn), aX = arr(abs(nd$Xn)), w = 1,
              ones_n = arr(matrix(1, n, 1L)), ones_p = arr(matrix(1, ncol(md$Y), 1L)),
              wr = arr(rowSums(abs(nd$Xn))), tiny = pln_tiny(dt))
  carry <- list(par = lapply(init, arr), elbo = rj_array(-Inf, dtype = dt))
  run <- pln_run(pln_pca_chunk(control$backend, dt), carry, dat, control, const, what = "pln_pca")
  ll <- as.numeric(as.array(pln_pca_elbo_program(control$backend, dt)(run$carry$par, dat))) + const
  par <- lapply(run$carry$par, as.matrix)
  par$B <- nd$to_B %*% par$B
  S2 <- exp(par$t)
  q <- ncol(par$C)
  p <- ncol(md$Y)
  sp <- colnames(md$Y) %||% paste0("Y", seq_len(p))
  dimnames(par$B) <- list(colnames(md$X), sp)
  dimnames(par$C) <- list(sp, paste0("PC", seq_len(q)))
  Sigma <- tcrossprod(par$C)
  dimnames(Sigma) <- list(sp, sp)
  nb <- pln_pca_nb_param(p, ncol(md$X), q)
  bic <- ll - 0.5 * log(n) * nb
  entropy <- 0.5 * sum(log(2 * pi * exp(1) * S2))
  structure(list(rank = q, B = par$B, C = par$C, M = par$M, S = sqrt(S2), Sigma = Sigma, loglik = ll,
                 nb_param = nb, BIC = bic, ICL = bic - entropy, elbo = c(run$elbo, ll), n_iter = run$n_iter,
                 converged = run$converged, seconds = run$seconds, n = n, p = p, d = ncol(md$X),
                 Y = md$Y, X = md$X, O = md$O, control = control, terms = md$terms, xlevels = md$xlevels),
            class = "pln_pca_fit")
}

#' Poisson log-normal PCA
#'
#' Fits PLNmodels' rank-constrained PLN model (PLNPCA) for each rank in
#' `ranks`: the latent layer is `Z_i = C W_i`, `W_i ~ N(0, I_q)` with a p x
#' q loading matrix `C` (so `Sigma = C C'` has rank q), variational means
#' `M` and variances `S^2` of size n x q. Ranks are fitted in increasing
#' order, each starting from the previous fit (warm start) with one more
#' axis from the SVD of the log counts. Uses the engine of [pln_fit()]
#' (SQUAREM-accelerated Newton-type steps compiled by rjax, the same
#' stopping rule and warning, see [pln_control()]).
#'
#' @inheritParams pln_fit
#' @param ranks Ranks (numbers of axes) to fit.
#' @param control [pln_control()] or a named list of its options
#'   (`covariance`, `algorithm` and `weights` do not apply).
#' @return A `pln_pca_family`: a list with `models` (one `pln_pca_fit` per
#'   rank) and `criteria` (a data frame: rank, loglik, nb_param, BIC, ICL,
#'   iterations, converged). Use [get_best_model()] to pick one, `plot()`
#'   for the criteria and, on a fit, `plot(fit)` for the PCA of the latent
#'   positions.
#' @examples
#' sim <- pln_simulate(80, 10, seed = 1)
#' dat <- pln_data(sim$Y, data.frame(g = gl(2, 40)))
#' fam <- pln_pca(Abundance ~ 1 + offset(log(Offset)), dat, ranks = 1:3)
#' fam
#' best <- get_best_model(fam, "BIC")
#' best
#' plot(fam)
#' plot(best, colour = dat$g)
#' @export
pln_pca <- function(formula, data = NULL, subset = NULL, ranks = 1:5, control = pln_control(), X = NULL, O = NULL) {
  cl <- match.call()
  control <- as_pln_control(control)
  if (control$distributed) {
    rj_abort("pln_control", "pln_pca() does not run distributed: use distributed = FALSE (pln_fit() runs distributed).")
  }
  md <- pln_model_data(cl, formula, data, X, O, parent.frame())
  if (!is.numeric(ranks) || !length(ranks) || anyNA(ranks) || any(ranks < 1) || any(ranks != round(ranks)) ||
      any(ranks >= min(nrow(md$Y), ncol(md$Y)))) {
    rj_abort("pln_control", sprintf("pln_pca(): `ranks` must be whole numbers from 1 to %d (below min(n, p)).", min(nrow(md$Y), ncol(md$Y)) - 1L))
  }
  control <- pln_ftol(control, nrow(md$Y), ncol(md$Y))
  ranks <- sort(unique(as.integer(ranks)))
  const <- -sum(log_factorial(md$Y))
  # Starting point: least squares on the log counts, then the SVD of the residuals.
  L <- log1p(md$Y) - md$O
  B0 <- solve(crossprod(md$X), crossprod(md$X, L))
  sv <- pln_range_svd(L - md$X %*% B0, max(ranks), control$dtype)
  n <- nrow(L)
  axis_init <- function(k) list(C = sv$v[, k, drop = FALSE] * sv$d[k] / sqrt(n), M = sv$u[, k, drop = FALSE] * sqrt(n),
                                t = matrix(log(0.01), n, length(k)))
  models <- list()
  prev <- NULL
  for (q in ranks) {
    init <- if (is.null(prev)) {
      a <- axis_init(seq_len(q))
      list(B = B0, C = a$C, M = a$M, t = a$t)
    } else {
      # The new axes enter with small loadings, so that the start is (almost)
      # the previous optimum and the ELBO cannot fall below it.
      a <- axis_init(seq.int(prev$rank + 1L, q))
      list(B = prev$B, C = cbind(prev$C, a$C * 0.01), M = cbind(prev$M, a$M), t = cbind(log(prev$S^2), a$t))
    }
    init <- lapply(init, unname)
    prev <- pln_pca_one(init, md, control, const)
    prev$call <- cl
    models[[as.character(q)]] <- prev
  }
  crit <- data.frame(rank = ranks, loglik = vapply(models, `[[`, 0, "loglik"), nb_param = vapply(models, `[[`, 0, "nb_param"),
                     BIC = vapply(models, `[[`, 0, "BIC"), ICL = vapply(models, `[[`, 0, "ICL"),
                     iterations = vapply(models, `[[`, 0L, "n_iter"), converged = vapply(models, `[[`, TRUE, "converged"),
                     row.names = NULL)
  structure(list(models = models, criteria = crit, call = cl), class = "pln_pca_family")
}

# The leading k singular triplets of the n x p matrix Z, for the starting
# point of pln_pca(). Exact (svd()) on small problems; on large ones the
# randomized range finder of Halko, Martinsson & Tropp (2011, algorithm 4.4:
# k + 10 test columns, two power iterations re-orthonormalised by QR), with
# the n x p products compiled by rjax: R's svd() of a 20,000 x 14,000 matrix
# runs LAPACK on the reference BLAS for hours. The test matrix comes from a
# fixed rjax key, so the start is reproducible and R's random stream is not
# touched.
pln_range_svd <- function(Z, k, dtype = "f64") {
  n <- nrow(Z)
  p <- ncol(Z)
  l <- min(k + 10L, n, p)
  if (as.numeric(n) * p <= 4e6 || 2 * l >= min(n, p)) {
    s <- svd(Z, nu = k, nv = k)
    return(list(d = s$d[seq_len(k)], u = s$u, v = s$v))
  }
  prod <- jit(function(A, B) A %*% B)
  tprod <- jit(function(A, B) crossprod(A, B))
  Za <- rj_array(Z, dtype = dtype)
  times <- function(A, B) prod(A, rj_array(B, dtype = dtype))
  ttimes <- function(A, B) tprod(A, rj_array(B, dtype = dtype))
  orth <- function(x) qr.Q(qr(as.matrix(x)))
  Q <- orth(times(Za, as.matrix(rj_normal(rj_key(20L), c(p, l)))))
  for (i in 1:2) Q <- orth(times(Za, orth(ttimes(Za, Q))))
  s <- svd(t(as.matrix(ttimes(Za, Q))), nu = k, nv = k)  # of Q' Z, l x p
  list(d = s$d[seq_len(k)], u = Q %*% s$u, v = s$v)
}

#' Select a PLNPCA model
#'
#' @param x A `pln_pca_family` from [pln_pca()].
#' @param crit `"BIC"` or `"ICL"` (larger is better, PLNmodels' convention).
#' @param rank Instead of a criterion, the rank to return.
#' @return A `pln_pca_fit`.
#' @examples
#' sim <- pln_simulate(60, 8, seed = 2)
#' fam <- pln_pca(sim$Y, O = sim$O, ranks = 1:2)
#' get_best_model(fam, "ICL")$rank
#' @export
get_best_model <- function(x, crit = c("BIC", "ICL"), rank = NULL) {
  if (!inherits(x, "pln_pca_family")) rj_abort("type", "get_best_model() needs the result of pln_pca().")
  if (!is.null(rank)) {
    m <- x$models[[as.character(rank)]]
    if (is.null(m)) rj_abort("pln_control", sprintf("get_best_model(): rank %s was not fitted (ranks: %s).", rank, paste(x$criteria$rank, collapse = ", ")))
    return(m)
  }
  crit <- match.arg(crit)
  x$models[[which.max(x$criteria[[crit]])]]
}

#' @export
print.pln_pca_family <- function(x, ...) {
  fit <- x$models[[1L]]
  cli::cat_line(sprintf("Poisson log-normal PCA: %d samples, %d species, ranks %s", fit$n, fit$p, paste(x$criteria$rank, collapse = ", ")))
  print(x$criteria, row.names = FALSE, digits = 7)
  cli::cat_line(sprintf("best rank: %d by BIC, %d by ICL (larger is better)", x$criteria$rank[which.max(x$criteria$BIC)],
                        x$criteria$rank[which.max(x$criteria$ICL)]))
  invisible(x)
}

#' @export
print.pln_pca_fit <- function(x, ...) {
  cli::cat_line(sprintf("PLNPCA fit of rank %d: %d samples, %d species; %s", x$rank, x$n, x$p, pln_covariates_label(x)))
  cli::cat_line(sprintf("  log-likelihood (ELBO) %.2f, BIC %.2f, ICL %.2f; %d iterations (%s, %.2f s)", x$loglik, x$BIC, x$ICL,
                        x$n_iter, if (x$converged) "converged" else "not converged", x$seconds))
  invisible(x)
}

#' @export
coef.pln_pca_fit <- function(object, type = c("main", "covariance"), ...) {
  switch(match.arg(type), main = object$B, covariance = object$Sigma)
}

#' @export
sigma.pln_pca_fit <- function(object, ...) object$Sigma

#' @export
logLik.pln_pca_fit <- function(object, ...) structure(object$loglik, df = object$nb_param, nobs = object$n, class = "logLik")

#' @export
BIC.pln_pca_fit <- function(object, ...) object$BIC

#' @export
ICL.pln_pca_fit <- function(object, ...) object$ICL

#' @export
fitted.pln_pca_fit <- function(object, ...) {
  exp(object$O + object$X %*% object$B + tcrossprod(object$M, object$C) + 0.5 * tcrossprod(object$S^2, object$C^2))
}

#' Latent positions of a PLNPCA fit
#'
#' The latent positions `M C'` (n x p, centred) projected on their principal
#' axes: the coordinates a PCA plot shows.
#' @param object A `pln_pca_fit`.
#' @return A list with `scores` (n x q), `loadings` (p x q) and `percent`
#'   (variance explained by each axis, in percent).
#' @examples
#' sim <- pln_simulate(60, 8, seed = 3)
#' fit <- get_best_model(pln_pca(sim$Y, O = sim$O, ranks = 2))
#' str(pln_pca_scores(fit))
#' @export
pln_pca_scores <- function(object) {
  Z <- tcrossprod(object$M, object$C)
  Z <- sweep(Z, 2, colMeans(Z))
  sv <- svd(Z, nu = object$rank, nv = object$rank)
  scores <- sv$u %*% diag(sv$d[seq_len(object$rank)], object$rank)
  colnames(scores) <- paste0("PC", seq_len(object$rank))
  list(scores = scores, loadings = sv$v, percent = 100 * sv$d[seq_len(object$rank)]^2 / sum(sv$d^2))
}

#' Plots of PLNPCA results
#'
#' `plot(family)`: the criteria (log-likelihood, BIC, ICL) against the rank,
#' the best ranks marked (a scree-type plot). `plot(fit)`: the samples'
#' latent positions on the first two principal axes, coloured by a factor.
#' @param x A `pln_pca_family` or a `pln_pca_fit`.
#' @param colour Optional factor (one value per sample) to colour the points.
#' @param axes The two axes to draw.
#' @param ... Passed to [plot()].
#' @return `x`, invisibly.
#' @examples
#' sim <- pln_simulate(60, 8, seed = 4)
#' fam <- pln_pca(sim$Y, O = sim$O, ranks = 1:3)
#' plot(fam)
#' plot(get_best_model(fam, rank = 2), colour = gl(2, 30))
#' @export
plot.pln_pca_family <- function(x, ...) {
  cr <- x$criteria
  rng <- range(cr$loglik, cr$BIC, cr$ICL)
  graphics::plot(cr$rank, cr$loglik, type = "b", pch = 19, col = "grey30", ylim = rng, xlab = "rank q",
                 ylab = "criterion (larger is better)", main = "PLNPCA: model selection", xaxt = "n", ...)
  graphics::axis(1, at = cr$rank)
  graphics::lines(cr$rank, cr$BIC, type = "b", pch = 17, col = "#2166AC")
  graphics::lines(cr$rank, cr$ICL, type = "b", pch = 15, col = "#B2182B")
  graphics::abline(v = cr$rank[which.max(cr$BIC)], col = "#2166AC", lty = 2)
  graphics::abline(v = cr$rank[which.max(cr$ICL)], col = "#B2182B", lty = 3)
  graphics::legend("bottomright", c("log-likelihood", "BIC", "ICL"), col = c("grey30", "#2166AC", "#B2182B"),
                   pch = c(19, 17, 15), lty = 1, bty = "n")
  invisible(x)
}

#' @rdname plot.pln_pca_family
#' @export
plot.pln_pca_fit <- function(x, colour = NULL, axes = c(1L, 2L), ...) {
  sc <- pln_pca_scores(x)
  if (x$rank < 2L) axes <- c(1L, 1L)
  if (is.null(colour)) colour <- factor(rep("samples", x$n))
  colour <- as.factor(colour)
  if (length(colour) != x$n) rj_abort("shape", sprintf("plot(): `colour` has %d values but the fit has %d samples.", length(colour), x$n))
  pal <- grDevices::hcl.colors(max(3L, nlevels(colour)), "Dark 3")[seq_len(nlevels(colour))]
  lab <- function(a) sprintf("PC%d (%.1f%%)", a, sc$percent[[a]])
  graphics::plot(sc$scores[, axes[1]], sc$scores[, axes[2]], pch = 19, col = pal[as.integer(colour)],
                 xlab = lab(axes[1]), ylab = lab(axes[2]), main = sprintf("PLNPCA (rank %d): latent positions", x$rank), ...)
  graphics::abline(h = 0, v = 0, col = "grey80", lty = 3)
  if (nlevels(colour) > 1L) graphics::legend("topright", levels(colour), col = pal, pch = 19, bty = "n")
  invisible(x)
}
