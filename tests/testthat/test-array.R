test_that("rj_array takes R's dtype and dims and round-trips", {
  m <- matrix(rnorm(6), 2)
  x <- rj_array(m)
  expect_s4_class(x, "rj_array")
  expect_equal(dtype(x), "f64")
  expect_equal(device(x), "cpu")
  expect_equal(dim(x), c(2L, 3L))
  expect_equal(length(x), 6L)
  expect_identical(as.matrix(x), m)
  expect_identical(as.array(x), m)
  expect_identical(as.vector(x), as.vector(m))
  expect_equal(dtype(rj_array(1:3)), "i32")
  expect_identical(as.vector(rj_array(1:3)), 1:3)
  expect_equal(dtype(rj_array(c(TRUE, FALSE))), "bool")
  expect_identical(as.logical(rj_array(c(TRUE, FALSE))), c(TRUE, FALSE))
  a <- array(as.numeric(1:24), c(2, 3, 4))
  expect_identical(as.array(rj_array(a)), a)
  expect_null(dim(rj_array(1:3)))
  expect_equal(rj_array(2.5)@shape, integer())  # length-1 vectors are scalars
})

test_that("dtype conversion and f32 precision", {
  m <- matrix(c(1.5, -2.25, 1e-3, 3), 2)
  x <- rj_array(m, dtype = "f32")
  expect_equal(dtype(x), "f32")
  expect_equal(as.matrix(x), m, tolerance = 1e-7)
  expect_equal(dtype(as_dtype(x, "f64")), "f64")
  expect_identical(as.vector(rj_array(c(1.7, -2.2), dtype = "i32")), c(1L, -2L))
  expect_identical(as.vector(rj_array(c(0, 2), dtype = "bool")), c(FALSE, TRUE))
  expect_error(rj_array(1, dtype = "f16"), class = "rjax_dtype_error")
})

test_that("R numbers are weakly typed: f32 stays f32", {
  x <- rj_array(c(1, 2, 3), dtype = "f32")
  expect_equal(dtype(x * 2), "f32")
  expect_equal(dtype(2.5 + x), "f32")
  expect_equal(dtype(x + 1L), "f32")
  expect_equal(dtype(rj_array(1:3) * 0.5), "f64")
  expect_equal(dtype(rj_array(1:3) + 1L), "i32")
  expect_error(x + rj_array(1), class = "rjax_dtype_error")
})

test_that("NA handling: arrays keep R's NA in doubles, integers and logicals", {
  x <- rj_array(c(1, NA, NaN))
  expect_identical(is.na(as.vector(x)), c(FALSE, TRUE, TRUE))
  expect_identical(is.nan(as.vector(x)), c(FALSE, FALSE, TRUE))  # NA_real_'s payload survives
  expect_identical(as.vector(rj_array(c(1L, NA))), c(1L, NA))
  expect_identical(as.vector(rj_array(c(TRUE, NA, FALSE))), c(TRUE, NA, FALSE))
  expect_identical(as.vector(rj_array(c(TRUE, NA), dtype = "i32")), c(1L, NA))
  expect_identical(as.vector(rj_array(c(1L, NA), dtype = "f64")), c(1, NA))
})

test_that("non-numeric input is a clear error", {
  expect_error(rj_array(letters[1:3]), class = "rjax_type_error")
  expect_error(rj_array(letters[1:3]), "character")
  expect_error(rj_array(factor(c("a", "b"))), class = "rjax_type_error")
  expect_error(rj_array(list(1, 2)), class = "rjax_type_error")
  expect_error(rj_array(1, device = "cuda"), class = "rjax_backend_error")
  expect_error(rj_array(1:3) + "a", class = "rjax_type_error")
})

test_that("numeric data frames are accepted", {
  df <- data.frame(a = c(1, 2), b = c(3, 4))
  expect_equal(as.matrix(rj_array(df)), unname(as.matrix(df)), ignore_attr = TRUE)
})

test_that("print, format and summary show values like R plus dtype", {
  x <- rj_array(matrix(1:4 / 2, 2), dtype = "f32")
  expect_equal(format(x), "<rj_array f32[2,2] cpu>")
  out <- capture.output(print(x))
  expect_match(out[1], "f32\\[2,2\\]")
  expect_true(any(grepl("1.5", out)))
  expect_output(show(rj_array(3)), "f64\\[\\]")
  expect_s3_class(summary(rj_array(c(1, 5, 9))), "summaryDefault")
  # is.matrix() is a primitive that cannot dispatch: eagerly it looks at R
  # attributes (an rj_array has none); traced code gets rjax's answer.
  expect_identical(length(dim(x)), 2L)
  expect_true(all(jit(function(v) { stopifnot(is.matrix(v), !is.matrix(v[, 1])); v })(x) == x))
  expect_true(is_rj_array(x))
})

test_that("eager operations run op by op on arrays", {
  m <- matrix(runif(6), 2)
  x <- rj_array(m)
  y <- exp(x) * 2 - 1
  expect_s4_class(y, "rj_array")
  expect_equal(as.matrix(y), exp(m) * 2 - 1, tolerance = 1e-14)
  expect_equal(as.vector(sum(x)), sum(m))
})

test_that("arrays are released when no longer referenced", {
  # Finalizers free the native buffers: create and drop many large arrays.
  for (i in 1:20) {
    x <- rj_array(numeric(1e6))
    y <- x + 1
  }
  rm(x, y)
  invisible(gc())
  expect_true(TRUE)  # reaching here without exhausting memory is the check
})

test_that("large constant expansions are computed eagerly and simplified when traced", {
  x <- rjax:::rj_broadcast(rj_array(2), c(100L, 100L))  # 10000 elements: not folded at build time
  expect_s4_class(x, "rj_array")
  expect_equal(as.matrix(x), matrix(2, 100, 100))
  ir <- make_ir(function(m) m + rjax:::rj_broadcast(rj_array(2), c(100L, 100L)))(matrix(0, 100, 100))
  expect_match(format(ir), "add a 2.0")  # a uniform constant is simplified to a scalar
  expect_equal(as.matrix(jit(function(m) m + rjax:::rj_broadcast(rj_array(2), c(100L, 100L)))(matrix(1, 100, 100))),
               matrix(3, 100, 100))
})
