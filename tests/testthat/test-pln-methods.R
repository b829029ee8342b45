# Methods of pln_fit objects (R/pln-methods.R).

test_that("methods: print, summary, coef, sigma, vcov, logLik, criteria, predict, plot", {
  sim <- pln_simulate(60, 4, d = 2, seed = 8)
  dat <- pln_data(sim$Y, data.frame(x = sim$X[, 2]), exp(sim$O))
  fit <- pln_fit(Abundance ~ x + offset(log(Offset)), dat)
  expect_output(print(fit), "Poisson log-normal fit: 60 samples, 4 species")
  expect_output(print(summary(fit)), "BIC")
  expect_equal(dim(coef(fit)), c(2L, 4L))
  expect_equal(coef(fit, "covariance"), sigma(fit))
  ll <- logLik(fit)
  expect_equal(attr(ll, "df"), 4 * 2 + 4 * 5 / 2)
  expect_equal(BIC(fit), fit$loglik - log(60) / 2 * attr(ll, "df"))
  expect_equal(AIC(fit), fit$loglik - attr(ll, "df"))
  expect_lt(ICL(fit), BIC(fit))
  expect_equal(latent_means(fit), fit$O + fit$X %*% fit$B + fit$M, ignore_attr = TRUE)
  nd <- data.frame(x = c(0, 1), Offset = I(matrix(1, 2, 4)))
  expect_equal(predict(fit, nd), cbind(1, c(0, 1)) %*% coef(fit), ignore_attr = TRUE)  # log(Offset) = 0
  expect_true(all(predict(fit, nd, type = "response") > 0))
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(fit))
  expect_invisible(plot(fit, type = "correlation"))
})

test_that("vcov from the variational Fisher information; standard errors and confint", {
  sim <- pln_simulate(80, 4, d = 2, seed = 11)
  fit <- pln_fit(sim$Y, X = sim$X, O = sim$O)
  v <- vcov(fit)
  expect_equal(dim(v), c(8L, 8L))
  A <- fitted(fit)
  expect_equal(unname(v[1:2, 1:2]), solve(crossprod(sim$X, sim$X * A[, 1])), tolerance = 1e-10)
  expect_equal(unname(v[1:2, 3:4]), matrix(0, 2, 2))  # block-diagonal over species
  expect_identical(vcov(fit, type = "covariance"), sigma(fit))
  se <- standard_error(fit)
  expect_equal(dim(se), dim(coef(fit)))
  expect_equal(as.vector(se), sqrt(diag(v)), ignore_attr = TRUE)
  ci <- confint(fit, level = 0.9)
  expect_equal(colnames(ci), c("5 %", "95 %"))
  expect_equal(unname(ci[, 2] - ci[, 1]), 2 * qnorm(0.95) * as.vector(se), tolerance = 1e-12)
  expect_equal(nobs(fit), 80L)
  ci95 <- confint(fit)
  expect_true(all(ci95[, 1] < as.vector(coef(fit)) & as.vector(coef(fit)) < ci95[, 2]))
  expect_true(all(ci95[, 2] - ci95[, 1] > ci[, 2] - ci[, 1]))
  expect_equal(confint(fit, "X1:Y1"), ci95[1, , drop = FALSE])
})

test_that("intercept-only fits say so; formula(); predict conditional on observed species", {
  sim <- pln_simulate(100, 6, seed = 12, rho = 0.8, sigma = 1)
  dat <- pln_data(sim$Y, data.frame(g = gl(2, 50)), offset = exp(sim$O))
  fit <- pln_fit(Abundance ~ 1 + offset(log(Offset)), dat)
  expect_output(print(fit), "intercept-only model")
  expect_equal(formula(fit), Abundance ~ 1 + offset(log(Offset)), ignore_attr = TRUE)
  fit_g <- pln_fit(Abundance ~ g + offset(log(Offset)), dat)
  expect_output(print(fit_g), "covariates: g")
  nd <- dat[1:20, ]
  obs <- sim$Y[1:20, 1:3]
  colnames(obs) <- colnames(coef(fit))[1:3]
  pc <- predict(fit, nd, type = "response", responses = obs)
  expect_equal(colnames(pc), colnames(coef(fit))[4:6])
  pu <- predict(fit, nd, type = "response")[, 4:6]
  # Conditioning on correlated species predicts the held-out counts better.
  truth <- sim$Y[1:20, 4:6]
  expect_lt(mean((log1p(pc) - log1p(truth))^2), mean((log1p(pu) - log1p(truth))^2))
  expect_error(predict(fit, nd, responses = sim$Y[1:20, 1:3]), "named species", class = "rjax_pln_data_error")
})

test_that("plots: ELBO, correlation matrix, PLNPCA criteria and latent positions are written as PNG", {
  sim <- pln_simulate(80, 30, seed = 13)
  fit <- pln_fit(sim$Y, O = sim$O)
  fam <- suppressWarnings(pln_pca(sim$Y, O = sim$O, ranks = 1:2))
  dir <- file.path(tempdir(), "pln-plots")
  dir.create(dir, showWarnings = FALSE)
  files <- file.path(dir, c("elbo.png", "cor.png", "scree.png", "pca.png"))
  draw <- list(function() plot(fit), function() plot(fit, type = "correlation", max_labels = 10),
               function() plot(fam), function() plot(get_best_model(fam, rank = 2), colour = gl(2, 40)))
  for (i in seq_along(files)) {
    grDevices::png(files[[i]], 600, 500)
    expect_invisible(draw[[i]]())
    grDevices::dev.off()
  }
  expect_true(all(file.size(files) > 2000))
  pdf(NULL)
  on.exit(dev.off())
  o <- rjax:::pln_plot_correlation(sigma(fit), order = "hclust")
  expect_setequal(o, 1:30)
})
