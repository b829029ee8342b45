# Benchmarks of the core's primitive kernels, rjax beside base R in one run.
#   RJAX_NUM_THREADS=2 Rscript inst/benchmarks/core_ops.R [out.csv]
# 1. Eager element-wise ops on 1e6 elements (the interpreter's tapes):
#    exp(x) * 2 + 1 in f64 and f32, integer arithmetic with R's overflow
#    checks, a comparison, log/sin.
# 2. Eager reductions and cumulative ops (monoids on tapes).
# 3. Matrix products at the PLN tutorial's size: 11600 x 114 %*% 114 x 114 and
#    crossprod(11600 x 114), f64 and f32 (blocked across the thread pool).
# Times are per call: the median over 9 batches of calls after a warm-up.
suppressPackageStartupMessages(library(rjax))
args <- commandArgs(trailingOnly = TRUE)
out_csv <- if (length(args)) args[[1]] else "core-ops.csv"

per_call <- function(f, calls = 20L, batches = 9L) {
  f()
  t <- vapply(seq_len(batches), function(i) {
    t0 <- proc.time()[["elapsed"]]
    for (j in seq_len(calls)) f()
    (proc.time()[["elapsed"]] - t0) / calls
  }, 0)
  c(median = median(t), min = min(t))
}
rows <- list()
add <- function(bench, variant, f, calls = 20L) {
  t <- per_call(f, calls)
  rows[[length(rows) + 1L]] <<- data.frame(bench = bench, variant = variant, median_s = t[["median"]], min_s = t[["min"]],
                                            threads = Sys.getenv("RJAX_NUM_THREADS", ""))
  cat(sprintf("%-28s %-10s median %8.3f ms  min %8.3f ms\n", bench, variant, 1000 * t[["median"]], 1000 * t[["min"]]))
}

set.seed(1)
x <- rnorm(1e6); xd <- rj_array(x); x32 <- rj_array(x, dtype = "f32")
xi <- sample.int(1000L, 1e6, TRUE); xid <- rj_array(xi)
add("exp(x)*2+1 f64 1e6", "rjax", function() exp(xd) * 2 + 1)
add("exp(x)*2+1 f64 1e6", "base_R", function() exp(x) * 2 + 1)
add("exp(x)*2+1 f32 1e6", "rjax", function() exp(x32) * 2 + 1)
add("x*2L+1L i32 1e6", "rjax", function() xid * 2L + 1L)
add("x*2L+1L i32 1e6", "base_R", function() xi * 2L + 1L)
add("x > 0 f64 1e6", "rjax", function() xd > 0)
add("x > 0 f64 1e6", "base_R", function() x > 0)
add("log(x*x)+sin(x) f64 1e6", "rjax", function() log(xd * xd) + sin(xd))
add("log(x*x)+sin(x) f64 1e6", "base_R", function() log(x * x) + sin(x))
add("sum f64 1e6", "rjax", function() sum(xd))
add("sum f64 1e6", "base_R", function() sum(x))
add("max f64 1e6", "rjax", function() max(xd))
add("max f64 1e6", "base_R", function() max(x))
add("cumsum f64 1e6", "rjax", function() cumsum(xd), 5L)
add("cumsum f64 1e6", "base_R", function() cumsum(x), 5L)
M <- matrix(x, 1000); Md <- rj_array(M)
add("colSums 1000x1000", "rjax", function() colSums(Md))
add("colSums 1000x1000", "base_R", function() colSums(M))

A <- matrix(rnorm(11600 * 114), 11600); B <- matrix(rnorm(114 * 114), 114)
for (dt in c("f64", "f32")) {
  a <- rj_array(A, dtype = dt); b <- rj_array(B, dtype = dt)
  add(sprintf("%s 11600x114 %%*%% 114x114", dt), "rjax", function() a %*% b)
  add(sprintf("%s crossprod(11600x114)", dt), "rjax", function() crossprod(a))
}
add("f64 11600x114 %*% 114x114", "base_R", function() A %*% B, 5L)
add("f64 crossprod(11600x114)", "base_R", function() crossprod(A), 5L)

res <- do.call(rbind, rows)
res$load <- tryCatch(as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][[1]]), error = function(e) NA)
utils::write.csv(res, out_csv, row.names = FALSE)
cat("wrote", out_csv, "\n")
