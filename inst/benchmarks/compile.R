# Compile time that scales: trace + compile of element-wise chains of
# 10 / 100 / 1000 / 5000 primitives, and of the PLN step (loss, gradient and
# RAdam update of the tutorial's fit), in one process.
#   Rscript inst/benchmarks/compile.R [out.csv]   (env: COMPILE_SIZES="10,100,1000,5000")
# Every chain uses constants that differ from step to step, so no kernel
# comes from the compile cache (a chain that repeats a pattern compiles each
# distinct piece once and is much cheaper). "arith": mul, add, sub, div;
# "math": exp, tanh, sin beside mul and add. Times: elapsed and CPU
# seconds (the machine is shared: CPU seconds are the steadier figure; the
# load average is recorded), and the backend's own split (IR, optimiser,
# machine code) from jit_dump().
suppressPackageStartupMessages(library(rjax))
args <- commandArgs(trailingOnly = TRUE)
out_csv <- if (length(args)) args[[1]] else "compile-benchmarks.csv"
sizes <- as.integer(strsplit(Sys.getenv("COMPILE_SIZES", "10,100,1000,5000"), ",")[[1]])

chain <- function(n, kind) {
  force(n); force(kind)
  function(x) {
    for (i in seq_len(n)) {
      x <- if (kind == "arith") {
        switch(i %% 4 + 1, x * (1 + i / 1e6), x + i / 1e5, x - i / 1e6, x / (1 + i / 1e6))
      } else {
        switch(i %% 5 + 1, exp(-x), x * (1 + i / 1e6), tanh(x), x + i / 1e5, sin(x))
      }
    }
    x
  }
}

timed <- function(expr) {
  t <- system.time(force(expr))
  list(elapsed = t[["elapsed"]], cpu = t[["user.self"]] + t[["sys.self"]])
}

backend_split <- function(lowered_fn) {
  # "; compiled K kernel(s): IR a ms, optimiser b ms, machine code c ms"
  d <- jit_dump(lowered_fn)
  l <- grep("^; compiled", strsplit(d[[length(d)]], "\n")[[1]], value = TRUE)
  num <- as.numeric(regmatches(l, gregexpr("[0-9.]+", l))[[1]])
  list(kernels = num[[1]], ir = num[[2]] / 1e3, opt = num[[3]] / 1e3, mc = num[[4]] / 1e3)
}

rows <- list()
# First call minus a second (cached) call of the same jitted function:
# tracing, graph passes, fusion and LLVM. The LLVM part is the backend's own
# account; the rest (R tracing, IR passes, planning) is the difference.
add <- function(bench, n, jf, call) {
  first <- timed(call())
  again <- timed(call())
  split <- backend_split(jf)
  total <- first$elapsed - again$elapsed
  llvm <- split$ir + split$opt + split$mc
  rows[[length(rows) + 1L]] <<- data.frame(
    bench = bench, primitives = n, total_s = total, total_cpu_s = first$cpu - again$cpu,
    trace_and_passes_s = total - llvm, kernels = split$kernels,
    llvm_ir_s = split$ir, llvm_optimiser_s = split$opt, llvm_machine_code_s = split$mc, load = load_now())
  cat(sprintf("%-20s %5s prims: %.3f s (cpu %.3f s): tracing+passes %.3f, %d kernels: IR %.3f, opt %.3f, mc %.3f\n",
              bench, format(n), total, first$cpu - again$cpu, total - llvm, split$kernels, split$ir, split$opt, split$mc))
}
load_now <- function() if (file.exists("/proc/loadavg")) as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][[1]]) else NA

x <- rnorm(1000)
for (kind in c("arith", "math")) for (n in sizes) {
  jf <- jit(chain(n, kind), backend = "llvm")
  add(paste0("chain_", kind), n, jf, function() jf(x))
}

# The PLN step at the tutorial's size: loss + gradient (value_and_grad) and
# the RAdam update, each jitted as level 1 of pln_levels.R does.
source(system.file("benchmarks", "pln_levels.R", package = "rjax"))
set.seed(1)
n <- 11600; p <- 114
Y <- matrix(rpois(n * p, 3), n); O <- matrix(0, n, p)
data <- tut_data(Y, O, "f32"); params <- tut_init(Y, "f32"); opt <- tut_opt()
vg <- jit(tut_vg(FALSE), backend = "llvm")
Om <- rj_array(diag(p), dtype = "f32")
add("pln_value_and_grad", NA_integer_, vg, function() vg(params, Om, data$Y, data$O, data$X, data$stir))

res <- do.call(rbind, rows)
write.csv(res, out_csv, row.names = FALSE)
cat("goals: 1000-primitive chain < 0.5 s; PLN step < 0.1 s\n")
for (b in unique(res$bench)) {
  r <- res[res$bench == b, ]
  if (any(r$primitives == 1000, na.rm = TRUE)) cat(sprintf("%s 1000: %.3f s (%.2fx the 0.5 s goal)\n", b,
                                                         r$total_s[r$primitives == 1000], r$total_s[r$primitives == 1000] / 0.5))
}
r <- res[res$bench == "pln_value_and_grad", ]
cat(sprintf("PLN value_and_grad: %.3f s (%.2fx the 0.1 s goal)\n", r$total_s, r$total_s / 0.1))
cat(sprintf("load average during the run: %s\n", paste(range(res$load), collapse = " - ")))
cat("wrote", out_csv, "\n")
