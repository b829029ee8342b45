# Runs the testthat suite against the rjax installed in ./lib and prints
# "N passed, N failed" as the last line; exits non-zero on any failure.
library(testthat)
library(rjax)
res <- testthat::test_dir("tests/testthat", reporter = testthat::SummaryReporter$new(),
                          stop_on_failure = FALSE, load_package = "none")
df <- as.data.frame(res)
passed <- sum(df$passed)
failed <- sum(df$failed) + sum(df$error)
skipped <- sum(df$skipped)
cat(sprintf("%d passed, %d failed, %d skipped\n", passed, failed, skipped))
if (failed > 0) quit(status = 1)
