# pln_fit()'s default algorithm: variational EM on the ELBO of
# ALGORITHMS.md, accelerated by SQUAREM (R/pln-engine.R).
#
# Parameters: Mu = X B + M (latent means without the offsets, n x p) and
# t = log(S^2) (n x p). Given them, B and Sigma are exact maximisers in
# closed form (weighted least squares; Sigma = (R' W R + diag(colSums(W S^2))) / sum(w),
# reduced to its diagonal or to a multiple of I for the "diagonal" and
# "spherical" models), so the fit is an ascent on the profiled ELBO.
# With Omega = Sigma^-1 fixed, the ELBO is separable over rows in (Mu, t):
# each step takes one Newton step per element (the diagonal of the
# Hessian, clamped to +-1), then a Newton step along the directions X
# delta, which leave the residuals, hence Sigma, unchanged: that direction
# is where B of an all-zero group drifts to -Inf, and a plain EM crawls
# along it.

pln_sigma_model <- function(Sig, covariance) {
  switch(covariance,
    full = Sig,
    diagonal = diag(diag(Sig)),
    spherical = diag(ncol(Sig)) * (sum(diag(Sig)) / ncol(Sig))
  )
}

# Closed-form B and Sigma from (Mu, t) (works on R matrices and traced
# arrays). `red` sums the per-rank statistics of a distributed fit; dat$P
# is then this rank's columns of (X' W X)^-1 X' W (pln_vem_data()).
pln_vem_profile <- function(Mu, t, dat, covariance, red = pln_reducers(FALSE)) {
  B <- red$sum(dat$P %*% Mu)
  R <- Mu - dat$X %*% B
  S2 <- exp(t)
  Sig <- red$sum(crossprod(R, R * dat$w) + diag(colSums(S2 * dat$w))) / dat$wsum
  list(B = B, R = R, S2 = S2, Sigma = pln_sigma_model(Sig, covariance))
}

pln_vem_step_fn <- function(covariance, red = pln_reducers(FALSE)) {
  function(par, dat) {
    pr <- pln_vem_profile(par$Mu, par$t, dat, covariance, red)
    Mu <- par$Mu
    S2 <- pr$S2
    Om <- solve(pr$Sigma)
    dO <- dat$ones %*% matrix(diag(Om), 1L)
    Z <- dat$O + Mu
    A <- exp(Z + S2 / 2)
    elbo <- -dat$wsum / 2 * determinant(pr$Sigma)$modulus + red$sum(sum((dat$Y * Z - A + 0.5 * par$t) * dat$w))
    # Newton on each latent mean (Omega's off-diagonal kept in the gradient only).
    dm <- pln_clamp((dat$Y - A - pr$R %*% Om) / (A + dO))
    Mu <- Mu + dm
    A <- A * exp(dm)
    # Newton along X delta (a majorised diagonal Hessian, exact for indicator designs).
    dB <- dat$Xn %*% pln_x_newton(dat, A, red)
    Mu <- Mu + dB
    A <- A * exp(dB)
    # Newton on t = log(S^2): the ELBO is concave in t.
    H <- A + dO
    g <- 0.5 * (1 - S2 * H)
    h <- -0.5 * S2 * H - A * S2 * S2 / 4
    list(par = list(Mu = Mu, t = par$t - pln_clamp(g / h)), elbo = elbo)
  }
}

pln_tiny <- function(dtype) if (dtype == "f32") 1e-30 else 1e-300

pln_vem_data <- function(Y, X, O, w, dtype, ev = pln_eager_reducers(FALSE)) {
  arr <- function(x) rj_array(x, dtype = dtype)
  n <- nrow(Y)
  Xw <- X * w
  Xn <- pln_newton_design(X, ev)$Xn
  list(Y = arr(Y), O = arr(O), X = arr(X), P = arr(solve(ev$sum(crossprod(X, Xw)), t(Xw))),
       w = arr(w), wsum = ev$sum(sum(w)), ones = arr(matrix(1, n, 1L)), Xn = arr(Xn), aX = arr(abs(Xn)),
       wr = arr(w * rowSums(abs(Xn))), tiny = pln_tiny(dtype))
}

# The programs are cached per (covariance, backend) so that a second fit of
# the same shapes reuses the compiled code (jit's cache).
pln_vem_programs <- new.env(parent = emptyenv())

pln_vem_chunk <- function(covariance, backend, dtype, distributed = FALSE) {
  key <- paste(covariance, backend, dtype, distributed)
  if (is.null(pln_vem_programs[[key]])) {
    red <- pln_reducers(distributed)
    iter <- pln_squarem(pln_vem_step_fn(covariance, red), pln_tiny(dtype), red = red)
    pln_vem_programs[[key]] <- pln_chunk_program(iter, backend, distributed)
  }
  pln_vem_programs[[key]]
}

# In a distributed fit (control$distributed) Y, X, O, w are this rank's
# samples; every sum over samples is all-reduced, so that each rank gets the
# single-process B, Sigma and ELBO (to the rounding of the sums' order) and
# its own rows of M and S.
pln_vem_fit <- function(Y, X, O, w, control) {
  dt <- control$dtype
  ev <- pln_eager_reducers(control$distributed)
  dat <- pln_vem_data(Y, X, O, w, dt, ev)
  Mu0 <- log1p(Y) - O
  t0 <- matrix(log(0.1), nrow(Y), ncol(Y))
  carry <- list(par = list(Mu = rj_array(Mu0, dtype = dt), t = rj_array(t0, dtype = dt)),
                elbo = rj_array(-Inf, dtype = dt))
  const <- ev$sum(-sum(log_factorial(Y) * w))
  chunk <- pln_count_bytes(pln_vem_chunk(control$covariance, control$backend, dt, control$distributed))
  run <- pln_run(chunk, carry, dat, control, const)
  Mu <- as.matrix(run$carry$par$Mu)
  tt <- as.matrix(run$carry$par$t)
  Xw <- X * w
  B <- solve(ev$sum(crossprod(X, Xw)), ev$sum(crossprod(Xw, Mu)))
  R <- Mu - X %*% B
  S2 <- exp(tt)
  wsum <- ev$sum(sum(w))
  Sig <- pln_sigma_model(ev$sum(crossprod(R, R * w) + diag(colSums(S2 * w), ncol(Y))) / wsum, control$covariance)
  # The exact ELBO at the final parameters (the chunk reports it one step behind).
  Z <- O + Mu
  ll <- -wsum / 2 * as.numeric(determinant(Sig)$modulus) + ev$sum(sum((Y * Z - exp(Z + S2 / 2) + 0.5 * tt) * w)) + const
  list(M = R, S = sqrt(S2), B = B, Sigma = Sig, elbo = c(run$elbo, ll), loglik = ll,
       n_iter = run$n_iter, converged = run$converged, seconds = run$seconds,
       bytes_per_iter = attr(chunk, "bytes")() / max(run$n_iter, 1L))
}
