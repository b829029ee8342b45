# Controlling gradients: stop_gradient() and custom_vjp().

#' Stop gradients from flowing through a value
#'
#' `stop_gradient(x)` returns `x` unchanged, but [grad()] treats it as a
#' constant: no gradient flows back through it, at any order of
#' differentiation. It works on arrays, traced values and nested lists of
#' them (R data, being constant, is returned as it is). In compiled programs
#' it costs nothing: the simplifier removes it once gradients are taken.
#' @param x An array, a traced value, or a (nested) list of them.
#' @return `x`, with the same structure.
#' @examples
#' f <- function(x) sum(x * stop_gradient(x))
#' grad(f)(c(1, 2, 3))          # x, not 2 x
#' # a straight-through estimator: round() forward, identity backward
#' ste <- function(x) x + stop_gradient(round(x) - x)
#' grad(function(x) sum(ste(x)^2))(c(0.2, 1.7))
#' @export
stop_gradient <- function(x) {
  if (is_rj_value(x)) return(rj_bind("stop_gradient", list(x)))
  if (is.list(x) && !is.object(x)) {
    fl <- tree_flatten(x)
    leaves <- lapply(fl$leaves, function(l) if (is_rj_value(l)) rj_bind("stop_gradient", list(l)) else l)
    return(tree_unflatten(fl$def, leaves))
  }
  x
}

#' Functions with a custom gradient rule
#'
#' `custom_vjp(f, fwd, bwd)` returns a function that computes `f(...)`,
#' but whose reverse-mode gradient is defined by you, as in JAX:
#' `fwd(...)` returns `list(value, residuals)` (the value of `f` and anything
#' the backward pass needs, any nested list of arrays), and
#' `bwd(residuals, g)` receives the residuals and the cotangent `g` of the
#' value, and returns a list with one cotangent per argument of `f`
#' (`NULL` for an argument that gets none; a nested list for a list
#' argument). Use it for numerically stable gradients, gradient clipping, or
#' gradients that are cheaper than differentiating `f`.
#'
#' The function works eagerly, under [jit()] and under [grad()] (including
#' `grad(grad(...))`: `bwd` is itself differentiated). `f` must return a
#' single array, and `f`, `fwd` and `bwd` must not use traced values from an
#' enclosing function other than through their arguments.
#'
#' Design: at each call inside a traced function, `f`, `fwd` and `bwd` are
#' traced into sub-graphs held by one `custom_vjp_call` node. Forward
#' evaluation inlines `f` (the simplifier does it before compiling, so
#' backends never see the node); the node's gradient rule inlines `fwd` and
#' then `bwd`. Because gradients are a graph transform applied after
#' tracing, the rule has to travel with the graph: this keeps eager, jit and
#' grad on one code path.
#' @param f The function.
#' @param fwd Forward pass: same arguments as `f`, returns
#'   `list(value, residuals)`.
#' @param bwd Backward pass: `function(residuals, g)` returning a list of
#'   cotangents, one per argument of `f`.
#' @return A function with the arguments of `f`.
#' @examples
#' # log(1 + exp(x)) with a gradient that stays finite for large x
#' softplus <- custom_vjp(
#'   function(x) log1p(exp(x)),
#'   fwd = function(x) list(log1p(exp(x)), x),
#'   bwd = function(x, g) list(g / (1 + exp(-x)))
#' )
#' grad(function(x) sum(softplus(x)))(c(-1, 0, 800))
#' # clip gradients to [-1, 1] on the way back
#' clip_grad <- custom_vjp(
#'   function(x) x,
#'   fwd = function(x) list(x, NULL),
#'   bwd = function(res, g) list(pmin(pmax(g, -1), 1))
#' )
#' grad(function(x) sum(clip_grad(x) * c(0.5, 5)))(c(1, 1))
#' @export
custom_vjp <- function(f, fwd, bwd) {
  f <- match.fun(f)
  fwd <- match.fun(fwd)
  bwd <- match.fun(bwd)
  out <- function(...) {
    args <- match_args(f, list(...))
    fl <- tree_flatten(args)
    if (!any(vapply(fl$leaves, is_rj_tracer, NA))) return(do.call(f, args))  # nothing to differentiate
    custom_vjp_call(f, fwd, bwd, args)
  }
  structure(out, class = c("rjax_custom_vjp", "function"))
}

#' @export
print.rjax_custom_vjp <- function(x, ...) {
  cat("<rjax function with a custom gradient rule>\n")
  invisible(x)
}

custom_vjp_call <- function(f, fwd, bwd, args) {
  tr_f <- trace_graph(f, args)
  if (tr_f$n_out != 1L || !inherits(tr_f$out_def, "rj_leaf")) {
    rj_abort("grad", "custom_vjp: f must return a single array")
  }
  res_def <- NULL
  fwd_flat <- function(...) {
    r <- fwd(...)
    if (!is.list(r) || length(r) != 2L) rj_abort("grad", "custom_vjp: fwd must return list(value, residuals)")
    if (!is_array_leaf(r[[1L]])) rj_abort("grad", "custom_vjp: the value returned by fwd must be a single array")
    rf <- tree_flatten(r[[2L]])
    res_def <<- rf$def
    c(list(r[[1L]]), rf$leaves)
  }
  tr_fwd <- trace_graph(fwd_flat, args)
  info_f <- .Call(C_rjc_graph_info, tr_f$graph)
  info_fwd <- .Call(C_rjc_graph_info, tr_fwd$graph)
  if (!identical(info_f$out_dtypes[[1L]], info_fwd$out_dtypes[[1L]]) ||
      !identical(info_f$out_shapes[[1L]], info_fwd$out_shapes[[1L]])) {
    rj_abort("grad", "custom_vjp: fwd's value does not have the dtype and shape of f's value")
  }
  # bwd is traced on placeholders of the residuals' and the value's types.
  res_leaves <- lapply(seq_along(info_fwd$out_dtypes)[-1L], function(k) shaped_zeros(info_fwd, k))
  g0 <- shaped_zeros(info_f, 1L)
  arg_leaves <- tr_f$in_leaves
  bwd_flat <- function(res, g) {
    cts <- bwd(tree_unflatten(res_def, res), g)
    if (!is.list(cts) || length(cts) != length(args)) {
      rj_abort("grad", sprintf("custom_vjp: bwd must return a list of %d cotangents (one per argument of f), got %s",
                               length(args), if (is.list(cts)) paste("a list of", length(cts)) else class(cts)[[1L]]))
    }
    out <- list()
    for (i in seq_along(args)) {
      want <- tree_flatten(args[[i]])$leaves
      got <- if (is.null(cts[[i]])) NULL else tree_flatten(cts[[i]])$leaves
      if (!is.null(got) && length(got) != length(want)) {
        rj_abort("grad", sprintf("custom_vjp: the cotangent for argument %d does not have the argument's structure", i))
      }
      for (k in seq_along(want)) {
        w <- want[[k]]
        ct <- if (is.null(got)) shaped_zeros_like(w) else got[[k]]
        # R does not tell a length-1 vector from a scalar (nor a plain
        # vector from a 1-d array): reshape those, reject other mismatches.
        if (!identical(leaf_shape(ct), leaf_shape(w)) && length(ct) == length(w) && length(leaf_shape(ct)) <= 1L &&
            length(leaf_shape(w)) <= 1L) {
          ct <- rj_reshape(as_rj(ct, dtype(w)), leaf_shape(w))
        }
        if (!identical(leaf_shape(ct), leaf_shape(w))) {
          rj_abort("grad", sprintf("custom_vjp: the cotangent for argument %d has shape [%s] but the argument has shape [%s]",
                                   i, paste(leaf_shape(ct), collapse = ","), paste(leaf_shape(w), collapse = ",")))
        }
        if (dtype(w) %in% c("f32", "f64") && !identical(dtype(ct), dtype(w))) ct <- as_dtype(as_rj(ct, dtype(w)), dtype(w))
        out[[length(out) + 1L]] <- ct
      }
    }
    out
  }
  tr_bwd <- trace_graph(bwd_flat, list(res = res_leaves, g = g0))
  .Call(C_rjc_custom_vjp_call, tr_f$graph, tr_fwd$graph, tr_bwd$graph, arg_leaves)[[1L]]
}

# Zeros of the k-th output type of a traced graph (placeholders for tracing bwd).
shaped_zeros <- function(info, k) {
  shape <- info$out_shapes[[k]]
  x <- if (length(shape) == 0L) 0 else if (length(shape) == 1L) numeric(shape) else array(0, shape)
  rj_array(x, dtype = info$out_dtypes[[k]])
}

shaped_zeros_like <- function(leaf) {
  shape <- leaf_shape(leaf)
  x <- if (length(shape) == 0L) 0 else if (length(shape) == 1L) numeric(shape) else array(0, shape)
  d <- dtype(leaf)
  rj_array(x, dtype = if (d %in% c("f32", "f64")) d else "f64")
}
