# Ctrl-C in compiled code: a child Rscript runs long (or endless) compiled
# programs one after the other; for each, it prints "READY k" just before
# the call, the test sends SIGINT, and the child must catch R's interrupt
# condition ("CAUGHT k interrupted"), free what the program held and carry
# on. The last lines check that memory went back and jitted functions still
# work.

interrupt_child <- function(scenarios, timeout_each = 30) {
  code <- c(
    "suppressPackageStartupMessages(library(rjax))",
    "live0 <- rjax_memory()$live",
    "step <- function(k, expr) {",
    "  cat('READY', k, '\\n'); flush(stdout())",
    "  t0 <- Sys.time()",
    "  r <- tryCatch({ force(expr); 'finished' }, interrupt = function(e) paste('interrupted', class(e)[1]))",
    "  cat('CAUGHT', k, r, format(as.numeric(Sys.time() - t0, units = 'secs')), '\\n'); flush(stdout())",
    "}",
    scenarios,
    "invisible(gc())",
    "report('live_after', rjax_memory()$live - live0)",
    "g <- jit(function(x) fori_loop(1L, 10L, function(i, c) c + i, x))",
    "report('usable', as.vector(g(0)) == 55)",
    "report('done', TRUE)")
  script <- tempfile(fileext = ".R")
  on.exit(unlink(script), add = TRUE)
  writeLines(c(child_prelude(), code), script)
  p <- processx::process$new(file.path(R.home("bin"), "Rscript"), c("--vanilla", script),
                             stdout = "|", stderr = "|", cleanup = TRUE, cleanup_tree = TRUE)
  on.exit(if (p$is_alive()) p$kill(), add = TRUE)
  caught <- list()
  out <- character()
  deadline <- Sys.time() + timeout_each
  while (p$is_alive() || p$is_incomplete_output()) {
    p$poll_io(200)
    lines <- p$read_output_lines()
    out <- c(out, lines)
    for (l in lines) {
      if (startsWith(l, "READY")) {
        Sys.sleep(0.5)  # let the program get going
        p$interrupt()
        deadline <- Sys.time() + timeout_each
      }
      if (startsWith(l, "CAUGHT")) caught[[length(caught) + 1L]] <- strsplit(trimws(l), " ")[[1L]]
    }
    if (Sys.time() > deadline) break
  }
  hung <- p$is_alive()
  if (hung) p$kill()
  list(caught = caught, results = vapply(child_results(paste(out, collapse = "\n")), trimws, ""), hung = hung,
       status = p$get_exit_status(), stderr = paste(p$read_all_error_lines(), collapse = "\n"))
}

test_that("SIGINT stops endless and long compiled loops with R's interrupt condition", {
  skip_on_os("windows")
  scenarios <- c(
    # endless while_loop, jitted (llvm), twice: the function stays usable
    "f <- jit(function(x) while_loop(function(c) TRUE, function(c) c + 1, x))",
    "step(1, f(0))",
    "step(2, f(0))",
    # eager while_loop (runs through jit) and the interpreter backend
    "step(3, while_loop(function(c) TRUE, function(c) c * 0.5, 1))",
    "fi <- jit(function(x) while_loop(function(c) c > -1, function(c) c * 0.5, x), backend = 'interp')",
    "step(4, fi(1))",
    # a fori_loop with a traced (huge) bound, and a scan of 2e9 steps
    "fl <- jit(function(x, n) fori_loop(1L, n, function(i, c) c * 0.5 + 1, x))",
    "step(5, fl(matrix(1, 10, 10), 2000000000L))",
    "step(6, scan_loop(function(c, x) list(c * 0.999 + 1, NULL), rep(1, 100), length = 2000000000L))",
    # a loop over a body with large kernels, on the pool (more than one thread)
    "options(rjax.threads = 2)",
    "big <- rj_array(matrix(runif(4e5), 400))",
    "fb <- jit(function(m) while_loop(function(s) sum(s) > -1, function(s) exp(-s) * 0.5 + s * 0.5, m))",
    "step(7, fb(big))",
    # the loop inside grad
    "gl <- grad(function(x) sum(scan_loop(function(c, i) list(c * 0.999999, NULL), x, length = 20000000L)$carry))",
    "step(8, gl(1))",
    "rm(big)")
  res <- interrupt_child(scenarios)
  expect_false(res$hung, label = paste("the child went on after every interrupt; stderr:", res$stderr))
  expect_equal(length(res$caught), 8L, label = paste("interrupts caught; stderr:", res$stderr))
  for (cg in res$caught) {
    expect_identical(cg[[3]], "interrupted", label = paste("scenario", cg[[2]], "stopped by the interrupt"))
    expect_identical(cg[[4]], "interrupt", label = paste("scenario", cg[[2]], "condition class"))
  }
  expect_equal(res$results[["usable"]], "TRUE")
  expect_lt(abs(as.numeric(res$results[["live_after"]])), 2^20)  # nothing left held
  expect_equal(res$status, 0L)
})

test_that("SIGINT stops a single long kernel between its chunks (one thread and two)", {
  skip_on_os("windows")
  # About 3 s of lgamma per call on this machine class; interrupted after
  # 0.5 s, the call must end long before a full run would.
  scenarios <- c(
    "x <- rj_array(seq(1, 2, length.out = 3e7), dtype = 'f32')",
    "h <- jit(function(x) sum(lgamma(x + 1) * lgamma(x + 2) + lgamma(x + 3) * lgamma(x + 4)))",
    "options(rjax.threads = 1)",
    "full1 <- system.time(h(x))[['elapsed']]",
    "step(1, h(x))",
    "options(rjax.threads = 2)",
    "full2 <- system.time(h(x))[['elapsed']]",
    "step(2, h(x))",
    "report('full', full1, full2)")
  res <- interrupt_child(scenarios)
  expect_false(res$hung, label = paste("no hang; stderr:", res$stderr))
  expect_equal(length(res$caught), 2L, label = paste("interrupts caught; stderr:", res$stderr))
  full <- as.numeric(strsplit(res$results[["full"]], " ")[[1L]])
  for (k in seq_along(res$caught)) {
    cg <- res$caught[[k]]
    expect_identical(cg[[3]], "interrupted", label = paste("kernel run", k))
    # cut short: well under a full run (not a speed assertion: both are
    # measured in the same process, one right after the other)
    expect_lt(as.numeric(cg[[5]]), 0.5 + 0.6 * full[[k]], label = paste("interrupted kernel run", k, "ended early"))
  }
})
