# The jitted call's signature computed in C++ (src/rcpp_dispatch.cpp) follows
# R's signature_key(): the same leaves in the same order, the same static
# arguments, and two calls share a key exactly when R's keys agree.

c_signature <- function(args, static = character()) .Call(rjax:::C_rjc_signature, args, as.character(static))

signature_cases <- function() {
  x <- rj_array(matrix(1:6 + 0, 2)); x32 <- rj_array(matrix(1:6 + 0, 2), dtype = "f32")
  list(
    list(x = x), list(x = x32), list(x = matrix(1:6 + 0, 2)), list(x = matrix(1:6, 2)), list(x = 1:6 + 0),
    list(x = 2), list(x = TRUE), list(x = c(TRUE, FALSE)), list(x, 3), list(x = x, y = x), list(y = x, x = x),
    list(x = x, n = 3L), list(x = x, n = 4L), list(x = x, s = "a"), list(x = x, s = "b"), list(x = x, s = NULL),
    list(p = list(B = x, M = list(1, x))), list(p = list(B = x, M = list(1, x32))), list(p = list(A = x, M = list(1, x))),
    list(p = list(x, x)), list(p = list(list(x), x)), list(p = list(x, "tag")), list(p = list(x, "other")),
    list(f = mean, x = x), list(x = x, k = NA_real_), list(x = x, k = 0.1 + 0.2), list(x = x, k = 0.3)
  )
}

test_that("C signatures have R's leaves and static arguments", {
  for (a in signature_cases()) {
    for (st in list(character(), "n", c("n", "k"))) {
      r <- rjax:::signature_key(a, st)
      cs <- c_signature(a, st)
      expect_identical(cs$leaves, r$leaves)
      expect_setequal(cs$static, r$static)
      expect_type(cs$key, "character")
    }
  }
})

test_that("two calls share a C key exactly when they share R's key", {
  cases <- signature_cases()
  for (st in list(character(), "n")) {
    rk <- vapply(cases, function(a) rjax:::signature_key(a, st)$key, "")
    ck <- vapply(cases, function(a) c_signature(a, st)$key, "")
    expect_identical(outer(rk, rk, "=="), outer(ck, ck, "=="))
  }
})

test_that("bad input to the signature entry point is a classed error", {
  expect_error(c_signature(1, character()), class = "rjax_error")
  expect_error(.Call(rjax:::C_rjc_signature, list(), 1), class = "rjax_error")
})
