# Data-parallel PLN fits over the ranks of an MPI job (shard_map() and
# rj_psum(), R/distributed.R): pln_fit(..., control = pln_control(distributed
# = TRUE)) and its wrapper pln_fit_distributed(). Each rank holds its rows
# (samples) of Y, X, O and of the variational parameters; the steps on
# those are local (a sample's ELBO term involves only that sample, B and
# Sigma), and everything that sums over samples -- the closed forms of B
# and Sigma, the ELBO, the Newton step on the design's coefficients,
# SQUAREM's norms -- goes through one pair of reduction hooks,
# pln_reducers() inside compiled code and pln_eager_reducers() outside it.
# With one process the hooks are the identity, so the single-process fit
# is the same program; with K ranks every rank computes the same B, Sigma,
# ELBO and step decisions (all-reduced values), so all stop together.
#
# algorithm = "radam" (the tutorial's first-order path) is written per rank
# below (pln_dist_step_fn()); the default variational EM is R/pln-vem.R
# with the hooks.

dist_axis <- "samples"

# Sums and maxima over all samples of per-rank statistics, in traced code
# (the compiled chunk runs under shard_map()).
pln_reducers <- function(distributed) {
  if (!distributed) return(list(sum = identity, max = identity))
  list(sum = function(x) rj_psum(x, dist_axis), max = function(x) rj_pmax_axis(x, dist_axis))
}

# The same on R values, outside compiled code, plus the rank-ordered
# gather along rows (every rank must make the same calls: they are
# collectives).
pln_eager_reducers <- function(distributed) {
  if (!distributed) return(list(distributed = FALSE, sum = identity, max = identity, gather = identity))
  over_ranks <- function(f) {
    g <- shard_map(f, "local", "replicated", axis = dist_axis)
    function(x) {
      d <- dim(x)
      r <- g(x + 0)
      if (is.null(d)) as.vector(r) else r
    }
  }
  list(distributed = TRUE, sum = over_ranks(function(x) rj_psum(x, dist_axis)),
       max = over_ranks(function(x) rj_pmax_axis(x, dist_axis)),
       gather = over_ranks(function(x) rj_all_gather(x, dist_axis)))
}

# A chunk function that also counts the bytes this rank sends into
# collectives (attr "bytes": a function returning the total so far).
pln_count_bytes <- function(chunk) {
  total <- 0
  mpi_bytes <- function() .Call(C_rjc_mpi, "info", NULL)$bytes
  f <- function(carry, dat, k) {
    before <- mpi_bytes()
    r <- chunk(carry, dat, k)
    total <<- total + mpi_bytes() - before
    r
  }
  structure(f, bytes = function() total)
}

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
      r <- scan_loop(function(carry, x) {
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
#' variational parameters), and everything that sums over samples is
#' all-reduced with [rj_psum()] inside the compiled iterations: the closed
#' forms of `B` (`d x p`) and `Sigma` (`p x p`), the ELBO, and the norms of
#' the SQUAREM acceleration (so all ranks take the same steps and stop
#' together). It is `pln_fit(Y, X = X, O = O, control = pln_control(...,
#' distributed = TRUE))`, which can also be called directly, formula
#' interface included (each rank passing its rows of `data`). Both
#' algorithms run distributed: the default variational EM and
#' `algorithm = "radam"`. The result equals the single-process fit up to the
#' rounding of the sums' order (`options(rjax.mpi_deterministic = TRUE)`
#' fixes that order, see [rj_mpi_info()]); with one process (no `mpirun`)
#' it is the single-process fit.
#'
#' Input: with `rows = "local"` (the default) `Y`, `X` and `O` are this
#' rank's rows, for example from its own file ([pln_read_shard()]), so no
#' process needs the whole matrix; with `rows = "all"` every rank passes the
#' whole data and keeps its block of rows (see [shard_map()]).
#'
#' The fit is a `pln_fit` whose `M`, `S`, `Y`, `X`, `O` and `fitted()` are
#' this rank's rows (`rows` gives their indices among all samples) while
#' `B`, `Sigma`, `loglik`, `nobs()`, the criteria and `vcov()` concern all
#' samples. Methods that sum over samples (`vcov()`, `standard_error()`,
#' `confint()`, `ICL()`) are collectives: call them on every rank.
#'
#' @param Y Counts: this rank's rows (or all rows with `rows = "all"`).
#' @param X Design matrix rows (default: intercept).
#' @param O Offsets on the log scale (default: 0).
#' @param control [pln_control()] or a list of its options (`distributed`
#'   is set to `TRUE`).
#' @param rows `"local"` or `"all"`.
#' @return An object of class `c("pln_fit_distributed", "pln_fit")`: the
#'   components of [pln_fit()] plus `rows`, `ranks`, `rank` and
#'   `bytes_per_iter` (bytes this rank sent into collectives per iteration).
#' @seealso [pln_fit()], [pln_write_shards()], [shard_map()].
#' @examples
#' sim <- pln_simulate(40, 5, seed = 1)
#' fit <- pln_fit_distributed(sim$Y, O = sim$O)
#' fit
#' coef(fit)
#' # the same from the formula interface
#' dat <- pln_data(sim$Y, data.frame(g = gl(2, 20)), offset = exp(sim$O))
#' fit2 <- pln_fit(Abundance ~ g + offset(log(Offset)), dat, control = pln_control(distributed = TRUE))
#' fit2$rows[1:3]
#' @export
pln_fit_distributed <- function(Y, X = NULL, O = NULL, control = pln_control(), rows = c("local", "all")) {
  rows <- match.arg(rows)
  control <- as_pln_control(control)
  control$distributed <- TRUE
  if (rows == "all") {
    s <- mpi_state()
    Y <- as.matrix(Y)
    n <- nrow(Y)
    idx <- rank_rows(n, s$size, s$rank)
    Y <- Y[idx, , drop = FALSE]
    if (!is.null(X)) X <- as.matrix(X)[idx, , drop = FALSE]
    if (!is.null(O) && NROW(O) == n && length(O) > 1L) O <- if (is.null(dim(O))) O[idx] else O[idx, , drop = FALSE]
  }
  fit <- pln_fit(Y, X = X, O = O, control = control)
  fit$call <- match.call()
  fit
}

# algorithm = "radam" over the ranks: pln_radam_fit()'s iteration, per rank.
pln_dist_radam_fit <- function(Y, X, O, w, control) {
  ev <- pln_eager_reducers(TRUE)
  if (ev$max(any(w != 1) + 0) > 0) rj_abort("pln_control", "algorithm = \"radam\" does not take weights: use algorithm = \"vem\".")
  if (control$covariance != "full") rj_abort("pln_control", "algorithm = \"radam\" fits covariance = \"full\" only: use algorithm = \"vem\".")
  dt <- control$dtype
  arr <- function(x) rj_array(x, dtype = dt)
  s0 <- pln_radam_start(Y, X, O, ev)
  n <- s0$n
  data <- list(Y = arr(Y), X = arr(X), O = arr(O), XtX = arr(s0$XtX), N = arr(n * ncol(Y)), n = arr(n))
  opt <- pln_optimizer(control)
  st <- list(M = arr(s0$M), S = arr(s0$S), B = arr(s0$B), Sigma = arr(s0$Sigma))
  st$opt <- opt$init(list(M = st$M, S = st$S))
  chunk_fn <- pln_dist_chunk_fn(pln_dist_step_fn(opt), control$backend)
  chunk <- pln_count_bytes(function(carry, dat, k) {
    r <- chunk_fn(carry, dat, k)
    list(carry = r$state, elbo = r$elbo)
  })
  # pln_fit()'s stopping rule; every rank holds the same all-reduced ELBO,
  # so all stop together.
  run <- pln_run(chunk, st, data, control, ev$sum(-sum(log_factorial(Y))))
  st <- run$carry
  list(M = as.matrix(st$M), S = abs(as.matrix(st$S)), B = as.matrix(st$B), Sigma = as.matrix(st$Sigma),
       elbo = run$elbo, loglik = run$elbo[[length(run$elbo)]], n_iter = run$n_iter, converged = run$converged,
       seconds = run$seconds, bytes_per_iter = attr(chunk, "bytes")() / max(run$n_iter, 1L))
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
