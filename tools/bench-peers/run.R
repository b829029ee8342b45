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
add <- function(impl, dtype, config, iters_run, seconds, loss, compile = NA_real_) {
  per1000 <- seconds / iters_run * 1000
  rows[[length(rows) + 1L]] <<- data.frame(impl = impl, dtype = dtype, config = config, iterations = iters_run,
                                           seconds = seconds, seconds_per_1000 = per1000, compile_seconds = compile,
                                           final_loss = loss)
  cli::cli_alert_info("{impl} [{config}]: {format(round(per1000, 2))} s per 1000 iterations, loss {format(loss, digits = 7)}")
}

# ---- rjax levels (in this process) ----------------------------------------------
lv2 <- tut_level2(dat$Y, dat$O, iters, "f32")
add("rjax level 2 (whole fit in one scan)", "f32", "jit(scan), llvm", iters, lv2$seconds, lv2$loss[[iters]], lv2$compile_seconds)
lv3 <- tut_level3(dat$Y, dat$O, iters, "f32")
add("rjax level 3 (params as a named-list pytree)", "f32", "jit(scan), llvm", iters, lv3$seconds, lv3$loss[[iters]], lv3$compile_seconds)
lv1 <- tut_level1(dat$Y, dat$O, iters, "f32")
add("rjax level 1 (jit steps, R loop)", "f32", "llvm", iters, lv1$seconds, lv1$loss[[iters]], lv1$compile_seconds)
k0 <- min(iters, 20L)
lv0 <- tut_level0(dat$Y, dat$O, k0, "f32")
add("rjax level 0 (no jit: retrace + op by op)", "f32", sprintf("interp, %d iterations extrapolated", k0), k0, lv0$seconds, lv0$loss[[k0]])

# ---- peers (separate processes) -----------------------------------------------------
peer <- function(prog, script, extra, env = character(), n_it = iters) {
  out <- system2(prog, c(script, tmp, n_it, extra), stdout = TRUE, env = env)
  f <- strsplit(tail(out, 1), ",")[[1]]
  add(f[[1]], f[[2]], f[[3]], n_it, as.numeric(f[[4]]), as.numeric(f[[5]]))
}
if (run_peers) {
  # Best configuration per peers.md: AVX-512 OpenBLAS kernels, passive OpenMP waits.
  best <- c("OPENBLAS_CORETYPE=SkylakeX", "OMP_WAIT_POLICY=PASSIVE")
  for (env in list(best, character())) {
    peer(py, "tools/bench-peers/pln_numpy.py", c("f32", "correct"), env)
    for (mode in c("eager", "script")) peer(py, "tools/bench-peers/pln_torch.py", c("f32", mode, "correct"), env)
  }
  # Base R is slow (~0.3 s per iteration here): time fewer iterations.
  peer("Rscript", "tools/bench-peers/pln_base.R", "correct", best, min(iters, 100L))
}
res <- do.call(rbind, rows)
ref <- res$seconds_per_1000[[1]]
res$ratio_to_rjax_level2 <- round(res$seconds_per_1000 / ref, 1)
utils::write.csv(res, "bench/results/pln.csv", row.names = FALSE)
md <- c(sprintf("# PLN tutorial fit: %s, n = %d, p = %d, %d iterations", dat$source, n, p, iters), "",
        "| implementation | dtype | configuration | s per 1000 it. | compile s | final loss | x rjax level 2 |",
        "|---|---|---|---|---|---|---|",
        sprintf("| %s | %s | %s | %.2f | %s | %.6g | %.1f |", res$impl, res$dtype, res$config, res$seconds_per_1000,
                ifelse(is.na(res$compile_seconds), "", sprintf("%.2f", res$compile_seconds)), res$final_loss,
                res$ratio_to_rjax_level2))
writeLines(md, "bench/results/pln.md")
cat(md, sep = "\n")
