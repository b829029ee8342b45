# Cost of reverse-mode AD on the PLN ELBO (ALGORITHMS.md) at the tutorial's
# size, n = 11600, p = 114, d = 1, in f64 and f32:
#   - run time of jit(value_and_grad(elbo)) relative to jit(elbo) (the goal
#     is <= 3x, JAX's rule of thumb for reverse mode);
#   - tracing + transform + compile time, twice: a fresh jitted function's
#     first call minus the median of its cached calls (what a user sees),
#     and the tracing + AD + simplification + compilation alone, timed
#     directly (rjax:::compile_traced, median of 3).
# Timings on a shared machine are noisy (other processes steal the cores
# that the thread pool waits on): compare min_s as well as median_s.
# Not a test: run it with
#   R_LIBS=lib Rscript inst/benchmarks/grad_overhead.R
# It prints a table and writes a CSV to $RJAX_BENCH_OUT (default: a file in
# tempdir()). Set RJAX_BENCH_REPS for more repetitions (default 10).
library(rjax)

n <- as.integer(Sys.getenv("RJAX_BENCH_N", "11600"))
p <- as.integer(Sys.getenv("RJAX_BENCH_P", "114"))
reps <- as.integer(Sys.getenv("RJAX_BENCH_REPS", "10"))
out <- Sys.getenv("RJAX_BENCH_OUT", file.path(tempdir(), "grad_overhead.csv"))

# The ELBO of ALGORITHMS.md with Omega an input: pln_fit()'s own definition
# (constant terms left out; they do not change the cost).
elbo <- function(B, M, S, Y, X, O, Omega) rjax:::pln_elbo_fixed(M, S, B, Omega, Y, X, O)

# Simulated data of the oaks tutorial's size.
set.seed(2023)
X <- matrix(1, n, 1)
O <- matrix(log(stats::runif(n * p, 500, 20000)), n, p)
B0 <- matrix(stats::rnorm(p, -6, 0.5), 1, p)
Y <- matrix(stats::rpois(n * p, exp(O + X %*% B0 + matrix(stats::rnorm(n * p, sd = 0.5), n, p))), n, p)
Q <- matrix(stats::rnorm(p * p), p)
args64 <- list(B = B0, M = matrix(0, n, p), S = matrix(0.5, n, p), Y = Y, X = X, O = O,
               Omega = crossprod(Q) / p + diag(p))

time_it <- function(f, args) {
  t <- system.time(r <- do.call(f, args))[["elapsed"]]
  force(r)
  t
}

rows <- list()
for (dt in c("f64", "f32")) {
  args <- lapply(args64, function(a) rj_array(a, dtype = dt))
  for (what in c("elbo", "value_and_grad")) {
    inner <- if (what == "elbo") elbo else value_and_grad(elbo, wrt = c("B", "M", "S"))
    f <- jit(inner)
    first <- time_it(f, args)
    direct <- stats::median(vapply(1:3, function(i) {
      system.time(rjax:::compile_traced(inner, rjax:::match_args(inner, args), character(), "interp"))[["elapsed"]]
    }, 0))
    runs <- vapply(seq_len(reps), function(i) time_it(f, args), 0)
    rows[[length(rows) + 1L]] <- data.frame(
      dtype = dt, program = what, n = n, p = p, reps = reps,
      first_call_s = first, median_s = stats::median(runs), min_s = min(runs),
      trace_transform_s = first - stats::median(runs), trace_compile_direct_s = direct
    )
  }
}
res <- do.call(rbind, rows)
res$ratio_median <- NA_real_
res$ratio_min <- NA_real_
for (dt in unique(res$dtype)) {
  sel <- res$dtype == dt
  base <- res[sel & res$program == "elbo", ]
  res$ratio_median[sel] <- res$median_s[sel] / base$median_s
  res$ratio_min[sel] <- res$min_s[sel] / base$min_s
}
# Program sizes, to relate time to work: operations after optimize().
res$n_ops <- vapply(seq_len(nrow(res)), function(i) {
  f <- if (res$program[[i]] == "elbo") elbo else value_and_grad(elbo, wrt = c("B", "M", "S"))
  small <- lapply(args64, function(a) if (is.matrix(a) && nrow(a) == n) a[1:2, , drop = FALSE] else a)
  summary_info <- utils::capture.output(info <- summary(make_ir(f)(small$B, small$M, small$S, small$Y, small$X, small$O, small$Omega)))
  info$n_ops
}, 0L)

utils::write.csv(res, out, row.names = FALSE)
print(res, digits = 3, row.names = FALSE)
cat("CSV written to", out, "\n")
cat(sprintf("backend: %s; threads: %s\n", getOption("rjax.backend", "interp"), Sys.getenv("RJAX_NUM_THREADS", "default")))
