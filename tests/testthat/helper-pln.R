# The PLN ELBO of /work/shared/reference/ALGORITHMS.md, written exactly as
# there with Omega an input (the analytic gradients below hold for fixed
# Omega), plus those analytic gradients. Used by the gradient tests and the
# grad_overhead benchmark's logic. The log-factorial term uses lgamma(Y + 1)
# (exact); it is constant in (B, M, S) and does not change the gradients.
grad_pln_elbo <- function(B, M, S, Y, X, O, Omega) {
  n <- nrow(Y)
  p <- ncol(Y)
  S2 <- S * S
  Z <- O + X %*% B + M
  A <- exp(Z + S2 / 2)
  logdet_omega <- 2 * sum(log(diag(chol(Omega))))
  n / 2 * logdet_omega +
    sum(Y * Z - A + 0.5 * log(S2)) -
    0.5 * sum((M %*% Omega) * M) -
    0.5 * sum(colSums(S2) * diag(Omega)) +
    n * p / 2 - sum(lgamma(Y + 1))
}

pln_grads_analytic <- function(B, M, S, Y, X, O, Omega) {
  n <- nrow(Y)
  A <- exp(O + X %*% B + M + S^2 / 2)
  list(
    B = t(X) %*% (Y - A),
    M = (Y - A) - M %*% Omega,
    S = -A * S + 1 / S - S * rep(diag(Omega), each = n)
  )
}

# Simulated PLN data and random parameter values (n x p counts, d covariates).
grad_pln_data <- function(n, p, d) {
  X <- cbind(1, matrix(stats::rnorm(n * (d - 1)), n, d - 1))
  B <- matrix(stats::rnorm(d * p, sd = 0.3), d, p)
  O <- matrix(log(stats::runif(n * p, 5, 20)), n, p)
  Sigma <- 0.3 * diag(p) + 0.1
  Z <- O + X %*% B + matrix(stats::rnorm(n * p), n, p) %*% chol(Sigma)
  Y <- matrix(stats::rpois(n * p, exp(Z)), n, p)
  list(Y = Y, X = X, O = O)
}

# Random parameters at which to compare gradients (not the optimum).
pln_params <- function(n, p, d) {
  Q <- matrix(stats::rnorm(p * p), p)
  list(
    B = matrix(stats::rnorm(d * p, sd = 0.2), d, p),
    M = matrix(stats::rnorm(n * p, sd = 0.2), n, p),
    S = matrix(stats::runif(n * p, 0.3, 0.8), n, p),
    Omega = crossprod(Q) / p + diag(p)
  )
}

# The oaks data set as a pln_data() frame (NULL when ../shared is absent).
read_oaks <- function() {
  d <- oaks_dir()
  if (is.null(d)) return(NULL)
  Y <- as.matrix(utils::read.csv(file.path(d, "counts.csv")))
  Off <- as.matrix(utils::read.csv(file.path(d, "offsets.csv")))
  cov <- utils::read.csv(file.path(d, "covariates.csv"), stringsAsFactors = TRUE)
  cov$tree <- factor(cov$tree, levels = c("susceptible", "intermediate", "resistant"))
  pln_data(Y, cov, Off)
}
