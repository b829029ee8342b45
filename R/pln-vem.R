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

# Closed-form B and Sigma from (Mu, t) (works on R matrices and traced arrays).
pln_vem_profile <- function(Mu, t, dat, covariance) {
  B <- dat$P %*% Mu
  R <- Mu - dat$X %*% B
  S2 <- exp(t)
  Sig <- (crossprod(R, R * dat$w) + diag(colSums(S2 * dat$w))) / dat$wsum
  list(B = B, R = R, S2 = S2, Sigma = pln_sigma_model(Sig, covariance))
}

pln_vem_step_fn <- function(covariance) {
  function(par, dat) {
    pr <- pln_vem_profile(par$Mu, par$t, dat, covariance)
    Mu <- par$Mu
    S2 <- pr$S2
    Om <- solve(pr$Sigma)
    dO <- dat$ones %*% matrix(diag(Om), 1L)
    Z <- dat$O + Mu
    A <- exp(Z + S2 / 2)
    elbo <- -dat$wsum / 2 * determinant(pr$Sigma)$modulus + sum((dat$Y * Z - A + 0.5 * par$t) * dat$w)
    # Newton on each latent mean (Omega's off-diagonal kept in the gradient only).
    dm <- pln_clamp((dat$Y - A - pr$R %*% Om) / (A + dO))
    Mu <- Mu + dm
    A <- A * exp(dm)
    # Newton along X delta (a majorised diagonal Hessian, exact for indicator designs).
    dB <- dat$Xn %*% pln_x_newton(dat, A)
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

pln_vem_data <- function(Y, X, O, w, dtype) {
  arr <- function(x) rj_array(x, dtype = dtype)
  n <- nrow(Y)
  Xw <- X * w
  Xn <- pln_newton_design(X)$Xn
  list(Y = arr(Y), O = arr(O), X = arr(X), P = arr(solve(crossprod(X, Xw), t(Xw))),
       w = arr(w), wsum = sum(w), ones = arr(matrix(1, n, 1L)), Xn = arr(Xn), aX = arr(abs(Xn)),
       wr = arr(w * rowSums(abs(Xn))), tiny = pln_tiny(dtype))
}

# The programs are cached per (covariance, backend) so that a second fit of
# the same shapes reuses the compiled code (jit's cache).
pln_vem_programs <- new.env(parent = emptyenv())

pln_vem_chunk <- function(covariance, backend, dtype) {
  key <- paste(covariance, backend, dtype)
  if (is.null(pln_vem_programs[[key]])) {
    iter <- pln_squarem(pln_vem_step_fn(covariance), pln_tiny(dtype))
    pln_vem_programs[[key]] <- pln_chunk_program(iter, backend)
  }
  pln_vem_programs[[key]]
}

pln_vem_fit <- function(Y, X, O, w, control) {
  dt <- control$dtype
  dat <- pln_vem_data(Y, X, O, w, dt)
  Mu0 <- log1p(Y) - O
  t0 <- matrix(log(0.1), nrow(Y), ncol(Y))
  carry <- list(par = list(Mu = rj_array(Mu0, dtype = dt), t = rj_array(t0, dtype = dt)),
                elbo = rj_array(-Inf, dtype = dt))
  const <- -sum(log_factorial(Y) * w)
  run <- pln_run(pln_vem_chunk(control$covariance, control$backend, dt), carry, dat, control, const)
  Mu <- as.matrix(run$carry$par$Mu)
  tt <- as.matrix(run$carry$par$t)
  Xw <- X * w
  B <- solve(crossprod(X, Xw), crossprod(Xw, Mu))
  R <- Mu - X %*% B
  S2 <- exp(tt)
  Sig <- pln_sigma_model((crossprod(R, R * w) + diag(colSums(S2 * w), ncol(Y))) / sum(w), control$covariance)
  # The exact ELBO at the final parameters (the chunk reports it one step behind).
  Z <- O + Mu
  ll <- -sum(w) / 2 * as.numeric(determinant(Sig)$modulus) + sum((Y * Z - exp(Z + S2 / 2) + 0.5 * tt) * w) + const
  list(M = R, S = sqrt(S2), B = B, Sigma = Sig, elbo = c(run$elbo, ll), loglik = ll,
       n_iter = run$n_iter, converged = run$converged, seconds = run$seconds)
}
