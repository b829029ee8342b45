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
