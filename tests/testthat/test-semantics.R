# R's numeric semantics (helper-semantics-table.R), identical eagerly and
# under jit on both backends: values (NA vs NaN included), typeof, and
# R's warnings with R's texts.

# Runs expr, returning its value and the messages of the warnings it raised.
with_warnings <- function(expr) {
  msgs <- character()
  value <- withCallingHandlers(expr, warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = unique(msgs))
}

# The same R value: type, length, dims, NA and NaN positions, then values.
expect_same_r <- function(got, want, label) {
  want <- unname(want)
  attributes(want) <- if (length(dim(want)) >= 2L) list(dim = dim(want))
  testthat::expect_identical(typeof(got), typeof(want), label = paste("typeof:", label))
  testthat::expect_identical(length(got), length(want), label = paste("length:", label))
  testthat::expect_identical(dim(got), dim(want), label = paste("dim:", label))
  if (length(got) != length(want)) return(invisible())
  testthat::expect_identical(is.na(got), is.na(want), label = paste("NA positions:", label))
  if (is.double(want)) testthat::expect_identical(is.nan(got), is.nan(want), label = paste("NaN positions:", label))
  ok <- !is.na(want)
  testthat::expect_equal(got[ok], want[ok], tolerance = 1e-13, label = paste("values:", label))
}

for (row in semantics_table) {
  local({
    row <- row
    test_that(sprintf("semantics: %s (eager and jit, both backends)", row$name), {
      want <- row$expect %||% with_warnings(do.call(row$ref, row$args))
      runs <- list(
        eager = function() do.call(row$f, lapply(row$args, rj_array)),
        llvm = function() do.call(jit(row$f, backend = "llvm"), row$args),
        interp = function() do.call(jit(row$f, backend = "interp"), row$args)
      )
      for (mode in names(runs)) {
        got <- with_warnings(runs[[mode]]())
        label <- sprintf("%s [%s]", row$name, mode)
        expect_same_r(as_r(got$value), want$value, label)
        expect_setequal(got$warnings, want$warnings)
      }
    })
  })
}

test_that("which.max of all-NaN data: integer(0) eagerly, NA under jit (static length)", {
  x <- c(NaN, NA)
  expect_identical(as_r(which.max(rj_array(x))), integer(0))
  for (b in c("llvm", "interp")) expect_identical(as_r(jit(function(x) which.max(x), backend = b)(x)), NA_integer_)
})

test_that("warnings from integer overflow come once per call, also under jit", {
  f <- jit(function(x) x * 100000L)
  expect_warning(f(100000L), "NAs produced by integer overflow", fixed = TRUE)
  expect_warning(f(100000L), "NAs produced by integer overflow", fixed = TRUE)
  expect_no_warning(f(2L))
})

test_that("options(warn = 2) turns rjax's warnings into errors and the session goes on", {
  withr::local_options(warn = 2)
  expect_error(rj_array(100000L) * 100000L, "integer overflow")
  expect_error(jit(function(x) sqrt(x))(-1), "NaNs produced")
  expect_identical(as_r(rj_array(2L) * 3L), 6L)
})

test_that("integer division never traps, even at the integer limits", {
  expect_warning(x <- rj_array(-.Machine$integer.max) - 1L, "integer overflow")  # NA, as in R
  expect_identical(as_r(x), NA_integer_)
  for (f in list(function(a, b) a %/% b, function(a, b) a %% b)) {
    expect_identical(as_r(f(rj_array(c(-imax, imax, NA)), -1L)), f(c(-imax, imax, NA), -1L))
    for (b in c("llvm", "interp")) expect_identical(as_r(jit(f, backend = b)(c(-imax, imax, NA), -1L)), f(c(-imax, imax, NA), -1L))
  }
})

test_that("f32 cannot keep NA apart from NaN (documented)", {
  x <- rj_array(c(NA, NaN, 1), dtype = "f32")
  expect_identical(as_r(is.na(x)), c(TRUE, TRUE, FALSE))
  expect_identical(as_r(is.nan(x)), c(TRUE, TRUE, FALSE))
})

test_that("type questions in traced code are answered for the R array a value stands for", {
  m <- matrix(c(1.5, 2, 3, 5), 2); v <- c(1.5, 2, 3); iv <- 1:3; lv <- c(TRUE, FALSE)
  qs <- list(
    function(x) is.double(x), function(x) is.integer(x), function(x) is.logical(x), function(x) is.vector(x),
    function(x) is.vector(x, "numeric"), function(x) typeof(x), function(x) mode(x), function(x) storage.mode(x),
    function(x) class(x), function(x) inherits(x, "matrix"), function(x) inherits(x, c("array", "numeric"), which = TRUE),
    function(x) anyNA(x), function(x) is.infinite(x), function(x) if (is.matrix(x)) 1 else 2
  )
  for (a in list(m, v, iv, lv)) for (q in qs) expect_equal(jit(q)(a), q(a), label = paste(deparse(body(q)), typeof(a)))
  expect_true(jit(function(x) anyNA(x))(c(1, NA)))
})

test_that("base functions that would read an rjax value as R data are classed errors", {
  # kappa() -> qr.default() would hand the object to Fortran with dimensions
  # from nrow()/ncol(): listed as unsupported instead.
  m <- matrix(c(1.5, 2, 3, 5), 2)
  expect_error(jit(function(x) kappa(x))(m), class = "rjax_unsupported_error")
  expect_error(jit(function(x) besselJ(x, 0))(m), class = "rjax_unsupported_error")
  gc()
  # An eager array still prints, copies and serializes.
  x <- rj_array(m)
  y <- x; attr(y, "note") <- "copy"
  expect_equal(as.array(y + 1), m + 1)
  expect_true(is.raw(serialize(x, NULL)))
  expect_equal(kappa(as.array(x)), kappa(m))
})

test_that("base functions that cannot see traced values are classed errors, not empty results", {
  A <- matrix(c(4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2), 3)
  for (f in list(function(a) unique(a), function(a) duplicated(a), function(a) anyDuplicated(a),
                 function(a) match(a, 1:3), function(a) max.col(a), function(a) table(a), function(a) cut(a, 3),
                 function(a) findInterval(a, 1:3), function(a) rle(a[, 1]), function(a) dist(a),
                 function(a) mvfft(a), function(a) convolve(a[, 1], a[, 2]))) {
    expect_error(jit(f)(A), class = "rjax_unsupported_error")
  }
  # plain data still goes to base R inside a traced function
  expect_identical(jit(function(a) a * length(unique(c(1, 1, 2))))(2), 4)
  # on concrete rj_arrays, unique() and duplicated() answer for the values
  v <- rj_array(c(3, 1, 3, 2))
  expect_identical(unique(v), c(3, 1, 2))
  expect_identical(duplicated(v), c(FALSE, FALSE, TRUE, FALSE))
  expect_identical(anyDuplicated(v), 3L)
})

test_that("proportions() traces; data frames of traced values are classed errors", {
  A <- matrix(c(4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2), 3)
  expect_equal(jit(function(a) prop.table(a, 1))(A), prop.table(A, 1))
  expect_equal(jit(function(a) proportions(a, 2))(A), proportions(A, 2))
  expect_equal(jit(function(a) proportions(a))(A), proportions(A))
  expect_error(jit(function(a) do.call(pmax, as.data.frame(t(a))))(A), class = "rjax_unsupported_error")
  expect_error(jit(function(a) data.frame(x = a[, 1]))(A), class = "rjax_unsupported_error")
  expect_identical(as.data.frame(rj_array(A)), as.data.frame(A))
})

test_that("traced counts in `:` and rep() are concretization errors; rj_load() of a missing file is classed", {
  expect_error(jit(function(x) { s <- 0; for (i in 1:x) s <- s + i; s })(3), class = "rjax_concretization_error")
  expect_error(jit(function(x) rep(1, x))(3), class = "rjax_concretization_error")
  expect_error(jit(function(x) rep(1, times = x))(3), class = "rjax_concretization_error")
  expect_identical(jit(function(x) x * sum(1:3) + rep(1, 2))(1), c(7, 7))
  expect_identical(jit(function(x) rep(x, 2))(c(1, 2)), c(1, 2, 1, 2))
  expect_identical(jit(function(x) rep(x, each = 2))(c(1, 2)), c(1, 1, 2, 2))
  expect_error(rj_load(tempfile()), class = "rjax_io_error")
})

