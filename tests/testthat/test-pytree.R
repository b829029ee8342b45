# Pytrees as R users build them (issue 9 item 5): S3-classed lists keep
# their class and attributes through jit, grad, loop carries and optimiser
# states; register_pytree() opens S4, R6-like and Reference-class objects;
# unregistered environment-based objects are a classed error.

params <- function(w, b) structure(list(w = w, b = b), class = "lm_params", note = "mine")

test_that("S3-classed lists keep class and attributes through jit() and grad()", {
  p <- params(c(1, -2), 0.5)
  loss <- function(p) sum(p$w^2) + 3 * p$b
  g <- grad(loss)(p)
  expect_s3_class(g, "lm_params")
  expect_identical(attr(g, "note"), "mine")
  expect_equal(unclass(g)[c("w", "b")], list(w = c(2, -4), b = 3))
  jg <- jit(grad(loss))(p)
  expect_identical(jg, g)
  out <- jit(function(p) { p$w <- p$w * 2; p })(p)
  expect_s3_class(out, "lm_params")
  expect_identical(out$w, c(2, -4))
  vg <- value_and_grad(loss)(p)
  expect_equal(vg$value, 6.5)
  expect_s3_class(vg$grad, "lm_params")
})

test_that("classed lists are loop carries and keep their class", {
  p <- params(c(1, 2), 0)
  r <- scan_loop(function(c, x) { c$w <- c$w + x; list(c, NULL) }, p, xs = c(1, 2, 3))$carry
  expect_s3_class(r, "lm_params")
  expect_identical(r$w, c(7, 8))
  f <- fori_loop(1, 3, function(i, c) { c$b <- c$b + i; c }, p)
  expect_s3_class(f, "lm_params")
  expect_identical(f$b, 6)
})

test_that("optimiser states built from classed parameters keep the class", {
  p <- params(c(1, 2), 0.5)
  opt <- opt_adam(0.1)
  st <- opt$init(p)
  loss <- function(p) sum(p$w^2) + p$b^2
  step <- jit(function(p, st) {
    g <- grad(loss)(p)
    u <- opt$update(g, st, p)
    list(p = apply_updates(p, u$updates), st = u$state)
  })
  r <- step(p, st)
  expect_s3_class(r$p, "lm_params")
  # the optimiser state holds an rj_array (its step count): rj_arrays out
  expect_true(is_rj_array(r$p$w))
  expect_lt(as.numeric(loss(r$p)), loss(p))
})

test_that("data frames of numeric columns are trees", {
  d <- data.frame(a = c(1, 2), b = c(3, 4))
  r <- jit(function(d) { d$a <- d$a * 10; d })(d)
  expect_s3_class(r, "data.frame")
  expect_identical(r$a, c(10, 20))
  expect_identical(grad(function(d) sum(d$a * d$b))(d)$a, c(3, 4))
})

Acc <- setRefClass("Acc", fields = list(total = "ANY"))

test_that("unregistered environment-based objects are a classed error", {
  a <- Acc$new(total = 1)
  expect_error(jit(function(a) a$total * 2)(a), class = "rjax_type_error")
  expect_error(grad(function(x, a) sum(x) * 2)(1, a), class = "rjax_type_error")
  expect_error(scan_loop(function(c, x) list(c, NULL), a, xs = 1:3), class = "rjax_type_error")
  e <- new.env()
  expect_error(jit(function(x, e) x)(1, e), "environment")
})

test_that("register_pytree() makes Reference-class and S4 objects arguments and carries", {
  register_pytree("Acc", flatten = function(a) list(total = a$total),
                  unflatten = function(a, parts) Acc$new(total = parts$total))
  a <- Acc$new(total = c(1, 2))
  r <- jit(function(a) { a$total <- a$total * 3; a })(a)
  expect_s4_class(r, "Acc")
  expect_identical(r$total, c(3, 6))
  expect_identical(a$total, c(1, 2))  # the user's object is untouched
  c2 <- scan_loop(function(c, x) list(Acc$new(total = c$total + x), NULL), a, xs = c(1, 1))$carry
  expect_identical(c2$total, c(3, 4))
  expect_identical(a$total, c(1, 2))
  g <- grad(function(a) sum(a$total^2))(a)
  expect_identical(g$total, c(2, 4))

  setClass("RjPt", representation(x = "ANY", y = "ANY"))  # slots that can hold traced values
  register_pytree("RjPt", flatten = function(p) list(x = p@x, y = p@y),
                  unflatten = function(p, parts) { p@x <- parts$x; p@y <- parts$y; p })
  expect_error(grad(function(p) sum(p@x * p@y))(new("RjPt", x = c(1, 2), y = c(3, 4))), NA)
  gp <- grad(function(p) sum(p@x * p@y))(new("RjPt", x = c(1, 2), y = c(3, 4)))
  expect_s4_class(gp, "RjPt")
})

test_that("register_pytree() checks its arguments", {
  expect_error(register_pytree(1, identity, identity), class = "rjax_type_error")
  expect_error(register_pytree("X", 1, identity), class = "rjax_type_error")
})
