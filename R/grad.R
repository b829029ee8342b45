# Reverse-mode differentiation: trace f into its own graph, apply the VJP
# transform (C++), then call the gradient graph: inlined into the enclosing
# trace when there is one, compiled and run (through jit) otherwise.

#' Gradients of R functions
#'
#' `grad(f)` returns a function computing the gradient of the scalar
#' function `f` with respect to the arguments in `wrt`; `value_and_grad(f)`
#' returns both the value and the gradient. Arguments may be nested lists
#' of arrays: the gradient has the same structure. Transforms compose:
#' `jit(grad(f))`, `grad(jit(f))` and `grad(grad(f))` all work, because
#' every gradient rule is itself written as traceable operations.
#'
#' At points where a function is not differentiable rjax follows JAX:
#' `abs(x)` has gradient `sign(x)` (0 at 0), `pmax(x, y)` splits the
#' gradient evenly on ties, `round()`, `floor()`, `sign()` have gradient 0.
#'
#' Use [stop_gradient()] to treat a value as a constant, and [custom_vjp()]
#' to give a function your own gradient rule.
#'
#' Compiled programs (from [jit()], and what [make_ir()] prints) are
#' simplified after differentiation: dead code is dropped, common
#' subexpressions shared, constants folded, and algebraic identities applied
#' (`t(t(x))` is `x`, `sum(diag(A %*% B))` is `sum(A * t(B))`, `log(exp(x))`
#' is `x`, `x * 1` is `x`). Like JAX's symbolic zeros, `x * 0` is
#' simplified to `0` even where `x` is `Inf` or `NaN`.
#'
#' @param f A function returning a float scalar (or, with `has_aux = TRUE`,
#'   a list whose first element is that scalar and whose second is passed
#'   through).
#' @param wrt Positions or names of the arguments to differentiate.
#' @param has_aux Whether `f` returns `list(value, aux)`.
#' @return A function. `grad()`'s returns the gradient (a list named by the
#'   arguments when `wrt` has several), or `list(grad, aux)` with
#'   `has_aux`; `value_and_grad()`'s returns `list(value, grad)`, plus `aux`
#'   with `has_aux`.
#' @examples
#' f <- function(x) sum(x^3)
#' grad(f)(c(1, 2, 3))              # 3 x^2
#' grad(grad(function(x) x^3))(2)   # 6 x
#' loss <- function(p, X, y) sum((X %*% p$w + p$b - y)^2)
#' p <- list(w = c(1, -1), b = 0.5)
#' X <- matrix(rnorm(20), 10); y <- rnorm(10)
#' value_and_grad(loss)(p, X, y)
#' @export
grad <- function(f, wrt = 1, has_aux = FALSE) {
  transform_grad(f, wrt, has_aux, with_value = FALSE)
}

#' @rdname grad
#' @export
value_and_grad <- function(f, wrt = 1, has_aux = FALSE) {
  transform_grad(f, wrt, has_aux, with_value = TRUE)
}

# Outside a trace the gradient function traces f afresh on every call, as
# JAX's grad does (values captured from f's environment are never stale),
# and evaluates the gradient program once with the reference interpreter;
# jit(grad(f)) compiles it instead. R values in, R values out, as for jit().
transform_grad <- function(f, wrt, has_aux, with_value) {
  f <- match.fun(f)
  force(wrt)
  impl <- function(args) {
    res <- vjp_call(f, args, wrt, has_aux, with_value)
    if (is_tracing() || rj_any_array_leaf(args)) res else rj_tree_to_r(res)
  }
  structure(rj_with_formals(f, impl), class = c("rjax_transformed", "function"),
            rjax = list(f = f, transform = if (with_value) "value_and_grad" else "grad", wrt = wrt))
}

rj_any_array_leaf <- function(args) {
  for (l in tree_flatten(args)$leaves) if (is_rj_array(l)) return(TRUE)
  FALSE
}

# rj_arrays in a tree of results as R values (classes and attributes of
# lists, and registered pytree objects, kept).
rj_tree_to_r <- function(x) {
  fl <- tree_flatten(x)
  tree_unflatten(fl$def, lapply(fl$leaves, function(o) if (is_rj_array(o)) .Call(C_rjc_array_values, o) else o))
}

#' @export
print.rjax_transformed <- function(x, ...) {
  a <- attr(x, "rjax")
  cat(sprintf("<rjax %s function, wrt = %s>\n", a$transform, paste(a$wrt, collapse = ", ")))
  invisible(x)
}

resolve_wrt <- function(wrt, args) {
  nms <- names(args) %||% rep("", length(args))
  idx <- if (is.character(wrt)) match(wrt, nms) else as.integer(wrt)
  if (anyNA(idx) || any(idx < 1L | idx > length(args))) {
    rj_abort("grad", sprintf("'wrt' = %s does not name arguments of the function (it has %s)",
                             paste(wrt, collapse = ", "), paste0("`", nms, "`", collapse = ", ")))
  }
  idx
}

vjp_call <- function(f, args, wrt, has_aux, with_value) {
  args <- match_args(f, args)
  widx <- resolve_wrt(wrt, args)
  nms <- names(args) %||% rep("", length(args))
  st <- setdiff(static_names(args, character()), nms[widx])
  # Every array leaf becomes a parameter; those of the wrt arguments are
  # differentiated (their positions among the parameters, 0-based).
  n_leaves <- vapply(seq_along(args), function(i) {
    if (nzchar(nms[[i]]) && nms[[i]] %in% st) 0L else length(tree_flatten(args[[i]])$leaves)
  }, 1L)
  for (k in widx) {
    if (!n_leaves[[k]]) rj_abort("grad", sprintf("argument `%s` has no arrays to differentiate", nms[[k]]))
  }
  owner <- rep(seq_along(args), n_leaves)
  # In the order of `wrt` (not of the arguments): the gradients come back in
  # this order and are split per wrt argument below.
  wrt_params <- unlist(lapply(widx, function(k) which(owner == k))) - 1L
  wrapped <- function(...) {
    res <- overlay_fn(f)(...)
    if (has_aux) {
      if (!is.list(res) || length(res) < 2L) rj_abort("grad", "with has_aux = TRUE the function must return list(value, aux)")
      out <- list(value = res[[1L]], aux = res[[2L]])
    } else {
      out <- list(value = res)
    }
    if (!is_array_leaf(out$value)) {
      rj_abort("grad", sprintf("grad() needs a function that returns a float scalar, but it returned a %s", class(out$value)[[1L]]))
    }
    out
  }
  tr <- trace_graph(wrapped, args, st)
  g2 <- .Call(C_rjc_graph_vjp, tr$graph, as.integer(wrt_params))
  outs <- call_graph(g2, tr$in_leaves)  # R/transforms.R: inlines even when only captures are traced
  res <- tree_unflatten(tr$out_def, outs[seq_len(tr$n_out)])
  gl <- outs[-seq_len(tr$n_out)]
  grads <- list()
  pos <- 0L
  for (k in widx) {
    fl <- tree_flatten(args[[k]])
    grads[[length(grads) + 1L]] <- tree_unflatten(fl$def, gl[pos + seq_along(fl$leaves)])
    pos <- pos + length(fl$leaves)
  }
  names(grads) <- nms[widx]
  g <- if (length(widx) == 1L) grads[[1L]] else grads
  if (with_value) {
    out <- list(value = res$value, grad = g)
    if (has_aux) out$aux <- res$aux
    return(out)
  }
  if (has_aux) list(grad = g, aux = res$aux) else g
}
