# Run by tests/testthat/test-distributed.R under
#   mpirun --allow-run-as-root --oversubscribe -np K Rscript collectives.R
# Every rank builds the whole data set (it is small and seeded), runs the
# distributed computation on its share and compares with the
# single-process answer; each check prints "RESULT <name> <TRUE|FALSE>"
# (rank 0 prints; the other ranks' checks are folded in with rj_pmin_axis).
suppressPackageStartupMessages(library(rjax))
options(rjax.mpi_timeout = 60)
info <- rj_mpi_info()
K <- info$size
r <- info$rank
all_ok <- function(ok) {
  # a check passes when it passes on every rank
  shard_map(function(v) rj_pmin_axis(v, "i"), "replicated", "replicated", axis = "i")(as.integer(isTRUE(ok))) == 1L
}
report <- function(name, ok) {
  ok <- all_ok(ok)
  if (r == 0) cat("RESULT", name, ok, "\n")
}
near <- function(a, b, tol = 1e-12) isTRUE(all.equal(as.vector(as.array(a)), as.vector(as.array(b)), tolerance = tol))

report("size", K == as.integer(Sys.getenv("OMPI_COMM_WORLD_SIZE")))

# Each rank's block, and what every rank should get.
blk <- function(q) matrix(seq_len(6) * (q + 1) + c(0.5, -2, 3, 1, 0, -1) * q, 3, 2)
mine <- blk(r)
blocks <- lapply(seq_len(K) - 1L, blk)
total <- Reduce(`+`, blocks)
per_rank <- shard_map(function(x) {
  list(rj_psum(x, "i"), rj_pmean(x, "i"), rj_pmax_axis(x, "i"), rj_pmin_axis(x, "i"), rj_all_gather(x, "i"),
       rj_all_gather(x, "i", dim = 2), rj_axis_index("i"))
}, in_specs = "local", out_specs = c(rep("replicated", 6), "local"), axis = "i")
expect <- list(total, total / K, Reduce(pmax, blocks), Reduce(pmin, blocks), do.call(rbind, blocks),
               do.call(cbind, blocks), r)
# "cuda-shim": the CUDA executable (its collective steps, which take NCCL
# on a GPU and the host path on the shim) with the kernels on the host grid
# shim; it needs a C++ compiler.
modes <- c("eager", "llvm", "interp", if (nzchar(Sys.which("c++"))) "cuda-shim")
for (mode in modes) {
  got <- switch(mode, eager = per_rank(mine), llvm = jit(per_rank, backend = "llvm")(mine),
                interp = jit(per_rank, backend = "interp")(mine),
                `cuda-shim` = jit_compile(jit_lower(jit(per_rank), mine), backend = "cuda-shim")(mine))
  nm <- c("psum", "pmean", "pmax", "pmin", "all_gather_rows", "all_gather_cols", "axis_index")
  for (k in seq_along(nm)) report(paste0(nm[[k]], "-", mode), near(got[[k]], expect[[k]]))
}

# Row-sharded data: shard_map splits the rows itself (uneven when K does
# not divide n), and reductions equal the single-process ones.
set.seed(7)
n <- 11
X <- cbind(1, matrix(rnorm(n * 2), n))
y <- as.vector(X %*% c(1, -2, 0.5)) + rnorm(n, sd = 0.1)
ne <- shard_map(function(X, y) list(rj_psum(crossprod(X), "i"), rj_psum(crossprod(X, y), "i")),
                in_specs = "rows", out_specs = "replicated", axis = "i")(X, y)
report("normal-equations", near(solve(ne[[1]], ne[[2]]), solve(crossprod(X), crossprod(X, y)), 1e-10))

# grad() outside shard_map is the gradient of the global function.
loss <- function(beta, X, y) {
  shard_map(function(beta, X, y) rj_psum(sum((y - X %*% beta)^2), "i"),
            in_specs = c("replicated", "rows", "rows"), out_specs = "replicated", axis = "i")(beta, X, y)
}
plain <- function(beta, X, y) sum((y - X %*% beta)^2)
b <- c(0.2, -0.1, 0.3)
report("grad-replicated", near(grad(loss)(b, X, y), grad(plain)(b, X, y), 1e-10))
report("jit-grad-replicated", near(jit(grad(loss))(b, X, y), grad(plain)(b, X, y), 1e-10))
report("grad-grad", near(grad(function(b) sum(grad(loss)(b, X, y)^2))(b), grad(function(b) sum(grad(plain)(b, X, y)^2))(b), 1e-9))
# ... and with respect to a row-sharded argument, with rows gathered back (K | n).
X8 <- X[1:8, ]
rows_out <- function(X) sum(tanh(shard_map(function(X) X^2 * 0.5, "rows", "rows", axis = "i")(X)))
report("grad-rows", near(grad(rows_out)(X8), grad(function(X) sum(tanh(X^2 * 0.5)))(X8), 1e-10))
# extremes: the gradient goes to the rank holding the extreme
ext <- function(x) sum(shard_map(function(x) rj_pmax_axis(x, "i"), "local", "replicated", axis = "i")(x)^2)
g <- grad(ext)(mine)
mx <- Reduce(pmax, blocks)
report("grad-pmax", near(g, ifelse(mine == mx, 2 * mx / Reduce(`+`, lapply(blocks, function(b) b == mx)), 0)))

# Forward mode, batching and second derivatives through shard_map.
tb <- c(1, -0.5, 2)
jv <- jvp(function(b) loss(b, X, y), list(b), list(tb))
report("jvp", near(jv$tangent, sum(grad(plain)(b, X, y) * tb), 1e-10))
Bs <- cbind(b, 2 * b, -b, b + 1)
report("vmap", near(vmap(function(b) loss(b, X, y))(Bs), apply(Bs, 2, function(bb) plain(bb, X, y)), 1e-10))
report("hessian", near(hessian(function(b) loss(b, X, y))(b), 2 * crossprod(X), 1e-9))

# grad() inside f differentiates the sum over ranks (pmap's convention,
# documented in ?shard_map): K times the rank's share of a psum-ed loss.
inside <- shard_map(function(b) grad(function(b) rj_psum(sum(b^2), "i"))(b), "replicated", "replicated", axis = "i")
report("grad-inside-convention", near(inside(b), K * 2 * b))

# A loop with a collective in every iteration (gradient descent).
step <- shard_map(function(w, X, y) w - 0.05 * rj_psum(crossprod(X, X %*% w - y), "i") / n,
                  in_specs = c("replicated", "rows", "rows"), out_specs = "replicated", axis = "i")
gd <- jit(function(w, X, y) fori_loop(1, 30, function(i, w) step(w, X, y), w))
w <- c(0, 0, 0)
for (i in 1:30) w <- w - 0.05 * crossprod(X, X %*% w - y) / n
report("fori_loop", near(gd(c(0, 0, 0), X, y), w, 1e-10))

# Deterministic reductions: every rank gets the same bits.
options(rjax.mpi_deterministic = TRUE)
invisible(rj_mpi_info())
v <- shard_map(function(x) rj_psum(x, "i"), "local", "replicated", axis = "i")(runif(5) * 10^(r %% 3) / 3)
same <- shard_map(function(v) rj_all_gather(v, "i"), "replicated", "replicated", axis = "i")(v)
report("deterministic-same-bits", all(apply(matrix(same, 5), 1, function(z) length(unique(z)) == 1L)))
options(rjax.mpi_deterministic = FALSE)
invisible(rj_mpi_info())

# Mismatches are classed errors on every rank, and the job goes on.
err <- tryCatch(shard_map(function(x) rj_psum(x, "i"), "local", "replicated", axis = "i")(rep(1, 2 + r)),
                error = function(e) class(e)[[1L]])
report("mismatch-shapes", identical(err, "rjax_distributed_mismatch_error"))
fr <- if (r == 0) function(x) rj_psum(x, "i") else function(x) rj_psum(x * 2, "i")
err <- tryCatch(shard_map(fr, "local", "replicated", axis = "i")(1), error = function(e) class(e)[[1L]])
report("mismatch-program", identical(err, "rjax_distributed_mismatch_error"))
report("after-mismatch", near(shard_map(function(x) rj_psum(x, "i"), "local", "replicated", axis = "i")(1), K))

tr <- rj_mpi_info()
report("traffic-counted", tr$calls > 0 && tr$bytes > 0)
# NCCL is only for GPUs: the shim's collectives went through MPI.
report("nccl-not-used-on-the-shim", !rj_nccl_info()$in_use)
if (r == 0) cat("RESULT done TRUE\n")
