# jit(): trace once per argument signature, compile, cache, run.

# Matches call arguments to f's formals, as a call of f would.
match_args <- function(f, args) {
  if (is.primitive(f) || is.null(formals(f))) return(args)
  mc <- match.call(f, as.call(c(list(quote(f)), args)))
  out <- as.list(mc)[-1L]
  # match.call drops NULL arguments' values into the call as NULL; keep them.
  out
}

# Arguments that are not arrays or trees of arrays (strings, functions,
# NULL) are static automatically; `static` names more.
static_names <- function(args, static) signature_key(args, static)$static

# The cache key of a call: per argument, the abstract values of its array
# leaves and its tree structure, or the value of a static argument (named in
# `static`, or named and holding no arrays at all). Flattens each argument
# once: this runs on every call of a jitted function.
signature_key <- function(args, static) {
  nms <- names(args)
  if (is.null(nms)) nms <- rep("", length(args))
  parts <- character(length(args))
  leaves <- list()
  st <- as.character(static)
  for (i in seq_along(args)) {
    a <- args[[i]]
    nm <- nms[[i]]
    fl <- if (nzchar(nm) && nm %in% static) NULL else tree_flatten(a)
    if (nzchar(nm) && (is.null(fl) || !length(fl$leaves))) {
      st <- c(st, nm)
      parts[[i]] <- paste0(nm, "=", paste(deparse(a, control = c("keepNA", "digits17")), collapse = ""))
      next
    }
    leaves <- c(leaves, fl$leaves)
    parts[[i]] <- paste0(nm, ":", paste(vapply(fl$leaves, leaf_signature, ""), collapse = ";"), "|",
                         if (length(fl$leaves) == 1L && inherits(fl$def, "rj_leaf")) "" else paste(deparse(fl$def), collapse = ""))
  }
  list(key = paste(parts, collapse = "\n"), leaves = leaves, static = unique(st))
}

#' Compile a function
#'
#' `jit(f)` returns a function that behaves like `f` but runs a compiled
#' program. The first call with a new *signature* (the dtypes and shapes of
#' the array arguments, the structure of list arguments, and the values of
#' static arguments) traces `f` once with abstract values and compiles the
#' resulting graph; later calls with the same signature run the compiled
#' program without evaluating `f`'s R code at all (side effects such as
#' `print()` happen only while tracing).
#'
#' Arguments may be rjax arrays, R numeric/logical data (converted at the
#' boundary; R numbers are *weakly typed*), or nested lists of these.
#' Non-array arguments (strings, functions, `NULL`) are static
#' automatically; name further static arguments in `static` (their values
#' become part of the cache key, so R `if` on them works).
#'
#' Values captured from the enclosing environment are baked into the
#' compiled program as constants when it is traced: if they change later,
#' pass them as arguments instead.
#'
#' Inside another transform (a traced function), `jit(f)(...)` simply
#' inlines `f`.
#'
#' @param f An R function over arrays.
#' @param static Names of arguments whose values (not only shapes) are part
#'   of the signature.
#' @param backend `"llvm"` (native code: element-wise chains and their
#'   reductions are fused into vectorised, multi-threaded loops compiled with
#'   LLVM; linear algebra runs as library calls) or `"interp"` (the reference
#'   interpreter, one primitive at a time). Defaults to
#'   `getOption("rjax.backend")`, which is `"llvm"` unless set. With
#'   `options(rjax.dump = TRUE)` (or the environment variable
#'   `RJAX_DUMP_IR=1`) when a signature is compiled, [jit_dump()] also shows
#'   the generated LLVM IR and assembly.
#' @return A function with the same arguments as `f`, of class `rjax_jit`.
#' @seealso [make_ir()] to see the traced program, [grad()].
#' @examples
#' f <- function(Y, M) sum(exp(M) - Y * M) + sum(crossprod(M))
#' jf <- jit(f)
#' Y <- matrix(rpois(12, 2), 4); M <- matrix(rnorm(12), 4)
#' jf(Y, M)
#' f(Y, M)
#' @export
jit <- function(f, static = NULL, backend = getOption("rjax.backend", "llvm")) {
  f <- match.fun(f)
  static <- as.character(static)
  backend <- match.arg(backend, rj_backends())
  cache <- new.env(hash = TRUE, parent = emptyenv())
  jitted <- function(...) {
    args <- match_args(f, list(...))
    if (is_tracing()) return(do.call(f, args))
    sig <- signature_key(args, static)
    st <- sig$static
    entry <- cache[[sig$key]]
    if (is.null(entry) || !rj_exe_alive(entry$exe)) {  # a restored function recompiles (R/serialize.R)
      entry <- compile_traced(f, args, st, backend)
      assign(sig$key, entry, envir = cache)
    }
    outs <- .Call(C_rjc_run, entry$exe, sig$leaves)
    tree_unflatten(entry$out_def, outs)
  }
  structure(jitted, class = c("rjax_jit", "function"),
            rjax = list(f = f, cache = cache, static = static, backend = backend))
}

rj_backends <- function() c("llvm", "interp")

compile_traced <- function(f, args, static, backend) compile_lowered(lower_traced(f, args, static), backend)

# Trace and optimise: the "lowered" stage of ahead-of-time compilation.
lower_traced <- function(f, args, static) {
  tr <- trace_graph(f, args, static)
  list(graph = .Call(C_rjc_graph_optimize, tr$graph), out_def = tr$out_def)
}

compile_lowered <- function(lowered, backend) {
  rj_cache_sync()  # options(rjax.cache_dir) to the core (R/cache.R)
  # The C++ core reads the dump switch from the environment (it knows no R).
  if (isTRUE(getOption("rjax.dump")) && !nzchar(Sys.getenv("RJAX_DUMP_IR"))) {
    Sys.setenv(RJAX_DUMP_IR = "1")
    on.exit(Sys.unsetenv("RJAX_DUMP_IR"), add = TRUE)
  }
  list(exe = .Call(C_rjc_compile, lowered$graph, backend), out_def = lowered$out_def, graph = lowered$graph)
}

#' Ahead-of-time compilation
#'
#' `jit_lower(jf, ...)` traces and optimises a jitted function for the
#' signature of the given arguments without running it; `jit_compile()`
#' compiles the lowered program and returns a function that runs it on
#' arguments of that signature (another signature is an error). Together
#' they separate tracing and compile time from run time, as JAX's
#' `jax.jit(f).lower(x).compile()`.
#' @param jf A function made by [jit()].
#' @param ... Example arguments (their dtypes and shapes, and the values of
#'   static arguments, define the signature).
#' @param lowered The result of `jit_lower()`.
#' @param backend Backend to compile for (default: the jitted function's).
#' @return `jit_lower()`: an object of class `rjax_lowered` (printing shows
#'   the program). `jit_compile()`: a function of class `rjax_compiled`.
#' @examples
#' jf <- jit(function(x, y) sum(x * y))
#' lo <- jit_lower(jf, c(1, 2, 3), c(4, 5, 6))
#' lo
#' run <- jit_compile(lo)
#' run(c(1, 2, 3), c(1, 1, 1))
#' @export
jit_lower <- function(jf, ...) {
  a <- attr(jf, "rjax")
  if (!inherits(jf, "rjax_jit") || is.null(a)) rj_abort("type", "jit_lower() needs a function made by jit()")
  args <- match_args(a$f, list(...))
  sig <- signature_key(args, a$static)
  st <- sig$static
  lo <- lower_traced(a$f, args, st)
  structure(c(lo, list(key = sig$key, f = a$f, static = a$static, backend = a$backend)), class = "rjax_lowered")
}

#' @rdname jit_lower
#' @export
jit_compile <- function(lowered, backend = lowered$backend) {
  if (!inherits(lowered, "rjax_lowered")) rj_abort("type", "jit_compile() needs the result of jit_lower()")
  entry <- compile_lowered(lowered, backend)
  f <- lowered$f
  run <- function(...) {
    args <- match_args(f, list(...))
    sig <- signature_key(args, lowered$static)
    if (!identical(sig$key, lowered$key)) {
      rj_abort("signature", "these arguments do not have the signature the program was compiled for; call jit_lower() again with them")
    }
    tree_unflatten(entry$out_def, .Call(C_rjc_run, entry$exe, sig$leaves))
  }
  structure(run, class = c("rjax_compiled", "function"), rjax = list(backend = backend, graph = entry$graph))
}

#' @export
print.rjax_lowered <- function(x, ...) {
  cli::cat_line("<rjax lowered program, backend ", x$backend, ">")
  cli::cat_line(.Call(C_rjc_graph_print, x$graph))
  invisible(x)
}

#' @export
print.rjax_compiled <- function(x, ...) {
  cli::cat_line("<rjax compiled program, backend ", attr(x, "rjax")$backend, ">")
  invisible(x)
}

#' What the compiler made of a jitted function
#'
#' For each signature `jf` has compiled so far, the backend's account of the
#' program: with the `"llvm"` backend, the fusion plan (which operations run
#' as one fused loop, `kernel[...]`, and which as library calls, `call ...`)
#' and, when compiled with `options(rjax.dump = TRUE)` or the environment
#' variable `RJAX_DUMP_IR=1`, the optimised LLVM IR and the assembly of the
#' kernels that were newly compiled (kernels found in the session's compile
#' cache are not shown again).
#' @param jf A function returned by [jit()].
#' @return A character vector, one element per compiled signature (class
#'   `rjax_dump`, printed as text).
#' @examples
#' jf <- jit(function(x) sum(exp(x) * 2), backend = "llvm")
#' jf(1:10)
#' jit_dump(jf)
#' @export
jit_dump <- function(jf) {
  if (!inherits(jf, "rjax_jit")) stop("jit_dump() needs a function returned by jit()", call. = FALSE)
  cache <- attr(jf, "rjax")$cache
  out <- vapply(ls(cache), function(k) .Call(C_rjc_exe_describe, cache[[k]]$exe), "")
  structure(unname(out), class = "rjax_dump")
}

#' @export
print.rjax_dump <- function(x, ...) {
  cat(x, sep = "\n")
  invisible(x)
}

#' @export
print.rjax_jit <- function(x, ...) {
  a <- attr(x, "rjax")
  n <- length(ls(a$cache))
  cli::cat_line(sprintf("<rjax jit function: backend %s, %d compiled signature%s>", a$backend, n, if (n == 1L) "" else "s"))
  invisible(x)
}

#' Show the traced program of a function
#'
#' `make_ir(f)(...)` traces `f` on the given arguments (like [jit()] would)
#' and returns the simplified program, which prints in a readable form
#' similar to JAX's jaxpr: each line `b:f32[116,114] = exp a` defines a value
#' with its dtype and shape.
#' @param f An R function over arrays (or a transformed one, such as
#'   `grad(f)`).
#' @param static As in [jit()].
#' @return A function returning an object of class `rjax_ir`.
#' @examples
#' f <- function(x) sum(exp(x) * 2)
#' make_ir(f)(matrix(1, 2, 3))
#' make_ir(grad(f))(matrix(1, 2, 3))
#' @export
make_ir <- function(f, static = NULL) {
  f <- match.fun(f)
  function(...) {
    args <- match_args(f, list(...))
    tr <- trace_graph(f, args, static_names(args, as.character(static)))
    g <- .Call(C_rjc_graph_optimize, tr$graph)
    structure(list(text = .Call(C_rjc_graph_print, g), graph = g), class = "rjax_ir")
  }
}

#' @export
print.rjax_ir <- function(x, ...) {
  cat(x$text)
  invisible(x)
}

#' @export
format.rjax_ir <- function(x, ...) x$text

#' @export
summary.rjax_ir <- function(object, ...) {
  info <- .Call(C_rjc_graph_info, object$graph)
  cat(sprintf("rjax program: %d operations, %d outputs\n", info$n_ops, length(info$out_dtypes)))
  invisible(info)
}
