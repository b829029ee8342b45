# Reductions against base R, eager and under jit(), for each dtype.

reducers <- list(
  sum = function(x) sum(x), prod = function(x) prod(x), max = function(x) max(x),
  min = function(x) min(x), range = function(x) range(x), mean = function(x) mean(x),
  any = function(x) any(x > 0), all = function(x) all(x > -1)
)
margins <- list(
  colSums = function(x) colSums(x), rowSums = function(x) rowSums(x),
  colMeans = function(x) colMeans(x), rowMeans = function(x) rowMeans(x)
)

test_that("Summary verbs and mean() match base R for f64, f32, i32 and bool", {
  set.seed(11)
  inputs <- list(
    vector = rnorm(7),
    matrix = matrix(rnorm(12), 3),
    array = array(rnorm(24), c(2, 3, 4)),
    integer = matrix(sample(-5:5, 12, replace = TRUE), 3)
  )
  for (x in inputs) {
    floats <- if (is.double(x)) c("f64", "f32") else "f64"
    for (f in reducers) for (fl in floats) expect_verb(f, x, float = fl)
  }
  b <- matrix(c(TRUE, FALSE, TRUE, TRUE, FALSE, TRUE), 2)
  for (f in list(sum, prod, max, min, range, mean, any, all)) {
    expect_verb(eval(bquote(function(x) .(f)(x))), b)
  }
})

test_that("sum() of integers stays integer; prod() and mean() are double", {
  x <- matrix(1:12, 3)
  expect_verb(function(x) sum(x), x)
  expect_verb(function(x) prod(x), x)
  expect_verb(function(x) mean(x), x)
  expect_verb(function(x) max(x), x)
  expect_verb(function(x) sum(x > 4L), x)
})

test_that("Summary verbs combine several arguments as in R", {
  set.seed(12)
  x <- rnorm(5)
  y <- matrix(rnorm(6), 2)
  for (fl in c("f64", "f32")) {
    expect_verb(function(x, y) sum(x, y), x, y, float = fl)
    expect_verb(function(x, y) max(x, y), x, y, float = fl)
    expect_verb(function(x, y) min(x, y, 0), x, y, float = fl)
    expect_verb(function(x, y) range(x, y), x, y, float = fl)
    expect_verb(function(x, y) prod(x, y), x, y, float = fl)
    expect_verb(function(x, y) any(x > 1, y > 1), x, y, float = fl)
    expect_verb(function(x, y) all(x > -3, y > -3), x, y, float = fl)
  }
  expect_verb(function(x) sum(x, 2L), 1:4)
  expect_verb(function(x) sum(x, 2.5), 1:4)
})

test_that("colSums and friends match base R, with dims for 3-d arrays", {
  set.seed(13)
  m <- matrix(rnorm(20), 4)
  a <- array(rnorm(60), c(3, 4, 5))
  for (fl in c("f64", "f32")) {
    for (f in margins) {
      expect_verb(f, m, float = fl)
      expect_verb(f, a, float = fl)
    }
    expect_verb(function(x) colSums(x, dims = 2), a, float = fl)
    expect_verb(function(x) rowSums(x, dims = 2), a, float = fl)
    expect_verb(function(x) colMeans(x, dims = 2), a, float = fl)
    expect_verb(function(x) rowMeans(x, dims = 2), a, float = fl)
  }
  # Integer and logical input give double sums, as in base R.
  for (f in margins) {
    expect_verb(f, matrix(1:12, 3))
    expect_verb(f, matrix(c(TRUE, FALSE), 3, 4))
  }
})

test_that("margin sums reject what base R rejects", {
  expect_error(colSums(rj_array(1:3)), class = "rjax_shape_error")
  expect_error(rowSums(rj_array(array(1, c(2, 2, 2))), dims = 3), class = "rjax_shape_error")
})

test_that("reductions of empty arrays give R's identities", {
  e <- numeric(0)
  expect_verb(function(x) sum(x), e)
  expect_verb(function(x) prod(x), e)
  expect_verb(function(x) sum(x), integer(0))
  expect_verb(function(x) any(x > 0), e)
  expect_verb(function(x) all(x > 0), e)
  expect_verb(function(x) colSums(x), matrix(0, 0, 3))
  expect_verb(function(x) rowSums(x), matrix(0, 0, 3))
  expect_verb(function(x) colSums(x), matrix(0, 3, 0))
  expect_verb(function(x) colMeans(x), matrix(0, 0, 3))
  expect_verb(function(x) mean(x), e)
  expect_verb(function(x) suppressWarnings(max(x)), e)
  expect_verb(function(x) suppressWarnings(min(x)), e)
})

test_that("NaN propagates through reductions", {
  x <- c(1, NaN, 3)
  for (f in list(sum, prod, max, min, mean)) {
    expect_verb(eval(bquote(function(x) .(f)(x))), x)
  }
  expect_verb(function(x) colSums(x), matrix(c(1, NaN, 3, 4), 2))
})

test_that("reductions work with rjax only loaded (overlay)", {
  set.seed(14)
  f <- function(x) colSums(x) + rowMeans(t(x)) + colMeans(x)
  environment(f) <- new.env(parent = baseenv())
  x <- matrix(rnorm(12), 4)
  expect_rj_equal(rjax::jit(f)(x), base::colSums(x) + base::rowMeans(t(x)) + base::colMeans(x))
})

test_that("na.rm = TRUE drops missing values as base R does, eagerly and under jit", {
  x <- matrix(c(1, NA, 3, 4, 5, NaN), 3)
  xi <- matrix(c(1L, NA, 3L, 4L), 2)
  v <- c(2, NA, 5, 1)
  fs <- list(
    function(x) sum(x, na.rm = TRUE), function(x) max(x, na.rm = TRUE), function(x) min(x, na.rm = TRUE),
    function(x) prod(x, na.rm = TRUE), function(x) range(x, na.rm = TRUE), function(x) mean(x, na.rm = TRUE),
    function(x) max(x, 10, na.rm = TRUE), function(x) sum(x)
  )
  mats <- list(
    function(x) colSums(x, na.rm = TRUE), function(x) rowSums(x, na.rm = TRUE),
    function(x) colMeans(x, na.rm = TRUE), function(x) rowMeans(x, na.rm = TRUE)
  )
  for (a in list(x, xi, v)) for (f in c(fs, if (is.matrix(a)) mats)) {
    expect_equal(jit(f)(a), f(a), label = deparse(body(f)))
    expect_equal(as.array(f(rj_array(a))), as.array(f(a)), label = paste("eager", deparse(body(f))))
  }
  # integers stay integers, as in base R
  expect_identical(jit(function(x) max(x, na.rm = TRUE))(xi), 4L)
})

test_that("var/cov/cor/sd on complete cases and median with NA follow base R", {
  set.seed(1)
  z <- matrix(rnorm(40), 10)
  z[c(3, 17)] <- NA
  expect_equal(jit(function(z) var(z, na.rm = TRUE))(z), var(z, na.rm = TRUE))
  expect_equal(jit(function(z) cov(z, use = "complete.obs"))(z), cov(z, use = "complete.obs"))
  expect_equal(jit(function(z) cor(z, use = "complete.obs"))(z), cor(z, use = "complete.obs"))
  expect_equal(jit(function(z) sd(z[, 1], na.rm = TRUE))(z), sd(z[, 1], na.rm = TRUE))
  expect_equal(jit(function(z) median(z[, 1]))(z), NA_real_)
  expect_equal(jit(function(z) median(z[, 3]))(z), median(z[, 3]))
  expect_error(jit(function(z) median(z, na.rm = TRUE))(z), class = "rjax_unsupported_error")
  expect_error(jit(function(z) cor(z, use = "pairwise.complete.obs"))(z), class = "rjax_unsupported_error")
  # missing entries get no gradient; the others see the count of present values
  g <- grad(function(z) sum(colMeans(z, na.rm = TRUE)))(z)
  expect_equal(g[3], 0)
  expect_equal(g[1], 1 / 9)
})

test_that("pmax/pmin with na.rm = TRUE follow base R", {
  a <- c(1, NA, 3, NA); b <- c(NA, 2, 1, NA)
  for (f in list(function(a, b) pmax(a, b, na.rm = TRUE), function(a, b) pmin(a, b, 0, na.rm = TRUE),
                 function(a, b) pmax(a, b), function(a, b) pmin(a, 2, na.rm = TRUE))) {
    expect_equal(jit(f)(a, b), f(a, b), label = deparse(body(f)))
  }
})
