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
                       "grad-pmax", "grad-inside-convention", "fori_loop", "deterministic-same-bits", "mismatch-shapes", "mismatch-program",
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

# ---- the distributed PLN fit ---------------------------------------------------

read_oaks <- function() {
  dir <- oaks_dir()
  if (is.null(dir)) return(NULL)
  Y <- as.matrix(utils::read.csv(file.path(dir, "counts.csv")))
  O <- log(as.matrix(utils::read.csv(file.path(dir, "offsets.csv"))))
  list(Y = Y, X = matrix(1, nrow(Y), 1), O = O)
}

expect_same_fit <- function(a, b, tol = 1e-9, label = "") {
  expect_equal(unname(a$B), unname(b$B), tolerance = tol, label = paste(label, "B"))
  expect_equal(unname(a$Sigma), unname(b$Sigma), tolerance = tol, label = paste(label, "Sigma"))
  expect_equal(a$elbo, b$elbo, tolerance = tol, label = paste(label, "ELBO"))
  expect_equal(unname(a$M), unname(b$M), tolerance = tol, label = paste(label, "M"))
}

test_that("one rank: pln_fit_distributed() is pln_fit()'s gradient path", {
  sim <- pln_simulate(40, 6, d = 2, seed = 3)
  ctrl <- pln_control(max_iter = 60, chunk = 30)
  a <- pln_fit_distributed(sim$Y, sim$X, sim$O, control = ctrl)
  b <- pln_fit(sim$Y, X = sim$X, O = sim$O, control = ctrl)
  expect_same_fit(a, b, label = "simulated")
  expect_identical(a$rows, 1:40)
  expect_identical(a$n_iter, b$n_iter)
  expect_output(print(a), "1 MPI rank")
  expect_identical(coef(a), a$B)
  oaks <- read_oaks()
  skip_if(is.null(oaks), "oaks data not available")
  ctrl <- pln_control(max_iter = 40, chunk = 20)
  a <- pln_fit_distributed(oaks$Y, oaks$X, oaks$O, control = ctrl)
  b <- pln_fit(oaks$Y, X = oaks$X, O = oaks$O, control = ctrl)
  expect_same_fit(a, b, label = "oaks")
})

test_that("shards on disk: each rank reads its own rows", {
  sim <- pln_simulate(7, 3, seed = 1)
  dir <- tempfile()
  files <- pln_write_shards(sim$Y, O = sim$O, dir = dir, k = 3)
  expect_length(files, 3L)
  parts <- lapply(files, readRDS)
  expect_identical(do.call(rbind, lapply(parts, `[[`, "Y")), sim$Y)
  expect_identical(vapply(parts, function(p) nrow(p$Y), 1L), c(3L, 2L, 2L))
  # one process is rank 0 of 1: it needs the file of a 1-rank split
  expect_error(pln_read_shard(dir), "pln_write_shards", class = "rjax_value_error")
  pln_write_shards(sim$Y, O = sim$O, dir = dir, k = 1)
  expect_identical(pln_read_shard(dir)$Y, sim$Y)
})

# Runs tests/mpi/pln.R on np ranks from shard files; returns rank 0's fit.
run_pln_mpi <- function(Y, X, O, ctrl, np) {
  dir <- tempfile()
  pln_write_shards(Y, X, O, dir = dir, k = np)
  cfile <- tempfile(fileext = ".rds")
  out <- tempfile(fileext = ".rds")
  saveRDS(ctrl, cfile)
  run <- run_mpi("pln.R", np, c(RJAX_TEST_SHARDS = dir, RJAX_TEST_CONTROL = cfile, RJAX_TEST_OUT = out))
  expect_all_true(run, "done")
  readRDS(out)
}

test_that("on 2 and 4 ranks from per-rank files the fit equals the single-process fit", {
  skip_without_mpi()
  sim <- pln_simulate(61, 8, d = 2, seed = 1)  # 61 rows: uneven shards
  ctrl <- pln_control(max_iter = 60, chunk = 30)
  ref <- pln_fit(sim$Y, X = sim$X, O = sim$O, control = ctrl)
  for (np in c(2L, 4L)) {
    got <- run_pln_mpi(sim$Y, sim$X, sim$O, ctrl, np)
    expect_identical(got$ranks, np)
    expect_same_fit(got, ref, label = sprintf("simulated, %d ranks", np))
    # two all-reductions per iteration: d p, then p^2 + p + 1 numbers (plus 16-byte headers)
    expect_equal(got$bytes_per_iter, 8 * (2 * 8 + 8^2 + 8 + 1) + 2 * 16, tolerance = 0.01)  # + the trace-time agreement
  }
  oaks <- read_oaks()
  skip_if(is.null(oaks), "oaks data not available")
  ctrl <- pln_control(max_iter = 40, chunk = 20)
  ref <- pln_fit(oaks$Y, X = oaks$X, O = oaks$O, control = ctrl)
  got <- run_pln_mpi(oaks$Y, oaks$X, oaks$O, ctrl, 4L)
  expect_same_fit(got, ref, label = "oaks, 4 ranks")
})
