# Forward mode, pullbacks, Jacobians, Hessians and batching. Three core
# transforms do the work (C++: src/transforms/jvp.cpp, vjp.cpp, vmap.cpp);
# everything else is their composition in R, as in JAX:
#   jacfwd(f)  = vmap over the basis tangents of jvp(f)
#   jacrev(f)  = vmap over the basis cotangents of vjp(f)'s pullback
#   hessian(f) = jacfwd(grad(f))  (forward over reverse)
# Inside a trace the transformed programs are inlined into it (so they
# compose with jit(), grad(), the loops and each other); at top level they
# run through a jit() of the composition (compiled once per signature).

# ---- helpers ---------------------------------------------------------------------

# A placeholder array of a dtype and shape (tracing needs only its type).
placeholder <- function(dtype, shape) {
  shape <- as.integer(shape)
  x <- if (!length(shape)) 0 else array(0, shape)  # a 1-d array keeps rank 1 even of length 1
  rj_array(x, dtype = dtype)
}

# Calls a transformed graph: inlined into the innermost open trace when
# tracing (even if no argument is traced: the graph may capture values of
# enclosing traces), else run once on the interpreter.
call_graph <- function(g, leaves) {
  if (is_tracing()) return(.Call(C_rjc_graph_inline, g, leaves, current_trace()))
  .Call(C_rjc_graph_call, g, leaves, "interp")
}

# Wraps `traced` so that top-level calls run it compiled, and calls inside a
# trace inline it.
as_transformed <- function(traced, f, transform, wrt = NULL) {
  compiled <- jit(traced)
  out <- function(...) if (is_tracing()) traced(...) else compiled(...)
  structure(out, class = c("rjax_transformed", "function"),
            rjax = list(f = f, transform = transform, wrt = wrt %||% "-"))
}

shape_size <- function(s) if (length(s)) prod(s) else 1

# A leaf reshaped to `shape` (rank 0: a scalar).
reshape_leaf <- function(x, shape) rj_reshape(as_rj(x), as.integer(shape))

# The argument positions of `wrt` among args, and each leaf's owner.
leaf_owners <- function(args, st) {
  nms <- names(args) %||% rep("", length(args))
  n <- vapply(seq_along(args), function(i) {
    if (nzchar(nms[[i]]) && nms[[i]] %in% st) 0L else length(tree_flatten(args[[i]])$leaves)
  }, 1L)
  rep(seq_along(args), n)
}

# ---- jvp ------------------------------------------------------------------------

#' Forward-mode derivatives: Jacobian-vector products
#'
#' `jvp(f, primals, tangents)` evaluates `f` at `primals` and its directional
#' derivative along `tangents` in one forward pass, as JAX's `jax.jvp`:
#' the result is `list(value = f(primals), tangent = J %*% tangents)`.
#' `primals` is a list of arguments of `f` (as for [do.call()]) and
#' `tangents` a list of the same structure (`NULL` for an argument without
#' a tangent); arguments may be nested lists of arrays. Forward mode works
#' through [scan_loop()], [fori_loop()], [cond()] and also [while_loop()] (whose
#' reverse-mode derivative does not exist), and composes with [grad()],
#' [jit()] and [vmap()].
#' @param f A function of arrays (or nested lists of arrays).
#' @param primals A list of arguments of `f`.
#' @param tangents A list with one tangent per argument (same shapes), or
#'   `NULL` entries for arguments held fixed.
#' @return `list(value, tangent)`, each with the structure of `f`'s result.
#' @seealso [vjp()], [jacfwd()], [hessian()].
#' @examples
#' f <- function(x) sin(x) * x
#' jvp(f, list(c(1, 2)), list(c(1, 0)))
#' # forward mode through a while loop
#' g <- function(x) while_loop(function(s) s$i < 3, function(s) list(i = s$i + 1, x = s$x * s$x), list(i = 0, x = x))$x
#' jvp(g, list(1.1), list(1))$tangent   # 8 x^7
#' @export
jvp <- function(f, primals, tangents) {
  f <- match.fun(f)
  if (!is.list(primals) || is.object(primals)) primals <- list(primals)
  if (!is.list(tangents) || is.object(tangents)) tangents <- list(tangents)
  if (length(tangents) != length(primals)) {
    rj_abort("grad", sprintf("jvp(): %d primals but %d tangents; give one tangent (or NULL) per argument",
                             length(primals), length(tangents)))
  }
  jvp_call(f, primals, tangents)
}

jvp_call <- function(f, primals, tangents) {
  st <- static_names(primals, character())
  tr <- trace_graph(function(...) overlay_fn(f)(...), primals, st)
  nms <- names(primals) %||% rep("", length(primals))
  wrt <- integer()
  tleaves <- list()
  pos <- 0L
  for (i in seq_along(primals)) {
    if (nzchar(nms[[i]]) && nms[[i]] %in% st) next
    fl <- tree_flatten(primals[[i]])
    n <- length(fl$leaves)
    if (!is.null(tangents[[i]])) {
      tl <- tree_flatten(tangents[[i]])$leaves
      if (length(tl) != n) {
        rj_abort("grad", sprintf("jvp(): the tangent of argument %d does not have the structure of the argument", i))
      }
      for (k in seq_len(n)) {
        if (!identical(as.integer(leaf_shape(tl[[k]])), as.integer(leaf_shape(fl$leaves[[k]]))) &&
            length(tl[[k]]) != shape_size(leaf_shape(fl$leaves[[k]]))) {
          rj_abort("shape", sprintf("jvp(): a tangent of argument %d has shape [%s], its primal [%s]", i,
                                    paste(leaf_shape(tl[[k]]), collapse = ","), paste(leaf_shape(fl$leaves[[k]]), collapse = ",")))
        }
        if (dtype(fl$leaves[[k]]) %in% c("f32", "f64")) {
          wrt <- c(wrt, pos + k - 1L)
          tleaves[[length(tleaves) + 1L]] <- reshape_leaf(as_rj(tl[[k]], dtype(fl$leaves[[k]])), leaf_shape(fl$leaves[[k]]))
        }
      }
    }
    pos <- pos + n
  }
  g2 <- .Call(C_rjc_graph_jvp, tr$graph, as.integer(wrt))
  outs <- call_graph(g2, c(tr$in_leaves, tleaves))
  n <- tr$n_out
  list(value = tree_unflatten(tr$out_def, outs[seq_len(n)]),
       tangent = tree_unflatten(tr$out_def, outs[n + seq_len(n)]))
}

# ---- vjp ------------------------------------------------------------------------

#' Reverse-mode derivatives: the value and a pullback
#'
#' `vjp(f, ...)` evaluates `f(...)` and returns `list(value, pullback)`:
#' `pullback(ct)` maps a cotangent `ct` of the value's structure to the
#' cotangents of the arguments (`t(J) %*% ct`), one per argument in a list,
#' as JAX's `jax.vjp`. [grad()] is the pullback of a scalar function at 1.
#' @param f A function of arrays.
#' @param ... Arguments of `f` (arrays or nested lists of them).
#' @return `list(value, pullback)`.
#' @examples
#' r <- vjp(function(x) c(sum(x^2), prod(x)), c(1, 2, 3))
#' r$value
#' r$pullback(c(1, 0))   # 2 x
#' @export
vjp <- function(f, ...) {
  f <- match.fun(f)
  args <- list(...)
  value <- f(...)
  pullback <- function(ct) pullback_call(f, args, seq_along(args), ct)
  list(value = value, pullback = pullback)
}

# t(J) ct for the arguments in `wrt`: the gradient of <f(args), ct>.
pullback_call <- function(f, args, wrt, ct) {
  nms <- names(args) %||% rep("", length(args))
  dot <- function(...) {
    res <- overlay_fn(f)(...)
    rl <- tree_flatten(res)$leaves
    cl <- tree_flatten(ct)$leaves
    if (length(rl) != length(cl)) rj_abort("grad", "vjp(): the cotangent does not have the structure of the value")
    s <- 0
    for (k in seq_along(rl)) s <- s + sum(rl[[k]] * reshape_leaf(as_rj(cl[[k]], dtype(rl[[k]])), leaf_shape(rl[[k]])))
    s
  }
  g <- vjp_call(dot, args, wrt, FALSE, FALSE)
  if (length(wrt) == 1L) {
    out <- list(g)
    names(out) <- nms[wrt]
    if (!any(nzchar(nms))) names(out) <- NULL
    return(out)
  }
  unname_if_empty(g, nms[wrt])
}

unname_if_empty <- function(x, nms) {
  if (!any(nzchar(nms))) names(x) <- NULL
  x
}

# ---- vmap -----------------------------------------------------------------------

#' Vectorise a function over a batch axis
#'
#' `vmap(f, in_axes, out_axes)` returns a function that maps `f` over an
#' axis of its arguments, as JAX's `jax.vmap`, but computes all lanes at
#' once: every operation of `f` is replaced by its batched form (element-wise
#' operations on the whole batch, one batched matrix product, batched
#' `solve()`/`chol()`/`determinant()` kernels; loops and branches run once
#' for the whole batch), never an R loop.
#'
#' **Axis convention.** R arrays are column-major: the slices along the
#' *last* axis are contiguous (`x[, , k]` is one block of memory), and R
#' stacks results along the last axis (`sapply()` returns one column per
#' element). rjax therefore batches the last axis by default (`in_axes =
#' -1`) and stacks results along a new last axis (`out_axes = -1`):
#' `vmap(f)(X)` for a matrix `X` is `sapply(seq_len(ncol(X)), function(j)
#' f(X[, j]))`. Other axes are given 1-based (`in_axes = 1` maps over the
#' rows, as JAX's default `in_axes=0` maps over the leading axis); `NULL`
#' (or `NA`) marks an argument that is not mapped (broadcast to every lane).
#' Internally the batch axis always moves last, where batched kernels read
#' each lane in place.
#'
#' Loops and branches: a [while_loop()] whose condition differs between
#' lanes runs until every lane has stopped, freezing the lanes that have
#' finished (as JAX); a [cond()] whose predicate differs between lanes
#' evaluates both branches and selects per lane.
#' @param f A function of arrays (or nested lists of arrays).
#' @param in_axes The batch axis of each argument: one value for all
#'   arguments, or a list with one entry per argument (an axis, `NULL` for
#'   an unmapped argument, or for a list argument a list of its leaves' axes).
#' @param out_axes Where the batch axis goes in the results: `-1` (last) or
#'   a 1-based axis, one value or one per result leaf.
#' @return A function with the arguments of `f`.
#' @examples
#' f <- function(x) exp(-x / 2) * sin(x)
#' x <- seq(0, 10, length.out = 5)
#' vmap(grad(f))(x)                       # f'(x) at every point
#' # a matrix-vector product per column: one GEMM
#' A <- matrix(rnorm(6), 2)
#' vmap(function(v) A %*% v)(matrix(1:12, 3))
#' # map over rows, keep the second argument fixed
#' vmap(function(x, y) sum(x * y), in_axes = list(1, NULL))(matrix(1:6, 3), c(1, 1))
#' @export
vmap <- function(f, in_axes = -1L, out_axes = -1L) {
  f <- match.fun(f)
  force(in_axes)
  force(out_axes)
  traced <- function(...) vmap_call(f, list(...), in_axes, out_axes)
  as_transformed(traced, f, "vmap")
}

# 0-based axis of a leaf of shape `shape` for a user axis (1-based, or
# negative counting from the end), or -1 for an unmapped leaf.
resolve_axis <- function(ax, rank, what) {
  if (is.null(ax) || (length(ax) == 1L && is.na(ax))) return(-1L)
  if (!is.numeric(ax) || length(ax) != 1L || ax == 0) {
    rj_abort("type", sprintf("vmap(): the axis of %s must be a single non-zero number, NULL or NA", what))
  }
  a <- if (ax < 0) rank + ax else ax - 1L
  if (a < 0 || a >= rank) {
    rj_abort("shape", sprintf("vmap(): axis %s does not exist for %s, which has %d dimension%s", format(ax), what, rank,
                              if (rank == 1L) "" else "s"))
  }
  as.integer(a)
}

# One axis per leaf of argument i.
leaf_axes <- function(spec, arg, n_leaves) {
  if (is.list(spec) && !is.object(spec)) {
    fl <- tree_flatten(arg)
    # a list spec matching the argument's structure: one axis per leaf
    sl <- list()
    walk <- function(s, v) {
      if (is_array_leaf(v) || !is.list(v)) { sl[[length(sl) + 1L]] <<- s; return(invisible()) }
      for (k in seq_along(v)) walk(if (is.list(s)) s[[k]] else s, v[[k]])
    }
    walk(spec, arg)
    if (length(sl) != n_leaves) rj_abort("type", "vmap(): in_axes does not match the structure of an argument")
    return(sl)
  }
  rep(list(spec), n_leaves)
}

vmap_call <- function(f, args, in_axes, out_axes) {
  st <- static_names(args, character())
  nms <- names(args) %||% rep("", length(args))
  spec <- if (is.list(in_axes) && !is.object(in_axes)) in_axes else rep(list(in_axes), length(args))
  if (length(spec) != length(args)) {
    rj_abort("type", sprintf("vmap(): in_axes has %d entries for %d arguments", length(spec), length(args)))
  }
  slice_args <- args
  axes <- integer()
  leaves <- list()
  size <- NA_integer_
  for (i in seq_along(args)) {
    if (nzchar(nms[[i]]) && nms[[i]] %in% st) next
    fl <- tree_flatten(args[[i]])
    if (!length(fl$leaves)) next
    ax <- leaf_axes(spec[i][[1L]], args[[i]], length(fl$leaves))
    sl <- fl$leaves
    for (k in seq_along(fl$leaves)) {
      leaf <- fl$leaves[[k]]
      shape <- as.integer(leaf_shape(leaf))
      what <- sprintf("argument %s", if (nzchar(nms[[i]])) paste0("`", nms[[i]], "`") else i)
      a <- resolve_axis(ax[[k]], length(shape), what)
      axes <- c(axes, a)
      leaves[[length(leaves) + 1L]] <- leaf
      if (a < 0) next
      if (!is.na(size) && shape[[a + 1L]] != size) {
        rj_abort("shape", sprintf("vmap(): %s has %d elements along its batch axis, other arguments %d", what,
                                  shape[[a + 1L]], size))
      }
      size <- shape[[a + 1L]]
      sl[[k]] <- placeholder(dtype(leaf), shape[-(a + 1L)])
    }
    slice_args[i] <- list(tree_unflatten(fl$def, sl))
  }
  if (is.na(size)) rj_abort("type", "vmap(): no argument is mapped (every in_axes entry is NULL)")
  tr <- trace_graph(function(...) overlay_fn(f)(...), slice_args, st)
  info <- .Call(C_rjc_graph_info, tr$graph)
  oax <- rep(out_axes, length.out = tr$n_out)
  oax0 <- vapply(seq_len(tr$n_out), function(k) {
    r <- length(info$out_shapes[[k]]) + 1L
    resolve_axis(oax[[k]], r, "a result")
  }, 1L)
  g2 <- .Call(C_rjc_graph_vmap, tr$graph, as.integer(axes), as.integer(size), as.integer(oax0))
  tree_unflatten(tr$out_def, call_graph(g2, leaves))
}

# ---- Jacobians and Hessians -----------------------------------------------------

#' Jacobians and Hessians
#'
#' `jacfwd(f)` and `jacrev(f)` return functions computing the Jacobian of
#' `f` with respect to the arguments in `wrt`, by forward mode (one [jvp()]
#' per input element, batched with [vmap()]: best when there are fewer
#' inputs than outputs) or reverse mode (one pullback per output element,
#' batched: best for few outputs). `hessian(f)` is `jacfwd(grad(f))`
#' (forward over reverse, as JAX's). As in JAX, the Jacobian of an output
#' of shape `o` with respect to an input of shape `i` has shape `c(o, i)`;
#' with several `wrt` arguments the result is a list with one Jacobian per
#' argument, and list (pytree) inputs and outputs give nested lists.
#' @param f A function of arrays; for `hessian()`, returning a scalar.
#' @param wrt Positions or names of the arguments to differentiate (as in
#'   [grad()]).
#' @return A function with the arguments of `f`.
#' @examples
#' f <- function(x) c(x[1]^2 * x[2], sin(x[2]))
#' jacfwd(f)(c(1, 2))
#' jacrev(f)(c(1, 2))
#' hessian(function(x) sum(x^3))(c(1, 2))   # diag(6 x)
#' @export
jacfwd <- function(f, wrt = 1) {
  f <- match.fun(f)
  force(wrt)
  as_transformed(function(...) jac_call(f, list(...), wrt, "fwd"), f, "jacfwd", wrt)
}

#' @rdname jacfwd
#' @export
jacrev <- function(f, wrt = 1) {
  f <- match.fun(f)
  force(wrt)
  as_transformed(function(...) jac_call(f, list(...), wrt, "rev"), f, "jacrev", wrt)
}

#' @rdname jacfwd
#' @export
hessian <- function(f, wrt = 1) {
  f <- match.fun(f)
  force(wrt)
  as_transformed(function(...) jac_call(grad(f, wrt = wrt), list(...), wrt, "fwd"), f, "hessian", wrt)
}

# Flattened description of the leaves of args[wrt]: list(idx, shapes, dtypes, offsets, n, defs).
wrt_leaves <- function(args, widx) {
  shapes <- list()
  defs <- list()
  for (k in widx) {
    fl <- tree_flatten(args[[k]])
    for (l in fl$leaves) {
      if (!dtype(l) %in% c("f32", "f64") && !is.double(l)) {
        rj_abort("grad", "jacfwd()/jacrev(): only float arguments can be differentiated")
      }
      shapes[[length(shapes) + 1L]] <- as.integer(leaf_shape(l))
    }
    defs[[length(defs) + 1L]] <- list(def = fl$def, n = length(fl$leaves))
  }
  sizes <- vapply(shapes, shape_size, 1)
  list(shapes = shapes, sizes = sizes, offsets = c(0, cumsum(sizes))[seq_along(sizes)], n = sum(sizes), defs = defs)
}

# Column block [from + 1, from + count] of a [rows, n] matrix.
col_block <- function(m, from, count) {
  if (from == 0 && count == m@shape[[2L]]) return(m)
  rj_gather(m, list(seq_len(m@shape[[1L]]) - 1L, as.integer(from + seq_len(count) - 1L)))
}

# Elements [from + 1, from + count] of a vector.
vec_block <- function(v, from, count) {
  v <- as_rj(v)
  if (!length(v@shape) || (from == 0 && count == v@shape[[1L]])) return(v)
  rj_gather(v, list(as.integer(from + seq_len(count) - 1L)))
}

jac_call <- function(f, args, wrt, mode) {
  args <- match_args(f, args)
  widx <- resolve_wrt(wrt, args)
  nms <- names(args) %||% rep("", length(args))
  W <- wrt_leaves(args, widx)
  dt <- if (any(vapply(widx, function(k) any(vapply(tree_flatten(args[[k]])$leaves, dtype, "") == "f32"), NA))) "f32" else "f64"
  basis <- rj_array(diag(W$n), dtype = dt)
  # Splits a flat vector of length n into leaves of the wrt arguments.
  unflatten_wrt <- function(v) {
    out <- args
    j <- 0L
    for (a in seq_along(widx)) {
      d <- W$defs[[a]]
      ls <- lapply(seq_len(d$n), function(k) {
        jj <- j + k
        reshape_leaf(vec_block(v, W$offsets[[jj]], W$sizes[[jj]]), W$shapes[[jj]])
      })
      j <- j + d$n
      out[widx[[a]]] <- list(tree_unflatten(d$def, ls))
    }
    out
  }
  if (mode == "fwd") {
    one <- function(t) {
      tangents <- lapply(seq_along(args), function(i) NULL)
      tv <- unflatten_wrt(t)
      for (k in widx) tangents[k] <- list(tv[[k]])
      jvp_call(f, args, tangents)$tangent
    }
    res <- vmap_call(one, list(basis), -1L, -1L)  # each output leaf: c(out_shape, n)
    fl <- tree_flatten(res)
    leaves <- lapply(fl$leaves, function(J) {
      os <- J@shape[-length(J@shape)]
      m <- rj_reshape(J, c(shape_size(os), W$n))
      split_jac(W, widx, nms, function(jj) reshape_leaf(col_block(m, W$offsets[[jj]], W$sizes[[jj]]), c(os, W$shapes[[jj]])))
    })
    return(tree_unflatten(fl$def, leaves))
  }
  # reverse: the value's leaves decide the cotangent basis
  value <- trace_value_info(f, args)
  m_out <- sum(vapply(value$shapes, shape_size, 1))
  basis <- rj_array(diag(m_out), dtype = dt)
  one <- function(ct) {
    cts <- lapply(seq_along(value$shapes), function(k) reshape_leaf(vec_block(ct, value$offsets[[k]], shape_size(value$shapes[[k]])), value$shapes[[k]]))
    g <- pullback_call(f, args, widx, tree_unflatten(value$def, cts))
    unlist(lapply(g, function(gk) lapply(tree_flatten(gk)$leaves, function(l) rj_reshape(as_rj(l), shape_size(leaf_shape(l))))), recursive = FALSE)
  }
  res <- vmap_call(one, list(basis), -1L, -1L)  # per wrt leaf: [size, m_out]
  leaves <- lapply(seq_along(value$shapes), function(o) {
    os <- value$shapes[[o]]
    split_jac(W, widx, nms, function(jj) {
      blk <- col_block(res[[jj]], value$offsets[[o]], shape_size(os))  # [size_in, size_out]
      reshape_leaf(t(blk), c(os, W$shapes[[jj]]))
    })
  })
  tree_unflatten(value$def, leaves)
}

# One Jacobian block per wrt leaf (from block(jj)), arranged as the wrt arguments.
split_jac <- function(W, widx, nms, block) {
  per_arg <- list()
  j <- 0L
  for (a in seq_along(widx)) {
    d <- W$defs[[a]]
    ls <- lapply(seq_len(d$n), function(k) block(j + k))
    j <- j + d$n
    per_arg[[a]] <- tree_unflatten(d$def, ls)
  }
  if (length(widx) == 1L) return(per_arg[[1L]])
  names(per_arg) <- nms[widx]
  per_arg
}

# The structure and leaf shapes of f's value at args (traced, not run).
trace_value_info <- function(f, args) {
  st <- static_names(args, character())
  tr <- trace_graph(function(...) overlay_fn(f)(...), args, st)
  info <- .Call(C_rjc_graph_info, tr$graph)
  shapes <- lapply(info$out_shapes, as.integer)
  sizes <- vapply(shapes, shape_size, 1)
  list(def = tr$out_def, shapes = shapes, offsets = c(0, cumsum(sizes))[seq_along(sizes)])
}

# ---- devices and synchronisation ------------------------------------------------

#' Devices and synchronisation
#'
#' `rj_devices()` lists the devices rjax can run on, one row per device (a
#' data frame: `id`, `platform`, `kind`, `threads`, `memory` in bytes): the
#' CPU, and the NVIDIA GPUs the CUDA driver reports (platform `"cuda"`,
#' kind = name and architecture). No CUDA installation is needed: without a
#' driver or a GPU the list holds the CPU, and attribute `cuda` says which
#' CUDA libraries were found (see [rj_cuda_available()]). `block_until_ready(x)` waits until every
#' array in `x` has been computed and returns `x` (as JAX's
#' `block_until_ready()`): use it around timings. On the CPU every rjax
#' call returns finished arrays, so it returns at once; with an
#' asynchronous device it is the synchronisation point.
#' @param x An array, or a nested list of arrays.
#' @return `rj_devices()`: a data frame. `block_until_ready()`: `x`.
#' @examples
#' rj_devices()
#' x <- block_until_ready(jit(function(a) a %*% a)(diag(3)))
#' @export
rj_devices <- function() {
  info <- runtime_info()
  kind <- tryCatch({
    cpu <- grep("^model name", readLines("/proc/cpuinfo", warn = FALSE), value = TRUE)
    if (length(cpu)) trimws(sub("^[^:]*:", "", cpu[[1L]])) else "cpu"
  }, error = function(e) "cpu", warning = function(w) "cpu")
  cpu <- data.frame(id = 0L, platform = "cpu", kind = kind, threads = as.integer(info[["threads"]]),
                    memory = as.numeric(rjax_memory()$machine), stringsAsFactors = FALSE)
  cuda <- .Call(C_rjc_cuda_info)  # R/device.R: the GPUs, if any
  structure(rbind(cpu, rj_cuda_device_rows(cuda)), cuda = cuda$libraries)
}

#' @rdname rj_devices
#' @export
block_until_ready <- function(x) {
  # CPU kernels finish before their call returns: nothing is pending. A
  # device backend synchronises here (one stream wait per array).
  invisible(lapply(tree_flatten(x)$leaves, function(l) if (is_rj_array(l)) l@shape))
  rj_device_sync()  # CUDA programs: the GPU's queue (R/device.R)
  x
}

# ---- custom_jvp -----------------------------------------------------------------

#' Functions with a custom forward-mode rule
#'
#' `custom_jvp(f, jvp)` returns a function computing `f(...)` whose
#' derivatives are defined by `jvp(primals, tangents)`, as JAX's
#' `jax.custom_jvp`: `primals` and `tangents` are lists with one entry per
#' argument of `f`, and `jvp` returns `list(value, tangent)`: the value of
#' `f` and its tangent, which must be linear in `tangents`. Forward mode
#' ([jvp()], [jacfwd()], [hessian()]) runs the rule; reverse mode ([grad()],
#' [jacrev()]) transposes it, so one rule serves both. Use it for stable
#' derivatives (`log1p(exp(x))`), or to define derivatives at points where
#' the formula has none.
#'
#' `f` must return a single array; `f` and `jvp` must use values of an
#' enclosing traced function only through their arguments.
#' @param f The function.
#' @param jvp Its rule: `function(primals, tangents)` returning
#'   `list(value, tangent)`.
#' @return A function with the arguments of `f`.
#' @examples
#' softplus <- custom_jvp(function(x) log1p(exp(x)),
#'   jvp = function(p, t) list(log1p(exp(p[[1]])), t[[1]] / (1 + exp(-p[[1]]))))
#' grad(function(x) sum(softplus(x)))(c(-1, 0, 800))
#' jvp(softplus, list(800), list(1))$tangent
#' @export
custom_jvp <- function(f, jvp) {
  f <- match.fun(f)
  rule <- match.fun(jvp)
  out <- function(...) {
    args <- list(...)
    leaves <- tree_flatten(args)$leaves
    if (!is_tracing() || !any(vapply(leaves, is_rj_tracer, NA))) return(f(...))
    custom_jvp_call(f, rule, args)
  }
  structure(out, class = c("rjax_custom_jvp", "function"))
}

#' @export
print.rjax_custom_jvp <- function(x, ...) {
  cat("<rjax function with a custom forward-mode rule>\n")
  invisible(x)
}

custom_jvp_call <- function(f, rule, args) {
  fl <- tree_flatten(args)
  tr_f <- trace_graph(function(...) overlay_fn(f)(...), args)
  if (tr_f$n_out != 1L || !inherits(tr_f$out_def, "rj_leaf")) rj_abort("grad", "custom_jvp: f must return a single array")
  tangent_leaves <- lapply(fl$leaves, function(l) placeholder(if (dtype(l) == "f32") "f32" else "f64", leaf_shape(l)))
  flat_rule <- function(p, t) {
    r <- rule(tree_unflatten(fl$def, p), tree_unflatten(fl$def, t))
    if (!is.list(r) || length(r) != 2L) rj_abort("grad", "custom_jvp: the jvp rule must return list(value, tangent)")
    r
  }
  tr_rule <- trace_graph(flat_rule, list(p = fl$leaves, t = tangent_leaves))
  .Call(C_rjc_custom_jvp_call, tr_f$graph, tr_rule$graph, fl$leaves, current_trace())[[1L]]
}

#' @rdname jvp
#' @details `linearize(f, primals)` returns `list(value, jvp_fn)` where
#'   `jvp_fn(tangents)` gives the tangent at `primals` for a list of tangents
#'   (as `jax.linearize`; here each call runs the forward pass again rather
#'   than storing a linearised program).
#' @export
linearize <- function(f, primals) {
  f <- match.fun(f)
  if (!is.list(primals) || is.object(primals)) primals <- list(primals)
  value <- do.call(f, primals)
  jvp_fn <- function(tangents) jvp(f, primals, tangents)$tangent
  list(value = value, jvp_fn = jvp_fn)
}
