# Benchmarks of the transformations (issue 11, item 7), rjax beside the
# alternatives in one run; writes a CSV with the time per call and the
# ratios the goals are about.
#   RJAX_NUM_THREADS=2 Rscript inst/benchmarks/transforms.R [out.csv] [scale]
# 1. Jacobians: jacfwd vs jacrev vs central finite differences in base R,
#    for a 100 -> 100 function and a 100 -> 1 function.
# 2. The Hessian of a logistic-regression log-likelihood (n = 10000,
#    p = 50; `scale` < 1 shrinks n) by hessian() vs the hand-written
#    -t(X) %*% (w * X) in base R. Goal: within 3x of base R.
# 3. A Newton step of the box Lagrangian (vignette "transformations") over
#    1000 starts: vmap of the step (one compiled batched program) vs an R
#    loop over the jitted single-start step vs base R vectorised by hand.
#    Goal: vmap at least 20x faster than the R loop.
# Times are per call: the median over 5 batches after a warm-up (compiles).
suppressPackageStartupMessages(library(rjax))
args <- commandArgs(trailingOnly = TRUE)
out_csv <- if (length(args) >= 1) args[[1]] else "transforms.csv"
scale <- if (length(args) >= 2) as.numeric(args[[2]]) else 1

per_call <- function(f, calls = 5L, batches = 5L) {
  f()
  t <- vapply(seq_len(batches), function(i) {
    t0 <- proc.time()[["elapsed"]]
    for (j in seq_len(calls)) f()
    (proc.time()[["elapsed"]] - t0) / calls
  }, 0)
  median(t)
}
rows <- list()
add <- function(bench, variant, f, calls = 5L) {
  t <- per_call(f, calls)
  rows[[length(rows) + 1L]] <<- data.frame(bench = bench, variant = variant, median_s = t,
                                            threads = Sys.getenv("RJAX_NUM_THREADS", ""))
  cat(sprintf("%-34s %-22s %10.3f ms\n", bench, variant, 1000 * t))
}

fd_jacobian <- function(f, x, eps = 1e-6) {
  f0 <- f(x)
  J <- matrix(0, length(f0), length(x))
  for (j in seq_along(x)) {
    xp <- x; xp[j] <- xp[j] + eps
    xm <- x; xm[j] <- xm[j] - eps
    J[, j] <- (f(xp) - f(xm)) / (2 * eps)
  }
  J
}

# ---- 1. Jacobians ---------------------------------------------------------------
set.seed(1)
A <- matrix(rnorm(100 * 100) / 10, 100)
f_vec <- function(x) tanh(A %*% x) * x          # 100 -> 100
f_scal <- function(x) sum(log1p(exp(A %*% x)))  # 100 -> 1
x0 <- rnorm(100)
jf_vec <- jacfwd(f_vec); jr_vec <- jacrev(f_vec)
jf_sc <- jacfwd(f_scal); jr_sc <- jacrev(f_scal)
stopifnot(max(abs(as.array(jf_vec(x0)) - as.array(jr_vec(x0)))) < 1e-10)
add("jacobian 100->100", "jacfwd", function() jf_vec(x0))
add("jacobian 100->100", "jacrev", function() jr_vec(x0))
add("jacobian 100->100", "finite_diff_base_R", function() fd_jacobian(function(x) as.numeric(tanh(A %*% x) * x), x0))
add("jacobian 100->1", "jacfwd", function() jf_sc(x0))
add("jacobian 100->1", "jacrev", function() jr_sc(x0))
add("jacobian 100->1", "finite_diff_base_R", function() fd_jacobian(function(x) sum(log1p(exp(A %*% x))), x0))

# ---- 2. Hessian of a logistic log-likelihood -------------------------------------
n <- as.integer(10000 * scale); p <- 50L
X <- matrix(rnorm(n * p), n)
y <- rbinom(n, 1, 0.5)
b0 <- rnorm(p) / 10
ll <- function(b) sum(y * (X %*% b) - log1p(exp(X %*% b)))
h_ll <- hessian(ll)
hand <- function(b) {
  pr <- 1 / (1 + exp(-X %*% b))
  -crossprod(X, as.numeric(pr * (1 - pr)) * X)
}
stopifnot(max(abs(as.array(h_ll(b0)) - hand(b0))) < 1e-6 * max(abs(hand(b0))))
add(sprintf("hessian logistic n=%d p=%d", n, p), "rjax_hessian", function() h_ll(b0))
add(sprintf("hessian logistic n=%d p=%d", n, p), "base_R_hand_written", function() hand(b0))

# ---- 3. A Newton step over 1000 starts ---------------------------------------------
L <- function(v) v[1] * v[2] * v[3] - v[4] * (2 * (v[1] * v[2] + v[2] * v[3] + v[1] * v[3]) - 24)
gL <- grad(L); HL <- hessian(L)
step1 <- function(v) v - solve(HL(v), gL(v))
jstep <- jit(step1)
vstep <- jit(vmap(step1))
S <- 1000L
V <- as.array(rj_uniform(rj_key(0), c(4, S))) * c(2.5, 2.5, 2.5, 1) + c(0.5, 0.5, 0.5, 0)
# base R by hand: the gradient vectorised over the columns, the Hessian
# written out, one 4 x 4 solve() per column (base R has no batched solve)
base_step <- function(V) {
  x <- V[1, ]; yy <- V[2, ]; z <- V[3, ]; l <- V[4, ]
  g <- rbind(yy * z - 2 * l * (yy + z), x * z - 2 * l * (x + z), x * yy - 2 * l * (x + yy),
             -(2 * (x * yy + yy * z + x * z) - 24))
  out <- V
  for (k in seq_len(ncol(V))) {
    H <- matrix(c(0, z[k] - 2 * l[k], yy[k] - 2 * l[k], -2 * (yy[k] + z[k]),
                  z[k] - 2 * l[k], 0, x[k] - 2 * l[k], -2 * (x[k] + z[k]),
                  yy[k] - 2 * l[k], x[k] - 2 * l[k], 0, -2 * (x[k] + yy[k]),
                  -2 * (yy[k] + z[k]), -2 * (x[k] + z[k]), -2 * (x[k] + yy[k]), 0), 4)
    out[, k] <- V[, k] - solve(H, g[, k])
  }
  out
}
ref <- base_step(V)
stopifnot(max(abs(as.array(vstep(V)) - ref)) < 1e-8)
stopifnot(max(abs(as.numeric(jstep(V[, 7])) - ref[, 7])) < 1e-8)
add("newton step x1000 starts", "rjax_vmap", function() vstep(V))
add("newton step x1000 starts", "R_loop_over_jit", function() for (k in seq_len(S)) jstep(V[, k]), calls = 1L)
add("newton step x1000 starts", "base_R_by_hand", function() base_step(V), calls = 1L)

res <- do.call(rbind, rows)
ratio <- function(bench, num, den) {
  r <- res[res$bench == bench, ]
  r$median_s[r$variant == num] / r$median_s[r$variant == den]
}
hb <- sprintf("hessian logistic n=%d p=%d", n, p)
ratios <- data.frame(
  bench = c("jacobian 100->100", "jacobian 100->100", "jacobian 100->1", "jacobian 100->1", hb,
            "newton step x1000 starts", "newton step x1000 starts"),
  ratio = c("finite_diff / jacfwd", "jacrev / jacfwd", "finite_diff / jacrev", "jacfwd / jacrev",
            "rjax_hessian / base_R_hand_written", "R_loop_over_jit / rjax_vmap", "base_R_by_hand / rjax_vmap"),
  value = c(ratio("jacobian 100->100", "finite_diff_base_R", "jacfwd"), ratio("jacobian 100->100", "jacrev", "jacfwd"),
            ratio("jacobian 100->1", "finite_diff_base_R", "jacrev"), ratio("jacobian 100->1", "jacfwd", "jacrev"),
            ratio(hb, "rjax_hessian", "base_R_hand_written"),
            ratio("newton step x1000 starts", "R_loop_over_jit", "rjax_vmap"),
            ratio("newton step x1000 starts", "base_R_by_hand", "rjax_vmap")),
  goal = c(NA, NA, NA, NA, "<= 3", ">= 20", NA)
)
res$ratio <- NA_character_
out <- rbind(cbind(res[, c("bench", "variant", "median_s", "threads")], kind = "time"),
             data.frame(bench = ratios$bench, variant = ratios$ratio, median_s = ratios$value,
                        threads = Sys.getenv("RJAX_NUM_THREADS", ""), kind = paste("ratio, goal", ratios$goal)))
utils::write.csv(out, out_csv, row.names = FALSE)
cat("\nratios:\n")
print(ratios, row.names = FALSE)
cat("wrote", out_csv, "\n")
