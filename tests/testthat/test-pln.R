read_oaks <- function() {
  d <- oaks_dir()
  if (is.null(d)) return(NULL)
  Y <- as.matrix(read.csv(file.path(d, "counts.csv")))
  Off <- as.matrix(read.csv(file.path(d, "offsets.csv")))
  cov <- read.csv(file.path(d, "covariates.csv"), stringsAsFactors = TRUE)
  cov$tree <- factor(cov$tree, levels = c("susceptible", "intermediate", "resistant"))
  pln_data(Y, cov, Off)
}

test_that("pln_fit recovers B and Sigma on simulated data", {
  sim <- pln_simulate(400, 6, d = 2, seed = 5, sigma = 0.6)
  fit <- pln_fit(sim$Y, X = sim$X, O = sim$O, control = pln_control(max_iter = 400))
  expect_s3_class(fit, "pln_fit")
  expect_lt(max(abs(coef(fit) - sim$B)), 0.2)
  expect_lt(max(abs(sigma(fit) - sim$Sigma)), 0.12)
  expect_equal(dim(fitted(fit)), dim(sim$Y))
  expect_true(all(diff(fit$elbo[-(1:10)]) > -1e-6 * abs(fit$elbo[-(1:11)])))  # ascent after warm-up
})

test_that("the ELBO pieces agree with their definitions", {
  sim <- pln_simulate(30, 4, seed = 6)
  set.seed(6)
  M <- matrix(rnorm(120, sd = 0.3), 30); S <- matrix(runif(120, 0.2, 0.8), 30)
  X <- sim$X; XtX <- crossprod(X)
  B <- solve(XtX, crossprod(X, log1p(sim$Y) - sim$O))
  pr <- rjax:::pln_profile(M, S, B, X, XtX)
  # After profiling, the fixed-Omega ELBO equals the profiled one (trace terms = n p / 2).
  fixed <- rjax:::pln_elbo_fixed(pr$M, S, pr$B, solve(pr$Sigma), sim$Y, X, sim$O)
  prof <- rjax:::pln_elbo_profiled(pr$M, S, pr$B, pr$Sigma, sim$Y, X, sim$O)
  expect_equal(as.vector(fixed) + 30 * 4 / 2, as.vector(prof), tolerance = 1e-10)
  # Profiling keeps the latent mean O + X B + M.
  expect_equal(X %*% pr$B + pr$M, X %*% B + M, tolerance = 1e-12)
})

test_that("formula and matrix interfaces agree; f32 matches f64", {
  sim <- pln_simulate(80, 5, seed = 7)
  dat <- pln_data(sim$Y, offsets = exp(sim$O))
  ctrl <- pln_control(max_iter = 150, tol = 0)
  f1 <- pln_fit(Abundance ~ 1 + offset(log(Offset)), dat, control = ctrl)
  f2 <- pln_fit(sim$Y, O = sim$O, control = ctrl)
  expect_equal(f1$loglik, f2$loglik, tolerance = 1e-8)
  f3 <- pln_fit(sim$Y, O = sim$O, control = pln_control(max_iter = 150, tol = 0, dtype = "f32"))
  expect_equal(f3$loglik, f2$loglik, tolerance = 1e-3)
  expect_equal(f1$n_iter, 150L)
})

test_that("methods: print, summary, coef, sigma, vcov, logLik, criteria, predict, plot", {
  sim <- pln_simulate(60, 4, d = 2, seed = 8)
  dat <- pln_data(sim$Y, data.frame(x = sim$X[, 2]), exp(sim$O))
  fit <- pln_fit(Abundance ~ x + offset(log(Offset)), dat, control = pln_control(max_iter = 100))
  expect_output(print(fit), "Poisson log-normal fit: 60 samples, 4 species")
  expect_output(print(summary(fit)), "BIC")
  expect_equal(dim(coef(fit)), c(2L, 4L))
  expect_equal(coef(fit, "covariance"), sigma(fit))
  expect_equal(dim(vcov(fit)), c(8L, 8L))
  ll <- logLik(fit)
  expect_equal(attr(ll, "df"), 4 * 2 + 4 * 5 / 2)
  expect_equal(BIC(fit), fit$loglik - log(60) / 2 * attr(ll, "df"))
  expect_equal(AIC(fit), fit$loglik - attr(ll, "df"))
  expect_lt(ICL(fit), BIC(fit))
  expect_equal(latent_means(fit), fit$O + fit$X %*% fit$B + fit$M)
  nd <- data.frame(x = c(0, 1), Offset = I(matrix(1, 2, 4)))
  expect_equal(predict(fit, nd), cbind(1, c(0, 1)) %*% coef(fit), ignore_attr = TRUE)  # log(Offset) = 0
  expect_true(all(predict(fit, nd, type = "response") > 0))
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(fit))
  expect_invisible(plot(fit, type = "correlation"))
})

test_that("bad input to pln_fit gives clear errors", {
  expect_error(pln_fit(matrix(-1, 3, 2)), class = "rjax_type_error")
  expect_error(pln_fit(matrix(1, 3, 2), X = matrix(1, 4, 1)), class = "rjax_shape_error")
  expect_error(pln_data(matrix(1, 3, 2), offsets = matrix(1, 2, 2)), class = "rjax_shape_error")
})

test_that("oaks: the log-likelihood is within 0.05% of PLNmodels' (or better)", {
  oaks <- read_oaks()
  skip_if(is.null(oaks), "../shared/data/oaks is absent")
  fit <- pln_fit(Abundance ~ 1 + offset(log(Offset)), oaks, control = pln_control(max_iter = 1000, tol = 0))
  ref <- -32028.47  # PLNmodels builtin, ALGORITHMS.md
  expect_gt(fit$loglik, ref - 0.0005 * abs(ref))
  fit2 <- pln_fit(Abundance ~ tree + offset(log(Offset)), oaks, control = pln_control(max_iter = 1000, tol = 0))
  ref2 <- -31386.55
  expect_gt(fit2$loglik, ref2 - 0.0005 * abs(ref2))
  expect_equal(attr(logLik(fit), "df"), 6669)
})
