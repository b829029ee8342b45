test_that("the issue's example matches base R", {
  set.seed(1)
  Y <- matrix(rpois(116 * 5, 3), 116); M <- matrix(rnorm(116 * 5, sd = 0.1), 116)
  f <- function(Y, M) sum(exp(M) - Y * M) + sum(crossprod(M))
  expect_rj_equal(jit(f)(Y, M), f(Y, M))
})
