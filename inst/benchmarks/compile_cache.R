# Persistent compile cache: cold vs warm start, each in a fresh R process.
#   pln_fit   the first pln_fit() call of a session (3 iterations: the
#             time is tracing and compiling its compiled scan, the RAdam
#             step with its gradient and closed forms, plus a few ms of run)
#   chain1000 a program of ~1000 primitives (element-wise chains broken by
#             reductions, so it compiles to many kernels): jit_lower()
#             (trace + optimise) and jit_compile() timed separately
# "cold": an empty cache directory; "warm": the directory a cold process
# filled; "off": no cache (what a session pays today); "import_warm"
# (chain1000): jit_import() of the program the cold process exported, with
# the warm cache: no tracing at all. Each cell is the median over
# RJAX_BENCH_REPS fresh processes (default 3). The cache saves LLVM's
# optimisation and code generation; tracing (R code) runs in every session
# that calls jit(), so it bounds the warm/cold ratio of a jit() start.
# Goal (issue 12): warm start at least 10x faster than cold.
# Not a test: run it with
#   R_LIBS=lib Rscript inst/benchmarks/compile_cache.R
# It prints a table and writes a CSV to $RJAX_BENCH_OUT (default: a file in tempdir()).
reps <- as.integer(Sys.getenv("RJAX_BENCH_REPS", "3"))
out <- Sys.getenv("RJAX_BENCH_OUT", file.path(tempdir(), "compile_cache.csv"))
rscript <- file.path(R.home("bin"), "Rscript")

child_code <- function(case, dir, mode) {
  prog <- file.path(dir, "chain1000.rjax")
  c(sprintf(".libPaths(%s)", paste(deparse(.libPaths()), collapse = "")),
    "suppressPackageStartupMessages(library(rjax))",
    if (!is.na(dir)) sprintf("options(rjax.cache_dir = '%s')", dir),
    "el <- function(e) e[['elapsed']]",
    if (case == "pln_fit") c(
      "sim <- pln_simulate(200, 20, seed = 1)",
      "t <- el(system.time(pln_fit(sim$Y, O = sim$O, control = pln_control(max_iter = 3))))",
      "cat('RESULT total', t, '\\n')"
    ) else if (mode == "import_warm") c(
      "el <- function(e) e[['elapsed']]",
      sprintf("t <- el(system.time(g <- jit_import('%s')))", prog),
      "cat('RESULT compile', t, '\\n'); cat('RESULT total', t, '\\n')"
    ) else c(
      "f <- function(x) {",
      "  for (i in 1:62) {",
      "    x <- sin(x) * 0.999 + cos(x * 1.001) * 0.25 + exp(-x * x) - tanh(x) * 0.5",
      "    x <- x - sum(x) / length(x)",
      "  }",
      "  sum(x * x)",
      "}",
      "x <- seq(-1, 1, length.out = 1000)",
      "jf <- jit(f, backend = 'llvm')",
      "t1 <- el(system.time(lo <- jit_lower(jf, x)))",
      "t2 <- el(system.time(run <- jit_compile(lo)))",
      "cat('RESULT trace', t1, '\\n'); cat('RESULT compile', t2, '\\n'); cat('RESULT total', t1 + t2, '\\n')",
      "cat('RESULT n_ops', summary(make_ir(f)(x))$n_ops, '\\n')",
      if (mode == "cold") sprintf("jit_export(lo, file = '%s')", prog)
    ),
    "i <- rjax_cache_info(); cat('RESULT hits', i$hits, '\\n')")
}

run_child <- function(case, dir, mode) {
  script <- tempfile(fileext = ".R")
  writeLines(child_code(case, if (mode == "off") NA else dir, mode), script)
  on.exit(unlink(script))
  o <- system2(rscript, c("--vanilla", script), stdout = TRUE, stderr = FALSE)
  r <- grep("^RESULT ", o, value = TRUE)
  v <- as.numeric(sub("^RESULT [a-z_0-9]+ ", "", r))
  names(v) <- sub("^RESULT ([a-z_0-9]+) .*", "\\1", r)
  v
}

rows <- list()
for (case in c("pln_fit", "chain1000")) {
  for (rep in seq_len(reps)) {
    dir <- tempfile("rjax-cache-bench-")
    for (mode in c("off", "cold", "warm", if (case == "chain1000") "import_warm")) {
      v <- run_child(case, dir, mode)
      rows[[length(rows) + 1L]] <- data.frame(case = case, mode = mode, rep = rep, total_s = v[["total"]],
                                              trace_s = if ("trace" %in% names(v)) v[["trace"]] else NA,
                                              compile_s = if ("compile" %in% names(v)) v[["compile"]] else NA,
                                              cache_hits = v[["hits"]],
                                              n_ops = if ("n_ops" %in% names(v)) v[["n_ops"]] else NA)
    }
    unlink(dir, recursive = TRUE)
  }
}
res <- do.call(rbind, rows)
utils::write.csv(res, out, row.names = FALSE)
med <- stats::aggregate(cbind(total_s, trace_s, compile_s) ~ case + mode, res, stats::median, na.action = na.pass)
summ <- do.call(rbind, lapply(split(med, med$case), function(d) {
  g <- function(m, col) d[d$mode == m, col]
  data.frame(case = d$case[[1L]], off_s = g("off", "total_s"), cold_s = g("cold", "total_s"), warm_s = g("warm", "total_s"),
             ratio_cold_warm = g("cold", "total_s") / g("warm", "total_s"),
             compile_ratio = if (all(is.na(d$compile_s))) NA else g("cold", "compile_s") / g("warm", "compile_s"),
             import_warm_s = if (any(d$mode == "import_warm")) g("import_warm", "total_s") else NA,
             ratio_cold_import = if (any(d$mode == "import_warm")) g("cold", "total_s") / g("import_warm", "total_s") else NA,
             goal_10x = g("cold", "total_s") / g("warm", "total_s") >= 10)
}))
print(res, row.names = FALSE)
cat("\nMedians (seconds) and cold/warm ratios (goal: >= 10x):\n")
print(summ, row.names = FALSE, digits = 3)
utils::write.csv(summ, sub("\\.csv$", "_ratios.csv", out), row.names = FALSE)
cat("\nwrote ", out, " and ", sub("\\.csv$", "_ratios.csv", out), "\n", sep = "")
