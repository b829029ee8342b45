# Per-call overhead of rjax: a jitted call of a tiny function with one
# argument, with 10 arguments, with a nested list of 10 leaves; an eager
# element-wise op on a small array; and the part of a jitted call that is
# its signature (flattening + cache key), in R (signature_key()) and in C++
# (src/rcpp_dispatch.cpp). Base R's call of the same tiny function for scale.
#   Rscript inst/benchmarks/overhead.R [out.csv]
# Goals (issue 14): <= 3 us (one argument), <= 10 us (10 arguments or a
# nested list of 10 leaves), <= 3 us (eager element-wise op). Medians of 25
# batches of back-to-back calls; the CSV records the load average (the
# machine may be shared: per-call times scale with it).
suppressPackageStartupMessages(library(rjax))
args <- commandArgs(trailingOnly = TRUE)
out_csv <- if (length(args)) args[[1]] else "overhead-benchmarks.csv"
load_now <- function() if (file.exists("/proc/loadavg")) as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][[1]]) else NA

per_call_us <- function(f, k = 2000L, reps = 25L) {
  f()
  stats::median(vapply(seq_len(reps), function(i) system.time(for (j in seq_len(k)) f())[["elapsed"]] / k, 0)) * 1e6
}
rows <- list()
add <- function(case, variant, us, goal = NA_real_) {
  rows[[length(rows) + 1L]] <<- data.frame(case = case, variant = variant, microseconds = us, goal_us = goal,
                                           ratio_to_goal = us / goal, load = load_now())
  cat(sprintf("%-28s %-22s %9.2f us%s\n", case, variant, us, if (is.na(goal)) "" else sprintf("  (goal %g us: %.1fx)", goal, us / goal)))
}

x <- rj_array(c(1, 2, 3))
tiny <- function(x) x + 1
jt <- jit(tiny)
add("one argument", "base R function", per_call_us(function() tiny(3)))
add("one argument", "jit", per_call_us(function() jt(x)), 3)

ten <- function(a, b, c, d, e, f, g, h, i, j) a + b + c + d + e + f + g + h + i + j
j10 <- jit(ten)
add("10 arguments", "jit", per_call_us(function() j10(x, x, x, x, x, x, x, x, x, x)), 10)

nest <- function(p) p$a + p$b[[1]] + p$b[[2]] + p$b[[3]] + p$c$d + p$c$e + p$c$f[[1]] + p$c$f[[2]] + p$c$f[[3]] + p$c$f[[4]]
jn <- jit(nest)
p <- list(a = x, b = list(x, x, x), c = list(d = x, e = x, f = list(x, x, x, x)))
add("nested list of 10 leaves", "jit", per_call_us(function() jn(p)), 10)

add("eager element-wise op", "rj_array + 1", per_call_us(function() x + 1), 3)
add("eager element-wise op", "base R c(1,2,3) + 1", per_call_us(function() c(1, 2, 3) + 1))

# The signature alone: R's signature_key() and the C++ entry point.
sk <- rjax:::signature_key  # R's rules alone: without its first two lines (the C++ fast path)
body(sk) <- body(sk)[-(2:3)]
cs <- function(a) .Call(rjax:::C_rjc_signature, a, character())
a1 <- list(x = x); a10 <- setNames(rep(list(x), 10), letters[1:10]); an <- list(p = p)
for (case in list(list("one argument", a1), list("10 arguments", a10), list("nested list of 10 leaves", an))) {
  a <- case[[2]]
  add(case[[1]], "signature in R", per_call_us(function() sk(a, character())))
  add(case[[1]], "signature in C++", per_call_us(function() cs(a)))
}

res <- do.call(rbind, rows)
utils::write.csv(res, out_csv, row.names = FALSE)
cat(sprintf("load average: %s\nwrote %s\n", paste(range(res$load), collapse = " - "), out_csv))
