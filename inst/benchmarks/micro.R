# The tutorials' micro-benchmarks, rjax beside base R, numpy and PyTorch in
# one run (back-to-back calls, no forced gc() before each; medians).
#   Rscript inst/benchmarks/micro.R [out.csv]
#   env: MICRO_REPS (default 20), MICRO_PEERS=0 to skip numpy/PyTorch,
#        MICRO_THREADS (default "1,2": rjax is timed at each thread count)
# Workloads:
#   selu_1e6           selu over 1e6 values (f32 on rjax, numpy, PyTorch; doubles in base R)
#   diff5_1e5          five nested diff() of 1e5 doubles (the slices fuse into one pass)
#   simpson_stacked    Simpson's rule, 200 functions sin(k x) exp(-x / k) one at a time, stacked
#   simpson_broadcast  the same as one 513 x 100 x 200 broadcast
#   loop100_n50        100 steps of x <- B %*% x + solve(A, x) + norm(x), 50-vectors (fori_loop)
#   mlp_b*_l*_h*       r-xla/benchmarks' MLP: n = 1024, 10 features, ReLU layers, MSE, SGD;
#                      seconds per batch of an epoch (one jitted training step per batch)
# The CSV has bench, variant, threads, seconds, blas and load (the 1-minute
# load average when the row was measured: the machine may be shared).
suppressPackageStartupMessages(library(rjax))
args <- commandArgs(trailingOnly = TRUE)
out_csv <- if (length(args)) args[[1]] else "micro-benchmarks.csv"
reps <- max(20L, as.integer(Sys.getenv("MICRO_REPS", "20")))
thread_counts <- as.integer(strsplit(Sys.getenv("MICRO_THREADS", "1,2"), ",")[[1]])
load_now <- function() if (file.exists("/proc/loadavg")) as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][[1]]) else NA

# Median of `reps` back-to-back calls after a warm-up call (which compiles);
# calls shorter than 1 ms are repeated in batches so the clock resolves them.
med_time <- function(f, reps) {
  f()
  t1 <- system.time(f())[["elapsed"]]
  k <- if (t1 < 1e-3) 200L else if (t1 < 1e-2) 10L else 1L
  stats::median(vapply(seq_len(reps), function(i) system.time(for (j in seq_len(k)) f())[["elapsed"]] / k, 0))
}
rows <- list()
add <- function(bench, variant, seconds, threads = NA_integer_, blas = "") {
  rows[[length(rows) + 1L]] <<- data.frame(bench = bench, variant = variant, threads = threads, seconds = seconds,
                                           blas = blas, load = load_now())
  cat(sprintf("%-20s %-12s %3s thr %10.4f ms\n", bench, variant, ifelse(is.na(threads), "", threads), 1000 * seconds))
}
rjax_at_threads <- function(bench, f) {
  for (th in thread_counts) {
    old <- rjax_threads(th)
    add(bench, "rjax_jit", med_time(f, reps), threads = th)
    rjax_threads(old)
  }
}
base_blas <- normalizePath(sessionInfo()$BLAS, mustWork = FALSE)

# ---- selu ------------------------------------------------------------------------
selu <- function(x, alpha = 1.67, lambda = 1.05) lambda * ifelse(x > 0, x, alpha * exp(x) - alpha)
set.seed(1)
x <- rnorm(1e6)
x32 <- rj_array(x, dtype = "f32")
jl <- jit(selu)
stopifnot(isTRUE(all.equal(as.vector(as.array(jl(rj_array(x)))), selu(x))))
rjax_at_threads("selu_1e6", function() jl(x32))
add("selu_1e6", "rjax_eager", med_time(function() selu(x32), reps))
add("selu_1e6", "base_R", med_time(function() selu(x), reps), blas = base_blas)

# ---- five nested diff() ---------------------------------------------------------------
five_diff <- function(x) diff(diff(diff(diff(diff(x)))))
x5 <- rnorm(1e5); x5d <- rj_array(x5)
jd <- jit(five_diff)
stopifnot(isTRUE(all.equal(as.vector(as.array(jd(x5d))), five_diff(x5))))
rjax_at_threads("diff5_1e5", function() jd(x5d))
add("diff5_1e5", "base_R", med_time(function() five_diff(x5), reps))

# ---- Simpson's rule for 200 functions on 100 sub-intervals, N = 512 -------------------
N <- 512L; h <- 0.01 / N
wts <- rep(c(2, 4), length.out = N + 1L); wts[c(1L, N + 1L)] <- 1; wts <- wts * h / 3
xg <- outer(seq(0, 0.01, length.out = N + 1L), seq(0, 0.99, by = 0.01), "+")  # 513 x 100
simpson_stacked <- function(xg, wts) {
  do.call(rbind, lapply(1:200, function(k) colSums(sin(k * xg) * exp(-xg / k) * wts)))
}
K3 <- array(rep(1:200, each = length(xg)), c(dim(xg), 200L))
X3 <- array(xg, c(dim(xg), 200L))
simpson_broadcast <- function(X3, K3, wts) colSums(sin(K3 * X3) * exp(-X3 / K3) * wts)
js <- jit(simpson_stacked); jb <- jit(simpson_broadcast)
xgd <- rj_array(xg); X3d <- rj_array(X3); K3d <- rj_array(K3 + 0); wd <- rj_array(wts)
stopifnot(isTRUE(all.equal(as.array(js(xgd, wd)), simpson_stacked(xg, wts))))
stopifnot(isTRUE(all.equal(as.array(jb(X3d, K3d, wd)), simpson_broadcast(X3, K3, wts))))
rjax_at_threads("simpson_stacked", function() js(xgd, wd))
add("simpson_stacked", "base_R", med_time(function() simpson_stacked(xg, wts), reps))
rjax_at_threads("simpson_broadcast", function() jb(X3d, K3d, wd))
add("simpson_broadcast", "base_R", med_time(function() simpson_broadcast(X3, K3, wts), reps))

# ---- the 100-step loop ------------------------------------------------------------------
set.seed(42)
nl <- 50
A <- matrix(rnorm(nl * nl), nl) + diag(nl) * nl; B <- matrix(rnorm(nl * nl), nl) / nl; x0 <- rnorm(nl)
step <- function(x, A, B) B %*% x + solve(A, x) + sqrt(sum(x^2))
base_loop <- function(x, A, B) { for (i in 1:100) x <- step(x, A, B); x }
jloop <- jit(function(x, A, B) fori_loop(1, 100, function(i, x) step(x, A, B), x))
rA <- rj_array(A); rB <- rj_array(B); rx <- rj_array(x0)
stopifnot(max(abs(as.vector(as.array(jloop(rx, rA, rB))) / as.vector(base_loop(x0, A, B)) - 1)) < 1e-10)
rjax_at_threads("loop100_n50", function() jloop(rx, rA, rB))
add("loop100_n50", "base_R", med_time(function() base_loop(x0, A, B), reps), blas = base_blas)

# ---- r-xla/benchmarks' MLP --------------------------------------------------------------
mlp_setup <- function(batch, latent, hidden, dtype = "f32") {
  set.seed(1)
  X <- matrix(rnorm(1024 * 10), 1024); y <- matrix(rnorm(1024), 1024)
  dims <- c(10, rep(latent, hidden + 1), 1)
  params <- lapply(seq_len(length(dims) - 1), function(l) list(
    W = rj_array(matrix(rnorm(dims[l] * dims[l + 1], sd = 1 / sqrt(dims[l])), dims[l]), dtype = dtype),
    b = rj_array(matrix(0, 1, dims[l + 1]), dtype = dtype)))
  starts <- seq(1, 1024, by = batch)
  Xb <- lapply(starts, function(s) rj_array(X[s:(s + batch - 1), , drop = FALSE], dtype = dtype))
  yb <- lapply(starts, function(s) rj_array(y[s:(s + batch - 1), , drop = FALSE], dtype = dtype))
  ones <- rj_array(matrix(1, batch, 1), dtype = dtype)
  loss <- function(params, X, y, ones) {
    h <- X
    for (l in seq_along(params)) {
      h <- h %*% params[[l]]$W + ones %*% params[[l]]$b
      if (l < length(params)) h <- pmax(h, 0)
    }
    mean((h - y)^2)
  }
  vg <- value_and_grad(loss)
  step <- jit(function(params, X, y, ones) {
    g <- vg(params, X, y, ones)$grad
    Map(function(p, gp) list(W = p$W - 0.01 * gp$W, b = p$b - 0.01 * gp$b), params, g)
  })
  list(epoch = function() for (k in seq_along(Xb)) params <<- step(params, Xb[[k]], yb[[k]], ones),
       batches = length(Xb))
}
for (cfg in list(c(64, 64, 0), c(64, 64, 4), c(64, 64, 8))) {
  m <- mlp_setup(cfg[[1]], cfg[[2]], cfg[[3]])
  bench <- sprintf("mlp_b%d_l%d_h%d", cfg[[1]], cfg[[2]], cfg[[3]])
  for (th in thread_counts) {
    old <- rjax_threads(th)
    add(bench, "rjax_jit", med_time(m$epoch, reps) / m$batches, threads = th)
    rjax_threads(old)
  }
}

# ---- peers: numpy and PyTorch (one process, the same workloads) -------------------------
py <- if (file.exists("/usr/bin/python3")) "/usr/bin/python3" else "python3"
peer_script <- system.file("..", "tools", "bench-peers", "micro_peers.py", package = "rjax")
if (!file.exists(peer_script)) peer_script <- file.path("tools", "bench-peers", "micro_peers.py")
if (Sys.getenv("MICRO_PEERS", "1") != "0" && file.exists(peer_script)) {
  cpu <- if (file.exists("/proc/cpuinfo")) readLines("/proc/cpuinfo", n = 40) else character()
  env <- c(if (any(grepl("avx512f", cpu))) "OPENBLAS_CORETYPE=SkylakeX", "OMP_WAIT_POLICY=PASSIVE")
  lines <- tryCatch(system2(py, c(peer_script, reps), stdout = TRUE, env = env), error = function(e) character())
  for (l in grep(",", lines, value = TRUE)) {
    f <- strsplit(l, ",")[[1]]
    add(f[[1]], f[[2]], as.numeric(f[[3]]), threads = 2L, blas = f[[4]])
  }
}

res <- do.call(rbind, rows)
utils::write.csv(res, out_csv, row.names = FALSE)
# Goals: rjax jit at least as fast as the faster peer on each workload (2x on
# selu and the MLP), and never slower with 2 threads than with 1.
cat("\n")
for (b in unique(res$bench)) {
  r <- res[res$bench == b, ]
  rj <- r$seconds[r$variant == "rjax_jit"]
  peers <- r$seconds[r$variant %in% c("numpy", "torch")]
  if (!length(rj)) next
  best_rj <- min(rj)
  msg <- sprintf("%-20s rjax %.4f ms", b, 1000 * best_rj)
  if (length(peers)) msg <- paste0(msg, sprintf(", fastest peer %.4f ms: peer / rjax = %.2fx", 1000 * min(peers), min(peers) / best_rj))
  if (length(rj) > 1) msg <- paste0(msg, sprintf(", %d threads / 1 thread = %.2f", max(thread_counts),
                                               rj[r$threads[r$variant == "rjax_jit"] == max(thread_counts)] / rj[r$threads[r$variant == "rjax_jit"] == 1]))
  cat(msg, "\n")
}
cat(sprintf("load average: %s\n", paste(range(res$load), collapse = " - ")))
cat("wrote", out_csv, "\n")
