# pln_fit() (full covariance) and pln_pca() (rank 20, f32) on simulated
# single-cell-like counts (about 90 % zeros), at growing n: time per
# iteration, iterations to convergence, total time and peak memory (RSS).
# Each configuration runs in its own R process so that its peak RSS
# (VmHWM) is its own. Writes bench/results/pln_scale.csv.
#
# Sizes (environment variables; the defaults are the issue's full sizes,
# which need a quiet machine and most of its memory):
#   RJAX_SCALE_NS      n values (default 2500,5000,10000,20000)
#   RJAX_SCALE_P_FULL  p for pln_fit (default 2000)
#   RJAX_SCALE_P_PCA   p for pln_pca (default 14000)
#   RJAX_SCALE_RANK    rank for pln_pca (default 20)
#   RJAX_SCALE_ITERS   iterations timed per configuration (default 3)
#   RJAX_SCALE_CONVERGE_MAXN  also run to convergence the configurations
#                      with n up to this (default 0: none)
#   RJAX_SCALE_FTOL    ftol_rel of the convergence runs (default: pln_control's
#                      rule, 1e-8 for n >= 1.5 p; on these sparse data the
#                      variances of rare species shrink slowly towards 0 and
#                      1e-8 can take more than 1000 iterations)
#   RJAX_SCALE_MODELS  "fit,pca" (default both)
# Run from the repository root: Rscript inst/benchmarks/pln_scale.R

env_num <- function(name, default) {
  v <- Sys.getenv(name, "")
  if (!nzchar(v)) default else as.numeric(strsplit(v, ",")[[1]])
}
ns <- env_num("RJAX_SCALE_NS", c(2500, 5000, 10000, 20000))
p_full <- env_num("RJAX_SCALE_P_FULL", 2000)
p_pca <- env_num("RJAX_SCALE_P_PCA", 14000)
rank <- env_num("RJAX_SCALE_RANK", 20)
iters <- env_num("RJAX_SCALE_ITERS", 3)
converge_maxn <- env_num("RJAX_SCALE_CONVERGE_MAXN", 0)
ftol <- Sys.getenv("RJAX_SCALE_FTOL", "default")
models <- strsplit(Sys.getenv("RJAX_SCALE_MODELS", "fit,pca"), ",")[[1]]

child <- '
suppressPackageStartupMessages(library(rjax))
a <- commandArgs(TRUE)
model <- a[[1]]; n <- as.integer(a[[2]]); p <- as.integer(a[[3]]); q <- as.integer(a[[4]])
iters <- as.integer(a[[5]]); converge <- a[[6]] == "1"
ftol <- if (a[[7]] == "default") NULL else as.numeric(a[[7]])
set.seed(1)
# Single-cell-like counts: low mean rates (about 90 % zeros), a rank-5 latent structure.
mu <- stats::rnorm(p, -3.2, 1)
W <- matrix(stats::rnorm(n * 5), n, 5); C <- matrix(stats::rnorm(p * 5, sd = 0.3), p, 5)
depth <- stats::rnorm(n, 0, 0.3)
Y <- matrix(stats::rpois(n * p, exp(outer(depth, mu, "+") + W %*% t(C))), n, p)
rm(W); gc()
keep <- colSums(Y) > 0
Y <- Y[, keep]
O <- depth
zeros <- mean(Y == 0)
fit1 <- function(max_iter, ftol) {
  ctrl <- list(max_iter = max_iter, ftol_rel = ftol, chunk = min(max_iter, 10L), dtype = if (model == "pca") "f32" else "f64")
  t0 <- proc.time()[["elapsed"]]
  r <- suppressWarnings(if (model == "pca") pln_pca(Y, O = O, ranks = q, control = ctrl)$models[[1]] else pln_fit(Y, O = O, control = ctrl))
  list(fit = r, s = proc.time()[["elapsed"]] - t0)
}
cold <- fit1(iters, 0)       # trace + compile + iters iterations
warm <- fit1(iters, 0)       # the same, the compiled program cached
per_iter <- warm$s / iters
conv <- if (converge) fit1(1000L, ftol) else NULL
hwm <- as.numeric(sub("[^0-9]*([0-9]+).*", "\\\\1", grep("VmHWM", readLines("/proc/self/status"), value = TRUE))) / 1024^2
cat(sprintf("RESULT %s %d %d %d %.4f %.3f %.4f %s %s %s %.3f\\n", model, n, ncol(Y), q, zeros, cold$s, per_iter,
            if (is.null(conv)) NA else conv$fit$n_iter, if (is.null(conv)) NA else conv$s,
            if (is.null(conv)) NA else conv$fit$converged, hwm))
'
script <- tempfile(fileext = ".R")
writeLines(child, script)
rs <- file.path(R.home("bin"), "Rscript")
rows <- list()
for (model in models) for (n in ns) {
  p <- if (model == "pca") p_pca else p_full
  out <- system2(rs, c(script, model, n, p, rank, iters, as.integer(n <= converge_maxn), ftol), stdout = TRUE, stderr = TRUE)
  line <- grep("^RESULT", out, value = TRUE)
  if (!length(line)) {
    message("failed: ", model, " n = ", n, "\n", paste(utils::tail(out, 5), collapse = "\n"))
    next
  }
  v <- strsplit(sub("^RESULT ", "", line), " ")[[1]]
  rows[[length(rows) + 1L]] <- data.frame(
    model = v[1], n = as.integer(v[2]), p = as.integer(v[3]), rank = if (v[1] == "pca") as.integer(v[4]) else NA_integer_,
    zeros = as.numeric(v[5]), first_call_s = as.numeric(v[6]), s_per_iteration = as.numeric(v[7]),
    iterations_to_converge = suppressWarnings(as.integer(v[8])), converge_s = suppressWarnings(as.numeric(v[9])),
    converged = as.logical(v[10]), peak_rss_gb = as.numeric(v[11]), ftol_rel = ftol)
  print(rows[[length(rows)]], row.names = FALSE)
}
res <- do.call(rbind, rows)
# Linear scaling in n: seconds per iteration per 1000 samples (constant if linear).
res$s_per_iter_per_1000n <- res$s_per_iteration / res$n * 1000
res$load <- paste(utils::head(strsplit(readLines("/proc/loadavg"), " ")[[1]], 3L), collapse = " ")
dir.create(file.path("bench", "results"), recursive = TRUE, showWarnings = FALSE)
utils::write.csv(res, file.path("bench", "results", "pln_scale.csv"), row.names = FALSE)
print(res, row.names = FALSE)
