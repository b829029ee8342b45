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
