# Poisson log-normal model fitted by variational inference (ALGORITHMS.md).
# Variational parameters M (residual means) and S are optimised by a
# first-order optimiser (RAdam by default); B and Sigma are profiled in
# closed form after every step. The iterations run as compiled chunks.

#' Build a PLN data set
#'
#' Puts counts, covariates and offsets into one data frame, as PLNmodels'
#' `prepare_data()` does: the counts are the matrix column `Abundance`, the
#' offsets the matrix column `Offset`, the covariates ordinary columns.
#' @param counts An n x p matrix of counts.
#' @param covariates A data frame with n rows (or `NULL`).
#' @param offsets An n x p matrix (or a length-n vector) of *raw* offsets
#'   such as sequencing depths, used as `offset(log(Offset))`; `NULL` for
#'   none.
#' @return A data frame with columns `Abundance`, `Offset` and the covariates.
#' @examples
#' sim <- pln_simulate(30, 5)
#' d <- pln_data(sim$Y, offsets = exp(sim$O))
#' str(d, max.level = 1)
#' @export
pln_data <- function(counts, covariates = NULL, offsets = NULL) {
  Y <- as.matrix(counts)
  if (!is.numeric(Y)) rj_abort("type", "counts must be numeric")
  n <- nrow(Y)
  if (is.null(offsets)) offsets <- matrix(1, n, ncol(Y))
  offsets <- as.matrix(offsets)
  if (ncol(offsets) == 1L) offsets <- offsets[, rep(1L, ncol(Y)), drop = FALSE]
  if (!identical(dim(offsets), dim(Y))) rj_abort("shape", "offsets must have the dimensions of counts")
  out <- if (is.null(covariates)) data.frame(row.names = seq_len(n)) else as.data.frame(covariates)
  if (nrow(out) != n) rj_abort("shape", "covariates must have one row per sample (row of counts)")
  out$Abundance <- Y
  out$Offset <- offsets
  out
}

#' Simulate PLN data
#'
#' @param n,p Numbers of samples and of species (columns).
#' @param d Number of covariates including the intercept.
#' @param rho Correlation of the latent layer (AR(1) structure over species).
#' @param sigma Latent standard deviation.
#' @param depth Mean log sequencing depth (the offsets are `log` depths).
#' @param seed Optional seed.
#' @return A list with `Y`, `X`, `O` (log scale), and the true `B`, `Sigma`.
#' @examples
#' sim <- pln_simulate(100, 10, d = 2)
#' dim(sim$Y)
#' @export
pln_simulate <- function(n, p, d = 1, rho = 0.5, sigma = 0.7, depth = 1, seed = NULL) {
  if (!is.null(seed)) set.seed(seed)
  X <- cbind(1, matrix(stats::rnorm(n * (d - 1)), n, d - 1))
  B <- rbind(stats::runif(p, 0.5, 2), matrix(stats::rnorm((d - 1) * p, sd = 0.3), d - 1, p))
  Sigma <- sigma^2 * rho^abs(outer(seq_len(p), seq_len(p), "-"))
  O <- matrix(depth + stats::rnorm(n, sd = 0.2), n, p)
  Z <- X %*% B + matrix(stats::rnorm(n * p), n) %*% chol(Sigma)
  Y <- matrix(stats::rpois(n * p, exp(O + Z)), n, p)
  list(Y = Y, X = X, O = O, B = B, Sigma = Sigma)
}

#' Control of a PLN fit
#'
#' @param max_iter Maximum number of optimisation steps.
#' @param tol Stop when the relative change of the ELBO over one chunk of
#'   iterations, divided by the chunk length, is below `tol`.
#' @param lr Learning rate of the optimiser.
#' @param optimizer `"radam"` or `"adam"`, or an `rjax_optimizer` object.
#' @param clip Largest absolute update per element (`NULL`: no clipping).
#' @param dtype `"f64"` or `"f32"`.
#' @param backend Backend for the compiled iterations.
#' @param chunk Iterations per compiled chunk (convergence is checked
#'   between chunks).
#' @param trace Keep the ELBO of every iteration.
#' @param progress Show a progress bar.
#' @return A list of class `pln_control`.
#' @examples
#' pln_control(max_iter = 200, lr = 0.05)
#' @export
pln_control <- function(max_iter = 1000L, tol = 1e-9, lr = 0.1, optimizer = "radam", clip = NULL,
                        dtype = c("f64", "f32"), backend = getOption("rjax.backend", "interp"),
                        chunk = 50L, trace = TRUE, progress = interactive()) {
  dtype <- match.arg(dtype)
  if (!inherits(optimizer, "rjax_optimizer")) optimizer <- match.arg(optimizer, c("radam", "adam"))
  structure(list(max_iter = as.integer(max_iter), tol = tol, lr = lr, optimizer = optimizer, clip = clip,
                 dtype = dtype, backend = backend, chunk = as.integer(chunk), trace = trace,
                 progress = progress), class = "pln_control")
}

pln_optimizer <- function(ctrl) {
  opt <- ctrl$optimizer
  if (inherits(opt, "rjax_optimizer")) return(opt)
  base <- switch(opt, radam = opt_radam(ctrl$lr), adam = opt_adam(ctrl$lr))
  if (is.null(ctrl$clip)) base else opt_chain(base, opt_clip(ctrl$clip))
}

# log(y!) by Ramanujan's approximation, as PLNmodels (exact for small y).
log_factorial <- function(y) {
  out <- lfactorial(y)
  big <- y > 20
  yb <- y[big]
  out[big] <- yb * log(yb) - yb + log(yb * (1 + 4 * yb * (1 + 2 * yb))) / 6 + log(pi) / 2
  out
}

# Closed forms given M, S: B absorbs the part of the latent mean explained by
# X (M keeps the rest), then Sigma = (M'M + diag(colSums S^2)) / n.
pln_profile <- function(M, S, B, X, XtX) {
  mu <- X %*% B + M
  B <- solve(XtX, crossprod(X, mu))
  M <- mu - X %*% B
  n <- nrow(M)
  Sigma <- (crossprod(M) + diag(colSums(S * S))) / n
  list(M = M, B = B, Sigma = Sigma)
}

# The ELBO at fixed (B, Omega), without the constant n p / 2 - sum(log Y!).
pln_elbo_fixed <- function(M, S, B, Omega, Y, X, O) {
  S2 <- S * S
  Z <- O + X %*% B + M
  A <- exp(Z + S2 / 2)
  nrow(Y) / 2 * determinant(Omega)$modulus + sum(Y * Z - A + 0.5 * log(S2)) -
    0.5 * sum((M %*% Omega) * M) - 0.5 * sum(colSums(S2) * diag(Omega))
}

# The profiled ELBO (Sigma at its closed form), without - sum(log Y!).
pln_elbo_profiled <- function(M, S, B, Sigma, Y, X, O) {
  S2 <- S * S
  Z <- O + X %*% B + M
  -nrow(Y) / 2 * 2 * sum(log(diag(chol(Sigma)))) + sum(Y * Z - exp(Z + S2 / 2) + 0.5 * log(S2))
}

# One iteration: an optimiser step on (M, S) for -ELBO at the current
# (B, Omega), then the closed forms. Returns the new state and the ELBO.
# The loss is -ELBO / (n p): RAdam's first (unrectified) steps are plain
# momentum steps of size lr * gradient, so the scale must not grow with the data.
pln_step_fn <- function(opt) {
  loss_grad <- value_and_grad(function(M, S, B, Omega, Y, X, O) {
    -pln_elbo_fixed(M, S, B, Omega, Y, X, O) / length(Y)
  }, wrt = c("M", "S"))
  function(st, data) {
    Omega <- solve(st$Sigma)
    vg <- loss_grad(st$M, st$S, st$B, Omega, data$Y, data$X, data$O)
    up <- opt$update(vg$grad, st$opt, list(M = st$M, S = st$S))
    ms <- apply_updates(list(M = st$M, S = st$S), up$updates)
    pr <- pln_profile(ms$M, ms$S, st$B, data$X, data$XtX)
    elbo <- pln_elbo_profiled(pr$M, ms$S, pr$B, pr$Sigma, data$Y, data$X, data$O)
    list(state = list(M = pr$M, S = ms$S, B = pr$B, Sigma = pr$Sigma, opt = up$state), elbo = elbo)
  }
}

# A compiled program running `k` iterations from a state: one scan, so the
# loop runs natively; returns list(state, elbo = the k ELBO values).
pln_chunk_fn <- function(step, backend) {
  jit(function(st, data, k) {
    r <- scan_loop(function(carry, x) {
      s <- step(carry, data)
      list(s$state, s$elbo)
    }, st, length = k)
    list(state = r$carry, elbo = r$ys)
  }, static = "k", backend = backend)
}

#' Fit a Poisson log-normal model
#'
#' Fits the PLN model `Y_ij ~ Poisson(exp(O_ij + Z_ij))`, `Z_i ~ N(X_i B,
#' Sigma)` by variational inference: the variational means and variances
#' are optimised with RAdam (compiled with rjax), while `B` and `Sigma` are
#' updated in closed form after every step. Stops when the ELBO's relative
#' change per iteration falls below `control$tol`, or after
#' `control$max_iter` iterations.
#'
#' The log-likelihood reported is the ELBO with `log(y!)` computed by
#' Ramanujan's formula, as PLNmodels does, so values are comparable.
#'
#' @param formula A formula such as `Abundance ~ 1 + offset(log(Offset))`
#'   with `data` from [pln_data()], or a count matrix `Y`.
#' @param data A data frame (formula interface).
#' @param X,O With a count matrix: the design matrix (default: intercept)
#'   and the offsets on the log scale (default: 0).
#' @param control See [pln_control()].
#' @return An object of class `pln_fit`.
#' @examples
#' sim <- pln_simulate(60, 6, seed = 1)
#' fit <- pln_fit(sim$Y, O = sim$O, control = pln_control(max_iter = 100))
#' fit
#' coef(fit)
#' @export
pln_fit <- function(formula, data = NULL, X = NULL, O = NULL, control = pln_control()) {
  cl <- match.call()
  tt <- NULL
  if (inherits(formula, "formula")) {
    mf <- stats::model.frame(formula, data)
    tt <- attr(mf, "terms")
    Y <- as.matrix(stats::model.response(mf))
    X <- stats::model.matrix(tt, mf)
    O <- stats::model.offset(mf)
  } else {
    Y <- as.matrix(formula)
  }
  if (!is.numeric(Y) || anyNA(Y) || any(Y < 0)) rj_abort("type", "counts must be non-negative numbers without NA")
  n <- nrow(Y); p <- ncol(Y)
  if (is.null(X)) X <- matrix(1, n, 1, dimnames = list(NULL, "(Intercept)"))
  X <- as.matrix(X)
  if (is.null(O)) O <- 0
  O <- if (length(O) == 1L || length(O) == n) matrix(O, n, p) else as.matrix(O)
  if (nrow(X) != n || !identical(dim(O), dim(Y))) rj_abort("shape", "Y, X and O must have the same number of rows (and O the dims of Y)")
  fit_core <- pln_optimize(Y, X, O, control)
  pln_new_fit(fit_core, Y, X, O, control, cl, tt, data)
}

pln_optimize <- function(Y, X, O, control) {
  t0 <- proc.time()[["elapsed"]]
  dt <- control$dtype
  arr <- function(x) rj_array(x, dtype = dt)
  # Start from the log counts: B by least squares, M the residual.
  L <- log1p(Y) - O
  XtX <- crossprod(X)
  B0 <- solve(XtX, crossprod(X, L))
  M0 <- L - X %*% B0
  S0 <- matrix(0.5, nrow(Y), ncol(Y))
  Sigma0 <- (crossprod(M0) + diag(colSums(S0^2))) / nrow(Y)
  data <- list(Y = arr(Y), X = arr(X), O = arr(O), XtX = arr(XtX))
  opt <- pln_optimizer(control)
  st <- list(M = arr(M0), S = arr(S0), B = arr(B0), Sigma = arr(Sigma0))
  st$opt <- opt$init(list(M = st$M, S = st$S))
  chunk_fn <- pln_chunk_fn(pln_step_fn(opt), control$backend)
  elbo <- numeric()
  const <- -sum(log_factorial(Y))
  converged <- FALSE
  it <- 0L
  if (control$progress) {
    pb <- cli::cli_progress_bar("Fitting PLN", total = control$max_iter, clear = FALSE)
  }
  while (it < control$max_iter) {
    k <- min(control$chunk, control$max_iter - it)
    r <- chunk_fn(st, data, k)
    st <- r$state
    prev <- if (length(elbo)) elbo[[length(elbo)]] else NA
    elbo <- c(elbo, as.vector(r$elbo))
    it <- it + k
    if (control$progress) cli::cli_progress_update(set = it, id = pb)
    last <- elbo[[length(elbo)]]
    if (!is.finite(last)) rj_abort("numerical", sprintf("the ELBO became %s at iteration %d: lower control$lr", last, it))
    if (!is.na(prev) && abs(last - prev) / abs(last) / k < control$tol) {
      converged <- TRUE
      break
    }
  }
  if (control$progress) cli::cli_progress_done(id = pb)
  list(M = as.matrix(st$M), S = abs(as.matrix(st$S)), B = as.matrix(st$B), Sigma = as.matrix(st$Sigma),
       elbo = elbo + const, n_iter = it, converged = converged, seconds = proc.time()[["elapsed"]] - t0)
}

pln_new_fit <- function(core, Y, X, O, control, call, terms, data) {
  p <- ncol(Y)
  sp <- colnames(Y) %||% paste0("Y", seq_len(p))
  dimnames(core$B) <- list(colnames(X) %||% paste0("X", seq_len(ncol(X))), sp)
  dimnames(core$Sigma) <- list(sp, sp)
  structure(c(core, list(
    Omega = solve(core$Sigma), loglik = core$elbo[[length(core$elbo)]], Y = Y, X = X, O = O,
    n = nrow(Y), p = p, d = ncol(X), control = control, call = call, terms = terms,
    xlevels = if (!is.null(terms) && !is.null(data)) stats::.getXlevels(terms, stats::model.frame(terms, data)) else NULL
  )), class = "pln_fit")
}
