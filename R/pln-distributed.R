# Data-parallel PLN fit over the ranks of an MPI job (shard_map() and
# rj_psum(), R/distributed.R). Each rank holds its rows (samples) of Y, X,
# O and of the variational parameters M, S; the optimiser's step on (M, S)
# is local (the gradient of the ELBO with respect to a sample's M and S
# involves only that sample, B and Omega), and the closed forms of B and
# Sigma need only all-reduced statistics:
#   crossprod(X, mu)              d x p    (B = solve(X'X, X' mu))
#   crossprod(M), colSums(S * S)  p x p, p (Sigma)
#   the ELBO's sum over samples   1
# two rj_psum() calls per iteration (the first three after B is known are
# packed into one). The iteration is the one of pln_fit()'s gradient path
# (RAdam on M, S; B and Sigma profiled after every step), written per rank,
# so that one rank gives pln_fit()'s numbers and K ranks the same to
# reduction-order rounding.

dist_axis <- "samples"

# The ELBO terms of one rank's samples at fixed (B, Omega) that depend on
# (M, S) (pln_elbo_fixed() without n/2 log det Omega, constant in M and S).
pln_elbo_local <- function(M, S, B, Omega, Y, X, O) {
  S2 <- S * S
  Z <- O + X %*% B + M
  A <- exp(Z + S2 / 2)
  sum(Y * Z - A + 0.5 * log(S2)) - 0.5 * sum((M %*% Omega) * M) - 0.5 * sum(colSums(S2) * diag(Omega))
}

# One iteration on this rank's rows; data$N is n * p and data$n is n over
# all ranks.
pln_dist_step_fn <- function(opt) {
  loss_grad <- grad(function(M, S, B, Omega, Y, X, O, N) -pln_elbo_local(M, S, B, Omega, Y, X, O) / N,
                    wrt = c("M", "S"))
  function(st, data) {
    p <- ncol(st$M)
    Omega <- solve(st$Sigma)
    g <- loss_grad(st$M, st$S, st$B, Omega, data$Y, data$X, data$O, data$N)
    up <- opt$update(g, st$opt, list(M = st$M, S = st$S))
    ms <- apply_updates(list(M = st$M, S = st$S), up$updates)
    mu <- data$X %*% st$B + ms$M
    B <- solve(data$XtX, rj_psum(crossprod(data$X, mu), dist_axis))
    M <- mu - data$X %*% B
    S2 <- ms$S * ms$S
    Z <- data$O + data$X %*% B + M
    local <- c(as.vector(crossprod(M)), colSums(S2), sum(data$Y * Z - exp(Z + S2 / 2) + 0.5 * log(S2)))
    tot <- rj_psum(local, dist_axis)
    Sigma <- (matrix(tot[seq_len(p * p)], p, p) + diag(tot[p * p + seq_len(p)])) / data$n
    elbo <- -data$n / 2 * 2 * sum(log(diag(chol(Sigma)))) + tot[p * p + p + 1L]
    list(state = list(M = M, S = ms$S, B = B, Sigma = Sigma, opt = up$state), elbo = elbo)
  }
}

pln_dist_chunk_fn <- function(step, backend) {
  jit(function(st, data, k) {
    shard_map(function(st, data) {
      r <- scan(function(carry, x) {
        s <- step(carry, data)
        list(s$state, s$elbo)
      }, st, length = k)
      list(state = r$carry, elbo = r$ys)
    }, in_specs = "local", out_specs = "local", axis = dist_axis)(st, data)
  }, static = "k", backend = backend)
}

#' Fit a PLN model with the samples spread over MPI ranks
#'
#' `pln_fit_distributed()` fits the model of [pln_fit()] by data
#' parallelism: started as `mpirun -np K Rscript fit.R`, each of the K
#' processes holds only its samples (rows of `Y`, `X`, `O` and of the
#' variational parameters), and per iteration the ranks all-reduce
#' `crossprod(X, mu)` (d x p), `crossprod(M)` (p x p), `colSums(S^2)` and
#' the ELBO (two [rj_psum()] calls; about `8 (d p + p^2 + p + 1)` bytes per
#' rank and iteration). The iteration is pln_fit()'s gradient path (RAdam on
#' the variational parameters, `B` and `Sigma` in closed form), so the
#' result equals the single-process fit up to the rounding of the sums'
#' order; with one rank (no `mpirun`) it is the single-process fit.
#'
#' Input: with `rows = "local"` (the default) `Y`, `X` and `O` are this
#' rank's rows, for example from its own file ([pln_read_shard()]), so no
#' process needs the whole matrix; with `rows = "all"` every rank passes the
#' whole data and keeps its block of rows (see [shard_map()]).
#'
#' @param Y Counts: this rank's rows (or all rows with `rows = "all"`).
#' @param X Design matrix rows (default: intercept).
#' @param O Offsets on the log scale (default: 0).
#' @param control See [pln_control()].
#' @param rows `"local"` or `"all"`.
#' @return An object of class `pln_fit_distributed`: `B`, `Sigma`, `Omega`
#'   (the same on every rank), `M`, `S` (this rank's rows), `rows` (their
#'   indices among all samples), `elbo` (per iteration), `loglik`, `n`
#'   (all samples), `p`, `d`, `n_iter`, `converged`, `ranks`, `seconds`,
#'   `bytes_per_iter` (bytes this rank sent into collectives per iteration).
#' @seealso [pln_fit()], [pln_write_shards()], [shard_map()].
#' @examples
#' sim <- pln_simulate(40, 5, seed = 1)
#' fit <- pln_fit_distributed(sim$Y, O = sim$O, control = pln_control(max_iter = 50))
#' fit
#' coef(fit)
#' @export
pln_fit_distributed <- function(Y, X = NULL, O = NULL, control = pln_control(), rows = c("local", "all")) {
  rows <- match.arg(rows)
  s <- mpi_state()
  Y <- as.matrix(Y)
  if (!is.numeric(Y) || anyNA(Y) || any(Y < 0)) rj_abort("type", "counts must be non-negative numbers without NA")
  if (is.null(X)) X <- matrix(1, nrow(Y), 1, dimnames = list(NULL, "(Intercept)"))
  X <- as.matrix(X)
  if (is.null(O)) O <- 0
  O <- if (length(O) == 1L || length(O) == nrow(Y)) matrix(O, nrow(Y), ncol(Y)) else as.matrix(O)
  if (nrow(X) != nrow(Y) || !identical(dim(O), dim(Y))) {
    rj_abort("shape", "Y, X and O must have the same number of rows (and O the dims of Y)")
  }
  if (rows == "all") {
    idx <- rank_rows(nrow(Y), s$size, s$rank)
    Y <- Y[idx, , drop = FALSE]; X <- X[idx, , drop = FALSE]; O <- O[idx, , drop = FALSE]
  }
  core <- pln_dist_optimize(Y, X, O, control)
  sp <- colnames(Y) %||% paste0("Y", seq_len(ncol(Y)))
  dimnames(core$B) <- list(colnames(X) %||% paste0("X", seq_len(ncol(X))), sp)
  dimnames(core$Sigma) <- list(sp, sp)
  structure(c(core, list(Omega = solve(core$Sigma), loglik = core$elbo[[length(core$elbo)]], p = ncol(Y),
                         d = ncol(X), ranks = s$size, rank = s$rank, control = control)),
            class = "pln_fit_distributed")
}

pln_dist_optimize <- function(Y, X, O, control) {
  t0 <- proc.time()[["elapsed"]]
  dt <- control$dtype
  arr <- function(x) rj_array(x, dtype = dt)
  allsum <- shard_map(function(x) rj_psum(x, dist_axis), "local", "replicated", axis = dist_axis)
  counts <- allsum(c(nrow(Y), 0))
  n <- counts[[1L]]
  first <- shard_map(function(x) rj_all_gather(x, dist_axis), "local", "replicated", axis = dist_axis)(nrow(Y) + 0)
  rows <- as.integer(sum(first[seq_len(mpi_state()$rank)])) + seq_len(nrow(Y))
  # Start from the log counts (as pln_fit()): B by least squares, M the residual.
  L <- log1p(Y) - O
  XtX <- allsum(crossprod(X))
  B0 <- solve(XtX, allsum(crossprod(X, L)))
  M0 <- L - X %*% B0
  S0 <- matrix(0.5, nrow(Y), ncol(Y))
  Sigma0 <- (allsum(crossprod(M0)) + diag(allsum(colSums(S0^2)))) / n
  data <- list(Y = arr(Y), X = arr(X), O = arr(O), XtX = arr(XtX), N = arr(n * ncol(Y)), n = arr(n))
  opt <- pln_optimizer(control)
  st <- list(M = arr(M0), S = arr(S0), B = arr(B0), Sigma = arr(Sigma0))
  st$opt <- opt$init(list(M = st$M, S = st$S))
  chunk_fn <- pln_dist_chunk_fn(pln_dist_step_fn(opt), control$backend)
  const <- allsum(-sum(log_factorial(Y)))
  elbo <- numeric()
  converged <- FALSE
  it <- 0L
  bytes <- 0
  while (it < control$max_iter) {
    k <- min(control$chunk, control$max_iter - it)
    before <- .Call(C_rjc_mpi, "info", NULL)$bytes
    r <- chunk_fn(st, data, k)
    bytes <- bytes + .Call(C_rjc_mpi, "info", NULL)$bytes - before
    st <- r$state
    prev <- if (length(elbo)) elbo[[length(elbo)]] else NA
    elbo <- c(elbo, as.vector(r$elbo))
    it <- it + k
    last <- elbo[[length(elbo)]]
    if (!is.finite(last)) rj_abort("numerical", sprintf("the ELBO became %s at iteration %d: lower control$lr", last, it))
    # Every rank holds the same all-reduced ELBO, so all stop together.
    if (!is.na(prev) && abs(last - prev) / abs(last) / k < control$tol) {
      converged <- TRUE
      break
    }
  }
  list(M = as.matrix(st$M), S = abs(as.matrix(st$S)), B = as.matrix(st$B), Sigma = as.matrix(st$Sigma),
       elbo = elbo + const, n_iter = it, converged = converged, n = n, rows = rows,
       seconds = proc.time()[["elapsed"]] - t0, bytes_per_iter = bytes / max(it, 1L))
}

#' @rdname pln_fit_distributed
#' @param x,object A `pln_fit_distributed` object.
#' @param ... Unused.
#' @export
print.pln_fit_distributed <- function(x, ...) {
  cat(format(x, ...), sep = "\n")
  invisible(x)
}

#' @rdname pln_fit_distributed
#' @export
format.pln_fit_distributed <- function(x, ...) {
  c(sprintf("Poisson log-normal fit over %d MPI rank%s (this is rank %d, holding %d of %d samples)",
            x$ranks, if (x$ranks == 1L) "" else "s", x$rank, length(x$rows), x$n),
    sprintf("  %d species, %d covariates; ELBO %.4f after %d iterations (%s)", x$p, x$d, x$loglik, x$n_iter,
            if (x$converged) "converged" else "not converged"),
    sprintf("  %.0f bytes sent per iteration by this rank; %.2f s", x$bytes_per_iter, x$seconds))
}

#' @rdname pln_fit_distributed
#' @export
coef.pln_fit_distributed <- function(object, ...) object$B

#' Per-rank input files for a distributed PLN fit
#'
#' `pln_write_shards()` splits the samples of `Y`, `X`, `O` into `k`
#' contiguous blocks of rows (as [shard_map()] splits rows) and writes one
#' `.rds` file per rank; in the MPI job, `pln_read_shard()` reads the file
#' of the calling rank, so that no process holds the whole data.
#'
#' @param Y,X,O Counts, design matrix (default: intercept), log offsets
#'   (default: 0).
#' @param dir Directory for the files.
#' @param k Number of ranks.
#' @return `pln_write_shards()`: the file paths (invisibly);
#'   `pln_read_shard()`: `list(Y, X, O)` of this rank's rows.
#' @examples
#' sim <- pln_simulate(20, 4, seed = 2)
#' dir <- tempfile()
#' files <- pln_write_shards(sim$Y, O = sim$O, dir = dir, k = 2)  # for mpirun -np 2
#' basename(files)
#' pln_write_shards(sim$Y, O = sim$O, dir = dir, k = 1)            # for one process
#' sh <- pln_read_shard(dir)   # this rank's rows (all of them without mpirun)
#' dim(sh$Y)
#' @export
pln_write_shards <- function(Y, X = NULL, O = NULL, dir, k) {
  Y <- as.matrix(Y)
  n <- nrow(Y)
  if (is.null(X)) X <- matrix(1, n, 1, dimnames = list(NULL, "(Intercept)"))
  if (is.null(O)) O <- matrix(0, n, ncol(Y))
  O <- as.matrix(O)
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  files <- file.path(dir, sprintf("shard-%d-of-%d.rds", seq_len(k) - 1L, k))
  for (r in seq_len(k) - 1L) {
    idx <- rank_rows(n, k, r)
    saveRDS(list(Y = Y[idx, , drop = FALSE], X = as.matrix(X)[idx, , drop = FALSE], O = O[idx, , drop = FALSE]),
            files[[r + 1L]])
  }
  invisible(files)
}

#' @rdname pln_write_shards
#' @export
pln_read_shard <- function(dir) {
  s <- mpi_state()
  f <- file.path(dir, sprintf("shard-%d-of-%d.rds", s$rank, s$size))
  if (!file.exists(f)) {
    rj_abort("value", sprintf("no shard file %s for rank %d of %d: write the shards with pln_write_shards(..., k = %d)",
                              f, s$rank, s$size, s$size))
  }
  readRDS(f)
}
