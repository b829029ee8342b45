# Shape and indexing verbs against base R, eager and under jit().

test_that("t(), aperm() and dim<- match base R", {
  set.seed(21)
  m <- matrix(rnorm(6), 2)
  a <- array(rnorm(24), c(2, 3, 4))
  for (fl in c("f64", "f32")) {
    expect_verb(function(x) t(x), m, float = fl)
    expect_verb(function(x) t(x), rnorm(4), float = fl)
    expect_verb(function(x) aperm(x), a, float = fl)
    expect_verb(function(x) aperm(x, c(2, 3, 1)), a, float = fl)
    expect_verb(function(x) { dim(x) <- c(4, 6); x }, a, float = fl)
    expect_verb(function(x) { dim(x) <- NULL; x }, m, float = fl)
  }
  expect_verb(function(x) t(x), matrix(1:6, 3))
  expect_verb(function(x) aperm(x, c(3, 1, 2)), array(1:24 > 10, c(2, 3, 4)))
  expect_error({ x <- rj_array(1:6); dim(x) <- c(4, 2) }, class = "rjax_shape_error")
})

test_that("[ with positive, negative, logical and missing indices matches base R", {
  set.seed(22)
  m <- matrix(rnorm(20), 4)
  subsets <- list(
    function(x) x[2, 3], function(x) x[2, ], function(x) x[, 3], function(x) x[c(1, 3), ],
    function(x) x[-1, ], function(x) x[, -c(1, 5)], function(x) x[c(TRUE, FALSE), ],
    function(x) x[, c(TRUE, FALSE, TRUE, FALSE, TRUE)], function(x) x[2, , drop = FALSE],
    function(x) x[, 3, drop = FALSE], function(x) x[2, 3, drop = FALSE],
    function(x) x[c(4, 1, 1), c(5, 2)], function(x) x[], function(x) x[0, ],
    function(x) x[-(1:4), ], function(x) x[c(2, 0, 3), ],
    function(x) x[5], function(x) x[c(1, 7, 20)], function(x) x[-1],
    function(x) x[c(TRUE, FALSE, FALSE)], function(x) x[2:3, 4:5][2, ]
  )
  for (f in subsets) {
    for (fl in c("f64", "f32")) expect_verb(f, m, float = fl)
  }
  im <- matrix(1:20, 4)
  for (f in subsets[c(1, 2, 5, 9, 17, 18)]) expect_verb(f, im)
  # A value-dependent selection has a value-dependent length: eager only.
  expect_verb(function(x) x[x > 0], m, modes = "eager")
  expect_error(jit(function(x) x[x > 0])(m), class = "rjax_concretization_error")
  expect_verb(function(x) x[2:4], rnorm(6))
  expect_verb(function(x) x[-2], 1:6)
  a <- array(rnorm(24), c(2, 3, 4))
  expect_verb(function(x) x[2, , 3], a)
  expect_verb(function(x) x[, 2:3, -1], a)
  expect_verb(function(x) x[1, 2, , drop = FALSE], a)
})

test_that("[ rejects indices base R rejects", {
  x <- rj_array(matrix(1:6, 2))
  expect_error(x[3, 1], class = "rjax_index_error")
  expect_error(x[c(-1, 2), ], class = "rjax_index_error")
  expect_error(x[1, 2, 3], class = "rjax_index_error")
  expect_error(x[7], class = "rjax_index_error")
})

test_that("[<- on cells, rows, columns and linear indices matches base R", {
  set.seed(23)
  m <- matrix(rnorm(12), 3)
  updates <- list(
    function(x) { x[2, 3] <- 10; x },
    function(x) { x[2, ] <- 0; x },
    function(x) { x[, 4] <- c(1, 2, 3); x },
    function(x) { x[-1, 2] <- c(5, 6); x },
    function(x) { x[c(TRUE, FALSE, TRUE), ] <- -1; x },
    function(x) { x[1:2, 3:4] <- matrix(1:4 / 2, 2); x },
    function(x) { x[5] <- 7; x },
    function(x) { x[c(1, 12)] <- c(8, 9); x },
    function(x) { x[x > 0] <- 0; x },
    function(x) { x[x < 0] <- x[1]; x },
    function(x) { x[] <- 1; x },
    function(x) { x[2, 3] <- x[1, 1] * 2; x },
    function(x) { x[, 1] <- x[, 2] + x[, 3]; x }
  )
  for (f in updates) {
    for (fl in c("f64", "f32")) expect_verb(f, m, float = fl)
  }
  expect_verb(function(x) { x[2, 2] <- 0L; x }, matrix(1:9, 3))
  expect_verb(function(x) { x[3] <- 1.5; x }, 1:4 + 0.5)
  expect_verb(function(x) { x[2] <- FALSE; x }, c(TRUE, TRUE, TRUE))
  expect_error({ x <- rj_array(matrix(1:6 / 2, 2)); x[1, ] <- 1:2 }, class = "rjax_shape_error")
})

test_that("c() and rep() match base R", {
  set.seed(24)
  x <- rnorm(3)
  y <- matrix(rnorm(4), 2)
  for (fl in c("f64", "f32")) {
    expect_verb(function(x, y) c(x, y), x, y, float = fl)
    expect_verb(function(x) c(x, 1, 2), x, float = fl)
    expect_verb(function(x) c(x), y, float = fl)
    expect_verb(function(x) rep(x, 3), x, float = fl)
    expect_verb(function(x) rep(x, times = 2), y, float = fl)
    expect_verb(function(x) rep(x, each = 2), x, float = fl)
    expect_verb(function(x) rep(x, each = 2, times = 2), x, float = fl)
    expect_verb(function(x) rep(x, length.out = 7), x, float = fl)
    expect_verb(function(x) rep(x, times = c(1, 0, 3)), x, float = fl)
    expect_verb(function(x) rep(x, each = 2, length.out = 5), x, float = fl)
  }
  expect_verb(function(x) c(x, 4L), 1:3)
  expect_verb(function(x) c(x, 0.5), 1:3)
  expect_verb(function(x) rep(x, 2), c(TRUE, FALSE))
  expect_verb(function(x) rep(x, 4), 2.5)
})

test_that("matrix() matches base R, byrow and recycling included", {
  set.seed(25)
  x <- rnorm(6)
  for (fl in c("f64", "f32")) {
    expect_verb(function(x) matrix(x, 2), x, float = fl)
    expect_verb(function(x) matrix(x, ncol = 2), x, float = fl)
    expect_verb(function(x) matrix(x, 2, byrow = TRUE), x, float = fl)
    expect_verb(function(x) matrix(x, 3, 4), x, float = fl)
    expect_verb(function(x) matrix(x), x, float = fl)
    expect_verb(function(x) matrix(x[1], 2, 3), x, float = fl)
    expect_verb(function(x) matrix(sum(x), 2, 2), x, float = fl)
  }
  expect_verb(function(x) matrix(x, 2), 1:6)
  # R data only: base R's matrix(), untouched.
  expect_identical(matrix(1:6, ncol = 3), base::matrix(1:6, ncol = 3))
})

test_that("cbind() and rbind() of vectors, matrices and scalars match base R", {
  set.seed(26)
  v <- rnorm(3)
  m <- matrix(rnorm(6), 3)
  for (fl in c("f64", "f32")) {
    expect_verb(function(v, m) cbind(v, m), v, m, float = fl)
    expect_verb(function(v, m) cbind(m, v, 1), v, m, float = fl)
    expect_verb(function(v, m) rbind(t(m), v), v, m, float = fl)
    expect_verb(function(v, m) rbind(v, 0, v), v, m, float = fl)
    expect_verb(function(v) cbind(v), v, float = fl)
    expect_verb(function(v) rbind(v), v, float = fl)
    expect_verb(function(v, m) cbind(m, m), v, m, float = fl)
  }
  expect_verb(function(v, m) cbind(v, m), 1:3, matrix(4:9, 3))
  expect_verb(function(v) cbind(v, 2L), 1:3)
  expect_verb(function(v) cbind(v, 2.5), 1:3)
  expect_error(cbind(rj_array(matrix(1:6, 3)), rj_array(matrix(1:4, 2))), class = "rjax_shape_error")
})

test_that("outer() with '*', '+' and a function matches base R", {
  set.seed(27)
  x <- rnorm(3)
  y <- rnorm(4)
  for (fl in c("f64", "f32")) {
    expect_verb(function(x, y) outer(x, y), x, y, float = fl)
    expect_verb(function(x, y) outer(x, y, "+"), x, y, float = fl)
    expect_verb(function(x, y) outer(x, y, function(a, b) exp(a) - b), x, y, float = fl)
    expect_verb(function(x, y) x %o% y, x, y, float = fl)
    expect_verb(function(x) outer(x, 1:2), x, float = fl)
  }
  expect_verb(function(x, y) outer(x, y, "-"), 1:3, 1:4)
  expect_verb(function(x, y) outer(x, y), matrix(rnorm(4), 2), y)
})

test_that("diag() extracts and builds as base R; diag(n) stays base R", {
  set.seed(28)
  for (fl in c("f64", "f32")) {
    expect_verb(function(x) diag(x), matrix(rnorm(9), 3), float = fl)
    expect_verb(function(x) diag(x), matrix(rnorm(6), 2), float = fl)
    expect_verb(function(x) diag(x), rnorm(3), float = fl)
    expect_verb(function(x) diag(x, 3), 2.5, float = fl)
    expect_verb(function(x) diag(x) %*% x, rnorm(4), float = fl)
  }
  expect_verb(function(x) diag(x), matrix(1:9, 3))
  expect_verb(function(x) diag(x), 1:3)
  expect_identical(diag(3), base::diag(3))
  expect_identical(diag(2, 3), base::diag(2, 3))
  expect_identical(diag(c(1, 2)), base::diag(c(1, 2)))
})

test_that("length, dim, nrow, ncol and NROW match base R", {
  shape_of <- function(x) list(length(x), dim(x), nrow(x), ncol(x), NROW(x), NCOL(x))
  for (x in list(matrix(1:6, 2), 1:5, array(1:24, 2:4), 3L, numeric(0))) {
    expect_identical(shape_of(rj_array(x)), shape_of(x))
    # Shapes are static while tracing: the same answers, as R values.
    seen <- NULL
    jit(function(x) { seen <<- shape_of(x); x })(rj_array(x))
    expect_identical(seen, shape_of(x))
  }
})

test_that("shape verbs work with rjax only loaded (overlay)", {
  set.seed(29)
  f <- function(x) diag(crossprod(cbind(x, 1))) + sum(diag(outer(x[1:2], x[1:2])))
  environment(f) <- new.env(parent = baseenv())
  x <- rnorm(5)
  xx <- base::cbind(x, 1)
  expect_rj_equal(rjax::jit(f)(x), unname(base::diag(base::crossprod(xx)) + sum(base::diag(base::outer(x[1:2], x[1:2])))))
})

test_that("diff() matches base R for vectors and matrices, eager and jitted", {
  set.seed(21)
  v <- rnorm(11); m <- matrix(rnorm(24), 6)
  for (args in list(list(1, 1), list(2, 1), list(1, 3), list(3, 2))) {
    f <- function(x) diff(x, lag = args[[1]], differences = args[[2]])
    expect_equal(as.vector(f(rj_array(v))), f(v), tolerance = 1e-12)
    expect_equal(as.vector(jit(f)(v)), f(v), tolerance = 1e-12)
    expect_equal(as_r(jit(f)(m)), f(m), tolerance = 1e-12)
  }
  five <- function(x) diff(diff(diff(diff(diff(x)))))
  expect_equal(as.vector(jit(five)(v)), five(v), tolerance = 1e-12)
})
