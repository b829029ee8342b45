# The jitted call's signature computed in C++ (src/rcpp_dispatch.cpp) for
# trees of array leaves and plain lists: R's signature_key() leaves in the
# same order, and two calls share a key exactly when R's rules give them the
# same key. Anything else returns NULL (R's rules apply).

c_signature <- function(args, static = character()) .Call(rjax:::C_rjc_signature, args, as.character(static))
r_signature <- function(args, static = character()) {
  # R's rules alone: what signature_key() does when the C++ path declines.
  f <- rjax:::signature_key
  body(f) <- body(f)[-(2:3)]
  f(args, static)
}

fast_cases <- function() {
  x <- rj_array(matrix(1:6 + 0, 2)); x32 <- rj_array(matrix(1:6 + 0, 2), dtype = "f32")
  list(
    list(x = x), list(x = x32), list(x = matrix(1:6 + 0, 2)), list(x = matrix(1:6, 2)), list(x = 1:6 + 0),
    list(x = 2), list(x = TRUE), list(x = c(TRUE, FALSE)), list(x, 3), list(x = x, y = x), list(y = x, x = x),
    list(p = list(B = x, M = list(1, x))), list(p = list(B = x, M = list(1, x32))), list(p = list(A = x, M = list(1, x))),
    list(p = list(x, x)), list(p = list(list(x), x)), list(x = c(a = 1, b = 2)), list(x = array(1, c(2, 2, 2)))
  )
}
slow_cases <- function() {
  x <- rj_array(c(1, 2))
  list(list(x = x, n = 3L, s = "a"), list(x = x, s = NULL), list(p = list(x, "tag")), list(f = mean, x = x),
       list(x = factor("a")), list(p = structure(list(a = x), class = "myclass")), list(x, "positional"),
       list(p = list(x, NULL)), list(x = x, e = new.env()))
}

test_that("C signatures have R's leaves and static arguments", {
  for (a in fast_cases()) {
    r <- r_signature(a)
    cs <- c_signature(a)
    expect_false(is.null(cs))
    expect_identical(cs$leaves, r$leaves)
    expect_identical(cs$static, r$static)
    expect_match(cs$key, "^C")
  }
  for (a in slow_cases()) expect_null(c_signature(a))
  expect_null(c_signature(list(x = 1, n = 2), "n"))  # a static argument: R's rules
})

test_that("two calls share a C key only when they share R's key", {
  # The C key also tells lists apart by their names (R's tree_structure()
  # keys list(B = x) and list(A = x) alike): never a wrong cache hit, at
  # worst one more compile.
  cases <- fast_cases()
  rk <- vapply(cases, function(a) r_signature(a)$key, "")
  ck <- vapply(cases, function(a) c_signature(a)$key, "")
  same_c <- outer(ck, ck, "==")
  expect_true(all(outer(rk, rk, "==")[same_c]))
  expect_identical(diag(same_c), rep(TRUE, length(cases)))
  expect_false(same_c[[1, 2]])  # f64 vs f32
  expect_false(same_c[[3, 4]])  # double vs integer data
})

test_that("bad input to the signature entry point is a classed error", {
  expect_error(c_signature(1, character()), class = "rjax_error")
  expect_error(.Call(rjax:::C_rjc_signature, list(), 1), class = "rjax_error")
})
