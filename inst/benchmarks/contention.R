# The thread pool under load (issue 14, item 1): default threads against one
# thread, on a quiet machine and with one competing busy process (started
# and stopped by this script), for two workloads:
#   - pln_scan: pln_fit()'s compiled chunk, one scan of RADAM_STEPS RAdam
#     steps of the PLN model at n = 11600, p = 114, f32 (the flagship);
#   - elbo_loop: an R loop of ELBO_CALLS calls of the jitted PLN ELBO and its
#     gradient at 116 x 114 (small kernels, where waking threads costs most).
# Goals: with the competitor, default threads at most 1.2x slower than one
# thread; without it, at least 1.6x faster than one thread on pln_scan.
#
# Not a test. Run it with
#   R_LIBS=lib Rscript inst/benchmarks/contention.R
# It prints a table and writes a CSV to $RJAX_BENCH_OUT (default: a file in
# tempdir()). RJAX_BENCH_REPS sets the repetitions (default 7); the two
# thread settings alternate within each repetition, so slow drifts in the
# machine's load hit both alike. The CSV records the load average before
# and after each condition and the spread of the repetitions: on a machine
# that other jobs share, read the min_s columns and the spread before the
# ratios. It also records whether libgomp (OpenMP) is loaded and
# OMP_NUM_THREADS: where OpenMP still runs some loops or GEMMs beside the
# pool, its spinning workers dominate under load (set OMP_NUM_THREADS=1 to
# see the pool alone).
library(rjax)

reps <- as.integer(Sys.getenv("RJAX_BENCH_REPS", "7"))
out <- Sys.getenv("RJAX_BENCH_OUT", file.path(tempdir(), "contention.csv"))
n <- as.integer(Sys.getenv("RJAX_BENCH_N", "11600"))
p <- as.integer(Sys.getenv("RJAX_BENCH_P", "114"))
radam_steps <- as.integer(Sys.getenv("RJAX_BENCH_STEPS", "30"))
elbo_calls <- as.integer(Sys.getenv("RJAX_BENCH_CALLS", "300"))
default_threads <- {
  options(rjax.threads = NULL)
  rjax_threads()
}

# ---- workloads ------------------------------------------------------------

sim <- pln_simulate(n, p, seed = 2023)
ctrl <- pln_control(dtype = "f32")

# pln_fit()'s own compiled chunk (R/pln.R), from pln_optimize()'s start.
pln_scan_workload <- function() {
  dt <- ctrl$dtype
  arr <- function(x) rj_array(x, dtype = dt)
  Y <- sim$Y
  X <- matrix(1, n, 1)
  O <- sim$O
  L <- log1p(Y) - O
  XtX <- crossprod(X)
  B0 <- solve(XtX, crossprod(X, L))
  M0 <- L - X %*% B0
  S0 <- matrix(0.5, n, p)
  Sigma0 <- (crossprod(M0) + diag(colSums(S0^2))) / n
  data <- list(Y = arr(Y), X = arr(X), O = arr(O), XtX = arr(XtX))
  opt <- rjax:::pln_optimizer(ctrl)
  st <- list(M = arr(M0), S = arr(S0), B = arr(B0), Sigma = arr(Sigma0))
  st$opt <- opt$init(list(M = st$M, S = st$S))
  chunk <- rjax:::pln_chunk_fn(rjax:::pln_step_fn(opt), "llvm")
  chunk(st, data, radam_steps)  # compile
  function() invisible(chunk(st, data, radam_steps))
}

# An R loop of jitted value_and_grad(ELBO) calls on the first 116 rows.
elbo_loop_workload <- function() {
  m <- min(116L, n)
  arr <- function(x) rj_array(x, dtype = "f32")
  Y <- arr(sim$Y[seq_len(m), ])
  O <- arr(sim$O[seq_len(m), ])
  X <- arr(matrix(1, m, 1))
  M <- arr(matrix(0, m, p))
  S <- arr(matrix(0.5, m, p))
  B <- arr(matrix(-1, 1, p))
  Omega <- arr(diag(p))
  vg <- jit(value_and_grad(function(M, S, B, Omega, Y, X, O) -rjax:::pln_elbo_fixed(M, S, B, Omega, Y, X, O),
                           wrt = c("M", "S")))
  vg(M, S, B, Omega, Y, X, O)  # compile
  function() {
    for (i in seq_len(elbo_calls)) r <- vg(M, S, B, Omega, Y, X, O)
    invisible(r)
  }
}

libgomp <- any(grepl("libgomp", readLines("/proc/self/maps", warn = FALSE), fixed = TRUE))
workloads <- list(pln_scan = pln_scan_workload(), elbo_loop = elbo_loop_workload())

# ---- the competitor ---------------------------------------------------------

start_competitor <- function() {
  processx::process$new("sh", c("-c", "while :; do :; done"), cleanup = TRUE)
}

loadavg <- function() as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1L]][[1L]])

# ---- measurement ------------------------------------------------------------

time_once <- function(f, threads) {
  options(rjax.threads = threads)
  rjax_threads()  # applies the setting
  invisible(gc(FALSE))
  system.time(f())[["elapsed"]]
}

rows <- list()
for (competitor in c(FALSE, TRUE)) {
  comp <- if (competitor) start_competitor()
  if (competitor) Sys.sleep(0.5)
  load_before <- loadavg()
  for (w in names(workloads)) {
    f <- workloads[[w]]
    times <- list(`1` = numeric(), default = numeric())
    for (r in seq_len(reps)) {
      order <- if (r %% 2L) c("1", "default") else c("default", "1")
      for (th in order) {
        times[[th]] <- c(times[[th]], time_once(f, if (th == "1") 1L else default_threads))
      }
    }
    for (th in names(times)) {
      t <- times[[th]]
      rows[[length(rows) + 1L]] <- data.frame(
        workload = w, competitor = competitor, threads = if (th == "1") 1L else default_threads,
        reps = reps, median_s = stats::median(t), min_s = min(t), max_s = max(t),
        spread = (max(t) - min(t)) / stats::median(t),
        load_before = load_before, load_after = loadavg(), libgomp = libgomp,
        omp_num_threads = Sys.getenv("OMP_NUM_THREADS", "unset"))
    }
  }
  if (competitor) comp$kill()
}
options(rjax.threads = NULL)
res <- do.call(rbind, rows)

# Ratios: default threads' time over one thread's (< 1: threads help).
ratio <- function(df, col) {
  one <- df[df$threads == 1L, col]
  dflt <- df[df$threads == default_threads, col]
  dflt / one
}
summ <- do.call(rbind, lapply(split(res, list(res$workload, res$competitor), drop = TRUE), function(df) {
  data.frame(workload = df$workload[[1]], competitor = df$competitor[[1]],
             threads = default_threads,
             ratio_median = ratio(df, "median_s"), ratio_min = ratio(df, "min_s"),
             goal = if (df$competitor[[1]]) "<= 1.2 (default / 1 thread)"
                    else if (df$workload[[1]] == "pln_scan") "<= 0.625 (1.6x faster)" else "")
}))
rownames(summ) <- NULL

utils::write.csv(res, out, row.names = FALSE)
utils::write.csv(summ, sub("\\.csv$", "_ratios.csv", out), row.names = FALSE)
cat(sprintf("contention benchmark: n = %d, p = %d, %d RAdam steps per scan, %d ELBO calls per loop, %d reps, default threads %d\n",
            n, p, radam_steps, elbo_calls, reps, default_threads))
print(res, digits = 3, row.names = FALSE)
cat("\nratio = time with default threads / time with one thread\n")
print(summ, digits = 3, row.names = FALSE)
cat("\nwrote ", out, " and ", sub("\\.csv$", "_ratios.csv", out), "\n", sep = "")
