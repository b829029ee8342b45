# The distributed PLN fit (issue 16, item 5): time per iteration and bytes
# communicated per iteration for 1, 2 and 4 MPI ranks on this machine, and
# a cost model of one iteration at 1M cells x 2,000 genes on 8 and 64
# machines from the measured compute rates and stated network bandwidths.
#
# Not a test. Run it with
#   R_LIBS=lib Rscript inst/benchmarks/pln_distributed.R
# It launches `mpirun --oversubscribe -np K Rscript <this file>` for each K
# (ranks read their rows from per-rank files written by pln_write_shards()),
# prints tables and writes CSVs to $RJAX_BENCH_OUT (default: tempdir()).
# Sizes: RJAX_BENCH_N (samples, default 4000), RJAX_BENCH_P (species,
# default 114, oaks' width), RJAX_BENCH_ITERS (timed iterations, default 30).
#
# Timing: each rank fits `warm` and `warm + iters` iterations once to
# compile, then again timed; time per iteration is the difference over
# `iters` (start-up cancels), the slowest rank's. On a machine with fewer cores
# than ranks (oversubscribed) the ranks share cores: the table then shows
# the overhead of communication and sharing, not a speed-up.
library(rjax)

worker <- nzchar(Sys.getenv("OMPI_COMM_WORLD_SIZE"))
n <- as.integer(Sys.getenv("RJAX_BENCH_N", "4000"))
p <- as.integer(Sys.getenv("RJAX_BENCH_P", "114"))
iters <- as.integer(Sys.getenv("RJAX_BENCH_ITERS", "30"))
warm <- 10L
out_dir <- Sys.getenv("RJAX_BENCH_OUT", tempdir())

# Seconds per iteration of this rank's fit (and its bytes per iteration),
# for pln_fit()'s default variational EM (one iteration: one SQUAREM cycle
# of three EM steps) and the tutorial's RAdam path (one optimiser step).
algorithms <- c("vem", "radam")
time_fit <- function(sh, algorithm, backend = "llvm") {
  ctl <- function(k) pln_control(algorithm = algorithm, max_iter = warm + k, chunk = warm + k, ftol_rel = 0, backend = backend)
  run <- function(k) suppressWarnings(pln_fit_distributed(sh$Y, sh$X, sh$O, control = ctl(k)))
  run(0L)  # compiles both chunk lengths (pln_fit()'s programs are cached)
  run(iters)
  t_short <- system.time(run(0L))[["elapsed"]]
  t_long <- system.time(fit <- run(iters))[["elapsed"]]
  c(sec_per_iter = (t_long - t_short) / iters, bytes_per_iter = fit$bytes_per_iter, rows = length(fit$rows))
}

if (worker) {
  sh <- pln_read_shard(Sys.getenv("RJAX_BENCH_SHARDS"))
  r <- unlist(lapply(algorithms, function(a) time_fit(sh, a)))
  info <- rj_mpi_info()
  all <- shard_map(function(x) rj_all_gather(x, "r"), "local", "replicated", axis = "r")(r)
  if (info$rank == 0) saveRDS(array(all, c(3, length(algorithms), length(all) / (3 * length(algorithms))),
                                    dimnames = list(names(r)[1:3], algorithms, NULL)),
                              Sys.getenv("RJAX_BENCH_RESULT"))
  quit(save = "no")
}

# ---- driver ------------------------------------------------------------------------

self <- normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[[1]]))
sim <- pln_simulate(n, p, seed = 16)
rows <- list()
for (k in c(1L, 2L, 4L)) {
  dir <- file.path(tempdir(), sprintf("shards-%d", k))
  pln_write_shards(sim$Y, sim$X, sim$O, dir = dir, k = k)
  res <- file.path(tempdir(), sprintf("result-%d.rds", k))
  env <- c(sprintf("RJAX_BENCH_SHARDS=%s", dir), sprintf("RJAX_BENCH_RESULT=%s", res),
           sprintf("RJAX_BENCH_N=%d", n), sprintf("RJAX_BENCH_P=%d", p), sprintf("RJAX_BENCH_ITERS=%d", iters),
           sprintf("R_LIBS=%s", paste(.libPaths(), collapse = ":")))
  args <- c("--allow-run-as-root", "--oversubscribe", "-np", k,
            as.vector(rbind("-x", sub("=.*", "", env))), file.path(R.home("bin"), "Rscript"), self)
  status <- system2("env", c(env, "mpirun", args), stdout = FALSE, stderr = FALSE)
  if (status != 0 || !file.exists(res)) stop(sprintf("the %d-rank run failed (status %d)", k, status))
  m <- readRDS(res)
  for (a in algorithms) {
    rows[[length(rows) + 1L]] <- data.frame(algorithm = a, ranks = k, n = n, p = p, rows_per_rank = max(m["rows", a, ]),
                                            sec_per_iter = max(m["sec_per_iter", a, ]),
                                            bytes_per_iter_per_rank = max(m["bytes_per_iter", a, ]))
  }
}
tab <- do.call(rbind, rows)
tab <- tab[order(tab$algorithm != "vem", tab$ranks), ]
tab$speedup_vs_1 <- tab$sec_per_iter[match(tab$algorithm, tab$algorithm)] / tab$sec_per_iter
tab$cores <- parallel::detectCores()
load <- tryCatch(base::scan("/proc/loadavg", n = 3, quiet = TRUE), error = function(e) NA)
tab$load_avg_1min <- load[[1]]
utils::write.csv(tab, file.path(out_dir, "pln_distributed.csv"), row.names = FALSE)
cat(sprintf("\nDistributed PLN fit, n = %d, p = %d, f64, llvm backend, %d cores, load average %s:\n\n", n, p,
            parallel::detectCores(), paste(round(load, 1), collapse = " ")))
cat("| algorithm | ranks | rows/rank | ms/iteration | bytes sent/iteration/rank | speed-up |\n|---|---|---|---|---|---|\n")
for (i in seq_len(nrow(tab))) {
  cat(sprintf("| %s | %d | %d | %.2f | %.0f | %.2f |\n", tab$algorithm[i], tab$ranks[i], tab$rows_per_rank[i],
              1000 * tab$sec_per_iter[i], tab$bytes_per_iter_per_rank[i], tab$speedup_vs_1[i]))
}

# ---- cost model ----------------------------------------------------------------------
# One iteration on a rank with n_r rows costs
#   n_r p t_elem          element-wise work (ELBO terms, gradients, Newton
#                         steps, optimiser), measured: what the one-rank
#                         timing above leaves after its matrix products
# + g x 2 n_r p^2 / R     g n_r x p x p matrix products at the measured GEMM
#                         rate R (flop/s, rjax's crossprod): RAdam 3 (M Omega,
#                         its transpose in the gradient, crossprod(M)); the
#                         variational EM 2 per EM step (R Omega, crossprod(R)),
#                         3 steps per SQUAREM cycle
# + h c p^3               the replicated p x p algebra (solve and a Cholesky
#                         of Sigma; h = 1 for RAdam, 3 for the EM)
# + ring all-reductions:  RAdam 2 calls of (d p + p^2 + p + 1) doubles in all;
#                         the EM 3 x 5 calls of (3 d p + p^2 + 1) doubles in all
#                         per cycle, plus SQUAREM's 2 calls of 2 numbers.
shape <- list(radam = list(g = 3, h = 1, calls = 2, doubles = function(d, p) d * p + p^2 + p + 1),
              vem = list(g = 6, h = 3, calls = 17, doubles = function(d, p) 3 * (3 * d * p + p^2 + 1) + 4))
Mg <- matrix(stats::rnorm(n * 3L * p), n)
cp <- jit(function(M) crossprod(M))
invisible(cp(Mg))
t_gemm <- system.time(for (i in 1:5) cp(Mg))[["elapsed"]] / 5
R_gemm <- 2 * n * (3 * p)^2 / t_gemm
S <- crossprod(matrix(stats::rnorm(600 * 600), 600)) + diag(600)
t_p3 <- system.time(for (i in 1:3) { solve(S); chol(S) })[["elapsed"]] / 3
cc <- t_p3 / 600^3
N <- 1e6; P <- 2000; D <- 1
nets <- list(`10 Gb/s Ethernet (1.25 GB/s, 20 us)` = c(1.25e9, 20e-6), `100 Gb/s InfiniBand (12.5 GB/s, 2 us)` = c(12.5e9, 2e-6))
model <- list()
for (a in algorithms) {
  sh <- shape[[a]]
  t1 <- tab$sec_per_iter[tab$algorithm == a & tab$ranks == 1L]
  t_elem <- max(t1 - sh$g * 2 * n * p^2 / R_gemm, 0) / (n * p)
  bytes <- 8 * sh$doubles(D, P)
  for (M in c(8, 64)) {
    nr <- N / M
    comp <- t_elem * nr * P + sh$g * 2 * nr * P^2 / R_gemm + sh$h * cc * P^3
    for (net in names(nets)) {
      bw <- nets[[net]][[1]]; lat <- nets[[net]][[2]]
      # ring all-reduce: each rank sends and receives 2 (M-1)/M of the
      # payload, in 2 (M-1) latency-bound steps per call
      comm <- 2 * (M - 1) / M * bytes / bw + sh$calls * 2 * (M - 1) * lat
      model[[length(model) + 1L]] <- data.frame(algorithm = a, machines = M, rows_per_machine = nr, network = net,
                                                t_elem = t_elem, payload_MB = bytes / 1e6,
                                                compute_s = comp, comm_s = comm, total_s = comp + comm,
                                                comm_share = comm / (comp + comm))
    }
  }
}
model <- do.call(rbind, model)
utils::write.csv(model, file.path(out_dir, "pln_distributed_model.csv"), row.names = FALSE)
cat(sprintf(paste0("\nCost model, 1M cells x 2,000 genes, d = 1, f64, one rank per machine at this machine's ",
                   "rates: GEMM %.1f GFLOP/s, p^3 algebra %.3g s per p^3; element-wise s per sample x species and ",
                   "all-reduce payload per iteration in the table (load average %s)\n\n"),
            R_gemm / 1e9, cc, paste(round(load, 1), collapse = " ")))
cat("| algorithm | machines | rows/machine | network | element-wise s | payload MB | compute s/iter | communication s/iter | total s/iter | communication share |\n|---|---|---|---|---|---|---|---|---|---|\n")
for (i in seq_len(nrow(model))) {
  cat(sprintf("| %s | %d | %.0f | %s | %.3g | %.1f | %.2f | %.3f | %.2f | %.1f%% |\n", model$algorithm[i], model$machines[i],
              model$rows_per_machine[i], model$network[i], model$t_elem[i], model$payload_MB[i],
              model$compute_s[i], model$comm_s[i], model$total_s[i], 100 * model$comm_share[i]))
}
cat(sprintf("\nCSV files in %s\n", out_dir))
