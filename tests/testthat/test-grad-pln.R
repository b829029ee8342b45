# The issue's done-when: grad() of the PLN ELBO matches the analytic
# gradients of ALGORITHMS.md to 1e-8 (relative, f64) for B, M and S.

check_pln_grads <- function(data, par) {
  vg <- value_and_grad(grad_pln_elbo, wrt = c("B", "M", "S"))
  res <- vg(B = par$B, M = par$M, S = par$S, Y = data$Y, X = data$X, O = data$O, Omega = par$Omega)
  ref <- pln_grads_analytic(par$B, par$M, par$S, data$Y, data$X, data$O, par$Omega)
  expect_equal(as.numeric(res$value), grad_pln_elbo(par$B, par$M, par$S, data$Y, data$X, data$O, par$Omega), tolerance = 1e-10)
  for (k in c("B", "M", "S")) {
    expect_equal(as_r(res$grad[[k]]), ref[[k]], tolerance = 1e-8, label = paste("d ELBO / d", k))
  }
  # the same through jit (one compiled program for value and gradient)
  jres <- jit(vg)(B = par$B, M = par$M, S = par$S, Y = data$Y, X = data$X, O = data$O, Omega = par$Omega)
  for (k in c("B", "M", "S")) expect_equal(as_r(jres$grad[[k]]), ref[[k]], tolerance = 1e-8)
}

test_that("PLN ELBO gradients match the analytic ones on simulated data", {
  set.seed(7)
  n <- 12; p <- 5; d <- 2
  check_pln_grads(grad_pln_data(n, p, d), pln_params(n, p, d))
})

test_that("PLN ELBO gradients match finite differences at second order too", {
  set.seed(8)
  n <- 4; p <- 3; d <- 2
  data <- grad_pln_data(n, p, d)
  par <- pln_params(n, p, d)
  f <- function(B, M, S) grad_pln_elbo(B, M, S, data$Y, data$X, data$O, par$Omega)
  check_grads(f, list(par$B, par$M, par$S), order = 2, tol = 1e-6, label = "PLN ELBO")
})

test_that("PLN ELBO gradients match the analytic ones on oaks", {
  dir <- oaks_dir()
  skip_if(is.null(dir), "oaks data not available")
  set.seed(9)
  Y <- as.matrix(utils::read.csv(file.path(dir, "counts.csv")))
  O <- log(as.matrix(utils::read.csv(file.path(dir, "offsets.csv"))))
  n <- nrow(Y); p <- ncol(Y)
  X <- matrix(1, n, 1)
  par <- pln_params(n, p, 1)
  par$B <- matrix(colMeans(log((Y + 1) / exp(O))), 1, p)  # a plausible scale, so exp() stays moderate
  dimnames(Y) <- dimnames(O) <- NULL
  check_pln_grads(list(Y = Y, X = X, O = O), par)
})
