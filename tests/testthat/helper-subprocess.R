# Running R code in a fresh R process, for the tests where a crash, a hang,
# a signal or an environment setting is the point (test-fuzz.R,
# test-threads.R, test-interrupt.R, test-memory.R). The child loads rjax
# from the same library paths as the tests.

# Runs the R script `code` (a character vector of lines) with Rscript;
# `env` are extra environment variables, `ulimit_v` an address-space limit
# in KiB. Returns list(status, stdout, stderr, timeout, crashed) — status
# NA when the process was killed at the timeout.
run_rscript <- function(code, env = character(), timeout = 60, ulimit_v = NULL) {
  script <- tempfile(fileext = ".R")
  on.exit(unlink(script), add = TRUE)
  writeLines(c(child_prelude(), code), script)
  rscript <- file.path(R.home("bin"), "Rscript")
  cmd <- paste(shQuote(rscript), "--vanilla", shQuote(script))
  if (!is.null(ulimit_v)) cmd <- paste0("ulimit -v ", as.integer(ulimit_v), " && exec ", cmd)
  else cmd <- paste("exec", cmd)
  envs <- Sys.getenv()
  add <- c(callr::rcmd_safe_env(), env)
  envs[names(add)] <- add
  res <- processx::run("sh", c("-c", cmd), env = envs, timeout = timeout,
                       error_on_status = FALSE, cleanup_tree = TRUE)
  list(status = res$status, stdout = res$stdout, stderr = res$stderr, timeout = isTRUE(res$timeout),
       crashed = !isTRUE(res$timeout) && !identical(res$status, 0L))
}

# The first lines of every child script: the tests' library paths, and
# report(name, ...), which prints "RESULT name values" for child_results().
child_prelude <- function() {
  c(sprintf(".libPaths(%s)", paste(deparse(.libPaths()), collapse = "")),
    "report <- function(name, ...) cat('RESULT', name, paste(c(...), collapse = ' '), '\\n')")
}

# Runs a child script that must end normally; returns its reported results
# (trimmed strings by name).
run_child <- function(code, ...) {
  res <- run_rscript(code, ...)
  testthat::expect_false(res$crashed || res$timeout, label = paste("the child R process ends normally:", res$stderr))
  vapply(child_results(res$stdout), trimws, "")
}

# The lines a child printed after a given tag ("RESULT name value").
child_results <- function(stdout, tag = "RESULT") {
  lines <- strsplit(stdout, "\n", fixed = TRUE)[[1L]]
  lines <- lines[startsWith(lines, paste0(tag, " "))]
  parts <- strsplit(sub(paste0("^", tag, " "), "", lines), " ", fixed = TRUE)
  stats::setNames(vapply(parts, function(p) paste(p[-1L], collapse = " "), ""), vapply(parts, `[[`, "", 1L))
}

# ---- batches of cases ----------------------------------------------------
#
# A case is list(name, expr = quote(...), ref = quote(...) or NULL, ...)
# (see fz() in test-fuzz.R). run_cases() evaluates the cases in as few R
# processes as it can: each child runs the remaining cases in order (`ref`,
# the base R reference, right after `expr`), saving each outcome to its own
# file as soon as it is known; if the child dies or hangs, the case it was
# running is recorded as a crash or hang and a new child resumes after it.
# Each outcome is list(kind = "value" | "error" | "interrupt" | "crash" |
# "hang", value, class, message, warnings, ref = <outcome of ref>).

run_cases <- function(cases, env = character(), timeout = 60, setup = NULL) {
  dir <- tempfile("rjax-cases-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  saveRDS(lapply(cases, function(cs) list(expr = cs$expr, ref = cs$ref)), file.path(dir, "exprs.rds"))
  n <- length(cases)
  out <- vector("list", n)
  first <- 1L
  while (first <= n) {
    code <- c(
      "suppressPackageStartupMessages(library(rjax))",
      if (!is.null(setup)) deparse(setup, width.cutoff = 500L),
      sprintf("dir <- %s", deparse(dir)),
      "exprs <- readRDS(file.path(dir, 'exprs.rds'))",
      "plain <- function(v) {",
      "  if (is_rj_array(v)) { r <- as.vector(v); if (length(dim(v)) >= 2L) dim(r) <- dim(v); return(r) }",
      "  if (is.list(v) && !is.object(v)) return(lapply(v, plain))",
      "  if (!is.null(v) && !is.atomic(v) && !is.list(v) || is.object(v) && !is.atomic(v)) return(paste0('<', class(v)[1], '>'))",
      "  v",
      "}",
      "outcome <- function(e) {",
      "  warns <- character()",
      "  o <- withCallingHandlers(",
      "    tryCatch(list(kind = 'value', value = plain(eval(e, new.env(parent = globalenv())))),",
      "             error = function(e) list(kind = 'error', class = class(e), message = conditionMessage(e)),",
      "             interrupt = function(e) list(kind = 'interrupt', class = class(e))),",
      "    warning = function(w) { warns <<- c(warns, paste(class(w)[1], conditionMessage(w), sep = ': ')); invokeRestart('muffleWarning') })",
      "  o$warnings <- warns",
      "  o",
      "}",
      sprintf("for (k in seq.int(%d, length(exprs))) {", first),
      "  cat(k, '\\n', file = file.path(dir, 'started'), append = FALSE)",
      "  o <- outcome(exprs[[k]]$expr)",
      "  if (!is.null(exprs[[k]]$ref)) o$ref <- outcome(exprs[[k]]$ref)",
      "  saveRDS(o, file.path(dir, sprintf('%04d.rds', k)))",
      "}"
    )
    res <- run_rscript(code, env = env, timeout = timeout)
    done <- vapply(first:n, function(k) file.exists(file.path(dir, sprintf("%04d.rds", k))), TRUE)
    for (k in first:n) if (done[k - first + 1L]) out[[k]] <- readRDS(file.path(dir, sprintf("%04d.rds", k)))
    if (all(done)) break
    started <- suppressWarnings(as.integer(readLines(file.path(dir, "started"), warn = FALSE)))
    if (!length(started) || is.na(started) || started < first) started <- first
    if (!is.null(out[[started]])) {  # died between cases: go on after it
      first <- started + 1L
      next
    }
    out[[started]] <- list(kind = if (res$timeout) "hang" else "crash", status = res$status,
                           message = substr(res$stderr, max(1L, nchar(res$stderr) - 2000L), nchar(res$stderr)))
    first <- started + 1L
  }
  out
}
