# pln_pca(): the rank-constrained PLN model over a grid of ranks.

test_that("pln_pca fits a grid of ranks with warm starts; BIC/ICL selection", {
  set.seed(21)
  n <- 120; p <- 15; q <- 2
  C <- matrix(rnorm(p * q, sd = 0.6), p, q)
  W <- matrix(rnorm(n * q), n, q)
  O <- matrix(log(50), n, p)
  Y <- matrix(rpois(n * p, exp(O + 0.5 + W %*% t(C))), n, p)
  fam <- pln_pca(Y, O = O, ranks = 1:4, control = list(ftol_rel = 1e-7))
  expect_s3_class(fam, "pln_pca_family")
  expect_equal(fam$criteria$rank, 1:4)
  expect_true(all(diff(fam$criteria$loglik) > -1))  # warm starts: more axes, no worse
  expect_equal(fam$criteria$nb_param, p + p * (1:4) - (1:4) * (0:3) / 2)
  best <- get_best_model(fam, "BIC")
  expect_equal(best$rank, 2L)
  expect_equal(get_best_model(fam, rank = 3)$rank, 3L)
  expect_equal(best$BIC, best$loglik - log(n) / 2 * best$nb_param)
  expect_equal(best$ICL, best$BIC - 0.5 * sum(log(2 * pi * exp(1) * best$S^2)))
  expect_equal(dim(sigma(best)), c(p, p))
  expect_equal(qr(sigma(best))$rank, 2L)
  # The latent covariance is recovered up to rotation.
  expect_lt(max(abs(sigma(best) - tcrossprod(C))), 0.35)
  expect_output(print(fam), "best rank: 2 by BIC")
  expect_output(print(best), "PLNPCA fit of rank 2")
  sc <- pln_pca_scores(best)
  expect_equal(dim(sc$scores), c(n, 2L))
  expect_equal(sum(sc$percent), 100, tolerance = 1e-8)
  expect_error(pln_pca(Y, O = O, ranks = 0), class = "rjax_pln_control_error")
  expect_error(get_best_model(fam, rank = 9), "not fitted")
})

test_that("the start's truncated SVD is exact on large low-rank matrices (randomized range finder)", {
  # n p above the exact-svd threshold: the randomized path runs
  n <- 400; p <- 10100; k <- 4
  set.seed(11)
  U <- qr.Q(qr(matrix(rnorm(n * k), n)))
  V <- qr.Q(qr(matrix(rnorm(p * k), p)))
  d <- c(400, 200, 100, 50)
  Z <- U %*% (d * t(V)) + matrix(rnorm(n * p, sd = 1e-3), n)
  seed <- .Random.seed
  s <- rjax:::pln_range_svd(Z, k)
  expect_equal(rjax:::pln_range_svd(Z, k, "f32")$d, d, tolerance = 1e-4)
  expect_identical(.Random.seed, seed)  # R's random stream is not touched
  expect_equal(s$d, d, tolerance = 1e-4)
  expect_equal(abs(colSums(s$u * U)), rep(1, k), tolerance = 1e-6)  # the same singular vectors up to sign
  expect_equal(abs(colSums(s$v * V)), rep(1, k), tolerance = 1e-6)
  expect_identical(dim(s$u), c(400L, 4L))
  expect_identical(dim(s$v), c(10100L, 4L))
  # small problems: svd() itself
  z <- Z[1:50, 1:60]
  expect_equal(rjax:::pln_range_svd(z, 2)$d, svd(z)$d[1:2])
})

test_that("the reported log-likelihood is the ELBO at the final parameters (computed compiled)", {
  sim <- pln_simulate(60, 8, d = 2, seed = 12)
  fit <- get_best_model(suppressWarnings(pln_pca(sim$Y, X = sim$X, O = sim$O, ranks = 2, control = list(max_iter = 30))))
  A <- exp(sim$O + sim$X %*% fit$B + tcrossprod(fit$M, fit$C) + 0.5 * tcrossprod(fit$S^2, fit$C^2))
  ll <- sum(sim$Y * (sim$O + sim$X %*% fit$B + tcrossprod(fit$M, fit$C)) - A) -
    0.5 * sum(fit$M^2 + fit$S^2 - log(fit$S^2)) + 0.5 * length(fit$M) - sum(rjax:::log_factorial(sim$Y))
  expect_equal(fit$loglik, ll, tolerance = 1e-10)
  expect_equal(fit$elbo[[length(fit$elbo)]], fit$loglik)
})
