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
                                     c("eager", "llvm", "interp", if (nzchar(Sys.which("c++"))) "cuda-shim"), paste, sep = "-"),
                       "normal-equations", "grad-replicated", "jit-grad-replicated", "grad-grad", "grad-rows",
                       "grad-pmax", "jvp", "vmap", "hessian", "grad-inside-convention", "fori_loop", "deterministic-same-bits", "mismatch-shapes", "mismatch-program",
                       "after-mismatch", "traffic-counted", "nccl-not-used-on-the-shim", "done")

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
  tree <- factor(utils::read.csv(file.path(dir, "covariates.csv"))$tree, levels = c("susceptible", "intermediate", "resistant"))
  list(Y = Y, X = matrix(1, nrow(Y), 1), O = O, X_tree = stats::model.matrix(~ 0 + tree))
}

# The fits below stop at max_iter on purpose (short runs of the same iterations).
quietly <- function(expr) {
  withCallingHandlers(expr, rjax_pln_not_converged_warning = function(w) invokeRestart("muffleWarning"))
}

expect_same_fit <- function(a, b, tol = 1e-9, label = "") {
  expect_equal(unname(a$B), unname(b$B), tolerance = tol, label = paste(label, "B"))
  expect_equal(unname(a$Sigma), unname(b$Sigma), tolerance = tol, label = paste(label, "Sigma"))
  expect_equal(a$elbo, b$elbo, tolerance = tol, label = paste(label, "ELBO"))
  expect_equal(unname(a$M), unname(b$M), tolerance = tol, label = paste(label, "M"))
}

test_that("one rank: pln_fit_distributed() is pln_fit()'s gradient path", {
  sim <- pln_simulate(40, 6, d = 2, seed = 3)
  ctrl <- pln_control(algorithm = "radam", max_iter = 60, chunk = 30)
  a <- quietly(pln_fit_distributed(sim$Y, sim$X, sim$O, control = ctrl))
  b <- quietly(pln_fit(sim$Y, X = sim$X, O = sim$O, control = ctrl))
  expect_identical(a$n_iter, 60L)
  expect_same_fit(a, b, label = "simulated")
  expect_identical(a$rows, 1:40)
  expect_identical(a$n_iter, b$n_iter)
  expect_s3_class(a, c("pln_fit_distributed", "pln_fit"), exact = TRUE)
  expect_output(print(a), "1 MPI rank")
  expect_identical(coef(a), a$B)
  expect_error(pln_fit_distributed(sim$Y, control = pln_control(algorithm = "radam", covariance = "diagonal")),
               "covariance", class = "rjax_pln_control_error")
  oaks <- read_oaks()
  skip_if(is.null(oaks), "oaks data not available")
  ctrl <- pln_control(algorithm = "radam", max_iter = 40, chunk = 20)
  a <- quietly(pln_fit_distributed(oaks$Y, oaks$X, oaks$O, control = ctrl))
  b <- quietly(pln_fit(oaks$Y, X = oaks$X, O = oaks$O, control = ctrl))
  expect_same_fit(a, b, label = "oaks")
})

test_that("one rank: the distributed variational EM is pln_fit()'s default fit", {
  sim <- pln_simulate(50, 6, d = 2, seed = 4)
  a <- pln_fit_distributed(sim$Y, sim$X, sim$O)
  b <- pln_fit(sim$Y, X = sim$X, O = sim$O)
  expect_true(a$converged)
  expect_identical(a$n_iter, b$n_iter)
  expect_same_fit(a, b, label = "VEM, continuous covariate")
  expect_equal(a$loglik, b$loglik, tolerance = 1e-12)
  # methods that sum over samples agree (they reduce over the ranks)
  expect_equal(vcov(a), vcov(b), tolerance = 1e-10)
  expect_equal(ICL(a), ICL(b), tolerance = 1e-12)
  expect_identical(nobs(a), 50L)
  # formula interface, factor design (the indicator Newton design), weights
  dat <- pln_data(sim$Y, data.frame(g = gl(5, 10)), offset = exp(sim$O))
  w <- rep(c(1, 2), 25)
  a <- pln_fit(Abundance ~ g + offset(log(Offset)), dat, weights = w, control = pln_control(distributed = TRUE))
  b <- pln_fit(Abundance ~ g + offset(log(Offset)), dat, weights = w)
  expect_s3_class(a, "pln_fit_distributed")
  expect_same_fit(a, b, label = "VEM, factor design, weights")
  expect_output(print(pln_control(distributed = TRUE)), "distributed")
  expect_error(pln_control(distributed = NA), "distributed", class = "rjax_pln_control_error")
  expect_error(pln_pca(Abundance ~ 1, dat, ranks = 1, control = pln_control(distributed = TRUE)),
               "distributed", class = "rjax_pln_control_error")
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
  ctrl <- pln_control(algorithm = "radam", max_iter = 60, chunk = 30)
  ref <- quietly(pln_fit(sim$Y, X = sim$X, O = sim$O, control = ctrl))
  vem <- pln_control(max_iter = 25, chunk = 25)  # stops early on purpose: the same iterations
  ref_vem <- quietly(pln_fit(sim$Y, X = sim$X, O = sim$O, control = vem))
  for (np in c(2L, 4L)) {
    got <- run_pln_mpi(sim$Y, sim$X, sim$O, ctrl, np)
    expect_identical(got$ranks, np)
    expect_same_fit(got, ref, label = sprintf("simulated, %d ranks", np))
    # two all-reductions per iteration: d p, then p^2 + p + 1 numbers (plus 16-byte headers)
    expect_equal(got$bytes_per_iter, 8 * (2 * 8 + 8^2 + 8 + 1) + 2 * 16, tolerance = 0.01)  # + the trace-time agreement
    got <- run_pln_mpi(sim$Y, sim$X, sim$O, vem, np)
    expect_same_fit(got, ref_vem, tol = 1e-7, label = sprintf("simulated, variational EM, %d ranks", np))
    # per iteration (3 EM steps): B, Sigma, ELBO and the two Newton sums per step, then SQUAREM's 2 sums and 2 maxima
    expect_equal(got$bytes_per_iter, 3 * (8 * (2 * 8 + 8^2 + 1 + 2 * 2 * 8) + 5 * 16) + 2 * (8 * 2 + 16), tolerance = 0.01)
  }
  oaks <- read_oaks()
  skip_if(is.null(oaks), "oaks data not available")
  ctrl <- pln_control(algorithm = "radam", max_iter = 40, chunk = 20)
  ref <- quietly(pln_fit(oaks$Y, X = oaks$X, O = oaks$O, control = ctrl))
  got <- run_pln_mpi(oaks$Y, oaks$X, oaks$O, ctrl, 4L)
  expect_same_fit(got, ref, label = "oaks, 4 ranks")
  # ~ 0 + tree on 4 ranks: each rank holds some of the three trees only
  X <- oaks$X_tree
  vem <- pln_control(max_iter = 20, chunk = 20)
  ref <- quietly(pln_fit(oaks$Y, X = X, O = oaks$O, control = vem))
  got <- run_pln_mpi(oaks$Y, X, oaks$O, vem, 4L)
  expect_same_fit(got, ref, tol = 1e-6, label = "oaks ~ tree, variational EM, 4 ranks")
})
