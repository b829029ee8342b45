# Native memory: steady loops stay flat, R errors inside a .Call leak
# nothing, R's collector learns about native bytes, the block pool is
# capped, compiled kernels are released, impossible allocations are
# classed errors before anything is allocated.

test_that("10,000 jit calls, grads and eager ops keep RSS and native memory flat", {
  code <- c(
    "suppressPackageStartupMessages(library(rjax))",
    "rss <- function() { s <- readLines('/proc/self/status'); as.numeric(sub('[^0-9]*([0-9]+).*', '\\\\1', s[startsWith(s, 'VmRSS:')])) / 1024 }",
    "f <- jit(function(x, y) sum(exp(x) * y) + crossprod(x)[1, 1])",
    "g <- grad(function(x, y) sum(tanh(x %*% y)))",
    "h <- jit(function(x) fori_loop(1L, 5L, function(i, c) c * 0.5 + 1, x))",
    "x <- matrix(runif(200), 20); y <- matrix(runif(200), 10)",
    "xa <- rj_array(x); big <- rj_array(runif(2e4))",
    "work <- function(n) for (i in seq_len(n)) {",
    "  a <- f(x, t(y)); b <- g(x, y); c <- h(xa)",
    "  d <- sum(xa * 2 + 1); e <- exp(big) * 3; k <- xa[1:5, ]",
    "  if (i %% 97 == 0) { m <- jit(function(z) z * i)(x) }",  # new traces and kernels now and then
    "}",
    # freed blocks kept for reuse are given back before each reading
    "settle <- function() { invisible(gc()); invisible(gc()); invisible(rjax_memory(release = TRUE)) }",
    "work(1500); settle()",
    # 10,000 more in five rounds: R's own heap may settle once more after the
    # first; a leak shows as growth from round to round
    "r <- n <- numeric(5)",
    "for (k in 1:5) { work(2000); settle(); r[k] <- rss(); n[k] <- rjax_memory()$live }",
    "report('rss', max(r[2:5]) - r[1])",
    "report('rss_all', paste(round(r, 1), collapse = ','))",
    "report('native', max(abs(n - n[1])))")
  out <- run_child(code, timeout = 300)
  expect_lt(as.numeric(out[["rss"]]), 6, label = paste("RSS growth (MB) over 8,000 iterations; RSS per round:", out[["rss_all"]]))
  expect_lt(abs(as.numeric(out[["native"]])), 2^16)
})

test_that("an R allocation failure inside a .Call frees the native buffers it held", {
  code <- c(
    "suppressPackageStartupMessages(library(rjax))",
    "x <- rj_array(runif(2.5e7))",  # 200 MB native
    "f <- jit(function(x) x * 2)",
    "invisible(gc()); n0 <- rjax_memory()$live",
    "trigger <- gc()[2, 4]",  # MB of R's vector heap before its next collection
    "old <- mem.maxVSize(trigger + 60)",  # too little for a 200 MB R copy (or rj_array)
    "errs <- 0",
    "for (i in 1:5) {",
    "  r <- tryCatch(as.vector(x), error = function(e) { errs <<- errs + 1; NULL })",
    "  r <- tryCatch(as.vector(f(x)), error = function(e) { errs <<- errs + 1; NULL })",
    "}",
    "mem.maxVSize(Inf)",
    "invisible(gc()); n1 <- rjax_memory()$live",
    "report('errors', errs)",
    "report('leaked', n1 - n0)",
    "report('works', isTRUE(all.equal(as.vector(f(x))[1:3], 2 * as.vector(x)[1:3])))")
  out <- run_child(code, timeout = 120)
  expect_gte(as.integer(out[["errors"]]), 5)  # R refuses the copies (one of the two can fit once)
  expect_lt(abs(as.numeric(out[["leaked"]])), 2^20)
  expect_equal(out[["works"]], "TRUE")
})

test_that("R's collector runs on native memory pressure: a loop of large outputs stays bounded", {
  code <- c(
    "suppressPackageStartupMessages(library(rjax))",
    "x <- rj_array(matrix(runif(1e6), 1000))",  # 8 MB
    "f <- jit(function(x) list(x * 2, x + 1, exp(x)))",  # 24 MB of outputs per call
    "for (i in 1:300) r <- f(x)",  # 7 GB if nothing were collected
    "m <- rjax_memory()",
    "report('peak', m$peak / 2^20)",
    "report('kept', m$kept / 2^20, m$kept_max / 2^20)")
  out <- run_child(code, timeout = 120)
  expect_lt(as.numeric(out[["peak"]]), 700)
  kept <- as.numeric(strsplit(out[["kept"]], " ")[[1L]])
  expect_lte(kept[[1]], kept[[2]])
})

test_that("freed blocks kept for reuse stay under the cap and can be given back", {
  sizes <- 2^16 * (1:40)  # doubles: 0.5 to 20 MB each, all different
  for (s in sizes) {
    a <- rj_array(numeric(s / 8)) + 1
    rm(a)
  }
  invisible(gc())
  m <- rjax_memory()
  expect_lte(m$kept, m$kept_max)
  expect_equal(m$kept_max, 128 * 2^20)
  expect_equal(rjax_memory(release = TRUE)$kept, 0)
})

test_that("compiled kernels are released with the last program that uses them", {
  invisible(gc())
  before <- rjax_memory()$kernel_modules
  fs <- lapply(1:6, function(i) jit(function(x) sum(exp(x) * (i + 0.5)), static = NULL))
  for (f in fs) f(runif(10))
  expect_gte(rjax_memory()$kernel_modules, before + 6)
  rm(fs, f)
  invisible(gc())
  expect_lte(rjax_memory()$kernel_modules, before)
  # the same kernel compiles again when needed
  expect_equal(as.vector(jit(function(x) sum(exp(x) * 1.5))(c(0, 0))), 3)
})

test_that("impossible allocations are classed errors before anything is allocated", {
  code <- c(
    "suppressPackageStartupMessages(library(rjax))",
    "cls <- function(expr) tryCatch({ force(expr); 'value' }, error = function(e) class(e)[1])",
    "report('broadcast', cls(rj_array(0) + matrix(rj_array(0), 1e6, 1e6)))",
    "report('outer', cls(jit(function(x) outer(x, x))(as.numeric(1:1e6))))",
    "report('overflow', cls(jit(function(x) outer(outer(x, x), outer(x, x)))(as.numeric(1:1e5))))",
    "report('eager_outer', cls(outer(rj_array(as.numeric(1:1e6)), rj_array(as.numeric(1:1e6)))))",
    "report('alive', as.vector(rj_array(2) * 3))")
  out <- run_child(code, timeout = 60)
  expect_equal(out[["outer"]], "rjax_memory_error")
  expect_true(out[["overflow"]] %in% c("rjax_memory_error", "rjax_shape_error"))
  expect_equal(out[["eager_outer"]], "rjax_memory_error")
  expect_equal(out[["alive"]], "6")
})
