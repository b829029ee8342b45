# Micro-benchmarks of the LLVM backend.
#   Rscript inst/benchmarks/micro.R [out.csv]
# 1. selu over 1e6 doubles: rjax jit (llvm), rjax jit (interp), rjax eager
#    (op by op on device arrays), base R.
# 2. A PLN ELBO value_and_grad at n = 11600, p = 114: llvm vs interp.
# 3. Compile latency: a tiny function, and the PLN ELBO + gradient.
# Times are medians of >= 5 runs after a warm-up call; written as CSV.
suppressPackageStartupMessages(library(rjax))
args <- commandArgs(trailingOnly = TRUE)
out_csv <- if (length(args)) args[[1]] else "micro-benchmarks.csv"
reps <- 7L

med_time <- function(f, reps) {
  f()  # warm-up (compiles on first call)
  t <- vapply(seq_len(reps), function(i) system.time(f())[["elapsed"]], 0)
  median(t)
}
rows <- list()
add <- function(bench, variant, seconds) {
  rows[[length(rows) + 1L]] <<- data.frame(bench = bench, variant = variant, seconds = seconds)
  cat(sprintf("%-22s %-14s %9.3f ms\n", bench, variant, 1000 * seconds))
}

# ---- 1. selu ------------------------------------------------------------------
selu <- function(x, alpha = 1.67, lambda = 1.05) lambda * ifelse(x > 0, x, alpha * exp(x) - alpha)
set.seed(1)
x <- rnorm(1e6)
xd <- rj_array(x)
jl <- jit(selu, backend = "llvm")
ji <- jit(selu, backend = "interp")
stopifnot(isTRUE(all.equal(as.vector(jl(xd)), selu(x))))
add("selu_1e6", "rjax_llvm", med_time(function() jl(xd), reps))
add("selu_1e6", "rjax_interp", med_time(function() ji(xd), reps))
add("selu_1e6", "rjax_eager", med_time(function() selu(xd), reps))
add("selu_1e6", "base_R", med_time(function() selu(x), reps))

# ---- 1b. five nested diff() on 1e5 doubles ---------------------------------------
five_diff <- function(x) diff(diff(diff(diff(diff(x)))))
x5 <- rnorm(1e5); x5d <- rj_array(x5)
jd <- jit(five_diff)
stopifnot(isTRUE(all.equal(as.vector(jd(x5d)), five_diff(x5))))
add("diff5_1e5", "rjax_llvm", med_time(function() jd(x5d), reps))
add("diff5_1e5", "rjax_eager", med_time(function() five_diff(x5d), reps))
add("diff5_1e5", "base_R", med_time(function() five_diff(x5), reps))

# ---- 1c. Simpson's rule for 200 functions on 100 sub-intervals, N = 512 -----------
# f_k(x) = sin(k x) exp(-x / k) on [j/100, (j+1)/100]: the "stacked" form
# integrates one function at a time and stacks the results, the "broadcast"
# form evaluates all 200 x 100 x 513 points at once.
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
stopifnot(isTRUE(all.equal(as.matrix(js(xg, wts)), simpson_stacked(xg, wts))))
stopifnot(isTRUE(all.equal(as.matrix(jb(X3, K3, wts)), simpson_broadcast(X3, K3, wts))))
xgd <- rj_array(xg); X3d <- rj_array(X3); K3d <- rj_array(K3 + 0)
add("simpson_stacked", "rjax_llvm", med_time(function() js(xgd, wts), reps))
add("simpson_stacked", "base_R", med_time(function() simpson_stacked(xg, wts), reps))
add("simpson_broadcast", "rjax_llvm", med_time(function() jb(X3d, K3d, wts), reps))
add("simpson_broadcast", "base_R", med_time(function() simpson_broadcast(X3, K3, wts), reps))

# ---- 2. PLN ELBO value and gradient ----------------------------------------------
n <- 11600; p <- 114; d <- 3
X <- matrix(rnorm(n * d), n); B <- matrix(rnorm(d * p, sd = 0.1), d)
O <- matrix(log(runif(n * p, 0.5, 2)), n); M <- matrix(rnorm(n * p, sd = 0.1), n)
S2 <- matrix(runif(n * p, 0.05, 0.3), n); Y <- matrix(rpois(n * p, 2), n)
elbo <- function(B, M, S2, X, O, Y) {
  XB <- X %*% B
  A <- exp(O + M + XB + S2 / 2)
  -sum(-A + Y * (O + M + XB) + 0.5 * log(S2))
}
pl_args <- lapply(list(B, M, S2, X, O, Y), rj_array)
vg_l <- jit(value_and_grad(elbo, wrt = 1:3), backend = "llvm")
vg_i <- jit(value_and_grad(elbo, wrt = 1:3), backend = "interp")
add("pln_vg_11600x114", "rjax_llvm", med_time(function() do.call(vg_l, pl_args), reps))
add("pln_vg_11600x114", "rjax_interp", med_time(function() do.call(vg_i, pl_args), reps))
add("pln_elbo_11600x114", "base_R", med_time(function() elbo(B, M, S2, X, O, Y), reps))

# ---- 3. compile latency (first call minus a cached call) --------------------------
first_call <- function(make) {
  f <- make()
  t1 <- system.time(f())[["elapsed"]]
  t2 <- system.time(f())[["elapsed"]]
  t1 - t2
}
# A structure unseen in this session, so the kernel compile cache misses.
tiny <- function() { k <- runif(1); jf <- jit(function(x) x * k + 1, backend = "llvm"); function() jf(1:10) }
add("compile_tiny", "rjax_llvm", median(vapply(1:5, function(i) first_call(tiny), 0)))
add("compile_pln_vg", "rjax_llvm", first_call(function() {
  jf <- jit(value_and_grad(function(B, M, S2, X, O, Y) elbo(B, M, S2, X, O, Y) * 1.000001, wrt = 1:3), backend = "llvm")
  function() do.call(jf, pl_args)
}))

res <- do.call(rbind, rows)
write.csv(res, out_csv, row.names = FALSE)
sec <- function(b, v) res$seconds[res$bench == b & res$variant == v]
cat(sprintf("\nselu: base R / llvm = %.1fx, eager / llvm = %.1fx, interp / llvm = %.1fx\n",
            sec("selu_1e6", "base_R") / sec("selu_1e6", "rjax_llvm"),
            sec("selu_1e6", "rjax_eager") / sec("selu_1e6", "rjax_llvm"),
            sec("selu_1e6", "rjax_interp") / sec("selu_1e6", "rjax_llvm")))
for (b in c("diff5_1e5", "simpson_stacked", "simpson_broadcast"))
  cat(sprintf("%s: base R / llvm = %.1fx\n", b, sec(b, "base_R") / sec(b, "rjax_llvm")))
cat(sprintf("PLN value_and_grad: interp / llvm = %.1fx\n",
            sec("pln_vg_11600x114", "rjax_interp") / sec("pln_vg_11600x114", "rjax_llvm")))
cat("wrote", out_csv, "\n")
