# Runs the C++ unit tests of the core (build/core/rjax_tests, built by
# `make test` through tools/core/Makefile) and the testthat suite against the
# rjax installed in ./lib, and prints the total counts
# "N passed, N failed, N skipped" as the last line; exits non-zero on any failure.
library(testthat)
library(rjax)
res <- testthat::test_dir("tests/testthat", reporter = testthat::SummaryReporter$new(),
                          stop_on_failure = FALSE, load_package = "none")
df <- as.data.frame(res)
passed <- sum(df$passed)
failed <- sum(df$failed) + sum(df$error)
skipped <- sum(df$skipped)
# The C++ tests print their own "N passed, N failed, N skipped" line last; a
# missing binary or a run without that line counts as one failure.
cpp <- c(passed = 0, failed = 1, skipped = 0)
cpp_bin <- file.path("build", "core", "rjax_tests")
if (file.exists(cpp_bin)) {
  out <- suppressWarnings(system2(cpp_bin, stdout = TRUE, stderr = TRUE))
  cat("C++ unit tests (tests/cpp):", out[grepl("^(FAIL|SKIP)", out)], tail(out, 1), sep = "\n")
  m <- regmatches(tail(out, 1), regexec("^([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$", tail(out, 1)))[[1]]
  if (length(m) == 4) cpp <- c(passed = as.numeric(m[2]), failed = as.numeric(m[3]), skipped = as.numeric(m[4]))
} else {
  cat("C++ unit tests: ", cpp_bin, " not built (make -f tools/core/Makefile tests)\n", sep = "")
}
passed <- passed + cpp[["passed"]]
failed <- failed + cpp[["failed"]]
skipped <- skipped + cpp[["skipped"]]
cat(sprintf("%d passed, %d failed, %d skipped\n", passed, failed, skipped))
if (failed > 0) quit(status = 1)
