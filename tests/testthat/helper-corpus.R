# Runner for the user-function corpus (test-corpus.R): each case is a plain
# R function with arguments; it passes when jit(f) gives base R's value
# (relative tolerance 1e-10 in f64) and, for a scalar result, jit(grad(f))
# agrees with central finite differences of base R's f (1e-6). Parameters
# that are named lists are differentiated leaf by leaf.

corpus_env <- new.env()
corpus_env$cases <- list()

# Registers a case. `known`: why it cannot work yet (it must then fail with
# a classed rjax error, never a raw R error or a wrong value).
case <- function(name, f, args, wrt = 1L, grad = TRUE, tol = 1e-10, gtol = 1e-6, known = NULL) {
  corpus_env$cases[[name]] <- list(name = name, f = f, args = args, wrt = wrt, grad = grad,
                                   tol = tol, gtol = gtol, known = known)
}

rel_diff <- function(a, b) {
  a <- as.double(unlist(a)); b <- as.double(unlist(b))
  if (length(a) != length(b)) return(Inf)
  if (!length(a)) return(0)
  same <- (is.na(a) & is.na(b)) | (a == b)
  same[is.na(same)] <- FALSE
  if (all(same)) return(0)
  sum(abs(a - b)[!same]) / max(sum(abs(b)[!same]), 1e-300)
}

# Finite differences over a numeric vector/array or a (nested) list of them.
corpus_fd <- function(f, args, wrt) {
  p <- args[[wrt]]
  flat <- unlist(p)
  h <- function(v) {
    a <- args
    a[[wrt]] <- if (is.list(p)) utils::relist(v, p) else { p[] <- v; p }
    as.numeric(do.call(f, a))
  }
  fd_grad(h, flat)
}

# Runs one case: "pass", or what went wrong.
run_case <- function(cs) {
  expected <- tryCatch(do.call(cs$f, cs$args), error = function(e) e)
  if (inherits(expected, "error")) return(list(status = "base R error", msg = conditionMessage(expected)))
  got <- tryCatch(suppressWarnings(plain(do.call(jit(cs$f), cs$args))), error = function(e) e)
  if (inherits(got, "error")) {
    cls <- if (inherits(got, "rjax_error")) class(got)[[1L]] else "raw R error"
    return(list(status = cls, msg = conditionMessage(got), classed = inherits(got, "rjax_error")))
  }
  d <- rel_diff(got, expected)
  if (!is.finite(d) || d > cs$tol) return(list(status = "wrong value", msg = sprintf("relative difference %.3g", d)))
  if (cs$grad && length(unlist(expected)) == 1L) {
    g <- tryCatch(suppressWarnings(plain(do.call(jit(grad(cs$f, wrt = cs$wrt)), cs$args))), error = function(e) e)
    if (inherits(g, "error")) {
      cls <- if (inherits(g, "rjax_error")) class(g)[[1L]] else "raw R error"
      return(list(status = paste("grad:", cls), msg = conditionMessage(g), classed = inherits(g, "rjax_error")))
    }
    fd <- corpus_fd(cs$f, cs$args, cs$wrt)
    dg <- rel_diff(g, fd)
    if (!is.finite(dg) || dg > cs$gtol) return(list(status = "wrong gradient", msg = sprintf("relative difference %.3g", dg)))
  }
  list(status = "pass", msg = "")
}
