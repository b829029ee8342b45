# library(rjax) changes nothing that is not rjax's (issue 9 item 4): base,
# stats and Matrix calls give identical() results with rjax attached or not,
# nothing is reported masked except the documented dots/lazy generics, a
# user's own function named like a base verb wins inside jit(), and with
# rjax only loaded rjax::jit(f) traces the helpers f calls.

# Ordinary calls of the verbs rjax routes, on ordinary data (each evaluated
# in a child R process before and after library(rjax)).
masking_calls <- c(
  "crossprod(matrix(1:6, 3))", "tcrossprod(matrix(c(1, 2.5, 3, 4), 2), 1:2)", "colSums(matrix(1:6, 2))",
  "rowSums(data.frame(a = 1:3, b = 4:6))", "colMeans(array(1:24, 2:4), dims = 2)", "rowMeans(matrix(c(1, NA, 3, 4), 2), na.rm = TRUE)",
  "diag(3)", "diag(c(a = 1, b = 2))", "diag(matrix(1:9, 3))", "diag(2, 3, 4)", "norm(matrix(1:4 + 0, 2))", "norm(matrix(1:4 + 0, 2), 'F')",
  "ifelse(c(TRUE, NA, FALSE), 'a', 'b')", "ifelse(TRUE, 1, stop('never evaluated'))", "ifelse(factor(c('a', 'b')) == 'a', 1:2, 3:4)",
  "pmax(c(1, 5, NA), 3)", "pmin(c(a = 1, b = 5), 3, na.rm = TRUE)", "pmax(as.Date('2020-01-01') + 0:1, as.Date('2020-01-02'))",
  "matrix(1:6, 2, dimnames = list(c('a', 'b'), NULL))", "matrix(list(1, 'a'), 1)", "outer(1:3, 1:2)", "outer(1:2, 1:3, paste)",
  "1:3 %o% 1:2", "kronecker(diag(2), matrix(1:4, 2))", "diag(2) %x% matrix(1:4, 2)", "solve(matrix(c(2, 1, 1, 3), 2))",
  "solve(matrix(c(2, 1, 1, 3), 2), c(1, 2))", "backsolve(chol(matrix(c(4, 2, 2, 3), 2)), c(1, 2))",
  "forwardsolve(t(chol(matrix(c(4, 2, 2, 3), 2))), c(1, 2))", "atan2(1:3, 2)", "psigamma(c(1, 2.5), 1)",
  "pnorm(c(-1, 0, 2), log.p = TRUE)", "qnorm(c(0.1, 0.5), 2, 3)", "which.max(c(3, 9, 9, NA))", "which.min(c(b = 2, a = 1))",
  "c(1, 'a', TRUE)", "max(0, 1:3)", "sum(1, 2:3, NA, na.rm = TRUE)", "range(c(3, 1), 7)", "cbind(a = 1:2, b = 3:4)",
  "rbind(1:2, c(x = 3, y = 4))", "is.matrix(matrix(1))", "is.array(1:3)", "scan(text = '1 2 3', quiet = TRUE)",
  "stats::dnorm(1:3, 2)", "mean(c(1, 5, 100), trim = 0.4)", "var(1:10)", "apply(matrix(1:6, 2), 1, sum)"
)

masking_script <- function(attach, matrix_pkg = FALSE) {
  calls <- masking_calls
  if (matrix_pkg) {
    calls <- c(
      "crossprod(S)", "tcrossprod(S)", "colSums(S)", "rowSums(S)", "colMeans(S)", "rowMeans(S)", "diag(S)",
      "norm(S)", "norm(S, 'F')", "S %*% S", "solve(Matrix::Diagonal(3, 2))", "kronecker(S, S)", "crossprod(S, 1:3)"
    )
  }
  c(if (matrix_pkg) c("suppressMessages(library(Matrix))",
                      "S <- Matrix::sparseMatrix(i = c(1, 2, 3, 3), j = c(1, 3, 2, 3), x = c(1, 2, 3, 4))"),
    if (attach) "suppressMessages(library(rjax))",
    sprintf("calls <- %s", paste(deparse(calls), collapse = "")),
    "vals <- lapply(calls, function(cl) tryCatch(withVisible(eval(parse(text = cl)[[1L]], globalenv())), error = function(e) conditionMessage(e)))",
    "cat('RESULT', paste(serialize(vals, NULL, ascii = TRUE), collapse = ''), '\\n')")
}

masking_values <- function(...) {
  res <- run_rscript(masking_script(...), timeout = 120)
  testthat::expect_false(res$crashed, label = res$stderr)
  line <- grep("^RESULT ", strsplit(res$stdout, "\n")[[1L]], value = TRUE)
  hex <- sub("^RESULT ([0-9a-f]+) *$", "\\1", line)
  unserialize(as.raw(strtoi(substring(hex, seq(1, nchar(hex), 2), seq(2, nchar(hex), 2)), 16L)))
}

test_that("base and stats calls give identical results with rjax attached or not", {
  before <- masking_values(attach = FALSE)
  after <- masking_values(attach = TRUE)
  expect_length(after, length(masking_calls))
  for (i in seq_along(masking_calls)) expect_identical(after[[i]], before[[i]], label = masking_calls[[i]])
})

test_that("Matrix's sparse methods keep working with rjax attached", {
  skip_if_not_installed("Matrix")
  before <- masking_values(attach = FALSE, matrix_pkg = TRUE)
  after <- masking_values(attach = TRUE, matrix_pkg = TRUE)
  for (i in seq_along(before)) {
    expect_false(is.character(after[[i]]), label = paste("no error:", i))
    expect_identical(after[[i]], before[[i]])
  }
})

test_that("attaching rjax masks nothing but base's dots verbs, and base's scan() reads data", {
  out <- run_child(c(
    "msg <- character(); withCallingHandlers(library(rjax), message = function(m) { msg <<- c(msg, conditionMessage(m)); invokeRestart('muffleMessage') })",
    "txt <- paste(msg, collapse = ' ')",
    "masked <- if (grepl('masked', txt)) sub('.*:', '', txt) else ''",
    "report('masked', sort(strsplit(trimws(gsub('[,[:space:]]+', ' ', masked)), ' +')[[1L]]))",
    "report('scan', scan(text = '1 2 3', quiet = TRUE))",
    "report('loop', rjax::scan_loop(function(c, x) list(c + x, NULL), 0, xs = 1:3)$carry)"
  ))
  masked <- strsplit(out[["masked"]], " ")[[1L]]
  # The S4 generics rjax makes are R's implicit generics of the base
  # functions (not reported as masking); the dots verbs need generics of
  # their own (see inst/DESIGN-NOTES.md, "Dispatch").
  expect_true(all(masked %in% c("ifelse", "pmax", "pmin")), label = paste(masked, collapse = " "))
  expect_false("scan" %in% masked)
  expect_identical(out[["scan"]], "1 2 3")
  expect_identical(out[["loop"]], "6")
})

test_that("a user's own function named like a base verb is never replaced inside jit()", {
  norm <- function(v) sqrt(sum(v^2))
  f <- function(v) norm(v) + 1
  expect_equal(jit(f)(c(3, 4)), 6)
  expect_equal(grad(f)(c(3, 4)), c(0.6, 0.8))
  crossprod <- function(x, y = NULL) "mine"
  expect_identical(jit(function(x) { crossprod(x); x * 2 })(1), 2)
})

test_that("rjax::jit() traces global helpers with rjax only loaded (not attached)", {
  out <- run_child(c(
    "loadNamespace('rjax')",
    "stopifnot(!'package:rjax' %in% search())",
    "relu <- function(v) ifelse(v > 0, v, 0)",
    "norm <- function(v) sqrt(sum(v^2))",
    "f <- function(x) sum(relu(x)) + norm(x) + sum(colSums(crossprod(cbind(x, 1)))) + max(0, x) + sum(c(1, x))",
    "x <- c(-1, 2, 3)",
    "report('jit', format(rjax::jit(f)(x), digits = 15))",
    "report('base', format(f(x), digits = 15))",
    "g <- rjax::grad(function(x) sum(pmax(x, 0)^2) + sum(diag(tcrossprod(x))))",
    "report('grad', g(x))",
    "report('search', rjax:::rj_verbs_search_name %in% search())"
  ))
  expect_identical(out[["jit"]], out[["base"]])
  expect_identical(out[["grad"]], "-2 8 12")
  expect_identical(out[["search"]], "FALSE")
})

test_that("the traced verbs are detached after a trace fails", {
  expect_error(jit(function(x) stop("boom"))(1), "boom")
  expect_false(rjax:::rj_verbs_search_name %in% search())
  expect_error(jit(function(x) if (x > 0) 1 else 2)(1), class = "rjax_concretization_error")
  expect_false(rjax:::rj_verbs_search_name %in% search())
})
