# Shared test helpers.

# Compares an rjax result with a base R value (dims and values).
expect_rj_equal <- function(object, expected, tolerance = 1e-10, ...) {
  if (methods::is(object, "rj_array")) object <- as_r(object)
  testthat::expect_equal(object, expected, tolerance = tolerance, ...)
}

# Values of an rj_array as R would hold them (vectors without dim).
as_r <- function(x) {
  v <- as.vector(x)
  if (length(dim(x)) >= 2L) dim(v) <- dim(x)
  v
}

# Runs f eagerly (on rj_arrays) and under jit, returning both as R values.
both_modes <- function(f, ...) {
  args <- list(...)
  rj_args <- lapply(args, function(a) if (is.numeric(a) || is.logical(a)) rj_array(a) else a)
  list(eager = as_r(do.call(f, rj_args)), jit = as_r(do.call(jit(f), args)))
}

# R data as an rj_array: doubles take the float dtype under test, integers
# and logicals keep R's type (i32, bool).
rj_input <- function(x, float = "f64") {
  rj_array(x, dtype = if (is.double(x)) float else NULL)
}

# The rjax dtype that a base R result corresponds to.
r_dtype <- function(x, float = "f64") {
  switch(typeof(x), double = float, integer = "i32", logical = "bool", typeof(x))
}

# Checks a verb against base R: `f` runs on base R data (the values the
# rj_arrays hold, so f32 rounding of the inputs is not counted as error), on
# rj_arrays op by op ("eager"), and under jit(). Results must agree in
# values (1e-10 for f64, 1e-5 relative for f32), shape, and dtype (R double
# -> the float dtype under test, integer -> i32, logical -> bool).
# Arguments in `...` are array arguments; static ones belong in f's body.
# `reference` computes the base R answer where f itself has no base R
# meaning (rjax's where(), for instance).
expect_verb <- function(f, ..., float = "f64", tolerance = NULL, modes = c("eager", "jit"), reference = f) {
  arrays <- lapply(list(...), rj_input, float = float)
  expected <- do.call(reference, lapply(arrays, as_r))
  stopifnot(is.atomic(expected))
  if (is.null(tolerance)) tolerance <- if (float == "f32") 1e-5 else 1e-10
  what <- paste(deparse(f), collapse = " ")
  for (mode in modes) {
    run <- if (mode == "eager") f else jit(f)
    got <- do.call(run, arrays)
    label <- sprintf("%s [%s, %s]", what, mode, float)
    testthat::expect_true(is_rj_array(got), label = paste("result is an rj_array:", label))
    if (!is_rj_array(got)) next
    testthat::expect_identical(dtype(got), r_dtype(expected, float), label = paste("dtype of", label))
    expect_same_values(as_r(got), expected, tolerance, label)
  }
  invisible(expected)
}

# Values and dims, ignoring R's integer/double distinction (dtypes are
# checked separately) and names (rjax arrays have none).
expect_same_values <- function(got, expected, tolerance, label) {
  expected <- unname(expected)
  attributes(expected) <- if (!is.null(dim(expected)) && length(dim(expected)) >= 2L) list(dim = dim(expected))
  testthat::expect_equal(got, expected, tolerance = tolerance, label = label)
}

oaks_dir <- function() {
  for (d in c("../../../shared/data/oaks", "../../shared/data/oaks", "../shared/data/oaks")) {
    if (file.exists(file.path(d, "counts.csv"))) return(normalizePath(d))
  }
  NULL
}
