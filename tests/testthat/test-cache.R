# The persistent compile cache across R processes: cold compiles write
# entries, a fresh process loads them (same bits), corrupt entries are
# rejected and rewritten.

cache_child <- function(dir, extra = character()) {
  run_child(c("library(rjax)",
              sprintf("options(rjax.cache_dir = '%s')", dir),
              "set.seed(4); x <- matrix(runif(60), 12); y <- matrix(runif(60), 12)",
              "jf <- jit(function(x, y) list(sum(exp(x) * y + 1), colSums(log1p(x) * y)), backend = 'llvm')",
              "r <- jf(x, y)",
              "i <- rjax_cache_info()",
              "report('hits', i$hits); report('misses', i$misses); report('rejected', i$rejected)",
              "report('writes', i$writes); report('entries', i$entries)",
              "report('value', sprintf('%a', c(as.array(r[[1]]), as.array(r[[2]]))))",
              extra))
}

test_that("a fresh R process loads compiled code from the cache, with the same bits", {
  dir <- tempfile("rjax-cache-")
  cold <- cache_child(dir)
  expect_gt(as.numeric(cold[["misses"]]), 0)
  expect_gt(as.numeric(cold[["writes"]]), 0)
  expect_identical(cold[["hits"]], "0")
  warm <- cache_child(dir)
  expect_gt(as.numeric(warm[["hits"]]), 0)
  expect_identical(warm[["misses"]], "0")
  expect_identical(warm[["value"]], cold[["value"]])
  # corrupt every entry: rejected, compiled again, same bits, entries rewritten
  for (f in list.files(dir, full.names = TRUE)) {
    b <- readBin(f, "raw", file.size(f))
    b[length(b) - 3] <- as.raw(bitwXor(as.integer(b[length(b) - 3]), 255L))
    writeBin(b, f)
  }
  bad <- cache_child(dir)
  expect_gt(as.numeric(bad[["rejected"]]), 0)
  expect_identical(bad[["hits"]], "0")
  expect_identical(bad[["value"]], cold[["value"]])
  again <- cache_child(dir)
  expect_gt(as.numeric(again[["hits"]]), 0)
  expect_identical(again[["rejected"]], "0")
  unlink(dir, recursive = TRUE)
})

test_that("the cache is off by default and reports itself", {
  old <- options(rjax.cache_dir = NULL)
  on.exit(options(old))
  withr_env <- Sys.getenv("RJAX_CACHE_DIR", NA)
  if (is.na(withr_env)) {
    expect_output(print(rjax_cache_info()), "off")
  }
  dir <- tempfile("rjax-cache-")
  options(rjax.cache_dir = dir)
  jit(function(x) sum(sin(x) * 3.25), backend = "llvm")(1:7)
  info <- rjax_cache_info()
  expect_identical(normalizePath(info$dir), normalizePath(dir))
  expect_gte(info$entries, 1)
  expect_output(print(info), "entries")
  expect_gte(rjax_cache_clear(), 1)
  expect_identical(rjax_cache_info()$entries, 0L)
  options(rjax.cache_dir = 1:2)
  expect_error(jit(function(x) x + 1)(1), class = "rjax_type_error")
  options(rjax.cache_dir = NULL)
  jit(function(x) x * 7.5)(1)
  if (is.na(withr_env)) expect_identical(Sys.getenv("RJAX_CACHE_DIR"), "")
  unlink(dir, recursive = TRUE)
})
