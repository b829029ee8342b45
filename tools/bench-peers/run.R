# make bench: the JAX tutorial's PLN fit (n = 11600, p = 114, f32) with rjax
# at each tutorial level and with the peers (numpy, PyTorch eager and
# torch.jit.script, base R), side by side in one run. Writes
# bench/results/pln.csv and bench/results/pln.md (ratios to rjax level 2).
#   Rscript tools/bench-peers/run.R   (env: BENCH_ITERS, BENCH_REP, BENCH_PEERS=0 to skip peers)
suppressPackageStartupMessages(library(rjax))
source("inst/benchmarks/pln_levels.R")
iters <- as.integer(Sys.getenv("BENCH_ITERS", "1000"))
rep_n <- as.integer(Sys.getenv("BENCH_REP", "100"))
run_peers <- Sys.getenv("BENCH_PEERS", "1") != "0"
py <- if (file.exists("/usr/bin/python3")) "/usr/bin/python3" else "python3"
dir.create("bench/results", recursive = TRUE, showWarnings = FALSE)

dat <- tut_load_data(rep_n)
n <- nrow(dat$Y); p <- ncol(dat$Y)
cli::cli_h1("PLN tutorial fit: {dat$source}, n = {n}, p = {p}, {iters} iterations")
tmp <- tempfile("pln-data"); dir.create(tmp)
writeBin(as.vector(dat$Y), file.path(tmp, "Y.bin"))
writeBin(as.vector(dat$O), file.path(tmp, "O.bin"))
writeLines(paste(n, p), file.path(tmp, "dims.txt"))

rows <- list()
add <- function(impl, dtype, config, iters_run, seconds, loss, compile = NA_real_, blas = "", key = impl) {
  per1000 <- seconds / iters_run * 1000
  rows[[length(rows) + 1L]] <<- data.frame(impl = impl, peer_key = key, dtype = dtype, config = config, blas = blas, iterations = iters_run,
                                           seconds = seconds, seconds_per_1000 = per1000, compile_seconds = compile,
                                           final_loss = loss)
  cli::cli_alert_info("{impl} [{config}; {blas}]: {format(round(per1000, 2))} s per 1000 iterations, loss {format(loss, digits = 7)}")
}
rjax_blas <- sprintf("rjax GEMM (%d threads)", as.integer(rjax::rjax_threads()))

# ---- rjax levels (in this process) ----------------------------------------------
lv2 <- tut_level2(dat$Y, dat$O, iters, "f32")
add("rjax level 2 (whole fit in one scan)", "f32", "jit(scan), llvm", iters, lv2$seconds, lv2$loss[[iters]], lv2$compile_seconds, rjax_blas)
lv3 <- tut_level3(dat$Y, dat$O, iters, "f32")
add("rjax level 3 (params as a named-list pytree)", "f32", "jit(scan), llvm", iters, lv3$seconds, lv3$loss[[iters]], lv3$compile_seconds, rjax_blas)
lv1 <- tut_level1(dat$Y, dat$O, iters, "f32")
add("rjax level 1 (jit steps, R loop)", "f32", "llvm", iters, lv1$seconds, lv1$loss[[iters]], lv1$compile_seconds, rjax_blas)
k0 <- min(iters, 20L)
lv0 <- tut_level0(dat$Y, dat$O, k0, "f32")
add("rjax level 0 (no jit: retrace + op by op)", "f32", sprintf("interp, %d iterations extrapolated", k0), k0, lv0$seconds, lv0$loss[[k0]],
    blas = rjax_blas)

# ---- peers (separate processes) -----------------------------------------------------
# Each peer prints impl,dtype,config,seconds,loss,blas (the BLAS it really
# used, from threadpoolctl for the Python peers).
peer <- function(prog, script, extra, env = character(), n_it = iters) {
  out <- system2(prog, c(script, tmp, n_it, extra), stdout = TRUE, env = env)
  f <- strsplit(tail(out, 1), ",")[[1]]
  add(f[[1]], f[[2]], f[[3]], n_it, as.numeric(f[[4]]), as.numeric(f[[5]]), blas = if (length(f) >= 6) f[[6]] else "",
      key = paste(c(basename(script), extra), collapse = " "))
}
# Configurations tried for every peer; the table keeps each peer's fastest.
# OpenBLAS 0.3.21 does not recognise this CPU class and runs SSE3 kernels
# unless told its core type (only where the CPU has the instructions), and
# PyTorch's OpenMP threads spin against OpenBLAS's unless waits are passive.
cpu_flags <- if (file.exists("/proc/cpuinfo")) readLines("/proc/cpuinfo", n = 40) else character()
core <- if (any(grepl("avx512f", cpu_flags))) "SkylakeX" else if (any(grepl("avx2", cpu_flags))) "Haswell" else ""
tuned <- c(if (nzchar(core)) paste0("OPENBLAS_CORETYPE=", core), "OMP_WAIT_POLICY=PASSIVE")
configs <- list(tuned, character())
if (run_peers) {
  for (env in configs) {
    peer(py, "tools/bench-peers/pln_numpy.py", c("f32", "correct"), env)
    for (mode in c("eager", "script")) peer(py, "tools/bench-peers/pln_torch.py", c("f32", mode, "correct"), env)
  }
  # Base R is slow (~0.2-0.3 s per iteration here): fewer iterations, tuned BLAS only.
  peer("Rscript", "tools/bench-peers/pln_base.R", "correct", tuned, min(iters, 100L))
}
res <- do.call(rbind, rows)
ref <- res$seconds_per_1000[[1]]
res$ratio_to_rjax_level2 <- round(res$seconds_per_1000 / ref, 1)
# The peer's fastest configuration (per implementation and mode).
res$best_config <- stats::ave(res$seconds_per_1000, res$peer_key, FUN = function(s) s == min(s)) == 1
# Same algorithm, same data: every run should end at the same loss (f32 vs
# f64 and summation order differ in the last digits only). Runs at fewer
# iterations (base R, level 0) are compared with rjax's loss at that point.
loss_at <- function(k) lv2$loss[[k]]
res$loss_rel_diff <- signif(abs(res$final_loss / vapply(res$iterations, loss_at, 0) - 1), 2)
# A peer on Debian's reference BLAS (no libopenblas0-pthread) ends ~3.6 %
# off at 100 iterations in f32: netlib's sgemm sums the 11600 rows of
# crossprod(M) and crossprod(X, Y - A) one by one in f32, and the rounding
# error moves the trajectory. Say so rather than compare different fits.
off <- res$loss_rel_diff > 1e-3
if (any(off)) cli::cli_warn(c("!" = "{sum(off)} run{?s} did not reach rjax's loss (relative difference > 1e-3): {unique(res$impl[off])}",
                              "i" = "Peers on the reference BLAS accumulate f32 products with a large rounding error; run {.code sh tools/install-deps.sh --bench}."))
utils::write.csv(res, "bench/results/pln.csv", row.names = FALSE)
load <- if (file.exists("/proc/loadavg")) strsplit(readLines("/proc/loadavg"), " ")[[1]][[1]] else "?"
best <- res[res$best_config, ]
md <- c(sprintf("# PLN tutorial fit: %s, n = %d, p = %d, %d iterations", dat$source, n, p, iters), "",
        sprintf("Machine: %s, %d cores; rjax threads: %s; load average at the end: %s. Each peer in its fastest configuration (all runs in bench/results/pln.csv).",
                sub("^model name\\s*:\\s*", "", grep("^model name", cpu_flags, value = TRUE)[1]), parallel::detectCores(),
                rjax::rjax_threads(), load), "",
        "| implementation | dtype | configuration | BLAS | s per 1000 it. | compile s | final loss | loss vs rjax | x rjax level 2 |",
        "|---|---|---|---|---|---|---|---|---|",
        sprintf("| %s | %s | %s | %s | %.2f | %s | %.6g | %.1g | %.1f |", best$impl, best$dtype, best$config, best$blas,
                best$seconds_per_1000, ifelse(is.na(best$compile_seconds), "", sprintf("%.2f", best$compile_seconds)),
                best$final_loss, best$loss_rel_diff, best$ratio_to_rjax_level2))
writeLines(md, "bench/results/pln.md")
cat(md, sep = "\n")
