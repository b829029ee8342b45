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

oaks_dir <- function() {
  for (d in c("../../../shared/data/oaks", "../../shared/data/oaks", "../shared/data/oaks")) {
    if (file.exists(file.path(d, "counts.csv"))) return(normalizePath(d))
  }
  NULL
}
