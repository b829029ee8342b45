# The thread pool: one setting, results independent of the thread count,
# no crash or hang when threads cannot be created, fork-safe.

has_libgomp <- function() any(grepl("libgomp", readLines("/proc/self/maps", warn = FALSE), fixed = TRUE))

test_that("results do not depend on the number of threads", {
  x <- matrix(rnorm(4e5), 800)  # large enough for the kernels to run in parallel
  f <- jit(function(x) list(sum(exp(x) * 2), colSums(x * x), x + 1, max(x)))
  old <- options(rjax.threads = 1)
  on.exit(options(old), add = TRUE)
  r1 <- lapply(f(x), as_r)
  expect_equal(rjax_threads(), 1)
  for (n in c(2, 3, 8)) {
    options(rjax.threads = n)
    expect_equal(rjax_threads(), n)
    expect_identical(lapply(f(x), as_r), r1)
  }
  expect_equal(r1[[1]], sum(exp(x) * 2))
  expect_equal(r1[[2]], colSums(x * x))
})

test_that("the pool's contract holds (each chunk once, errors after running chunks, nested and concurrent calls inline)", {
  old <- options(rjax.threads = NULL)
  on.exit(options(old), add = TRUE)
  for (n in c(1, 2, 4)) {
    options(rjax.threads = n)
    expect_identical(.Call(rjax:::C_rjc_pool_selftest), "", label = paste(n, "threads"))
  }
})

test_that("options(rjax.threads) resizes the pool; NULL restores the default", {
  old <- options(rjax.threads = 3)
  on.exit(options(old), add = TRUE)
  expect_equal(rjax_threads(), 3)
  options(rjax.threads = NULL)
  expect_equal(rjax_threads(), unname(rjax:::runtime_info()[["default_threads"]]))
  expect_equal(rjax_threads(2), 2)
  expect_equal(getOption("rjax.threads"), 2)
  expect_error(rjax_threads("two"), class = "rjax_type_error")
  expect_error(rjax_threads(0), class = "rjax_type_error")
})

test_that("a bad rjax.threads option warns (classed) and uses the default", {
  old <- options(rjax.threads = NULL)
  on.exit(options(old), add = TRUE)
  for (bad in list("two", -1, 0, NA, 2.5, c(1, 2), Inf, list(2))) {
    options(rjax.threads = NULL)
    rjax_threads()
    options(rjax.threads = bad)
    expect_warning(n <- rjax_threads(), class = "rjax_threads_warning")
    expect_equal(n, unname(rjax:::runtime_info()[["default_threads"]]))
  }
  options(rjax.threads = 10000)
  expect_warning(n <- rjax_threads(), class = "rjax_threads_warning")
  expect_equal(n, 256)
})

test_that("RJAX_NUM_THREADS sets the default; bad values warn and fall back", {
  code <- c("suppressPackageStartupMessages(library(rjax))",
            "w <- character()",
            "n <- withCallingHandlers(rjax_threads(), warning = function(x) { w <<- class(x)[1]; invokeRestart('muffleWarning') })",
            "f <- jit(function(x) sum(exp(x)))",
            "x <- seq(0, 1, length.out = 3e5)",
            "report('threads', n)",
            "report('warning', if (length(w)) w else 'none')",
            "report('ok', isTRUE(all.equal(as.vector(f(x)), sum(exp(x)))))")
  for (case in list(c("3", "3", "none"), c("abc", NA, "rjax_threads_warning"), c("-2", NA, "rjax_threads_warning"),
                    c("0", NA, "rjax_threads_warning"), c("1.5", NA, "rjax_threads_warning"),
                    c("1000", "256", "rjax_threads_warning"))) {
    out <- run_child(code, env = c(RJAX_NUM_THREADS = case[[1]]), timeout = 60)
    label <- paste0("RJAX_NUM_THREADS=", case[[1]])
    if (!is.na(case[[2]])) expect_equal(out[["threads"]], case[[2]], label = label)
    expect_equal(out[["warning"]], case[[3]], label = label)
    expect_equal(out[["ok"]], "TRUE", label = label)
  }
})

test_that("thread creation failure (RJAX_NUM_THREADS=1000 under ulimit -v) falls back and warns", {
  code <- c("suppressPackageStartupMessages(library(rjax))",
            "w <- ''",
            "f <- jit(function(x) sum(exp(x) * 2))",
            "x <- seq(0, 1, length.out = 4e5)",
            "r <- withCallingHandlers(f(x), warning = function(x) { w <<- class(x)[1]; invokeRestart('muffleWarning') })",
            "report('warning', w)",
            "report('threads', rjax_threads())",
            "report('ok', isTRUE(all.equal(as.vector(r), sum(exp(x) * 2))))")
  out <- run_child(code, env = c(RJAX_NUM_THREADS = "1000"), timeout = 60, ulimit_v = 1500000)
  expect_equal(out[["warning"]], "rjax_threads_warning")
  expect_lte(as.integer(out[["threads"]]), 256)
  expect_equal(out[["ok"]], "TRUE")
})

test_that("OMP_NUM_THREADS=1000 under ulimit -v does not end R", {
  if (has_libgomp()) skip("pending core: OpenMP still linked (libgomp exits R when it cannot create threads)")
  code <- c("suppressPackageStartupMessages(library(rjax))",
            "x <- rj_array(seq(0, 1, length.out = 4e5))",
            "report('ok', isTRUE(all.equal(as.vector(sum(exp(x) %*% t(exp(x[1:3])))), sum(exp(as.vector(x))) * sum(exp(as.vector(x)[1:3])))))")
  expect_equal(run_child(code, env = c(OMP_NUM_THREADS = "1000"), timeout = 60, ulimit_v = 1500000)[["ok"]], "TRUE")
})

test_that("many back-to-back parallel jobs on more threads than cores finish (no lost wake-ups)", {
  code <- c("suppressPackageStartupMessages(library(rjax))",
            "options(rjax.threads = 6)",
            "f <- jit(function(x) x * 2 + 1)",
            "g <- jit(function(x) sum(x))",
            "x <- seq(0, 1, length.out = 2.5e5)",
            "ok <- TRUE",
            "for (i in 1:3000) { y <- f(x); if (i %% 500 == 0) ok <- ok && isTRUE(all.equal(as.vector(g(y)), sum(x * 2 + 1))) }",
            "options(rjax.threads = 2); for (i in 1:500) y <- f(x)",
            "options(rjax.threads = 1); for (i in 1:100) y <- f(x)",
            "report('ok', ok)")
  expect_equal(run_child(code, timeout = 120)[["ok"]], "TRUE")
})

test_that("fork: mclapply children compute after the parent started the pool; the parent's pool keeps working", {
  skip_on_os("windows")
  eager <- if (has_libgomp()) "0" else "as.vector(sum(rj_array(x) * i))"
  code <- c("suppressPackageStartupMessages(library(rjax))",
            "f <- jit(function(x) sum(exp(x) * 2))",
            "x <- seq(0, 1, length.out = 4e5)",
            "r0 <- as.vector(f(x))",  # starts the workers
            if (!has_libgomp()) "y <- rj_array(x) * 2",  # an eager op in the parent too
            "kids <- parallel::mclapply(1:4, function(i) {",
            sprintf("  c(as.vector(f(x * i)), %s, rjax_threads())", eager),
            "}, mc.cores = 2)",
            "ok_kids <- all(vapply(1:4, function(i) isTRUE(all.equal(kids[[i]][1], sum(exp(x * i) * 2))), TRUE))",
            if (!has_libgomp()) "ok_kids <- ok_kids && all(vapply(1:4, function(i) isTRUE(all.equal(kids[[i]][2], sum(x * i))), TRUE))",
            "kid_threads <- vapply(kids, function(k) k[3], 1)",
            "two <- parallel::mclapply(1:2, function(i) { options(rjax.threads = 2); c(rjax_threads(), as.vector(f(x))) }, mc.cores = 2)",
            "report('kids', ok_kids)",
            "report('kid_threads', paste(kid_threads, collapse = ','))",
            "report('two', all(vapply(two, function(t) t[1] == 2 && isTRUE(all.equal(t[2], r0)), TRUE)))",
            "report('parent', isTRUE(all.equal(as.vector(f(x)), r0)) && rjax_threads() == unname(rjax:::runtime_info()[['default_threads']]))")
  out <- run_child(code, timeout = 90)
  expect_equal(out[["kids"]], "TRUE")
  expect_equal(out[["kid_threads"]], "1,1,1,1")
  expect_equal(out[["two"]], "TRUE")
  expect_equal(out[["parent"]], "TRUE")
})
