# Collectives, shard_map() and the distributed PLN fit across processes:
# scripts in tests/mpi/ run under
#   mpirun --allow-run-as-root --oversubscribe -np K Rscript <script>
# (2 and 4 ranks on this machine), each bounded by a timeout; they print
# "RESULT <name> <value>" lines that the tests read. Skipped where OpenMPI
# is not installed (tools/install-deps.sh installs it).

mpi_script <- function(name) {
  p <- testthat::test_path("..", "mpi", name)
  if (!file.exists(p)) p <- system.file("mpi", name, package = "rjax")
  normalizePath(p)
}

skip_without_mpi <- function() {
  if (!nzchar(Sys.which("mpirun"))) skip("OpenMPI's mpirun is not installed (tools/install-deps.sh installs it)")
}

# Runs `script` on np ranks; returns list(status, seconds, results, output).
run_mpi <- function(script, np, env = character(), timeout = 120) {
  envs <- Sys.getenv()
  add <- c(R_LIBS = paste(.libPaths(), collapse = ":"), env)
  envs[names(add)] <- add
  args <- c("--allow-run-as-root", "--oversubscribe", "-np", np, "-x", "R_LIBS")
  for (v in names(env)) args <- c(args, "-x", v)
  args <- c(args, file.path(R.home("bin"), "Rscript"), "--vanilla", mpi_script(script))
  t0 <- proc.time()[["elapsed"]]
  res <- processx::run("mpirun", args, env = envs, timeout = timeout, error_on_status = FALSE, cleanup_tree = TRUE)
  out <- paste(res$stdout, res$stderr)
  list(status = res$status, timeout = isTRUE(res$timeout), seconds = proc.time()[["elapsed"]] - t0,
       results = vapply(child_results(res$stdout), trimws, ""), output = out)
}

expect_all_true <- function(run, expected) {
  expect_false(run$timeout, label = "the MPI job ends before its timeout")
  expect_identical(run$status, 0L, label = paste("mpirun's exit status; output:\n", substr(run$output, 1, 3000)))
  expect_identical(sort(names(run$results)), sort(expected))
  bad <- names(run$results)[run$results != "TRUE"]
  expect_identical(bad, character(), label = "failed checks")
}

collective_checks <- c("size", outer(c("psum", "pmean", "pmax", "pmin", "all_gather_rows", "all_gather_cols", "axis_index"),
                                     c("eager", "llvm", "interp"), paste, sep = "-"),
                       "normal-equations", "grad-replicated", "jit-grad-replicated", "grad-grad", "grad-rows",
                       "grad-pmax", "fori_loop", "deterministic-same-bits", "mismatch-shapes", "mismatch-program",
                       "after-mismatch", "traffic-counted", "done")

test_that("collectives and shard_map give the single-process answers on 2 and 4 ranks", {
  skip_without_mpi()
  for (np in c(2L, 4L)) {
    run <- run_mpi("collectives.R", np)
    expect_all_true(run, collective_checks)
  }
})

test_that("a rank that stops answering, fails or dies ends the job in bounded time", {
  skip_without_mpi()
  env <- c(RJAX_MPI_TIMEOUT = "3")
  run <- run_mpi("failures.R", 2L, c(env, RJAX_TEST_SCENARIO = "timeout"), timeout = 60)
  expect_false(run$timeout)
  expect_identical(unname(run$results[["timeout-class"]]), "rjax_distributed_timeout_error")
  expect_identical(unname(run$results[["after-timeout-class"]]), "rjax_distributed_error")
  expect_false(identical(run$status, 0L))
  for (s in c("error", "killed")) {
    run <- run_mpi("failures.R", 2L, c(env, RJAX_TEST_SCENARIO = s), timeout = 60)
    expect_false(run$timeout, label = paste(s, "ends before the test's timeout"))
    expect_false(identical(run$status, 0L), label = paste(s, "ends the job with an error"))
    expect_false("unreachable" %in% names(run$results), label = s)
    expect_lt(run$seconds, 40)
  }
})
