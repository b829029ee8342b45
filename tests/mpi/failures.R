# Run by tests/testthat/test-distributed.R under mpirun -np 2 with the
# scenario in RJAX_TEST_SCENARIO; every scenario must end the whole job in
# bounded time (the test measures it), never hang:
#   timeout  rank 1 skips a collective: rank 0 gets
#            rjax_distributed_timeout_error after RJAX_MPI_TIMEOUT seconds
#   error    rank 1 stops on an uncaught R error while rank 0 waits
#   killed   rank 1 is killed (SIGKILL) while rank 0 waits
suppressPackageStartupMessages(library(rjax))
info <- rj_mpi_info()
r <- info$rank
psum1 <- shard_map(function(x) rj_psum(x, "i"), "local", "replicated", axis = "i")
invisible(psum1(1))  # everybody is here
scenario <- Sys.getenv("RJAX_TEST_SCENARIO")
if (scenario == "timeout") {
  if (r == 0) {
    cls <- tryCatch({ psum1(2); "none" }, error = function(e) class(e)[[1L]])
    cat("RESULT timeout-class", cls, "\n")
    cls2 <- tryCatch({ psum1(3); "none" }, error = function(e) class(e)[[1L]])
    cat("RESULT after-timeout-class", cls2, "\n")
  } else {
    Sys.sleep(1)
  }
} else if (scenario == "error") {
  if (r == 1) stop("rank 1 fails on purpose")
  psum1(2)
  cat("RESULT unreachable TRUE\n")
} else if (scenario == "killed") {
  if (r == 1) tools::pskill(Sys.getpid(), tools::SIGKILL)
  psum1(2)
  cat("RESULT unreachable TRUE\n")
}
