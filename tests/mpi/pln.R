# Run by tests/testthat/test-distributed.R under mpirun -np K: the
# distributed PLN fit from per-rank files (RJAX_TEST_SHARDS, written by the
# test with pln_write_shards()) with the control in RJAX_TEST_CONTROL
# (an .rds); rank 0 saves the fit (B, Sigma, ELBO, and every rank's M
# gathered by rows) to RJAX_TEST_OUT for the test to compare with the
# single-process fit.
suppressPackageStartupMessages(library(rjax))
sh <- pln_read_shard(Sys.getenv("RJAX_TEST_SHARDS"))
ctrl <- readRDS(Sys.getenv("RJAX_TEST_CONTROL"))
fit <- pln_fit_distributed(sh$Y, sh$X, sh$O, control = ctrl)
# M of all samples, for the comparison only (shards may be uneven: pad to
# the largest shard, gather, drop the padding).
info <- rj_mpi_info()
gather <- shard_map(function(x) rj_all_gather(x, "r"), "local", "replicated", axis = "r")
sizes <- gather(length(fit$rows) + 0)
pad <- matrix(0, max(sizes), ncol(fit$M))
pad[seq_len(nrow(fit$M)), ] <- fit$M
allM <- gather(pad)
keep <- unlist(lapply(seq_along(sizes), function(i) (i - 1) * max(sizes) + seq_len(sizes[[i]])))
if (info$rank == 0) {
  saveRDS(list(B = fit$B, Sigma = fit$Sigma, elbo = fit$elbo, M = allM[keep, , drop = FALSE], n_iter = fit$n_iter,
               ranks = fit$ranks, bytes_per_iter = fit$bytes_per_iter), Sys.getenv("RJAX_TEST_OUT"))
  cat("RESULT done TRUE\n")
}
