# Traced shape verbs (R/verbs-shape.R and the indexing of R/ops-shape.R):
# values against base R under jit() and eagerly, gradients against finite
# differences.

test_that("drop, rev, head, tail and array match base R with gradients", {
  X <- matrix(c(1, 5, 2, 3, 8, 4), 2)
  x <- c(0.5, -1, 2, 3, 1.5)
  b <- c(0.3, -0.2, 0.1)
  expect_traced(function(b) sum(drop(X %*% b)^2), list(b), label = "drop")
  expect_traced(function(b) drop(X %*% b), list(b), grad = FALSE, label = "drop value")
  expect_traced(function(x) sum(rev(x) * seq_along(x)), list(x), label = "rev")
  expect_traced(function(x) sum(head(x, 2) * tail(x, 2)), list(x), label = "head/tail")
  expect_traced(function(x) sum(head(x, -2)) - sum(tail(x, -3)^2), list(x), label = "negative n")
  expect_traced(function(X) sum(head(X, 1)) + sum(tail(X, 1)^2), list(X), label = "head/tail of a matrix")
  expect_traced(function(x) sum(array(x[1:4], c(2, 2)) %*% c(1, 2)), list(x), label = "array")
  expect_eager_verb("drop", matrix(1:3 / 2, 1), base = base::drop)
  expect_eager_verb("rev", x, base = base::rev)
  expect_eager_verb("head", x, 3, base = utils::head)
  expect_eager_verb("tail", X, 1, base = function(x, n) unname(utils::tail(x, n)))
})

test_that("negative, logical and matrix indices select as in R", {
  X <- matrix(c(1, 5, 2, 3, 8, 4), 2)
  m <- cbind(c(1, 2, 2), c(3, 1, 2))
  expect_traced(function(x) sum(x[-1]^2), list(c(1, 2, 3)), label = "negative index")
  expect_traced(function(X) sum(X[-1, -2]), list(X), label = "negative matrix index")
  expect_traced(function(X) sum(X[m]^2), list(X), label = "two-column index")
  expect_traced(function(X) X[m], list(X), grad = FALSE, label = "two-column index value")
  expect_traced(function(X) X[cbind(2, 3)], list(X), grad = FALSE, label = "one row index")
  expect_traced(function(X) { X[m] <- c(10, 20, 30); sum(X^2) }, list(X), label = "assign by index matrix")
  expect_traced(function(X) { X[m] <- X[m] * 2; X }, list(X), grad = FALSE)
  A <- array(1:24 / 4, c(2, 3, 4))
  expect_traced(function(A) sum(A[cbind(c(1, 2), c(3, 1), c(4, 2))]), list(A), label = "three-column index")
  expect_error(jit(function(X) X[cbind(c(1, -1), c(1, 1))])(X), class = "rjax_index_error")
  expect_error(jit(function(X) X[cbind(3, 1)])(X), class = "rjax_index_error")
})

test_that("[[ and [[<- take one element", {
  X <- matrix(c(1, 5, 2, 3, 8, 4), 2)
  expect_traced(function(X) X[[2]] * X[[1, 3]], list(X), label = "[[")
  expect_traced(function(X) { X[[2, 2]] <- X[[1]]^2; sum(X) }, list(X), label = "[[<-")
  expect_error(jit(function(X) X[[1:2]])(X), class = "rjax_index_error")
})

test_that("preallocated numeric(n), double(n) and matrix(0, n, m) fill in loops", {
  x <- c(1.5, 2, 3, -1)
  f1 <- function(x) { out <- numeric(length(x)); for (i in seq_along(x)) out[i] <- x[i]^2; sum(out) }
  f2 <- function(x) { out <- double(3); for (i in 1:3) out[[i]] <- x[i] * x[i + 1]; out }
  f3 <- function(x) {
    M <- matrix(0, 2, 2)
    for (i in 1:2) for (j in 1:2) M[i, j] <- x[i] * x[j + 2]
    sum(M %*% c(1, 2))
  }
  f4 <- function(x) { out <- integer(2); out[2] <- x[1]; out }
  f5 <- function(x) { M <- matrix(0, 2, 3); M[, 2] <- x[1:2]; M[1, ] <- x[2:4]; sum(M^2) }
  f6 <- function(x) { s <- numeric(4); s[1] <- x[1]; for (t in 2:4) s[t] <- 0.5 * s[t - 1] + x[t]; s }
  expect_traced(f1, list(x), label = "numeric(n) [<-")
  expect_traced(f2, list(x), grad = FALSE, label = "double(n) [[<-")
  expect_traced(f3, list(x), label = "matrix(0) [i, j] <-")
  expect_traced(f4, list(x), grad = FALSE, label = "integer(n) widened")
  expect_traced(f5, list(x), label = "rows and columns")
  expect_traced(f6, list(x), grad = FALSE, label = "recursion")
  expect_traced(function(x) {
    s <- numeric(4); s[1] <- x[1]
    for (t in 2:4) s[t] <- 0.5 * s[t - 1] + x[t]
    sum(s^2)
  }, list(x), label = "recursion gradient")
})

test_that("lower.tri/upper.tri assignment and diag<- with a vector", {
  x <- c(0.5, 1.5, -2, 3, 0.7, 1.1)
  f1 <- function(x) { L <- matrix(0, 3, 3); L[lower.tri(L, diag = TRUE)] <- x; sum(L %*% t(L)) }
  f2 <- function(x) { U <- diag(3); U[upper.tri(U)] <- x[1:3]; sum(solve(U, c(1, 2, 3))) }
  f3 <- function(x) { M <- matrix(0, 3, 3); diag(M) <- x[1:3]; M }
  f4 <- function(x) { M <- matrix(x[1:6], 2, 3); diag(M) <- exp(x[1:2]); sum(M^2) }
  f5 <- function(x) { M <- tcrossprod(x[1:3]); diag(M) <- diag(M) + 1; determinant(M)$modulus[1] }
  f6 <- function(x) { M <- matrix(x[1:4], 2); M[upper.tri(M)] <- 0; M }
  expect_traced(f1, list(x), label = "lower.tri fill")
  expect_traced(f2, list(x), label = "upper.tri fill")
  expect_traced(f3, list(x), grad = FALSE, label = "diag<- vector")
  expect_traced(f4, list(x), label = "diag<- rectangular")
  expect_traced(f5, list(x), label = "diag<- on traced")
  expect_traced(f6, list(x), grad = FALSE, label = "upper.tri on traced")
  expect_identical(rjax:::tv_lower.tri(rj_array(matrix(1, 3, 2))), base::lower.tri(matrix(1, 3, 2)))
  expect_identical(rjax:::tv_upper.tri(rj_array(matrix(1, 3, 2)), TRUE), base::upper.tri(matrix(1, 3, 2), TRUE))
})

test_that("the replacement verbs are base R's for plain data", {
  ns <- asNamespace("rjax")
  x <- c(a = 1, b = 2)
  expect_identical(ns$`tv_[<-`(x, 2, value = 5), `[<-`(x, 2, value = 5))
  M <- matrix(1:6, 2)
  expect_identical(ns$`tv_[<-`(M, , 2, value = 0L), `[<-`(M, , 2, value = 0L))
  expect_identical(ns$`tv_[[<-`(list(1, 2), 2, value = "a"), list(1, "a"))
  expect_identical(ns$`tv_diag<-`(diag(2), c(3, 4)), diag(c(3, 4)))
  expect_identical(ns$tv_drop(matrix(1:3, 1)), 1:3)
  expect_identical(ns$tv_rev(list(1, "a")), list("a", 1))
  expect_identical(ns$tv_head(letters, 3), letters[1:3])
  expect_identical(ns$tv_array(1:4, c(2, 2)), array(1:4, c(2, 2)))
  # A list element holding a traced value stays a list element.
  f <- function(x) { l <- list(a = 1); l[["b"]] <- x * 2; l$a + l$b }
  expect_equal(plain(jit(f)(3)), 7)
})
