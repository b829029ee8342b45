test_that("jit matches base R on the issue's example", {
  set.seed(2)
  Y <- matrix(rpois(50, 3), 10); M <- matrix(rnorm(50), 10)
  f <- function(Y, M) sum(exp(M) - Y * M) + sum(crossprod(M))
  jf <- jit(f)
  expect_rj_equal(jf(Y, M), f(Y, M))
  expect_rj_equal(jf(rj_array(Y), rj_array(M)), f(Y, M))
})

test_that("jit traces once per signature and then skips the R code", {
  calls <- 0
  f <- function(x) {
    calls <<- calls + 1
    x * 2
  }
  jf <- jit(f)
  expect_rj_equal(jf(c(1, 2, 3)), c(2, 4, 6))
  expect_rj_equal(jf(c(4, 5, 6)), c(8, 10, 12))
  expect_equal(calls, 1)
  jf(c(1, 2, 3, 4))                   # new shape: retrace
  expect_equal(calls, 2)
  jf(rj_array(c(1, 2, 3), dtype = "f32"))  # new dtype: retrace
  expect_equal(calls, 3)
  jf(rj_array(c(1, 2, 3), dtype = "f32"))
  expect_equal(calls, 3)
  expect_output(print(jf), "3 compiled signatures")
})

test_that("static arguments are part of the cache key and allow R control flow", {
  calls <- 0
  f <- function(x, power) {
    calls <<- calls + 1
    if (power > 1) x^power else -x
  }
  jf <- jit(f, static = "power")
  expect_rj_equal(jf(c(1, 2), power = 3), c(1, 8))
  expect_rj_equal(jf(c(1, 2), power = 0), c(-1, -2))
  expect_rj_equal(jf(c(3, 4), power = 3), c(27, 64))
  expect_equal(calls, 2)
})

test_that("non-array arguments are static automatically", {
  f <- function(x, op) if (op == "exp") exp(x) else log(x)
  jf <- jit(f)
  expect_rj_equal(jf(c(1, 2), "exp"), exp(c(1, 2)))
  expect_rj_equal(jf(c(1, 2), "log"), log(c(1, 2)))
})

test_that("pytrees: nested named lists in and out", {
  f <- function(p, x) {
    h <- tanh(x %*% p$layer1$w + p$layer1$b)
    list(out = sum(h), parts = list(h = h, n = nrow(x)))
  }
  set.seed(3)
  p <- list(layer1 = list(w = matrix(rnorm(6), 3), b = 0.1))
  x <- matrix(rnorm(12), 4)
  r <- jit(f)(p, x)
  ref <- f(p, x)
  expect_named(r, c("out", "parts"))
  expect_rj_equal(r$out, ref$out)
  expect_rj_equal(r$parts$h, ref$parts$h)
  expect_rj_equal(r$parts$n, 4L)  # numeric R results come back as arrays
})

test_that("arguments are matched like a call of f", {
  f <- function(a, b = 2, ...) a - b
  jf <- jit(f)
  expect_rj_equal(jf(b = 1, a = 5), 4)
  expect_rj_equal(jf(5), 3)
})

test_that("R values in, R values out; rj_arrays in, rj_arrays out; fed back", {
  jf <- jit(function(x) x / 2)
  r <- jf(jf(c(8, 4)))
  expect_identical(r, c(2, 1))
  ra <- jf(jf(rj_array(c(8, 4))))
  expect_s4_class(ra, "rj_array")
  expect_rj_equal(ra, c(2, 1))
  expect_s4_class(jit(function(x) x / 2, output = "rj_array")(4), "rj_array")
  expect_identical(jit(function(x) x / 2, output = "r")(rj_array(4)), 2)
  expect_error(jit(function(x) x, output = "both"), class = "rjax_type_error")
})

test_that("jit inside jit inlines", {
  inner <- jit(function(x) x * 3)
  outer <- jit(function(x) inner(x) + 1)
  expect_rj_equal(outer(c(1, 2)), c(4, 7))
  ir <- make_ir(function(x) inner(x) + 1)(c(1, 2))
  expect_match(format(ir), "mul")
})

test_that("values captured from the environment are constants of the trace", {
  k <- 2
  jf <- jit(function(x) x * k)
  expect_rj_equal(jf(c(1, 2)), c(2, 4))
  k <- 10                                   # the cached program keeps k = 2
  expect_rj_equal(jf(c(1, 2)), c(2, 4))
  expect_rj_equal(jit(function(x) x * k)(c(1, 2)), c(10, 20))
})

test_that("make_ir prints a readable typed program", {
  f <- function(x) sum(exp(x) * 2)
  ir <- make_ir(f)(rj_array(matrix(1, 116, 114), dtype = "f32"))
  txt <- format(ir)
  expect_match(txt, "a:f32\\[116,114\\]")
  expect_match(txt, "b:f32\\[116,114\\] = exp a")
  expect_match(txt, "reduce_sum")
  expect_output(print(ir), "lambda")
  expect_output(summary(ir), "3 operations")
})

test_that("tracing works with rjax only loaded (rjax::jit)", {
  f <- function(M) sum(colSums(crossprod(M))) + sum(diag(tcrossprod(M))) + sum(ifelse(M > 0, M, 0))
  environment(f) <- new.env(parent = baseenv())  # base versions would be found first
  set.seed(4)
  M <- matrix(rnorm(12), 4)
  expect_rj_equal(rjax::jit(f)(M), f(M))
})

test_that("ahead-of-time: jit_lower and jit_compile separate tracing from running", {
  calls <- 0
  jf <- jit(function(x, y) { calls <<- calls + 1; sum(x * y) })
  lo <- jit_lower(jf, c(1, 2, 3), c(4, 5, 6))
  expect_s3_class(lo, "rjax_lowered")
  expect_output(print(lo), "reduce_sum")
  run <- jit_compile(lo)
  expect_rj_equal(run(c(1, 2, 3), c(1, 1, 1)), 6)
  expect_rj_equal(run(c(2, 2, 2), c(1, 2, 3)), 12)
  expect_equal(calls, 1)
  expect_error(run(c(1, 2), c(1, 2)), class = "rjax_signature_error")
  expect_error(jit_lower(function(x) x, 1), class = "rjax_type_error")
  expect_output(print(run), "compiled program")
})

test_that("static arguments by position and by name; args() shows f's formals", {
  f <- function(x, n = 2) if (n > 2) x * n else x
  expect_identical(jit(f, static = 2)(c(1, 2), 3), c(3, 6))
  expect_identical(jit(f, static = "n")(c(1, 2), 1), c(1, 2))
  expect_identical(names(formals(args(jit(f)))), c("x", "n"))
  expect_identical(formals(jit(f))$n, 2)
  expect_identical(jit(f, static = 2)(c(1, 2)), c(1, 2))
  expect_error(jit(f, static = 3), class = "rjax_type_error")
  expect_error(jit(function(...) 1, static = 1), class = "rjax_type_error")
})

test_that("static values are keyed by value, closures and environments by identity", {
  mk <- function(k) function(x) x * k
  jf <- jit(function(x, g) g(x))
  expect_identical(jf(1, mk(2)), 2)
  expect_identical(jf(1, mk(3)), 3)
  e <- new.env(); e$k <- 2
  je <- jit(function(x, e) x * e$k, static = "e")
  expect_identical(je(1, e), 2)
  e2 <- new.env(); e2$k <- 5
  expect_identical(je(1, e2), 5)
  js <- jit(function(x, s) x * sum(s), static = "s")
  expect_identical(js(1, c(1, 2)), 3)
  expect_identical(js(1, c(1, 3)), 4)
  expect_identical(js(1, c(1, 2)), 3)
  expect_length(ls(attr(js, "rjax")$cache$entries), 2L)
  # static rj_arrays: many short-lived arrays, never a stale program
  ja <- jit(function(x, a) x + as.vector(a), static = "a")
  for (i in 1:30) expect_identical(ja(0, rj_array(i)), as.numeric(i))
})

test_that("the jit cache is bounded (least recently used dropped first)", {
  old <- options(rjax.jit_cache_size = 3L)
  on.exit(options(old))
  jf <- jit(function(x) x + 1)
  for (n in 1:6) jf(numeric(n))
  expect_length(ls(attr(jf, "rjax")$cache$entries), 3L)
  expect_identical(jf(numeric(6)), rep(1, 6))
  options(rjax.jit_cache_size = 0)
  expect_error(jit(function(x) x), class = "rjax_type_error")
})

test_that("cached calls (the native fast path) give what the first call gave", {
  # every second call is a cache hit run by one native call (src/rcpp_dispatch.cpp)
  twice <- function(jf, ...) list(jf(...), jf(...))
  X <- matrix(c(2, 1, 1, 3), 2)
  r <- twice(jit(function(X, y) solve(X, y)), X, c(1, 2))
  expect_identical(r[[1]], r[[2]])
  expect_equal(r[[2]], solve(X, c(1, 2)))
  r <- twice(jit(function(X) list(a = X * 2, b = list(sum(X), dim(X)))), X)
  expect_identical(r[[1]], r[[2]])
  expect_identical(r[[2]]$b[[1]], 7)
  r <- twice(jit(function(x) NULL), 1)
  expect_null(r[[2]])
  expect_s4_class(twice(jit(function(x) x + 1), rj_array(1))[[2]], "rj_array")  # rj_array in, rj_array out
  expect_s4_class(twice(jit(function(x) x + 1, output = "rj_array"), 1)[[2]], "rj_array")
  expect_identical(twice(jit(function(x) x + 1, output = "r"), rj_array(1))[[2]], 2)
  # warnings and classed errors of the compiled program on cached calls
  jw <- jit(function(x) x + 1L)
  expect_warning(jw(.Machine$integer.max), "integer overflow")
  expect_warning(jw(.Machine$integer.max), "integer overflow")
  js <- jit(function(X, y) solve(X, y))
  js(X, c(1, 2))
  expect_error(js(matrix(0, 2, 2), c(1, 2)), class = "rjax_singular_error")
  # missing arguments take f's defaults, also when passed on missing from a caller
  jd <- jit(function(x, y = 2) x + y)
  for (i in 1:2) {
    expect_identical(jd(1), 3)
    expect_identical(jd(1, 5), 6)
    expect_identical(jd(y = 1, x = 5), 6)
  }
  pass_on <- function(x, y) jd(x, y)
  expect_identical(pass_on(1), 3)
  expect_identical(names(formals(jd)), c("x", "y"))
  # the least-recently-used stamp moves on cached calls
  jf <- jit(function(x) x * 2)
  jf(1); jf(c(1, 2))
  cache <- attr(jf, "rjax")$cache
  key1 <- ls(cache$entries)[vapply(ls(cache$entries), function(k) grepl("f64w\\[\\]", k), TRUE)]
  before <- cache$used[[key1]]
  jf(3)
  expect_gt(cache$used[[key1]], before)
})

test_that("misleading inputs give clear classed errors (issue 10 item 7)", {
  expect_error(jit(NULL), "needs a function", class = "rjax_type_error")
  expect_error(jit(function(x) x, static = "y"), "`y` is not an argument", class = "rjax_type_error")
  expect_identical(jit(function(x, ...) x, static = "k")(1, k = 2), 1)

  expect_error(jit(function(x) x + 1)("a"), class = "rjax_type_error")
  expect_error(jit(function(x) x + 1)("a"), "character")
  expect_error(jit(function(x) x + 1)(factor(c("a", "b"))), "factor")
  expect_error(jit(function(x) x + 1)(), "argument `x` is missing")
  expect_error(jit(function(x, n) rep(x, n))(1, 3), class = "rjax_concretization_error")
  expect_error(jit(function(x, n) { dim(x) <- c(n, 2); x })(1:4, 2), class = "rjax_concretization_error")
  expect_error(rj_array(1:3)[1e10], "1e\\+10")
  expect_error(jit(function(x) x, backend = "cuda"), class = "rjax_backend_error")
  expect_error(jit_dump(function(x) x), class = "rjax_type_error")
})

test_that("a tracer that escaped a failed trace is an error when used", {
  g <- NULL
  try(jit(function(x) { g <<- x; stop("boom") })(1), silent = TRUE)
  expect_error(g + 1, class = "rjax_escaped_tracer_error")
})
