test_that("R if on a traced value is a concretization error naming the argument", {
  f <- function(x, y) if (sum(x) > 0) x else y
  err <- tryCatch(jit(f)(c(1, 2), c(3, 4)), error = identity)
  expect_s3_class(err, "rjax_concretization_error")
  expect_s3_class(err, "rjax_error")
  expect_match(conditionMessage(err), "`x`")
  expect_false(grepl("`y`", conditionMessage(err)))
  expect_match(conditionMessage(err), "cond\\(")
  expect_match(conditionMessage(err), "static")
  expect_equal(err$sources, "x")
})

test_that("while, && and indexing with traced values are concretization errors", {
  expect_error(jit(function(x) { while (x > 0) x <- x - 1; x })(3), class = "rjax_concretization_error")
  expect_error(jit(function(x) if (x > 0 && TRUE) x else -x)(3), class = "rjax_concretization_error")
  expect_error(jit(function(x, i) x[i])(c(1, 2, 3), 2), class = "rjax_concretization_error")
  expect_error(jit(function(x) as.vector(x) + rjax:::rj_values(x))(1), class = "rjax_concretization_error")
})

test_that("the condition may depend on a nested argument path", {
  f <- function(p) if (p$w[1] > 0) p$w else -p$w
  err <- tryCatch(jit(f)(list(w = c(1, 2))), error = identity)
  expect_s3_class(err, "rjax_concretization_error")
  expect_match(conditionMessage(err), "p\\$w")
})

test_that("shape mismatches name the operation and both shapes", {
  f <- function(a, b) a + b
  err <- tryCatch(jit(f)(matrix(1, 2, 3), matrix(1, 3, 2)), error = identity)
  expect_s3_class(err, "rjax_shape_error")
  expect_match(conditionMessage(err), "'\\+'")
  expect_match(conditionMessage(err), "\\[2,3\\]")
  expect_match(conditionMessage(err), "\\[3,2\\]")
  err <- tryCatch(rj_array(matrix(1, 2, 3)) %*% rj_array(matrix(1, 2, 3)), error = identity)
  expect_s3_class(err, "rjax_shape_error")
  expect_match(conditionMessage(err), "non-conformable")
})

test_that("unsupported functions on tracers are named", {
  expect_error(jit(function(x) signif(x, 2))(c(1, 2)), class = "rjax_unsupported_error")
  expect_error(jit(function(x) signif(x, 2))(c(1, 2)), "signif")
  err <- tryCatch(jit(function(x) order(x))(c(2, 1)), error = identity)
  expect_s3_class(err, "rjax_unsupported_error")
})

test_that("non-numeric arguments to verbs give a clear error", {
  expect_error(jit(function(x) x + "a")(1), class = "rjax_type_error")
})

test_that("a tracer that escapes its trace is an error, and the session survives", {
  leaked <- NULL
  jit(function(x) { leaked <<- x; x })(1)
  expect_error(leaked + 1, class = "rjax_escaped_tracer_error")
  expect_equal(as.vector(rj_array(1) + 1), 2)
})

test_that("is_tracing tells whether a trace is running", {
  seen <- NULL
  jit(function(x) { seen <<- is_tracing(); x })(1)
  expect_true(seen)
  expect_false(is_tracing())
})
