# One dispatch design regardless of argument position (issue 9 item 2):
# every verb on a grid of plain R value first / rjax value first / both,
# eagerly on rj_arrays and under jit() (where the rjax values are tracers).

set.seed(91)
A <- crossprod(matrix(rnorm(9), 3)) + diag(3)
U <- chol(A)
L <- t(U)
x3 <- rnorm(3)
X <- matrix(rnorm(12), 4)
r4 <- rnorm(4)
B2 <- matrix(rnorm(4), 2)

# name, f(a, b), a, b; `eager_plain_first = FALSE` where base R cannot
# dispatch on a second argument outside tracing (primitives c, sum, ... look
# only at their first argument; see ?jit).
dispatch_cases <- list(
  list("solve", function(a, b) solve(a, b), A, x3),
  list("crossprod", function(a, b) crossprod(a, b), X, r4),
  list("tcrossprod", function(a, b) tcrossprod(a, b), t(X), t(X)),
  list("backsolve", function(a, b) backsolve(a, b), U, x3),
  list("forwardsolve", function(a, b) forwardsolve(a, b), L, x3),
  list("%*%", function(a, b) a %*% b, X, x3),
  list("outer", function(a, b) outer(a, b), x3, r4),
  list("%o%", function(a, b) a %o% b, x3, r4),
  list("kronecker", function(a, b) kronecker(a, b), B2, A),
  list("%x%", function(a, b) a %x% b, A, B2),
  list("sum", function(a, b) sum(a, b), 1, x3, eager_plain_first = FALSE),
  list("prod", function(a, b) prod(a, b), 2, x3, eager_plain_first = FALSE),
  list("max", function(a, b) max(a, b), 0, x3, eager_plain_first = FALSE),
  list("min", function(a, b) min(a, b), 0, x3, eager_plain_first = FALSE),
  list("range", function(a, b) range(a, b), 0, x3, eager_plain_first = FALSE),
  list("c", function(a, b) c(a, b), 1, x3, eager_plain_first = FALSE),
  list("cbind", function(a, b) cbind(a, b), x3, A),
  list("rbind", function(a, b) rbind(a, b), x3, A),
  list("pmax", function(a, b) pmax(a, b), 0, x3),
  list("pmin", function(a, b) pmin(a, b), x3, 0.5),
  list("ifelse", function(a, b) ifelse(a > 0, b, -b), x3, A[, 1]),
  list("atan2", function(a, b) atan2(a, b), x3, 2),
  list("colSums", function(a, b) colSums(a) + b, X, 1),
  list("diag", function(a, b) diag(a) * b, A, x3),
  list("pnorm", function(a, b) pnorm(a, b), x3, 0.5)
)

dispatch_value <- function(v) {
  v <- unname(v)
  if (length(dim(v)) < 2L) attributes(v) <- NULL
  v
}

for (case in dispatch_cases) {
  name <- case[[1L]]; f <- case[[2L]]; a <- case[[3L]]; b <- case[[4L]]
  eager_pf <- !identical(case$eager_plain_first, FALSE)
  test_that(sprintf("%s dispatches on either argument, eagerly and under jit()", name), {
    expected <- dispatch_value(f(a, b))
    # eager: rj_arrays in the chosen positions
    got <- list(rj_first = f(rj_array(a), b), both = f(rj_array(a), rj_array(b)))
    if (eager_pf) got$plain_first <- f(a, rj_array(b))
    for (k in names(got)) {
      expect_true(is_rj_array(got[[k]]), label = sprintf("%s eager %s gives an rj_array", name, k))
      expect_equal(dispatch_value(as_r(got[[k]])), expected, tolerance = 1e-10, label = sprintf("%s eager %s", name, k))
    }
    # jit: tracers in the chosen positions, plain R values captured
    jgot <- list(
      plain_first = jit(function(v) f(a, v))(b),
      traced_first = jit(function(u) f(u, b))(a),
      both = jit(f)(a, b)
    )
    for (k in names(jgot)) {
      expect_false(is_rj_array(jgot[[k]]), label = sprintf("%s jit %s gives R values for R inputs", name, k))
      expect_equal(dispatch_value(jgot[[k]]), expected, tolerance = 1e-10, label = sprintf("%s jit %s", name, k))
    }
  })
}

test_that("gradients flow through the second argument of two-argument verbs", {
  g <- grad(function(v) sum(solve(A, v)^2) + sum(crossprod(X, c(v, 1))) + max(0, v) + sum(c(1, v)^2))
  f <- function(v) sum(solve(A, v)^2) + sum(crossprod(X, c(v, 1))) + max(0, v) + sum(c(1, v)^2)
  v <- c(0.3, -0.2, 0.5)
  fd <- vapply(1:3, function(i) { e <- replace(numeric(3), i, 1e-6); (f(v + e) - f(v - e)) / 2e-6 }, 1)
  expect_equal(g(v), fd, tolerance = 1e-6)
})

test_that("c() with a traced value after plain ones concatenates (never a list)", {
  r <- jit(function(x) c(1, x, 2))(c(5, 6))
  expect_identical(r, c(1, 5, 6, 2))
  expect_identical(jit(function(x) length(c(0, x)))(1:3), 4L)
})

test_that("a traced size argument of matrix() is a clear classed error", {
  expect_error(jit(function(n) matrix(rj_array(0), n, 2))(3), class = "rjax_concretization_error")
  expect_error(jit(function(x, n) matrix(x, n))(1:6, 2), "size of an array")
  expect_identical(jit(function(x) matrix(x, rj_array(2L)))(1:6), matrix(1:6, 2))
})

test_that("every generic rjax makes is exported and routes to its tv_ verb", {
  gens <- rjax:::rj_generics
  expect_true(all(gens %in% getNamespaceExports("rjax")))
  for (g in gens) expect_true(exists(paste0("tv_", g), envir = asNamespace("rjax"), inherits = FALSE), label = g)
})
