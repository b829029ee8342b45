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
# once: this runs on every call of a jitted function. With a `table` (an
# environment owned by the jitted function), static values and tree
# structures are keyed by value: identical() on the value itself, found
# through a hash of its deparsed start, and held by the table, so closures and
# environments are keyed by identity and that identity cannot be reused.
signature_key <- function(args, static, table = NULL) {
  fast <- .Call(C_rjc_signature, args, as.character(static))  # speed: trees of plain lists and leaves in C++ (src/rcpp_dispatch.cpp)
  if (!is.null(fast)) return(fast)                            # NULL: R's rules below
  nms <- names(args)
  if (is.null(nms)) nms <- rep("", length(args))
  parts <- character(length(args))
  leaves <- list()
  st <- as.character(static)
  for (i in seq_along(args)) {
    a <- args[[i]]
    nm <- nms[[i]]
    if (is.factor(a) && !(nzchar(nm) && nm %in% static)) rj_factor_arg(rj_arg_label(nm, i))
    fl <- if (nzchar(nm) && nm %in% static) NULL else tree_flatten(a, rj_arg_label(nm, i))
    if (nzchar(nm) && (is.null(fl) || !length(fl$leaves))) {
      st <- c(st, nm)
      parts[[i]] <- paste0(nm, "=", rj_static_id(table, a))
      next
    }
    leaves <- c(leaves, fl$leaves)
    parts[[i]] <- paste0(nm, ":", paste(vapply(fl$leaves, leaf_signature, ""), collapse = ";"), "|",
                         if (length(fl$leaves) == 1L && inherits(fl$def, "rj_leaf")) "" else
                           rj_static_id(table, if (fl$nodes) tree_structure(fl$def) else fl$def))
  }
  list(key = paste0("sig:", paste(parts, collapse = "\n")), leaves = leaves, static = unique(st))
}

rj_factor_arg <- function(label) {
  rj_abort("type", paste0(
    "argument `", label, "` is a factor: rjax traces numeric, integer and logical data, and R's arithmetic on a ",
    "factor gives NA.\n",
    "i Pass as.integer(", label, ") for its codes, a model matrix (model.matrix()) for dummy variables, ",
    "or name it in jit(static = ) to use it as an R value."))
}

# How errors name an argument: its name, or its position among `...`.
rj_arg_label <- function(nm, i) if (nzchar(nm)) nm else sprintf("...[[%d]]", i)

rj_static_id <- function(table, value) {
  h <- paste(deparse(value, control = c("keepNA", "digits17"), nlines = 20L), collapse = "")
  if (is.null(table)) return(h)
  bucket <- table[[h]]
  for (k in seq_along(bucket)) if (identical(bucket[[k]], value)) return(paste0(h, "#", k))
  table[[h]] <- c(bucket, list(value))
  paste0(h, "#", length(bucket) + 1L)
}

# Static arguments given by position (jit(f, static = 2)) are f's formals at
# those positions.
rj_static_arg_names <- function(f, static) {
  if (is.null(static)) return(character())
  fm <- if (is.primitive(f)) NULL else names(formals(f))
  if (is.character(static)) {
    unknown <- setdiff(static, fm)
    if (length(unknown) && !("..." %in% fm) && !is.null(fm)) {
      rj_abort("type", sprintf("jit(static = ): %s %s not an argument of the function (its arguments: %s)",
                               paste0("`", unknown, "`", collapse = ", "), if (length(unknown) > 1L) "are" else "is",
                               paste0("`", fm, "`", collapse = ", ")))
    }
    return(static)
  }
  if (!is.numeric(static) || anyNA(static) || any(static < 1 | static > length(fm) | static != round(static))) {
    rj_abort("type", sprintf("jit(static = %s): positions must be between 1 and %d, the number of arguments of the function (%s)",
                             paste(deparse(static), collapse = ""), length(fm), paste0("`", fm, "`", collapse = ", ")))
  }
  if (any(fm[static] == "...")) rj_abort("type", "jit(static = ): `...` cannot be static; give the arguments names")
  fm[static]
}

# A function with f's formals that passes the arguments the caller gave (by
# name, `...` as given) to impl(args), so that args(jit(f)) shows f's
# arguments and f's own defaults apply.
#
# With `markers = TRUE` (jit()) and no `...`, the list is built in one go,
# list(a = if (missing(a)) <marker> else a, ...), which is several times
# cheaper per call than growing it; impl() drops the markers
# (rj_drop_missing()), and the native fast path skips them
# (src/rcpp_dispatch.cpp), so a missing argument is absent either way.
rj_with_formals <- function(f, impl, markers = FALSE) {
  .rj_impl <- impl
  fm <- if (is.primitive(f)) NULL else formals(f)
  if (is.null(fm)) return(function(...) .rj_impl(list(...)))
  if (markers && !("..." %in% names(fm))) {
    out <- function() NULL
    formals(out) <- fm
    items <- lapply(names(fm), function(a) bquote(if (missing(.(as.name(a)))) .rj_missing_arg else .(as.name(a))))
    names(items) <- names(fm)
    body(out) <- as.call(list(as.name(".rj_impl"), as.call(c(list(as.name("list")), items))))
    environment(out) <- list2env(list(.rj_impl = impl), parent = asNamespace("rjax"))
    return(out)
  }
  collect <- lapply(names(fm), function(a) {
    if (a == "...") return(quote(.rj_args <- c(.rj_args, list(...))))
    bquote(if (!missing(.(as.name(a)))) .rj_args[.(a)] <- list(.(as.name(a))))
  })
  out <- function() NULL
  formals(out) <- fm
  body(out) <- as.call(c(list(as.name("{")), list(quote(.rj_args <- list())), collect, list(quote(.rj_impl(.rj_args)))))
  environment(out) <- list2env(list(.rj_impl = impl), parent = asNamespace("rjax"))
  out
}

# The marker of a missing argument (rj_with_formals(markers = TRUE)).
.rj_missing_arg <- structure(list(), class = "rj_missing_arg")

rj_drop_missing <- function(args) {
  miss <- vapply(args, inherits, TRUE, "rj_missing_arg")
  if (any(miss)) args[!miss] else args
}

# A bounded cache of compiled programs (least recently used dropped first).
rj_cache_get <- function(cache, key) {
  entry <- cache$entries[[key]]
  if (!is.null(entry)) {
    cache$tick <- cache$tick + 1
    cache$used[[key]] <- cache$tick
  }
  entry
}

rj_cache_put <- function(cache, key, entry) {
  size <- cache$size
  keys <- ls(cache$entries, all.names = TRUE)
  if (length(keys) >= size) {
    used <- unlist(mget(keys, envir = cache$used))
    drop <- names(used)[order(used)][seq_len(length(keys) - size + 1L)]
    rm(list = drop, envir = cache$entries)
    rm(list = drop, envir = cache$used)
  }
  cache$tick <- cache$tick + 1
  assign(key, entry, envir = cache$entries)
  assign(key, cache$tick, envir = cache$used)
}

rj_new_cache <- function(size) {
  if (!is.numeric(size) || length(size) != 1L || is.na(size) || size < 1) {
    rj_abort("type", "the jit cache size (option rjax.jit_cache_size) must be a positive whole number")
  }
  cache <- new.env(parent = emptyenv())
  cache$entries <- new.env(hash = TRUE, parent = emptyenv())
  cache$used <- new.env(hash = TRUE, parent = emptyenv())
  cache$statics <- new.env(hash = TRUE, parent = emptyenv())
  cache$size <- as.integer(size)
  cache$tick <- 0
  cache
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
#' @param static Names or positions (`static = 2`: `f`'s second formal) of
#'   arguments whose values (not only shapes) are part of the signature.
#'   Static values are compared with [identical()]: closures and
#'   environments by identity (the cache holds a reference to them).
#' @param backend `"llvm"` (native code: element-wise chains and their
#'   reductions are fused into vectorised, multi-threaded loops compiled with
#'   LLVM; linear algebra runs as library calls) or `"interp"` (the reference
#'   interpreter, one primitive at a time) or `"cuda"` (NVIDIA GPUs: fused
#'   kernels compiled with NVRTC; an `rjax_device_error` saying what is
#'   missing where there is no driver, toolkit or GPU; see [rj_cuda_available()]). Defaults to
#'   `getOption("rjax.backend")`, which is `"llvm"` unless set. With
#'   `options(rjax.dump = TRUE)` (or the environment variable
#'   `RJAX_DUMP_IR=1`) when a signature is compiled, [jit_dump()] also shows
#'   the generated LLVM IR and assembly.
#' @param output What the jitted function returns. `"auto"` (the default):
#'   **R values in, R values out** -- when every array argument is plain R
#'   data (numeric, integer or logical vectors, matrices, arrays, and lists
#'   of them), the results are plain R values with R's dims (a scalar is a
#'   length-1 vector without `dim`; `f64` and `f32` give doubles, `i32`
#'   integers, `bool` logicals), so they go straight into `optim()`, `if`,
#'   `round()`, `data.frame()`; when any argument is an `rj_array`, the
#'   results are `rj_array`s (data stays in native buffers between calls).
#'   `"r"` always returns R values, `"rj_array"` always `rj_array`s.
#' @return A function with the same arguments as `f` (`args(jit(f))` shows
#'   them), of class `rjax_jit`. Each jitted function keeps at most
#'   `getOption("rjax.jit_cache_size", 64)` compiled signatures (the least
#'   recently used is dropped first); the cache is freed with the function.
#' @seealso [make_ir()] to see the traced program, [grad()].
#' @examples
#' f <- function(Y, M) sum(exp(M) - Y * M) + sum(crossprod(M))
#' jf <- jit(f)
#' Y <- matrix(rpois(12, 2), 4); M <- matrix(rnorm(12), 4)
#' jf(Y, M)
#' f(Y, M)
#' @export
jit <- function(f, static = NULL, backend = getOption("rjax.backend", "llvm"),
                output = c("auto", "r", "rj_array")) {
  if (!is.function(f) && !(is.character(f) && length(f) == 1L) && !is.name(f)) {
    rj_abort("type", sprintf("jit() needs a function, not %s", paste(class(f), collapse = "/")))
  }
  f <- match.fun(f)
  static <- rj_static_arg_names(f, static)
  backend <- rj_match_backend(backend)
  output <- rj_match_output(output)
  cache <- rj_new_cache(getOption("rjax.jit_cache_size", 64L))
  impl <- function(args) {
    if (is_tracing()) return(do.call(f, rj_drop_missing(args)))
    # A cached signature of array arguments runs in one native call
    # (src/rcpp_dispatch.cpp); NULL: anything else takes the path below.
    hit <- .Call(C_rjc_dispatch, cache, args, static, output)
    if (!is.null(hit)) return(if (length(hit) == 1L) hit[[1L]] else tree_unflatten(hit[[1L]], hit[[2L]]))
    args <- rj_drop_missing(args)
    sig <- signature_key(args, static, cache$statics)
    rj_common_device(sig$leaves)  # arrays of different devices: rjax_device_error (R/device.R)
    entry <- rj_cache_get(cache, sig$key)
    if (is.null(entry) || !rj_exe_alive(entry$exe)) {  # a restored function recompiles (R/serialize.R)
      entry <- compile_traced(f, args, sig$static, backend)
      rj_cache_put(cache, sig$key, entry)
    }
    outs <- .Call(C_rjc_run, entry$exe, sig$leaves)
    tree_unflatten(entry$out_def, rj_outputs(outs, sig$leaves, output))
  }
  structure(rj_with_formals(f, impl, markers = TRUE), class = c("rjax_jit", "function"),
            rjax = list(f = f, cache = cache, static = static, backend = backend, output = output))
}

rj_match_output <- function(output) {
  if (!is.character(output) || !length(output) || !all(output %in% c("auto", "r", "rj_array"))) {
    rj_abort("type", sprintf("'output' must be \"auto\", \"r\" or \"rj_array\", not %s",
                             paste(deparse(output), collapse = " ")))
  }
  output[[1L]]
}

rj_match_backend <- function(backend) {
  ok <- c(rj_backends(), "cuda")
  if (!is.character(backend) || length(backend) != 1L || !backend %in% ok) {
    rj_abort("backend", sprintf("'backend' must be one of %s, not %s",
                                paste0("\"", ok, "\"", collapse = ", "),
                                paste(deparse(backend), collapse = " ")))
  }
  if (backend == "cuda") rj_check_device("cuda")  # rjax_device_error naming what is missing (R/device.R)
  backend
}

# R values in, R values out: with output = "auto", the results of a call
# whose array arguments are all plain R data come back as R vectors,
# matrices and arrays (one copy out of the native buffer); any rj_array
# argument keeps them rj_arrays, so that data stays native between calls.
rj_outputs <- function(outs, leaves, output) {
  if (output == "rj_array") return(outs)
  if (output == "auto") for (l in leaves) if (is_rj_array(l)) return(outs)
  lapply(outs, function(o) if (is_rj_array(o)) .Call(C_rjc_array_values, o) else o)
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
  structure(c(lo, list(key = sig$key, f = a$f, static = a$static, backend = a$backend, output = a$output %||% "auto")),
            class = "rjax_lowered")
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
    tree_unflatten(entry$out_def, rj_outputs(.Call(C_rjc_run, entry$exe, sig$leaves), sig$leaves, lowered$output))
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
  if (!inherits(jf, "rjax_jit")) rj_abort("type", "jit_dump() needs a function returned by jit()")
  entries <- attr(jf, "rjax")$cache$entries
  out <- vapply(ls(entries), function(k) .Call(C_rjc_exe_describe, entries[[k]]$exe), "")
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
  n <- length(ls(a$cache$entries))
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
