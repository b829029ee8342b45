# Poisson log-normal model fitted by variational inference (ALGORITHMS.md):
# pln_fit() (formula interface, validation, the fit object) and its
# first-order algorithm (algorithm = "radam": RAdam on M and S, B and Sigma
# profiled after every step). The default algorithm is in R/pln-vem.R.

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
#' Sigma)` by variational inference, as PLNmodels' `PLN()`: the ELBO of
#' ALGORITHMS.md is maximised over the variational means and variances,
#' with `B` and `Sigma` in closed form. By default (`algorithm = "vem"`) a
#' variational EM with one Newton step per variational parameter,
#' accelerated by SQUAREM, compiled with rjax; it stops when the relative
#' change of the ELBO falls below `control$ftol_rel` and warns (class
#' `rjax_pln_not_converged_warning`) when `control$max_iter` comes first.
#' `algorithm = "radam"` runs the JAX tutorial's first-order optimiser.
#'
#' The data are validated once, up front: counts must be non-negative
#' whole numbers without NA (at least two species, none all zero),
#' covariates without NA, offsets finite and of the counts' shape.
#'
#' The log-likelihood reported is the ELBO with `log(y!)` computed by
#' Ramanujan's formula, as PLNmodels does, so values are comparable.
#'
#' @param formula A formula such as `Abundance ~ 1 + offset(log(Offset))`
#'   with `data` from [pln_data()], or a count matrix `Y`.
#' @param data A data frame (formula interface).
#' @param subset Optional: which samples (rows of `data`) to use, as in
#'   [lm()].
#' @param weights Optional positive observation weights, one per sample
#'   (each sample's ELBO term is multiplied by its weight).
#' @param control [pln_control()] or a named list of its options.
#' @param X,O With a count matrix: the design matrix (default: intercept)
#'   and the offsets on the log scale (default: 0).
#' @return An object of class `pln_fit`.
#' @examples
#' sim <- pln_simulate(60, 6, seed = 1)
#' fit <- pln_fit(sim$Y, O = sim$O)
#' fit
#' coef(fit)
#' dat <- pln_data(sim$Y, data.frame(g = gl(2, 30)), offset = exp(sim$O))
#' fit2 <- pln_fit(Abundance ~ g + offset(log(Offset)), dat, control = list(covariance = "diagonal"))
#' BIC(fit2)
#' @export
pln_fit <- function(formula, data = NULL, subset = NULL, weights = NULL, control = pln_control(), X = NULL, O = NULL) {
  cl <- match.call()
  control <- as_pln_control(control)
  md <- pln_model_data(cl, formula, data, X, O, parent.frame(), control$distributed)
  control <- pln_ftol(control, md$n_all, ncol(md$Y))
  core <- if (control$algorithm == "vem") {
    pln_vem_fit(md$Y, md$X, md$O, md$w, control)
  } else if (control$distributed) {
    pln_dist_radam_fit(md$Y, md$X, md$O, md$w, control)
  } else {
    pln_radam_fit(md$Y, md$X, md$O, md$w, control)
  }
  pln_new_fit(core, md, control, cl)
}

# The response, design, offsets and weights of a call, validated.
# `cl` is the caller's call: subset and weights are evaluated as in lm().
# In a distributed fit the data are this rank's samples: the checks that
# concern all samples (all-zero species, rank of the design) are made on
# all-reduced statistics, and `n_all`, `rows` say where the rank's samples
# lie among all.
pln_model_data <- function(cl, formula, data, X, O, env, distributed = FALSE) {
  ev <- pln_eager_reducers(distributed)
  terms <- NULL
  xlevels <- NULL
  w <- NULL
  if (inherits(formula, "formula")) {
    if (is.null(data)) data <- environment(formula)
    mfc <- cl[c(1L, match(c("formula", "data", "subset", "weights"), names(cl), 0L))]
    mfc[[1L]] <- quote(stats::model.frame)
    mfc$na.action <- quote(stats::na.pass)
    mfc$drop.unused.levels <- TRUE
    mf <- eval(mfc, env)
    terms <- attr(mf, "terms")
    Y <- stats::model.response(mf)
    if (is.null(Y)) pln_data_error("the formula has no response: write Abundance ~ ... with the counts matrix on the left.")
    Y <- pln_check_counts(Y, "the response (counts)")
    nas <- vapply(mf[-1L], function(v) anyNA(v), TRUE)
    if (any(nas)) {
      pln_data_error("the covariate%s %s contain%s NA: use subset = complete.cases(...) or impute them.",
                     if (sum(nas) > 1L) "s" else "", paste0("`", names(mf)[-1L][nas], "`", collapse = ", "), if (sum(nas) > 1L) "" else "s")
    }
    X <- stats::model.matrix(terms, mf)
    O <- stats::model.offset(mf)
    w <- stats::model.weights(mf)
    xlevels <- stats::.getXlevels(terms, mf)
  } else {
    Y <- pln_check_counts(formula, "the counts")
    if (is.null(X)) X <- matrix(1, nrow(Y), 1L, dimnames = list(NULL, "(Intercept)"))
    X <- as.matrix(X)
    w <- eval(cl$weights, env)
    rows <- eval(cl$subset, env)
    if (!is.null(rows)) {
      keep <- seq_len(nrow(Y))[rows]
      if (anyNA(keep)) pln_data_error("subset selects rows that do not exist (the counts have %d rows).", nrow(Y))
      n0 <- nrow(Y)
      Y <- Y[keep, , drop = FALSE]
      if (nrow(X) == n0) X <- X[keep, , drop = FALSE]
      if (!is.null(O) && NROW(O) == n0 && length(O) > 1L) O <- if (is.null(dim(O))) O[keep] else O[keep, , drop = FALSE]
      if (!is.null(w) && length(w) == n0) w <- w[keep]
    }
  }
  n <- nrow(Y)
  p <- ncol(Y)
  pln_check_species(Y, ev)
  X <- pln_check_design(X, n, ev)
  if (is.null(colnames(X))) colnames(X) <- paste0("X", seq_len(ncol(X)))
  O <- pln_check_offset(O, n, p)
  w <- pln_check_weights(w, n)
  sizes <- ev$gather(n + 0)
  rank <- if (distributed) mpi_state()$rank else 0L
  list(Y = Y, X = X, O = O, w = w, terms = terms, xlevels = xlevels, n_all = as.integer(sum(sizes)),
       rows = as.integer(sum(sizes[seq_len(rank)])) + seq_len(n))
}

# RAdam's starting point from the log counts: B by least squares, M the
# residual, S = 0.5 (`ev` sums over the ranks of a distributed fit).
pln_radam_start <- function(Y, X, O, ev) {
  n <- ev$sum(nrow(Y) + 0)
  L <- log1p(Y) - O
  XtX <- ev$sum(crossprod(X))
  B <- solve(XtX, ev$sum(crossprod(X, L)))
  M <- L - X %*% B
  S <- matrix(0.5, nrow(Y), ncol(Y))
  list(n = n, XtX = XtX, B = B, M = M, S = S, Sigma = (ev$sum(crossprod(M)) + diag(ev$sum(colSums(S^2)))) / n)
}

# The first-order fit (the JAX tutorial's optimiser, with a learning rate).
pln_radam_fit <- function(Y, X, O, w, control) {
  if (any(w != 1)) rj_abort("pln_control", "algorithm = \"radam\" does not take weights: use algorithm = \"vem\".")
  if (control$covariance != "full") rj_abort("pln_control", "algorithm = \"radam\" fits covariance = \"full\" only: use algorithm = \"vem\".")
  dt <- control$dtype
  arr <- function(x) rj_array(x, dtype = dt)
  s0 <- pln_radam_start(Y, X, O, pln_eager_reducers(FALSE))
  data <- list(Y = arr(Y), X = arr(X), O = arr(O), XtX = arr(s0$XtX))
  opt <- pln_optimizer(control)
  st <- list(M = arr(s0$M), S = arr(s0$S), B = arr(s0$B), Sigma = arr(s0$Sigma))
  st$opt <- opt$init(list(M = st$M, S = st$S))
  prog <- pln_chunk_fn(pln_step_fn(opt), control$backend)
  chunk <- function(carry, dat, k) {
    r <- tryCatch(prog(carry, dat, k), rjax_not_pd_error = function(e) NULL, rjax_singular_error = function(e) NULL)
    if (is.null(r)) {
      rj_abort("numerical", "pln_fit(): the covariance became singular (the optimisation diverged, the ELBO is not finite): lower control$lr.")
    }
    list(carry = r$state, elbo = r$elbo)
  }
  run <- pln_run(chunk, st, data, control, -sum(log_factorial(Y)))
  st <- run$carry
  list(M = as.matrix(st$M), S = abs(as.matrix(st$S)), B = as.matrix(st$B), Sigma = as.matrix(st$Sigma),
       elbo = run$elbo, loglik = run$elbo[[length(run$elbo)]], n_iter = run$n_iter, converged = run$converged,
       seconds = run$seconds)
}

pln_new_fit <- function(core, md, control, call) {
  extra <- if (control$distributed) {
    s <- mpi_state()
    list(rows = md$rows, ranks = s$size, rank = s$rank, bytes_per_iter = core$bytes_per_iter)
  }
  core$bytes_per_iter <- NULL
  p <- ncol(md$Y)
  sp <- colnames(md$Y) %||% paste0("Y", seq_len(p))
  dimnames(core$B) <- list(colnames(md$X), sp)
  dimnames(core$Sigma) <- list(sp, sp)
  dimnames(core$M) <- dimnames(core$S) <- list(rownames(md$Y), sp)
  if (!control$trace) core$elbo <- utils::tail(core$elbo, 1L)
  structure(c(core, list(
    Omega = solve(core$Sigma), Y = md$Y, X = md$X, O = md$O, weights = md$w,
    n = md$n_all, p = p, d = ncol(md$X), control = control, call = call, terms = md$terms,
    xlevels = md$xlevels
  ), extra), class = c(if (control$distributed) "pln_fit_distributed", "pln_fit"))
}
