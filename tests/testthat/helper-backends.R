# Running the same code under every backend.
#
# for_backends(code) evaluates `code` once per backend with
# options(rjax.backend = <name>) set, so that jit() inside it compiles with
# that backend; `backend` is bound to the name while it runs (use it in
# expectation labels). Returns the results in a named list.
for_backends <- function(code, backends = rjax:::rj_backends()) {
  code <- substitute(code)
  env <- parent.frame()
  out <- list()
  for (b in backends) {
    old <- options(rjax.backend = b)
    local_env <- new.env(parent = env)
    local_env$backend <- b
    out[[b]] <- tryCatch(eval(code, local_env), finally = options(old))
  }
  invisible(out)
}

# Runs jit(f) under the llvm and interp backends on the same arguments and both results as R values.
# returns both results as R values (lists of results stay lists).
both_backends <- function(f, ...) {
  to_r <- function(x) if (is.list(x)) lapply(x, to_r) else as_r(x)
  list(llvm = to_r(jit(f, backend = "llvm")(...)), interp = to_r(jit(f, backend = "interp")(...)))
}

# Expects the llvm backend to agree with the interpreter on f(...).
expect_backends_agree <- function(f, ..., tolerance = 1e-12) {
  r <- both_backends(f, ...)
  testthat::expect_equal(r$llvm, r$interp, tolerance = tolerance)
  invisible(r)
}
