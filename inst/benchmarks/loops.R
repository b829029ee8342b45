# Loops: the JAX tutorial's 100-step iteration
#   x <- B %*% x + solve(A, x) + norm(x)      (norm: the 2-norm, sqrt(sum(x^2)))
# on 50-vectors, four ways:
#   base_r      a plain R loop on base matrices
#   eager       the same R loop on rj_arrays, op by op (no jit)
#   jit_step    an R loop calling a jitted step 100 times
#   fori_loop   jit(function(x, A, B) fori_loop(1, 100, step, x)): one
#               compiled program, the loop itself native
# and the per-iteration overhead of the compiled loop: the slope of its
# time against its length (fori_loop of 100 and 1000 steps) minus the
# body's own time, itself the slope of straight-line programs (the R loop
# unrolled at trace time into 10 and 50 steps: the same kernels, no loop).
# Not a test: run it with
#   R_LIBS=lib Rscript inst/benchmarks/loops.R
# It prints a table and writes a CSV to $RJAX_BENCH_OUT (default: a file in
# tempdir()). RJAX_BENCH_REPS sets the number of timing repetitions (default 7).
library(rjax)

n <- as.integer(Sys.getenv("RJAX_BENCH_N", "50"))
steps <- 100L
reps <- as.integer(Sys.getenv("RJAX_BENCH_REPS", "7"))
out <- Sys.getenv("RJAX_BENCH_OUT", file.path(tempdir(), "loops.csv"))
backend <- getOption("rjax.backend", "llvm")

set.seed(42)
A <- matrix(stats::rnorm(n * n), n) + diag(n) * n
B <- matrix(stats::rnorm(n * n), n) / n
x0 <- stats::rnorm(n)

step <- function(x, A, B) B %*% x + solve(A, x) + sqrt(sum(x^2))

base_loop <- function(x, A, B) {
  for (i in seq_len(steps)) x <- step(x, A, B)
  x
}
jit_step <- jit(step)
jit_step_loop <- function(x, A, B) {
  for (i in seq_len(steps)) x <- jit_step(x, A, B)
  x
}
loop_of <- function(len) jit(function(x, A, B) fori_loop(1, len, function(i, x) step(x, A, B), x))
fori_100 <- loop_of(steps)
fori_1000 <- loop_of(10L * steps)
unrolled_of <- function(len) jit(function(x, A, B) {
  for (i in seq_len(len)) x <- step(x, A, B)
  x
})
unrolled_10 <- unrolled_of(10L)
unrolled_50 <- unrolled_of(50L)
nothing <- jit(function(x, A, B) x)

# Seconds per call: calls are repeated until 0.2 s have passed (the clock's
# resolution is 1 ms), and the median of `reps` such measurements is taken.
per_call <- function(f, ...) {
  f(...)  # warm up (compiles jitted functions)
  one <- function() {
    k <- 0L
    t0 <- proc.time()[["elapsed"]]
    repeat {
      f(...)
      k <- k + 1L
      el <- proc.time()[["elapsed"]] - t0
      if (el >= 0.2) return(el / k)
    }
  }
  stats::median(vapply(seq_len(reps), function(i) one(), 0))
}

rA <- rj_array(A)
rB <- rj_array(B)
rx <- rj_array(x0)

# The four versions agree (relative error; the iterates grow like 7^k).
ref <- base_loop(x0, A, B)
rel <- function(v) max(abs(as.vector(v) - as.vector(ref)) / abs(as.vector(ref)))
check <- c(eager = rel(as.array(base_loop(rx, rA, rB))), jit_step = rel(as.array(jit_step_loop(rx, rA, rB))),
           fori_loop = rel(as.array(fori_100(rx, rA, rB))))
stopifnot(all(check < 1e-10))

times <- c(
  base_r = per_call(base_loop, x0, A, B),
  eager = per_call(base_loop, rx, rA, rB),
  jit_step = per_call(jit_step_loop, rx, rA, rB),
  fori_loop = per_call(fori_100, rx, rA, rB)
)
t_1000 <- per_call(fori_1000, rx, rA, rB)
t_u10 <- per_call(unrolled_10, rx, rA, rB)
t_u50 <- per_call(unrolled_50, rx, rA, rB)
t_nothing <- per_call(nothing, rx, rA, rB)

res <- data.frame(
  version = names(times), n = n, steps = steps, backend = backend,
  seconds = unname(times), per_step_us = unname(times) / steps * 1e6,
  vs_base_r = unname(times / times[["base_r"]]), vs_fori_loop = unname(times / times[["fori_loop"]])
)
slope <- (t_1000 - times[["fori_loop"]]) / (9 * steps)
body <- (t_u50 - t_u10) / 40
overhead <- data.frame(
  quantity = c("compiled loop, time per step (slope 100 -> 1000 steps)",
               "body alone (slope of unrolled programs, 10 -> 50 steps)",
               "per-iteration overhead (slope - body)",
               "compiled 100-step loop - 100 x body",
               "call of an empty jitted function"),
  microseconds = c(slope, body, slope - body, times[["fori_loop"]] - steps * body, t_nothing) * 1e6
)

utils::write.csv(res, out, row.names = FALSE)
utils::write.csv(overhead, sub("\\.csv$", "-overhead.csv", out), row.names = FALSE)
print(res, digits = 3, row.names = FALSE)
cat("\n")
print(overhead, digits = 3, row.names = FALSE)
cat("CSV written to", out, "\n")
