# Linear algebra verbs against base R, eager and under jit().

# A well-conditioned symmetric positive definite matrix.
rand_spd <- function(n) crossprod(matrix(rnorm(n * n), n)) + diag(n, n)

test_that("%*% handles every vector/matrix combination R allows", {
  set.seed(31)
  A <- matrix(rnorm(12), 3)
  v3 <- rnorm(3)
  v4 <- rnorm(4)
  cases <- list(
    list(A, matrix(rnorm(8), 4)),  # matrix %*% matrix
    list(A, v4),                    # matrix %*% vector (column)
    list(v3, A),                    # vector (row) %*% matrix
    list(v4, v4),                   # inner product
    list(matrix(rnorm(3), 3), v4),  # column %*% vector (a row): outer product
    list(v3, matrix(rnorm(4), 1))   # vector (a column) %*% row: outer product
  )
  for (case in cases) {
    for (fl in c("f64", "f32")) expect_verb(function(x, y) x %*% y, case[[1L]], case[[2L]], float = fl)
  }
  expect_verb(function(x, y) x %*% y, matrix(1:6, 2), matrix(1:6, 3))
  expect_verb(function(x) x %*% c(1, 2, 3, 4), A)
  expect_verb(function(x) c(1, 2, 3) %*% x, A)
  expect_error(rj_array(A) %*% rj_array(A), class = "rjax_shape_error")
})

test_that("crossprod() and tcrossprod() with one and two arguments match base R", {
  set.seed(32)
  A <- matrix(rnorm(12), 4)
  B <- matrix(rnorm(8), 4)
  v <- rnorm(4)
  for (fl in c("f64", "f32")) {
    expect_verb(function(x) crossprod(x), A, float = fl)
    expect_verb(function(x) tcrossprod(x), A, float = fl)
    expect_verb(function(x, y) crossprod(x, y), A, B, float = fl)
    expect_verb(function(x, y) tcrossprod(x, y), t(A), t(B), float = fl)
    expect_verb(function(x) crossprod(x), v, float = fl)
    expect_verb(function(x) tcrossprod(x), v, float = fl)
    expect_verb(function(x, y) crossprod(x, y), A, v, float = fl)
    expect_verb(function(x, y) crossprod(x, y), v, B, float = fl)
    expect_verb(function(x, y) tcrossprod(x, y), v, v, float = fl)
  }
  expect_verb(function(x) crossprod(x), matrix(1:6, 3))
  expect_verb(function(x) crossprod(x, c(1, 0, 2, 1)), A)
})

test_that("solve() inverts and solves A x = b for vector and matrix b", {
  set.seed(33)
  A <- matrix(rnorm(16), 4) + diag(4, 4)
  b <- rnorm(4)
  B <- matrix(rnorm(8), 4)
  for (fl in c("f64", "f32")) {
    tol <- if (fl == "f32") 1e-4 else 1e-10
    expect_verb(function(a) solve(a), A, float = fl, tolerance = tol)
    expect_verb(function(a, b) solve(a, b), A, b, float = fl, tolerance = tol)
    expect_verb(function(a, b) solve(a, b), A, B, float = fl, tolerance = tol)
    expect_verb(function(a) solve(a, c(1, 2, 3, 4)), A, float = fl, tolerance = tol)
  }
  expect_verb(function(a) solve(a), matrix(c(2L, 1L, 1L, 3L), 2))
  expect_verb(function(a) solve(a), 4)
  expect_error(solve(rj_array(matrix(1, 2, 2))), class = "rjax_singular_error")
  expect_error(solve(rj_array(matrix(1:6 / 2, 2))), class = "rjax_shape_error")
})

test_that("chol(), det() and determinant() match base R, negative signs included", {
  set.seed(34)
  S <- rand_spd(4)
  N <- matrix(rnorm(9), 3)
  if (det(N) > 0) N <- N[, c(2, 1, 3)]  # a negative determinant
  for (fl in c("f64", "f32")) {
    tol <- if (fl == "f32") 1e-4 else 1e-10
    expect_verb(function(x) chol(x), S, float = fl, tolerance = tol)
    expect_verb(function(x) det(x), S, float = fl, tolerance = tol)
    expect_verb(function(x) det(x), N, float = fl, tolerance = tol)
    for (lg in c(TRUE, FALSE)) {
      expect_verb(eval(bquote(function(x) determinant(x, logarithm = .(lg))$modulus)), N, float = fl, tolerance = tol)
      # R's sign is an integer; rjax's has the matrix's dtype.
      expect_verb(function(x) determinant(x)$sign * 1, N, float = fl)
    }
  }
  d <- determinant(rj_array(N), logarithm = FALSE)
  expect_s3_class(d, "det")
  expect_identical(attr(d$modulus, "logarithm"), FALSE)
  expect_verb(function(x) det(x), matrix(c(2L, 1L, 1L, 3L), 2))
  expect_error(chol(rj_array(-S)), class = "rjax_not_pd_error")
})

test_that("norm() of each type matches base R", {
  set.seed(35)
  A <- matrix(rnorm(12), 3)
  for (type in c("O", "I", "F", "M", "1", "E")) {
    for (fl in c("f64", "f32")) expect_verb(eval(bquote(function(x) norm(x, .(type)))), A, float = fl)
  }
  expect_verb(function(x) norm(x), A)
  expect_verb(function(x) norm(x, "2"), matrix(rnorm(4), 4))
  expect_verb(function(x) norm(x, "F"), matrix(1:6, 2))
  expect_error(norm(rj_array(A), "2"), class = "rjax_unsupported_error")
})

test_that("linear algebra works with rjax only loaded (overlay)", {
  set.seed(36)
  f <- function(x) colSums(crossprod(x)) + diag(tcrossprod(t(x))) + norm(x, "F")
  environment(f) <- new.env(parent = baseenv())
  x <- matrix(rnorm(12), 4)
  expected <- base::colSums(base::crossprod(x)) + base::diag(base::tcrossprod(t(x))) + base::norm(x, "F")
  expect_rj_equal(rjax::jit(f)(x), expected)
})

test_that("backsolve and forwardsolve are traced, with gradients in both arguments", {
  set.seed(5)
  S <- crossprod(matrix(rnorm(16), 4)) + diag(4)
  R <- chol(S)
  b <- rnorm(4)
  B <- matrix(rnorm(8), 4)
  expect_traced(function(b) sum(backsolve(R, b)^2), list(b), label = "backsolve vector")
  expect_traced(function(b) backsolve(R, b, transpose = TRUE), list(b), grad = FALSE, label = "backsolve transpose")
  expect_traced(function(B) sum(forwardsolve(t(R), B)^3), list(B), label = "forwardsolve matrix")
  expect_traced(function(R) sum(backsolve(R, b)), list(R), label = "backsolve wrt the triangle")
  A <- matrix(rnorm(16), 4)
  expect_traced(function(A) sum(backsolve(chol(crossprod(A) + diag(4)), b, transpose = TRUE)^2), list(A), label = "through chol")
  expect_traced(function(b) sum(backsolve(R, b, k = 2)), list(b), label = "leading block k")
  expect_traced(function(b) sum(forwardsolve(R, b, upper.tri = TRUE, transpose = TRUE)), list(b), label = "forwardsolve upper")
  expect_identical(rjax:::tv_backsolve(R, b), base::backsolve(R, b))
  expect_identical(rjax:::tv_forwardsolve(t(R), B), base::forwardsolve(t(R), B))
  expect_error(jit(function(b) backsolve(diag(c(1, 0)), b))(c(1, 2)), class = "rjax_singular_error")
})

test_that("kronecker and %x% lay out blocks as R", {
  A <- matrix(c(1, 2, 3, 4), 2)
  B <- matrix(c(0.5, -1, 2, 0, 1, 3), 2)
  expect_traced(function(A) kronecker(A, B), list(A), grad = FALSE, label = "kronecker")
  expect_traced(function(B) sum(kronecker(A, B)^2), list(B), label = "kronecker gradient")
  expect_traced(function(A) A %x% diag(2), list(A), grad = FALSE, label = "%x%")
  expect_traced(function(v) kronecker(v, c(1, 2, 3)), list(c(2, 5)), grad = FALSE, label = "vectors")
  expect_identical(rjax:::tv_kronecker(A, B), base::kronecker(A, B))
})
