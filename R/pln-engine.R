# The fitting engine shared by pln_fit() and pln_pca(): SQUAREM acceleration
# of a model's fixed-point step, compiled chunks of iterations, and the
# stopping rule on the relative change of the ELBO (PLNmodels' ftol_rel).
#
# A model supplies step(par, dat) -> list(par = next parameters, elbo = the
# ELBO at the *input* parameters, up to a constant). Parameters are a list
# of arrays on an unconstrained scale (log variances), so that SQUAREM can
# extrapolate them linearly.

pln_clamp <- function(x) pmin(pmax(x, -1), 1)

# A Newton step on the coefficients of X for the Poisson part of the ELBO,
# with the diagonal of a majorant of X' diag(w A_j) X (exact for
# indicator designs, hence dat$Xn, see pln_newton_design()): the direction
# along which B of an all-zero group drifts to -Inf. Returns the d x p
# increment of the coefficients of dat$Xn. `red` sums the per-rank
# statistics of a distributed fit (pln_reducers()).
pln_x_newton <- function(dat, A, red = pln_reducers(FALSE)) {
  gB <- red$sum(crossprod(dat$Xn, (dat$Y - A) * dat$w))
  hB <- red$sum(crossprod(dat$aX, A * dat$wr))
  pln_clamp(gB / pmax(hB, dat$tiny))
}

# The design for those Newton steps. When the rows of X take only d
# distinct values (factor designs, with or without an intercept), the
# indicators of those values span the same space and make the step exact
# whatever the coding: X = Xn %*% Xu, so coefficients map as B = Xu^-1 Bn.
# In a distributed fit (`ev`, pln_eager_reducers(TRUE)) the distinct rows
# are those of all ranks, in the order of first appearance over the ranks'
# blocks of rows, which is the single-process order.
pln_newton_design <- function(X, ev = pln_eager_reducers(FALSE)) {
  row_key <- function(M) do.call(paste, c(as.data.frame(M), sep = "\r"))
  key <- row_key(X)
  d <- ncol(X)
  U <- X[!duplicated(key), , drop = FALSE]
  if (ev$distributed) {
    # Each rank's distinct rows, padded to d rows (more than d anywhere
    # means more than d in all), gathered in rank order.
    if (ev$max(nrow(U) + 0) > d) return(list(Xn = X, to_B = diag(d)))
    counts <- ev$gather(nrow(U) + 0)
    pad <- matrix(0, d, d)
    pad[seq_len(nrow(U)), ] <- U
    G <- ev$gather(pad)
    U <- G[unlist(lapply(seq_along(counts), function(r) (r - 1L) * d + seq_len(counts[[r]]))), , drop = FALSE]
    U <- U[!duplicated(row_key(U)), , drop = FALSE]
  }
  if (nrow(U) != d) return(list(Xn = X, to_B = diag(d)))
  u <- row_key(U)
  Xn <- outer(match(key, u), seq_along(u), "==") * 1
  Xu <- U
  list(Xn = Xn, to_B = solve(Xu), Xu = Xu)
}

pln_tree_sum <- function(a, b = a) Reduce(`+`, Map(function(x, y) sum(x * y), a, b))
pln_tree_maxabs <- function(a) Reduce(pmax, lapply(a, function(x) max(abs(x))))

# One SQUAREM iteration (Varadhan & Roland 2008, scheme S3) around `step`:
# two steps give r = F(x) - x and v = F(F(x)) - 2 F(x) + x; the extrapolated
# point x - 2 a r + a^2 v (a <= -1) is stabilised by one more step. It is
# kept when its ELBO is finite and not below the ELBO at x, else the plain
# double step F(F(x)) is kept. The step length is also capped so that no
# coordinate moves by more than `max_move` (log scale), which keeps the
# linear divergence of B for all-zero groups (and huge jumps) from
# producing singular covariances. The norms are over all samples: in a
# distributed fit `red` reduces them over the ranks, so that every rank
# takes the same step length and the same accept/reject decision.
pln_squarem <- function(step, tiny, max_move = 3, red = pln_reducers(FALSE)) {
  function(carry, dat) {
    x <- carry$par
    s1 <- step(x, dat)
    s2 <- step(s1$par, dat)
    r <- Map(`-`, s1$par, x)
    v <- Map(function(a, b, c) a - 2 * b + c, s2$par, s1$par, x)
    sums <- red$sum(c(pln_tree_sum(r), pln_tree_sum(v)))
    alpha <- -sqrt(sums[1L] / pmax(sums[2L], tiny))
    maxs <- red$max(c(pln_tree_maxabs(v), pln_tree_maxabs(r)))
    va <- maxs[1L]
    ra <- maxs[2L]
    cap <- (sqrt(ra * ra + va * max_move) - ra) / pmax(va, tiny)
    alpha <- pmax(pmin(alpha, -1), -pmax(cap, 1))
    xq <- Map(function(a, b, c) a - 2 * alpha * b + alpha * alpha * c, x, r, v)
    sq <- step(xq, dat)
    ok <- is.finite(sq$elbo) & (sq$elbo >= s1$elbo)
    par <- Map(function(a, b) where(ok, a, b), sq$par, s2$par)
    list(par = par, elbo = where(ok, sq$elbo, s2$elbo))
  }
}

# A compiled program running `k` iterations of `iter(carry, dat)`; returns
# the final carry and the k ELBO values. A distributed program runs the
# loop under shard_map() (each rank on its rows; `iter` then reduces its
# statistics with rj_psum(), pln_reducers(TRUE)).
pln_chunk_program <- function(iter, backend, distributed = FALSE) {
  loop <- function(carry, dat, k) {
    r <- scan_loop(function(c, x) {
      s <- iter(c, dat)
      list(s, s$elbo)
    }, carry, length = k)
    list(carry = r$carry, elbo = r$ys)
  }
  if (!distributed) return(jit(loop, static = "k", backend = backend))
  jit(function(carry, dat, k) {
    shard_map(function(carry, dat) loop(carry, dat, k), in_specs = "local", out_specs = "local", axis = dist_axis)(carry, dat)
  }, static = "k", backend = backend)
}

# Runs chunks until the relative ELBO change of one iteration falls below
# control$ftol_rel (converged) or control$max_iter iterations have run
# (a classed warning). A non-finite ELBO stops the fit with an error that
# says what to change. `const` is added to the ELBO values (log-factorials).
pln_run <- function(chunk, carry, dat, control, const, what = "pln_fit") {
  t0 <- proc.time()[["elapsed"]]
  elbo <- numeric()
  it <- 0L
  converged <- FALSE
  if (control$progress) pb <- cli::cli_progress_bar(paste("Fitting", what), total = control$max_iter, clear = FALSE)
  while (it < control$max_iter) {
    k <- min(control$chunk, control$max_iter - it)
    r <- chunk(carry, dat, k)
    e <- as.vector(r$elbo) + const
    bad <- which(!is.finite(e))
    if (length(bad)) {
      rj_abort("numerical", sprintf(paste(
        "%s(): the ELBO became %s at iteration %d (the optimisation diverged).",
        "Check the counts and offsets for extreme values%s."), what, e[[bad[[1L]]]], it + bad[[1L]],
        if (identical(control$algorithm, "radam")) ", or lower control$lr" else ", or try algorithm = \"radam\" with a small lr"))
    }
    carry <- r$carry
    all_e <- c(elbo, e)
    rel <- abs(diff(all_e)) / abs(all_e[-1L])
    hit <- which(rel[seq_along(e) + length(elbo) - 1L] < control$ftol_rel)
    elbo <- all_e
    it <- it + k
    if (control$progress) cli::cli_progress_update(set = it, id = pb)
    if (length(hit)) {
      converged <- TRUE
      break
    }
  }
  if (control$progress) cli::cli_progress_done(id = pb)
  if (!converged) {
    rj_warn("pln_not_converged", sprintf(paste(
      "%s(): not converged after max_iter = %d iterations (last relative ELBO change %.3g, ftol_rel = %.3g).",
      "Increase control$max_iter or loosen control$ftol_rel."), what, control$max_iter,
      if (length(elbo) > 1L) abs(diff(utils::tail(elbo, 2L))) / abs(elbo[[length(elbo)]]) else NA_real_, control$ftol_rel))
  }
  list(carry = carry, elbo = elbo, n_iter = it, converged = converged, seconds = proc.time()[["elapsed"]] - t0)
}
