# Bad and unusual inputs and situations, run in child R processes (a crash
# or a hang must not take the test run with it). For every case the child
# must survive and end in time, and:
# - with `ref` (base R's answer on plain data): give an equal value; or, if
#   base R itself refuses, refuse too (any error); `either = TRUE` also
#   accepts a classed rjax_*_error instead of the value (inputs rjax may
#   reasonably refuse, as JAX would: complex numbers, dynamic shapes);
# - with `error`: raise an error of that class;
# - with `interrupt`: end in R's interrupt condition;
# - with `survive` only: end in a value or an error.
# `warning` is a pattern that one of the warnings must match. `pending`
# marks cases whose right answer is another helper's work (R-side
# semantics: "rsem"; kernel semantics: "core"): they run, but are skipped
# with the reason until the lead enables them (RJAX_FUZZ_PENDING=1 checks
# them too, to see which pass after a merge).

cases <- list()
fz <- function(name, expr, ref, error = NULL, either = FALSE, interrupt = FALSE, survive = FALSE,
               warning = NULL, pending = NULL) {
  cases[[length(cases) + 1L]] <<- list(
    name = name, expr = substitute(expr), ref = if (!missing(ref)) substitute(ref),
    error = error, either = either, interrupt = interrupt, survive = survive, warning = warning, pending = pending)
}

# What every child process has.
setup <- quote({
  x <- c(1.5, -2, 3); m <- matrix(1:6 / 2, 2); im <- matrix(1:6, 2); lv <- c(TRUE, FALSE, TRUE)
  xa <- rj_array(x); ma <- rj_array(m); ia <- rj_array(im); la <- rj_array(lv)
  imax <- .Machine$integer.max
  f_id <- jit(function(x) x)
  f_add <- jit(function(x) x + 1)
  f_sum <- jit(function(x) sum(x))
  f_mm <- jit(function(a, b) a %*% b)
  endless <- jit(function(x) while_loop(function(c) TRUE, function(c) c + 1, x))
  # The whole group in the background: system() ignores SIGINT while it
  # waits for its shell, so the signal must come after it returned.
  interrupt_in <- function(seconds) system(sprintf("(sleep %s; kill -INT %d) >/dev/null 2>&1 &", seconds, Sys.getpid()))
})

# ---- arguments of the wrong kind ---------------------------------------------
fz("jit: character argument", f_add("a"), ref = "a" + 1)
fz("jit: character argument is a classed type error", f_add("a"), error = "rjax_type_error")
fz("jit: factor argument", f_add(factor(c("a", "b"))), error = "rjax_type_error")
fz("jit: list of strings", f_add(list("a")), ref = list("a") + 1)
fz("jit: NULL argument", f_add(NULL), ref = NULL + 1, either = TRUE)
fz("jit: function argument", f_add(function(z) z), ref = (function(z) z) + 1)
fz("jit: environment argument", f_add(new.env()), ref = new.env() + 1)
fz("jit: complex argument", f_add(1 + 2i), ref = (1 + 2i) + 1, either = TRUE)
fz("jit: raw argument", f_add(as.raw(1)), ref = as.raw(1) + 1)
fz("jit: formula argument", f_add(y ~ x), ref = (y ~ x) + 1)
fz("jit: data frame of numbers", f_add(data.frame(a = 1:2))$a, ref = (data.frame(a = 1:2) + 1)$a, either = TRUE)
fz("jit: data frame of strings", f_add(data.frame(a = "x")), ref = data.frame(a = "x") + 1)
fz("jit: Date argument", f_add(as.Date("2020-01-01")), ref = as.numeric(as.Date("2020-01-01")) + 1, either = TRUE)
fz("jit: S4 object argument", f_add(methods::new("dgeMatrix")), survive = TRUE)
fz("jit: missing argument", f_id(), ref = (function(x) x)())
fz("jit: too many arguments", f_id(1, 2), ref = (function(x) x)(1, 2))
fz("jit: unknown named argument", f_id(y = 1), ref = (function(x) x)(y = 1))
fz("jit of a string", jit("not a function"), ref = match.fun("not a function"))
fz("jit of NULL", jit(NULL), ref = match.fun(NULL))
fz("jit of a primitive", jit(sum)(c(1, 2)), ref = sum(c(1, 2)))
fz("jit with dots", jit(function(...) sum(...))(1, 2, 3), ref = sum(1, 2, 3))
fz("jit: nested list argument", jit(function(p) p$a + p$b$c)(list(a = 1, b = list(c = 2))), ref = 3)
fz("jit: identity on a nested list", f_id(list(a = 1, b = list(c = 2))), ref = list(a = 1, b = list(c = 2)))
fz("jit: empty list", f_id(list()), ref = list())
fz("rj_array of a string", rj_array("a"), error = "rjax_type_error")
fz("rj_array of a list", rj_array(list(1, 2)), error = "rjax_type_error")
fz("rj_array of NULL", rj_array(NULL), error = "rjax_type_error")
fz("rj_array of a factor", rj_array(factor("a")), error = "rjax_type_error")
fz("rj_array of a function", rj_array(sum), error = "rjax_type_error")
fz("rj_array of complex", rj_array(1i), error = "rjax_type_error")
fz("rj_array with an unknown dtype", rj_array(1:3, dtype = "f16"), error = "rjax_dtype_error")
fz("rj_array with dtype NA", rj_array(1:3, dtype = NA), error = "rjax_error")
fz("rj_array with two dtypes", rj_array(1:3, dtype = c("f32", "f64")), error = "rjax_error",
   pending = "rsem: a dtype vector of length 2 is read as its first element")
fz("rj_array on a missing device", rj_array(1:3, device = "cuda"), error = "rjax_backend_error")
fz("arithmetic with a string", xa + "a", ref = x + "a")
fz("exp of a list", exp(list(xa)), ref = exp(list(x)))

# ---- NA, NaN, Inf ----------------------------------------------------------------
fz("NA in doubles", rj_array(c(1, NA)) + 1, ref = c(1, NA) + 1)
fz("NA in integers", as.vector(rj_array(c(1L, NA)) + 1L), ref = c(1L, NA) + 1L)
fz("NA in logicals", as.vector(!rj_array(c(TRUE, NA))), ref = !c(TRUE, NA))
fz("NaN and infinities", rj_array(c(NaN, Inf, -Inf)) * 2, ref = c(NaN, Inf, -Inf) * 2)
fz("jit: NA input", f_add(NA_real_), ref = NA_real_ + 1)
fz("jit: NA integer input", f_add(c(1L, NA)), ref = c(1L, NA) + 1, either = TRUE)
fz("0 / 0", rj_array(0) / 0, ref = 0 / 0)
fz("1 / 0", rj_array(1) / 0, ref = 1 / 0)
fz("log(-1)", log(rj_array(-1)), ref = suppressWarnings(log(-1)))
fz("sqrt(-1)", sqrt(rj_array(-1)), ref = suppressWarnings(sqrt(-1)))
fz("exp(1000)", exp(rj_array(1000)), ref = exp(1000))
fz("gamma(0) is NaN with a warning", gamma(rj_array(0)), ref = suppressWarnings(gamma(0)),
   warning = "NaN")
fz("lgamma(-1)", lgamma(rj_array(-1)), ref = suppressWarnings(lgamma(-1)))
fz("comparison with NA", rj_array(c(1, NA)) > 0, ref = c(1, NA) > 0, either = TRUE)
fz("ifelse on NaN", ifelse(rj_array(c(1, NaN)) > 0, 1, 2), ref = ifelse(c(1, NaN) > 0, 1, 2), either = TRUE)
fz("if on a NaN comparison", if (rj_array(NaN) > 0) 1 else 2, ref = if (NaN > 0) 1 else 2)
fz("cond on NaN", cond(rj_array(NaN) > 0, function() 1, function() 2), error = "rjax_error")
fz("while_loop on NaN", while_loop(function(c) c > 0, function(c) c - 1, NaN), error = "rjax_error")
fz("sum with NA", sum(rj_array(c(1, NA, 3))), ref = sum(c(1, NA, 3)))
fz("max with NaN", max(rj_array(c(1, NaN, 3))), ref = max(c(1, NaN, 3)))
fz("NaN to i32", as.vector(rj_array(NaN, dtype = "i32")), ref = NA_integer_)
fz("1e300 to f32", rj_array(1e300, dtype = "f32"), ref = Inf)
fz("2^31 to i32", rj_array(2^31, dtype = "i32"), ref = suppressWarnings(as.integer(2^31)), either = TRUE)

# ---- integer edge values -----------------------------------------------------
fz("integer overflow in +", rj_array(imax) + 1L, ref = suppressWarnings(imax + 1L), warning = "NA")
fz("integer overflow in *", rj_array(100000L) * 100000L, ref = suppressWarnings(100000L * 100000L), warning = "NA")
fz("INT_MIN %/% -1 (SIGFPE risk)", (rj_array(-imax) - 1L) %/% -1L, ref = suppressWarnings((-imax - 1L) %/% -1L))
fz("INT_MIN %% -1 (SIGFPE risk)", (rj_array(-imax) - 1L) %% -1L, ref = suppressWarnings((-imax - 1L) %% -1L))
fz("INT_MIN %/% -1 under jit", jit(function(x) x %/% -1L)(rj_array(-imax) - 1L), survive = TRUE)
fz("INT_MIN %/% -1 under jit, value", jit(function(x) (x - 1L) %/% -1L)(-imax), ref = suppressWarnings((-imax - 1L) %/% -1L))
fz("integer %/% 0", rj_array(5L) %/% 0L, ref = 5L %/% 0L)
fz("integer %% 0", rj_array(5L) %% 0L, ref = 5L %% 0L)
fz("double %/% 0", rj_array(5) %/% 0, ref = 5 %/% 0)
fz("double %% 0", rj_array(-5) %% 0, ref = -5 %% 0)
fz("negative %%", rj_array(-7L) %% 3L, ref = -7L %% 3L)
fz("negative %/%", rj_array(-7L) %/% 3L, ref = -7L %/% 3L)
# R returns a double here; a static dtype cannot (documented in ?rj-reduce): NA with R's warning.
fz("integer sum that overflows", as.vector(sum(rj_array(c(imax, 1L)))), ref = NA_integer_, warning = "integer overflow")
fz("-integer.max", jit(function(x) -x)(imax), ref = -imax)
fz("abs of an integer", jit(function(x) abs(x))(-5L), ref = abs(-5L))
fz("integer + integer stays integer", jit(function(x) x + 1L)(1:3), ref = 1:3 + 1L)
fz("integer / integer is double", jit(function(x) x / 2L)(1:3), ref = 1:3 / 2L)
fz("integer ^ integer is double", jit(function(x) x^2L)(3L), ref = 3L^2L)
fz("sum of logicals", jit(function(x) sum(x))(c(TRUE, TRUE, FALSE)), ref = sum(c(TRUE, TRUE, FALSE)))
fz("logical and", jit(function(x) x & TRUE)(c(TRUE, FALSE)), ref = c(TRUE, FALSE) & TRUE)
fz("logical not", jit(function(x) !x)(c(TRUE, FALSE)), ref = !c(TRUE, FALSE))
fz("bool dtype from numbers", rj_array(c(0, 2, -1), dtype = "bool"), ref = c(FALSE, TRUE, TRUE))
fz("assigning 2.5 into an i32 array", { y <- ia; y[1] <- 2.5; y }, ref = { y <- im; y[1] <- 2.5; y }, either = TRUE,
   pending = "rsem: 2.5 stored into i32 is silently truncated (issue 10 item 3)")
fz("assigning 5 into a bool array", { y <- la; y[1] <- 5; y }, ref = { y <- lv; y[1] <- 5; y }, either = TRUE,
   pending = "rsem: 5 stored into bool is silently TRUE (issue 10 item 3)")

# ---- shapes --------------------------------------------------------------------
fz("recycling a shorter vector", rj_array(1:6) + rj_array(1:3), ref = 1:6 + 1:3)
fz("recycling a non-multiple", rj_array(c(1, 2, 3)) + rj_array(c(1, 2)), ref = suppressWarnings(c(1, 2, 3) + c(1, 2)),
   either = TRUE)
fz("matrix + vector of the wrong length", ma + rj_array(1:4), ref = suppressWarnings(m + 1:4), either = TRUE)
fz("non-conformable %*%", ma %*% ma, error = "rjax_shape_error")
fz("non-conformable %*% under jit", f_mm(m, m), error = "rjax_shape_error")
fz("conformable %*% under jit", f_mm(m, t(m)), ref = m %*% t(m))
fz("vector %*% vector", rj_array(1:3) %*% rj_array(1:3), ref = 1:3 %*% 1:3)
fz("crossprod non-conformable", crossprod(ma, rj_array(1:3)), ref = crossprod(m, 1:3))
fz("solve of a singular matrix", solve(rj_array(matrix(0, 2, 2))), error = "rjax_singular_error")
fz("solve of a non-square matrix", solve(rj_array(matrix(1:6, 2))), ref = solve(matrix(1:6, 2)))
fz("chol of a non-PD matrix", chol(rj_array(matrix(c(1, 2, 2, 1), 2))), error = "rjax_not_pd_error")
fz("chol of NaN", chol(rj_array(matrix(NaN, 2, 2))), survive = TRUE)
fz("solve with NaN", solve(rj_array(matrix(c(1, NaN, 0, 1), 2))), survive = TRUE)
fz("diag of a rectangle", diag(ia), ref = diag(im))
fz("t of a vector", t(xa), ref = t(x))
fz("dim<- reshape", { y <- ma; dim(y) <- c(3, 2); y }, ref = { y <- m; dim(y) <- c(3, 2); y })
fz("dim<- of the wrong size", { y <- ma; dim(y) <- c(4, 2); y }, ref = { y <- m; dim(y) <- c(4, 2); y })
fz("dim<- negative", { y <- xa; dim(y) <- c(-1, -3); y }, ref = { y <- x; dim(y) <- c(-1, -3); y })
fz("rank-5 array", rj_array(array(1, c(1, 2, 1, 2, 1))) * 2, ref = array(1, c(1, 2, 1, 2, 1)) * 2)
fz("rank-3 array arithmetic", rj_array(array(1:24, 2:4)) + 1L, ref = array(1:24, 2:4) + 1L)
fz("outer", outer(xa, xa), ref = outer(x, x))
fz("matrix() of an rj_array", matrix(rj_array(1:6), 2), ref = matrix(1:6, 2))
fz("matrix() with a non-divisor", matrix(rj_array(1:6), 4), ref = suppressWarnings(matrix(1:6, 4)), either = TRUE)
fz("cbind", cbind(xa, xa), ref = cbind(x, x))
fz("rbind with a short vector", rbind(ma, rj_array(1:2)), ref = suppressWarnings(rbind(m, 1:2)), either = TRUE)
fz("colSums of a vector", colSums(xa), ref = colSums(x))

# ---- zero-length and huge --------------------------------------------------------
fz("zero-length array", rj_array(numeric(0)) + 1, ref = numeric(0) + 1)
fz("0 x 3 matrix", rj_array(matrix(numeric(0), 0, 3)) * 2, ref = matrix(numeric(0), 0, 3) * 2)
fz("2 x 0 x 3 array", rj_array(array(0, c(2, 0, 3))) + 1, ref = array(0, c(2, 0, 3)) + 1)
fz("jit: sum of nothing", f_sum(numeric(0)), ref = sum(numeric(0)))
fz("jit: 0-row matrix times 2", jit(function(x) x * 2)(matrix(numeric(0), 0, 5)), ref = matrix(numeric(0), 0, 5) * 2)
fz("jit: colSums of 0 rows", jit(function(x) colSums(x))(matrix(numeric(0), 0, 3)), ref = colSums(matrix(numeric(0), 0, 3)))
fz("jit: rowSums of 0 columns", jit(function(x) rowSums(x))(matrix(numeric(0), 3, 0)), ref = rowSums(matrix(numeric(0), 3, 0)))
fz("jit: x %*% t(x) with 0 columns", jit(function(x) x %*% t(x))(matrix(numeric(0), 2, 0)),
   ref = matrix(numeric(0), 2, 0) %*% t(matrix(numeric(0), 2, 0)))
fz("crossprod of 0 rows", crossprod(rj_array(matrix(numeric(0), 0, 2))), ref = crossprod(matrix(numeric(0), 0, 2)))
fz("prod of nothing", prod(rj_array(numeric(0))), ref = prod(numeric(0)))
fz("mean of nothing", mean(rj_array(numeric(0))), ref = mean(numeric(0)))
fz("max of nothing is -Inf with a warning", max(rj_array(numeric(0))), ref = suppressWarnings(max(numeric(0))),
   warning = "max")
fz("min of nothing under jit", jit(function(x) min(x))(numeric(0)), ref = suppressWarnings(min(numeric(0))),
   warning = "min")
fz("first element of nothing", jit(function(x) x[1])(numeric(0)), ref = numeric(0)[1], either = TRUE)
fz("outer of 1e6 x 1e6 under jit", jit(function(x) outer(x, x))(as.numeric(1:1e6)), error = "rjax_memory_error")
fz("outer of 1e6 x 1e6 eagerly", outer(rj_array(as.numeric(1:1e6)), rj_array(as.numeric(1:1e6))), error = "rjax_memory_error")
fz("4-d outer that overflows int64", jit(function(x) outer(outer(x, x), outer(x, x)))(as.numeric(1:1e5)), error = "rjax_error")
fz("matrix(0, 1e6, 1e6) under tracing", jit(function(x) matrix(0, 1e6, 1e6) + x)(1), error = "rjax_memory_error",
   pending = "rsem: matrix() allocates the R matrix before tracing (issue 10 item 6)")
fz("rep(x, times = 1e10)", rep(xa, times = 1e10), error = "rjax_memory_error")
fz("a large input through jit", jit(function(x) x[1:3] * 2)(as.numeric(1:1e6)), ref = c(2, 4, 6))

# ---- indexing ------------------------------------------------------------------
fz("index past the end", xa[10], ref = x[10], either = TRUE)
fz("index 0", xa[0], ref = x[0])
fz("negative index", xa[-1], ref = x[-1])
fz("NA index", xa[NA], ref = x[NA], either = TRUE)
fz("index 1e10", xa[1e10], ref = x[1e10], either = TRUE)
fz("recycled logical index", xa[c(TRUE, FALSE)], ref = x[c(TRUE, FALSE)])
fz("row out of bounds", ma[3, 1], ref = m[3, 1])
fz("column out of bounds", ma[, 4], ref = m[, 4])
fz("a row", ma[2, ], ref = m[2, ])
fz("[[ ]]", xa[[2]], ref = x[[2]], pending = "rsem: `[[` on an rj_array says 'this S4 class is not subsettable'")
fz("[[ ]] out of bounds", xa[[5]], ref = x[[5]])
fz("element assignment", { y <- xa; y[2] <- 10; y }, ref = { y <- x; y[2] <- 10; y })
fz("assignment past the end", { y <- xa; y[5] <- 1; y }, ref = { y <- x; y[5] <- 1; y }, either = TRUE)
fz("character index", xa["a"], ref = x["a"], either = TRUE)
fz("rep times 0", rep(xa, times = 0), ref = rep(x, times = 0), pending = "rsem: rep(x, times = 0) returns x (issue 10 item 3)")
fz("rep times -1", rep(xa, times = -1), ref = rep(x, times = -1),
   pending = "rsem: rep(x, times = -1) returns x instead of R's error (issue 10 item 3)")
fz("rep each 0", rep(xa, each = 0), ref = rep(x, each = 0), pending = "rsem: rep(x, each = 0) returns x (issue 10 item 3)")
fz("diff lag 0", diff(xa, lag = 0), ref = diff(x, lag = 0), pending = "rsem: diff(x, lag = 0) returns x (issue 10 item 3)")
fz("diff lag past the end", diff(xa, lag = 5), ref = diff(x, lag = 5))
fz("dynamic-shape filter under jit", jit(function(x) x[!is.na(x)])(c(1, NA)), ref = 1, either = TRUE)
fz("which under jit", jit(function(x) which(x > 0))(c(1, -1)), ref = 1L, either = TRUE,
   pending = "rsem: which() on a tracer raises a plain error, not a classed one")
fz("is.na under jit", jit(function(x) is.na(x))(c(1, NA)), ref = is.na(c(1, NA)))

# ---- transforms misused ---------------------------------------------------------------
fz("grad of a vector output", grad(function(x) x)(c(1, 2)), error = "rjax_grad_error")
fz("grad of a list output", grad(function(x) list(1))(1), error = "rjax_error")
fz("grad with respect to an unknown name", grad(function(x) sum(x), wrt = "y")(1), error = "rjax_error")
fz("grad with respect to an integer", grad(function(x) sum(x))(1:3), survive = TRUE)
fz("grad with respect to a string argument", grad(function(x) sum(x))("a"), error = "rjax_error")
fz("grad of sum", grad(sum)(c(1, 2)), ref = c(1, 1))
fz("grad at NA", grad(function(x) sum(x^2))(NA_real_), ref = NA_real_)
fz("grad with NaN", grad(function(x) sum(x^2))(c(1, NaN)), ref = c(2, NaN))
fz("grad of sqrt at 0", grad(function(x) sum(sqrt(x)))(0), ref = Inf)
fz("grad of grad", grad(grad(function(x) x^3))(2), ref = 12)
fz("jit(grad(jit(f)))", jit(grad(jit(function(x) sum(x^2))))(c(1, 2)), ref = c(2, 4))
# Un-jitted grad() re-traces with the value known (as JAX's): R's `if` works there;
# under jit(grad()) it stays a concretization error.
fz("value-dependent if in grad", grad(function(x) if (x > 0) x else -x)(1), ref = 1)
fz("value-dependent if in jit(grad)", jit(grad(function(x) if (x > 0) x else -x))(1), error = "rjax_concretization_error")
fz("value-dependent if in jit", jit(function(x) if (x > 0) x else -x)(1), error = "rjax_concretization_error")
fz("value-dependent while in jit", jit(function(x) { while (x > 0) x <- x - 1; x })(3), error = "rjax_concretization_error")
fz("traced rep count", jit(function(x, n) rep(x, n))(1, 3), ref = rep(1, 3), either = TRUE)
fz("value_and_grad", value_and_grad(function(x) sum(x^2))(c(1, 2))$grad, ref = c(2, 4))
fz("make_ir prints", format(make_ir(function(x) x + 1)(1)), survive = TRUE)
fz("jit_dump of a plain function", jit_dump(function(x) x), error = "rjax_error")
fz("jit_lower of a plain function", jit_lower(function(x) x, 1), error = "rjax_type_error")
fz("jit_compile of a list", jit_compile(list()), error = "rjax_type_error")
fz("compiled program, other signature", jit_compile(jit_lower(jit(function(x) x * 2), c(1, 2)))(c(1, 2, 3)),
   error = "rjax_signature_error")
fz("stop_gradient", stop_gradient(xa), ref = x)
fz("custom_vjp without fwd", custom_vjp(function(x) x), ref = (function(f, fwd, bwd) match.fun(fwd))(function(x) x))
fz("custom_vjp with a bwd of the wrong arity", grad(function(x) sum(custom_vjp(function(x) x, function(x) list(x, x),
                                                                             function(g) list(g))(x)))(1), error = "rjax_error",
   pending = "rsem: a bwd function of the wrong arity surfaces R's 'unused argument' error")
fz("paste of a traced value", jit(function(x) paste(x))(1), ref = "1", either = TRUE,
   pending = "rsem: paste() of a tracer raises a plain error, not a classed one")
fz("print inside jit", jit(function(x) { print(x); x + 1 })(1), ref = 2)
fz("200 ops in a row", jit(function(x) { for (i in 1:200) x <- x + 1; x })(0), ref = 200)
fz("jit(sum) on a matrix", jit(sum)(m), ref = sum(m))

# ---- control flow misused ----------------------------------------------------------------
fz("scan", scan_loop(function(c, x) list(c + x, c), 0, xs = c(1, 2, 3))$ys, ref = c(0, 1, 3))
fz("scan body returns no list", scan_loop(function(c, x) c + x, 0, xs = 1:3), error = "rjax_type_error")
fz("scan carry changes structure", scan_loop(function(c, x) list(list(c), NULL), 0, xs = 1:3), error = "rjax_error")
fz("scan carry changes shape", scan_loop(function(c, x) list(c(c, c), NULL), 0, xs = 1:3), error = "rjax_error")
fz("scan without xs or length", scan_loop(function(c, x) list(c, NULL), 0), error = "rjax_type_error")
fz("scan with negative length", scan_loop(function(c, x) list(c, NULL), 0, length = -1), error = "rjax_type_error")
fz("scan with length NA", scan_loop(function(c, x) list(c, NULL), 0, length = NA), error = "rjax_type_error")
fz("scan with length 3e9", scan_loop(function(c, x) list(c, NULL), 0, length = 3e9), error = "rjax_error")
fz("scan with mismatched xs", scan_loop(function(c, x) list(c, NULL), 0, xs = list(1:3, 1:2)), error = "rjax_shape_error")
fz("scan over nothing", scan_loop(function(c, x) list(c + 1, c), 5, xs = numeric(0))$carry, ref = 5)
fz("fori_loop over an empty range", fori_loop(1, 0, function(i, c) c + 1, 0), ref = 0)
fz("fori_loop with an NA bound", fori_loop(1, NA, function(i, c) c + 1, 0), error = "rjax_error")
fz("fori_loop", fori_loop(1, 3, function(i, c) c + i, 0), ref = 6)
fz("fori_loop body of the wrong arity", fori_loop(1, 3, function(i) i, 0), ref = (function(i) i)(1, 0))
fz("while_loop", while_loop(function(c) c < 10, function(c) c + 1, 0), ref = 10)
fz("while_loop condition of length 2", while_loop(function(c) c(TRUE, FALSE), function(c) c, 0), error = "rjax_error")
fz("while_loop condition a string", while_loop(function(c) "yes", function(c) c, 0), error = "rjax_error")
fz("while_loop body changes structure", while_loop(function(c) c < 10, function(c) list(c), 0), error = "rjax_error")
fz("cond", cond(TRUE, function() 1, function() 2), ref = 1)
fz("cond on a vector", cond(c(TRUE, FALSE), function() 1, function() 2), error = "rjax_type_error")
fz("cond on NA", cond(NA, function() 1, function() 2), error = "rjax_type_error")
fz("cond branches of different shapes", jit(function(p) cond(p > 0, function() 1, function() c(1, 2)))(1), error = "rjax_error")
fz("cond on an array", cond(rj_array(1) > 0, function() 1, function() 2), ref = 1)

# ---- tracers that escape ---------------------------------------------------------------
fz("a tracer escaping a failed trace", { g <- NULL; try(jit(function(x) { g <<- x; stop("boom") })(1), silent = TRUE); g + 1 },
   error = "rjax_escaped_tracer_error")
fz("a tracer escaping a finished trace", { g <- NULL; jit(function(x) { g <<- x; x })(1); g + 1 }, error = "rjax_escaped_tracer_error")
fz("a tracer stored in an environment", { e <- new.env(); jit(function(x) { assign("t", x, e); x })(2); exp(e$t) },
   error = "rjax_escaped_tracer_error")
fz("an escaped tracer used in another trace", { g <- NULL; jit(function(x) { g <<- x; x })(1); jit(function(y) y + g)(1) },
   error = "rjax_escaped_tracer_error")
fz("a tracer escaping grad", { g <- NULL; grad(function(x) { g <<- x; sum(x) })(1); g * 2 }, error = "rjax_escaped_tracer_error")
fz("printing an escaped tracer", { g <- NULL; jit(function(x) { g <<- x; x })(1); format(g) }, survive = TRUE)

# ---- saved and restored objects ------------------------------------------------------------
fz("serialized rj_array", unserialize(serialize(xa, NULL)) + 1, error = "rjax_serialization_error")
fz("serialized rj_array to R", as.vector(unserialize(serialize(xa, NULL))), error = "rjax_serialization_error")
fz("saveRDS / readRDS of an rj_array", { f <- tempfile(); saveRDS(ma, f); readRDS(f) %*% t(ma) }, error = "rjax_serialization_error")
fz("printing a restored rj_array", format(unserialize(serialize(xa, NULL))), survive = TRUE)
fz("a restored array in jit", f_add(unserialize(serialize(xa, NULL))), error = "rjax_serialization_error")
fz("a restored jitted function", { f <- jit(function(x) x * 2); f(1); g <- unserialize(serialize(f, NULL)); g(1) },
   ref = 2, either = TRUE)
fz("a restored jitted function, recompiled", { f <- jit(function(x) x * 2); f(1); g <- unserialize(serialize(f, NULL)); g(1) },
   ref = 2)
fz("a restored grad function", { f <- grad(function(x) sum(x^2)); f(1); g <- unserialize(serialize(f, NULL)); g(3) },
   ref = 6, either = TRUE)
fz("a restored lowered program", { lo <- jit_lower(jit(function(x) x + 1), 1); format(unserialize(serialize(lo, NULL))) },
   survive = TRUE)
fz("new() of an rj_array", methods::new("rj_array") + 1, error = "rjax_error")
fz("identical to a restored copy", identical(xa, unserialize(serialize(xa, NULL))), survive = TRUE)

# ---- options and environment ------------------------------------------------------------
fz("an unknown backend option", local({ o <- options(rjax.backend = "bogus"); on.exit(options(o)); jit(function(x) x + 1)(1) }),
   error = "rjax_error")
fz("the interpreter backend option", local({ o <- options(rjax.backend = "interp"); on.exit(options(o)); jit(function(x) x + 1)(1) }),
   ref = 2)
fz("backend = 'cuda'", jit(function(x) x, backend = "cuda"), error = "rjax_error")
fz("a string thread count", local({ o <- options(rjax.threads = "many"); on.exit(options(o)); f_sum(1:10) }),
   ref = 55L, warning = "rjax.threads")
fz("a huge thread count", local({ o <- options(rjax.threads = 1e9); on.exit(options(o)); f_sum(1:10) }),
   ref = 55L, warning = "threads")
fz("a negative thread count", local({ o <- options(rjax.threads = -3); on.exit(options(o)); f_sum(1:10) }),
   ref = 55L, warning = "rjax.threads")
fz("one thread", local({ o <- options(rjax.threads = 1); on.exit(options(o)); f_sum(as.numeric(1:3e5)) }), ref = sum(as.numeric(1:3e5)))
fz("dump option", local({ o <- options(rjax.dump = TRUE); on.exit(options(o)); jit(function(x) exp(x) * 3)(1) }), ref = exp(1) * 3)
fz("dump option not logical", local({ o <- options(rjax.dump = "yes"); on.exit(options(o)); jit(function(x) exp(x) * 4)(1) }),
   ref = exp(1) * 4)
fz("RJAX_DUMP_IR set", local({ Sys.setenv(RJAX_DUMP_IR = "1"); on.exit(Sys.unsetenv("RJAX_DUMP_IR")); jit(function(x) exp(x) * 5)(1) }),
   ref = exp(1) * 5)
fz("rjax_threads with a bad value", rjax_threads("x"), error = "rjax_type_error")
fz("rjax_memory", format(rjax_memory()), survive = TRUE)

# ---- interrupted and forked runs -------------------------------------------------------------
fz("SIGINT in an endless compiled loop", { interrupt_in(0.5); endless(0) }, interrupt = TRUE)
fz("the loop again after the interrupt", { interrupt_in(0.5); endless(1) }, interrupt = TRUE)
fz("a jitted function after interrupts", f_add(41), ref = 42)
fz("SIGINT in a long eager scan", { interrupt_in(0.5); scan_loop(function(c, x) list(c * 0.5, NULL), 1, length = 2e9) },
   interrupt = TRUE)
fz("SIGINT in grad of a long scan", { interrupt_in(0.5)
  grad(function(x) sum(scan_loop(function(c, i) list(c * 0.999999, NULL), x, length = 2e7)$carry))(1) }, interrupt = TRUE)
fz("fork after jit", unlist(parallel::mclapply(1:2, function(i) as.vector(jit(function(x) sum(x * i))(c(1, 2))), mc.cores = 2)),
   ref = c(3, 6))
fz("fork after the pool started", { big <- as.numeric(1:4e5); f_sum(big)
  unlist(parallel::mclapply(1:2, function(i) as.vector(f_sum(big * i)), mc.cores = 2)) }, ref = sum(as.numeric(1:4e5)) * 1:2)
fz("mcparallel", { j <- parallel::mcparallel(as.vector(f_sum(c(1, 2, 3)))); parallel::mccollect(j)[[1]] }, ref = 6)
fz("the parent after forks", f_sum(as.numeric(1:4e5)), ref = sum(as.numeric(1:4e5)))

# ---- misc ---------------------------------------------------------------------------------
fz("format an rj_array", format(ma), survive = TRUE)
fz("print a 0-length rj_array", utils::capture.output(print(rj_array(numeric(0)))), survive = TRUE)
fz("str of an rj_array", utils::capture.output(utils::str(xa)), survive = TRUE)
fz("length, dim, nrow, ncol", c(length(ma), dim(ma), nrow(ma), ncol(ma)), ref = c(6, 2, 3, 2, 3))
fz("as.matrix of a vector", as.matrix(xa), ref = as.matrix(x))
fz("c() of rj_arrays", c(xa, xa), ref = c(x, x), either = TRUE)
fz("sort", sort(xa), ref = sort(x), either = TRUE, pending = "rsem: sort() of an rj_array raises a plain error")
fz("xa == 'a'", xa == "a", ref = x == "a", either = TRUE)
fz("mean of an i32 array", mean(ia), ref = mean(im))
fz("var of an rj_array", var(xa), ref = var(x), either = TRUE, pending = "rsem: var() of an rj_array raises a plain error")
fz("as.numeric under jit", jit(function(x) as.numeric(x))(1L), ref = 1)
fz("unique under jit", jit(function(x) unique(x))(c(1, 1)), ref = 1, either = TRUE,
   pending = "rsem: unique() of a tracer raises a plain error")
fz("cumsum", cumsum(xa), ref = cumsum(x), either = TRUE)

# ---- running them ---------------------------------------------------------------------------

same_value <- function(a, b) {
  if (is.null(b)) return(is.null(a))
  if (is.list(b)) {
    return(is.list(a) && length(a) == length(b) && identical(names(a), names(b)) &&
             all(vapply(seq_along(b), function(i) same_value(a[[i]], b[[i]]), TRUE)))
  }
  if (!is.atomic(a) || is.list(a) || length(a) != length(b)) return(FALSE)
  if (is.logical(a) != is.logical(b) || is.character(a) != is.character(b)) return(FALSE)
  if (length(dim(b)) >= 2L && !identical(as.integer(dim(a)), as.integer(dim(b)))) return(FALSE)
  if (!identical(is.na(as.vector(a)), is.na(as.vector(b)))) return(FALSE)
  isTRUE(all.equal(as.vector(unclass(a)), as.vector(unclass(b)), tolerance = 1e-6, check.attributes = FALSE))
}

describe <- function(o) {
  switch(o$kind,
         value = paste("value", paste(utils::capture.output(utils::str(o$value)), collapse = " ")),
         error = paste0("error <", paste(o$class, collapse = "/"), ">: ", o$message),
         paste(o$kind, if (!is.null(o$message)) o$message))
}

check_case <- function(cs, o) {
  label <- sprintf("[%s] %s", cs$name, describe(o))
  expect_false(o$kind %in% c("crash", "hang"), label = paste(label, "(the process must survive and end)"))
  if (o$kind %in% c("crash", "hang")) return(invisible())
  if (cs$interrupt) {
    expect_identical(o$kind, "interrupt", label = label)
  } else if (!is.null(cs$error)) {
    expect_true(o$kind == "error" && cs$error %in% o$class, label = paste(label, "should be an error of class", cs$error))
  } else if (!is.null(cs$ref)) {
    r <- o$ref
    if (r$kind == "error") {
      expect_identical(o$kind, "error", label = paste(label, "should be refused as base R refuses it:", r$message))
    } else if (o$kind == "error") {
      expect_true(cs$either && any(grepl("^rjax_.+_error$", o$class)),
                  label = paste(label, "should give base R's", describe(r), if (cs$either) "or a classed rjax error"))
    } else {
      expect_true(o$kind == "value" && same_value(o$value, r$value), label = paste(label, "should equal base R's", describe(r)))
    }
  } else {
    expect_true(o$kind %in% c("value", "error"), label = label)
  }
  if (!is.null(cs$warning)) {
    expect_true(any(grepl(cs$warning, o$warnings)), label = paste(label, "should warn:", cs$warning))
  }
}

outcomes <- run_cases(cases, setup = setup, timeout = 90)

for (k in seq_along(cases)) {
  local({
    cs <- cases[[k]]
    o <- outcomes[[k]]
    test_that(paste("fuzz:", cs$name), {
      if (!is.null(cs$pending) && !nzchar(Sys.getenv("RJAX_FUZZ_PENDING"))) skip(paste("pending", cs$pending))
      check_case(cs, o)
    })
  })
}

test_that("the fuzz corpus is large and the children ran every case", {
  expect_gte(length(cases), 150L)
  expect_false(any(vapply(outcomes, is.null, TRUE)))
})
