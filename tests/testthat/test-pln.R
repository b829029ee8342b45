# pln_fit(): the default algorithm (variational EM + SQUAREM), convergence,
# the RAdam option, and the data validation of issue 10 item 8.

test_that("oaks: the default fit converges and is ahead of PLNmodels' builtin backend", {
  oaks <- read_oaks()
  skip_if(is.null(oaks), "../shared/data/oaks is absent")
  expect_no_warning(fit <- pln_fit(Abundance ~ 1 + offset(log(Offset)), oaks))
  expect_true(fit$converged)
  expect_gte(fit$loglik, -32028.47)  # PLNmodels builtin (compare_backends_results.csv)
  expect_lt(fit$n_iter, 1000L)
  expect_equal(attr(logLik(fit), "df"), 6669)
  fit2 <- pln_fit(Abundance ~ 0 + tree + offset(log(Offset)), oaks)
  expect_true(fit2$converged)
  expect_gte(fit2$loglik, -31386.55)
  # The reported log-likelihood is the ELBO at the returned parameters.
  S2 <- fit2$S^2
  Z <- fit2$O + fit2$X %*% fit2$B + fit2$M
  ll <- -fit2$n / 2 * determinant(fit2$Sigma)$modulus + sum(fit2$Y * Z - exp(Z + S2 / 2) + 0.5 * log(S2)) -
    sum(rjax:::log_factorial(fit2$Y))
  expect_equal(fit2$loglik, as.numeric(ll), tolerance = 1e-10)
})

test_that("a classed warning when max_iter is reached before convergence", {
  sim <- pln_simulate(50, 5, seed = 3)
  expect_warning(fit <- pln_fit(sim$Y, O = sim$O, control = list(max_iter = 3)), class = "rjax_pln_not_converged_warning")
  expect_false(fit$converged)
  expect_equal(fit$n_iter, 3L)
})

test_that("pln_fit recovers B and Sigma on simulated data; the ELBO increases", {
  sim <- pln_simulate(400, 6, d = 2, seed = 5, sigma = 0.6)
  fit <- pln_fit(sim$Y, X = sim$X, O = sim$O)
  expect_true(fit$converged)
  expect_lt(max(abs(coef(fit) - sim$B)), 0.2)
  expect_lt(max(abs(sigma(fit) - sim$Sigma)), 0.12)
  expect_true(all(diff(fit$elbo[-1]) > -1e-6 * abs(fit$elbo[-1][-1])))
})

test_that("covariance models, weights and subset", {
  sim <- pln_simulate(80, 5, seed = 7)
  full <- pln_fit(sim$Y, O = sim$O)
  dg <- pln_fit(sim$Y, O = sim$O, control = pln_control(covariance = "diagonal"))
  sp <- pln_fit(sim$Y, O = sim$O, control = pln_control(covariance = "spherical"))
  expect_equal(sigma(dg)[upper.tri(sigma(dg))], rep(0, 10))
  expect_equal(unname(diag(sigma(sp))), rep(sigma(sp)[1, 1], 5))
  expect_gt(full$loglik, dg$loglik)
  expect_gt(dg$loglik, sp$loglik)
  # Integer weights are the same as repeated rows.
  w <- rep(1:2, 40)
  fw <- pln_fit(sim$Y, O = sim$O, weights = w, control = list(ftol_rel = 1e-12))
  rows <- rep(seq_len(80), w)
  fr <- pln_fit(sim$Y[rows, ], O = sim$O[rows, ], control = list(ftol_rel = 1e-12))
  expect_equal(fw$loglik, fr$loglik, tolerance = 1e-6)
  expect_equal(coef(fw), coef(fr), tolerance = 1e-4)
  dat <- pln_data(sim$Y, data.frame(g = gl(2, 40)), offset = exp(sim$O))
  fs <- pln_fit(Abundance ~ 1 + offset(log(Offset)), dat, subset = g == "1")
  f1 <- pln_fit(sim$Y[1:40, ], O = sim$O[1:40, ])
  expect_equal(fs$loglik, f1$loglik, tolerance = 1e-8)
  expect_equal(pln_fit(sim$Y, O = sim$O, subset = 1:40)$loglik, f1$loglik, tolerance = 1e-8)
})

test_that("f32 and the interpreter agree with f64 / llvm; algorithm = 'radam' still runs", {
  sim <- pln_simulate(60, 5, seed = 9)
  f64 <- pln_fit(sim$Y, O = sim$O)
  f32 <- pln_fit(sim$Y, O = sim$O, control = list(dtype = "f32", ftol_rel = 1e-6))
  expect_equal(f32$loglik, f64$loglik, tolerance = 1e-4)
  fi <- pln_fit(sim$Y, O = sim$O, control = list(backend = "interp"))
  expect_equal(fi$loglik, f64$loglik, tolerance = 1e-9)
  fr <- suppressWarnings(pln_fit(sim$Y, O = sim$O, control = list(algorithm = "radam", max_iter = 300, lr = 0.05)))
  expect_lt(abs(fr$loglik - f64$loglik) / abs(f64$loglik), 0.01)
  expect_lte(fr$loglik, f64$loglik + 1e-6)
})

test_that("pln_control validates every option with a classed message", {
  expect_s3_class(pln_control(), "pln_control")
  expect_output(print(pln_control()), "ftol_rel")
  for (bad in list(list(max_iter = 0), list(chunk = 0), list(max_iter = 2.5), list(lr = -1), list(lr = NA),
                   list(ftol_rel = -1), list(covariance = "banded"), list(algorithm = "lbfgs"), list(dtype = "f16"),
                   list(trace = NA), list(backend = "gpu"))) {
    expect_error(do.call(pln_control, bad), class = "rjax_pln_control_error")
  }
  expect_error(pln_control(max_iter = 0), "max_iter")
  sim <- pln_simulate(30, 4, seed = 1)
  expect_error(pln_fit(sim$Y, control = list(maxiter = 5)), "unknown option", class = "rjax_pln_control_error")
  expect_warning(pln_fit(sim$Y, control = list(max_iter = 2)), class = "rjax_pln_not_converged_warning")
})

test_that("data are validated up front with messages that name the problem (issue 10 item 8)", {
  Y <- matrix(rpois(40, 3), 10, 4)
  err <- function(Y, ..., pattern) expect_error(pln_fit(Y, ...), pattern, class = "rjax_pln_data_error")
  Yn <- Y; Yn[2, 3] <- NA
  err(Yn, pattern = "NA: 1 value, the first at row 2, column 3")
  Yn <- Y; Yn[1, 1] <- -1
  err(Yn, pattern = "negative")
  Yn <- Y; Yn[1, 2] <- Inf
  err(Yn, pattern = "infinite")
  Yn <- Y; Yn[4, 1] <- 2.5
  err(Yn, pattern = "non-integer.*not allowed")
  err(Y[, 1, drop = FALSE], pattern = "single column")
  err(Y[, 1], pattern = "not a vector")
  err(Y[0, ], pattern = "0 rows")
  err(Y[, 0], pattern = "0 columns")
  Yn <- Y; Yn[, 2] <- 0
  err(Yn, pattern = "only zero counts")
  err(Y, O = matrix(0, 3, 4), pattern = "offsets are 3 x 4 but the counts are 10 x 4")
  err(Y, O = rep(0, 7), pattern = "length 7")
  err(Y, X = matrix(1, 9, 1), pattern = "9 rows")
  err(Y, X = cbind(1, 1:10, 2 * (1:10)), pattern = "rank deficient")
  err(Y, weights = rep(-1, 10), pattern = "weights")
  err(matrix("a", 3, 2), pattern = "numeric")
  d <- pln_data(Y, data.frame(x = c(NA, 1:9)))
  expect_error(pln_fit(Abundance ~ x + offset(log(Offset)), d), "`x` contains NA", class = "rjax_pln_data_error")
  expect_error(pln_data(Y, offset = matrix(1, 2, 2)), class = "rjax_pln_data_error")
  expect_error(pln_data(Y, data.frame(x = 1:3)), "3 rows", class = "rjax_pln_data_error")
})

test_that("a diverging learning rate is reported, not a Cholesky error", {
  sim <- pln_simulate(40, 5, seed = 4)
  expect_error(suppressWarnings(pln_fit(sim$Y, O = sim$O, control = list(algorithm = "radam", lr = 1e6, max_iter = 50))),
               "lr", class = "rjax_numerical_error")
})

test_that("factor codings give the same fit, also with all-zero groups (exact Newton step along X)", {
  sim <- pln_simulate(90, 5, seed = 14)
  g <- gl(3, 30)
  Y <- sim$Y
  Y[g == "3", 2] <- 0  # species 2 never seen in group 3: its B drifts to -Inf
  dat <- pln_data(Y, data.frame(g = g), offset = exp(sim$O))
  f0 <- pln_fit(Abundance ~ 0 + g + offset(log(Offset)), dat)
  f1 <- pln_fit(Abundance ~ g + offset(log(Offset)), dat)
  expect_true(f0$converged && f1$converged)
  expect_equal(f1$loglik, f0$loglik, tolerance = 1e-6)
  expect_lt(coef(f0)["g3", 2], -8)
  expect_equal(fitted(f1), fitted(f0), tolerance = 1e-3)
})
