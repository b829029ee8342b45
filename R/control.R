# Control flow: scan_loop(), fori_loop(), while_loop(), cond().
#
# Each body is traced once into its own graph, on parameters of the carry's
# (and slices') types; the graphs become sub-graphs of one control node of
# the enclosing trace (src/prims/control.h), which every backend runs as a
# native loop. Outside a trace, the call runs through jit(), as grad() does.

#' Loop with a carried state, stacking per-iteration outputs
#'
#' `scan_loop(f, init, xs)` runs `carry <- f(carry, x)[[1]]` once for every slice
#' `x` of `xs`, collecting the second element `y` of each result, as JAX's
#' `lax.scan`. The loop is traced once and runs natively (no R code per
#' iteration), eagerly as well as inside [jit()], and it is differentiable
#' with [grad()].
#'
#' **Slices and stacking use the last dimension.** R arrays are
#' column-major, so the slab of iteration `t` is contiguous when `t` indexes
#' the *last* dimension: `xs` is sliced along its last dimension (a vector
#' gives scalars, a matrix its columns) and the `y`s are stacked along a new
#' last dimension, like [sapply()] / [simplify2array()]. So `ys[, t]` (or
#' `ys[, , t]`) is the `y` of iteration `t`, and scalar `y`s give a vector
#' of length `length`.
#'
#' The carry may be any nested list of arrays (an optimizer state, say); it
#' must keep its structure, dtypes and shapes from one iteration to the
#' next, except that a plain R number in `init` (weakly typed) takes the
#' dtype the body gives it. Arrays from the enclosing R environment that `f`
#' uses are constants; traced values it uses become loop-invariant inputs.
#'
#' Gradients: the reverse pass stores the carry of every iteration, so its
#' memory grows linearly with `length` (a scan of 1000 steps over a carry of
#' n numbers keeps 1000 n numbers), and it computes the forward loop twice.
#'
#' @param f A function `f(carry, x)` returning `list(carry, y)`; `y` may be
#'   any nested list of arrays, or `NULL`.
#' @param init The initial carry: an array or a nested list of arrays.
#' @param xs `NULL`, or an array or nested list of arrays whose last
#'   dimensions all have the same extent (the number of iterations).
#' @param length The number of iterations, required when `xs` is `NULL`.
#' @param reverse If `TRUE`, iterate from the last slice to the first (the
#'   `ys` stay aligned with `xs`).
#' @return `list(carry = <final carry>, ys = <stacked y>)`.
#' @note The name is `scan_loop()`, not `scan()`, so that attaching rjax
#'   leaves base R's data reader [base::scan()] alone (JAX's name is
#'   `lax.scan`; rjax keeps `fori_loop()` and `while_loop()` as in JAX).
#' @seealso [fori_loop()], [while_loop()], [cond()].
#' @examples
#' # cumulative sum
#' scan_loop(function(c, x) list(c + x, c + x), 0, xs = c(1, 2, 3, 4))$ys
#' # a linear recurrence over the columns of a matrix
#' A <- matrix(c(0.9, 0.1, -0.1, 0.9), 2)
#' U <- matrix(rnorm(20), 2)
#' out <- scan_loop(function(h, u) { h <- A %*% h + u; list(h, sum(h^2)) }, c(0, 0), U)
#' out$ys
#' # gradient through the loop
#' grad(function(h0) sum(scan_loop(function(h, u) list(tanh(A %*% h + u), NULL), h0, U)$carry))(c(1, 1))
#' @export
scan_loop <- function(f, init, xs = NULL, length = NULL, reverse = FALSE) {
  f <- match.fun(f)
  n_steps <- length
  if (!is_tracing()) {
    return(jit(function(init, xs) scan_loop(f, init, xs, length = n_steps, reverse = reverse))(init, xs))
  }
  fi <- tree_flatten(init, "carry")
  fx <- tree_flatten(xs, "xs")
  n_steps <- scan_length(fx, n_steps)
  x_shapes <- lapply(fx$leaves, function(l) {
    s <- leaf_shape(l)
    if (base::length(s) == 0L) 1L else s  # an R number is a vector of length 1
  })
  x_types <- Map(function(l, s) list(dtype = dtype(l), shape = s[-base::length(s)], weak = leaf_weak(l)),
                 fx$leaves, x_shapes)
  x_paths <- paste0(fx$paths, "[t]")
  carry_types <- lapply(fi$leaves, leaf_type)
  for (attempt in 1:2) {
    body <- function(carry, x) {
      r <- overlay_fn(f)(carry, x)
      if (!is.list(r) || base::length(r) != 2L) {
        rj_abort("type", "scan_loop(): f(carry, x) must return list(carry, y)")
      }
      list(fit_carry(r[[1L]], carry_types), r[[2L]])
    }
    tr <- trace_abstract(body, list(fi$def, fx$def), list(carry_types, x_types), list(fi$paths, x_paths))
    check_structure("scan_loop()", fi$def, tr$defs[[1L]])
    fix <- check_carry("scan_loop()", fi$paths, carry_types, tr$types[[1L]], retrace = attempt == 1L)
    if (is.null(fix)) break
    carry_types <- fix
  }
  nc <- base::length(fi$leaves)
  outs <- .Call(C_rjc_control, current_trace(), "scan", list(tr$graph), c(fi$leaves, fx$leaves),
                as.integer(c(n_steps, isTRUE(reverse), base::length(fx$leaves))))
  list(carry = tree_unflatten(fi$def, outs[seq_len(nc)]),
       ys = tree_unflatten(tr$defs[[2L]], outs[nc + seq_along(tr$types[[2L]])]))
}

# The number of iterations of a scan: the common last extent of the xs leaves.
scan_length <- function(fx, n) {
  if (!is.null(n) && (!is.numeric(n) || base::length(n) != 1L || is.na(n) || n < 0 || n != round(n))) {
    rj_abort("type", "scan_loop(): `length` must be a non-negative whole number")
  }
  if (!is.null(n) && n > .Machine$integer.max) {
    rj_abort("shape", sprintf(paste0("scan_loop(): `length` = %s is more iterations than one loop can run ",
                                     "(at most %d); split it into an outer and an inner loop"),
                              format(n), .Machine$integer.max))
  }
  if (!base::length(fx$leaves)) {
    if (is.null(n)) rj_abort("type", "scan_loop(): give `xs` or `length` (the number of iterations)")
    return(as.integer(n))
  }
  ext <- vapply(fx$leaves, function(l) {
    s <- leaf_shape(l)
    if (base::length(s)) s[[base::length(s)]] else 1L
  }, 1L)
  if (any(ext != ext[[1L]])) {
    rj_abort("shape", sprintf("scan_loop(): the leaves of `xs` must have the same last dimension, but %s",
                              paste0("`", fx$paths, "` has ", ext, collapse = ", ")))
  }
  if (!is.null(n) && n != ext[[1L]]) {
    rj_abort("shape", sprintf("scan_loop(): `length` is %d but `xs` has %d slices along its last dimension", as.integer(n), ext[[1L]]))
  }
  ext[[1L]]
}

#' Loop over an index range
#'
#' `fori_loop(lower, upper, body, init)` computes
#' `for (i in lower:upper) carry <- body(i, carry)` and returns the final
#' carry; with `upper < lower` the body does not run (unlike R's `:`, which
#' would count down). `i` is an `i32` scalar.
#'
#' With plain R numbers as bounds the loop is a [scan_loop()] over `lower:upper`
#' (so it can be differentiated); with traced bounds (arguments of a
#' jitted function) it is a [while_loop()], which cannot.
#' @param lower,upper First and last index (inclusive).
#' @param body A function `body(i, carry)` returning the next carry.
#' @param init The initial carry (an array or nested list of arrays).
#' @return The final carry.
#' @examples
#' fori_loop(1, 10, function(i, s) s + i, 0)     # 55
#' f <- function(x, A, B) fori_loop(1, 100, function(i, x) B %*% x + solve(A, x) + sqrt(sum(x^2)), x)
#' A <- diag(3) * 4; B <- diag(3) * 0.1
#' jit(f)(c(1, 0, 0), A, B)
#' @export
fori_loop <- function(lower, upper, body, init) {
  body <- match.fun(body)
  static <- is_static_bound(lower) && is_static_bound(upper)
  if (!is_tracing()) {
    if (static) return(jit(function(init) fori_loop(lower, upper, body, init))(init))
    return(jit(function(init, lower, upper) fori_loop(lower, upper, body, init))(init, lower, upper))
  }
  if (static) {
    if (upper < lower) return(init)
    step <- function(carry, i) list(overlay_fn(body)(i, carry), NULL)
    return(scan_loop(step, init, xs = as.integer(lower):as.integer(upper))$carry)
  }
  lo <- as_index(lower, "lower")
  hi <- as_index(upper, "upper")
  out <- while_loop(function(s) s$i <= hi,
                    function(s) list(i = s$i + 1L, carry = overlay_fn(body)(s$i, s$carry)),
                    list(i = lo, carry = init))
  out$carry
}

is_static_bound <- function(x) {
  !is_rj_value(x) && is.numeric(x) && length(x) == 1L && !is.na(x) && x == round(x)
}

as_index <- function(x, what) {
  if (is_rj_value(x)) {
    if (prod(x@shape) != 1L) rj_abort("shape", sprintf("fori_loop(): `%s` must be a single number", what))
    return(rj_reshape(as_dtype(x, "i32"), integer()))
  }
  if (!is_static_bound(x)) rj_abort("type", sprintf("fori_loop(): `%s` must be a single whole number", what))
  rj_array(as.integer(x), dtype = "i32")
}

#' Loop while a condition holds
#'
#' `while_loop(cond_fun, body_fun, init)` computes
#' `carry <- init; while (cond_fun(carry)) carry <- body_fun(carry)` with
#' traced values, natively (R's `while` cannot test a traced value). The
#' carry must keep its structure, dtypes and shapes. The number of
#' iterations is not known in advance, so the loop cannot be differentiated
#' in reverse mode (an `rjax_grad_error`, as in JAX): use [scan_loop()] or
#' [fori_loop()] with R-number bounds for that.
#' @param cond_fun A function of the carry returning a single logical.
#' @param body_fun A function of the carry returning the next carry.
#' @param init The initial carry.
#' @return The final carry.
#' @examples
#' # Newton's method for sqrt(2), to a tolerance
#' while_loop(function(s) abs(s$x^2 - 2) > 1e-12,
#'            function(s) list(x = s$x - (s$x^2 - 2) / (2 * s$x), n = s$n + 1L),
#'            list(x = 1, n = 0L))
#' @export
while_loop <- function(cond_fun, body_fun, init) {
  cond_fun <- match.fun(cond_fun)
  body_fun <- match.fun(body_fun)
  if (!is_tracing()) return(jit(function(init) while_loop(cond_fun, body_fun, init))(init))
  fi <- tree_flatten(init, "carry")
  carry_types <- lapply(fi$leaves, leaf_type)
  for (attempt in 1:2) {
    body <- function(carry) list(fit_carry(overlay_fn(body_fun)(carry), carry_types))
    tb <- trace_abstract(body, list(fi$def), list(carry_types), list(fi$paths))
    check_structure("while_loop()", fi$def, tb$defs[[1L]])
    fix <- check_carry("while_loop()", fi$paths, carry_types, tb$types[[1L]], retrace = attempt == 1L)
    if (is.null(fix)) break
    carry_types <- fix
  }
  tc <- trace_abstract(function(carry) list(overlay_fn(cond_fun)(carry)), list(fi$def),
                       list(carry_types), list(fi$paths))
  ct <- tc$types[[1L]]
  if (length(ct) != 1L || prod(ct[[1L]]$shape) != 1L) {
    rj_abort("type", "while_loop(): cond_fun must return a single TRUE/FALSE value")
  }
  outs <- .Call(C_rjc_control, current_trace(), "while", list(tc$graph, tb$graph), fi$leaves, integer())
  tree_unflatten(fi$def, outs)
}

#' Choose between two functions on a traced condition
#'
#' `cond(pred, true_fun, false_fun, ...)` returns `true_fun(...)` if `pred`
#' is `TRUE` and `false_fun(...)` otherwise. With a traced `pred` (inside
#' [jit()] or [grad()]), where R's `if` cannot work, both functions are
#' traced with the operands `...` and the choice is made when the program
#' runs; they must then return the same structure of arrays with the same
#' dtypes and shapes (a weakly typed R number takes the other branch's
#' dtype). Only the chosen branch is computed. With a plain R logical or a
#' concrete array `pred`, `cond()` simply calls one of the functions.
#'
#' Gradients flow through the operands (and values the branches use from
#' the enclosing function) of the branch taken.
#' @param pred A single logical (or number, nonzero meaning `TRUE`).
#' @param true_fun,false_fun Functions of the operands.
#' @param ... The operands (arrays or nested lists of arrays).
#' @return What the chosen function returns.
#' @examples
#' f <- function(x) cond(sum(x) > 0, function(x) x * 2, function(x) -x, x)
#' jit(f)(c(1, 2)); jit(f)(c(-1, -2))
#' grad(function(x) sum(f(x)))(c(1, 2))
#' @export
cond <- function(pred, true_fun, false_fun, ...) {
  true_fun <- match.fun(true_fun)
  false_fun <- match.fun(false_fun)
  if (!is_rj_tracer(pred)) {
    p <- if (is_rj_value(pred)) rj_values(pred) else pred
    if (!(is.logical(p) || is.numeric(p)) || length(p) != 1L || is.na(p)) {
      rj_abort("type", "cond(): `pred` must be a single TRUE/FALSE value")
    }
    return(if (p) true_fun(...) else false_fun(...))
  }
  if (prod(pred@shape) != 1L) {
    rj_abort("shape", sprintf("cond(): `pred` must be a single value, but it has shape [%s]; use ifelse() for an element-wise choice",
                              paste(pred@shape, collapse = ",")))
  }
  ops <- list(...)
  labels <- names(ops) %||% rep("", length(ops))
  labels <- base::ifelse(nzchar(labels), labels, paste0("..", seq_along(ops)))
  fos <- Map(tree_flatten, ops, labels)
  defs <- lapply(fos, `[[`, "def")
  types <- lapply(fos, function(fo) lapply(fo$leaves, leaf_type))
  paths <- lapply(fos, `[[`, "paths")
  leaves <- do.call(c, c(list(list()), lapply(fos, `[[`, "leaves")))
  branch <- function(fun, to = list()) {
    function(...) {
      r <- overlay_fn(fun)(...)
      if (length(to)) {
        fl <- tree_flatten(r)
        for (k in names(to)) fl$leaves[[as.integer(k)]] <- as_dtype(as_rj(fl$leaves[[as.integer(k)]]), to[[k]])
        r <- tree_unflatten(fl$def, fl$leaves)
      }
      list(r)
    }
  }
  tt <- trace_abstract(branch(true_fun), defs, types, paths)
  tf <- trace_abstract(branch(false_fun), defs, types, paths)
  if (!identical(tt$defs[[1L]], tf$defs[[1L]])) {
    rj_abort("type", "cond(): true_fun and false_fun must return the same structure (the same nesting and names of lists)")
  }
  # A weakly typed output (an R number) takes the other branch's dtype.
  conv <- list(true = list(), false = list())
  for (k in seq_along(tt$types[[1L]])) {
    a <- tt$types[[1L]][[k]]
    b <- tf$types[[1L]][[k]]
    same_shape <- identical(as.integer(a$shape), as.integer(b$shape))
    if (same_shape && !identical(a$dtype, b$dtype) && xor(a$weak, b$weak)) {
      if (a$weak) conv$true[[as.character(k)]] <- b$dtype else conv$false[[as.character(k)]] <- a$dtype
    } else if (!same_shape || !identical(a$dtype, b$dtype)) {
      rj_abort("type", sprintf("cond(): the branches must return the same dtypes and shapes, but for `%s` true_fun returns %s and false_fun returns %s",
                               tt$paths[[1L]][[k]], type_str(a), type_str(b)))
    }
  }
  if (length(conv$true)) tt <- trace_abstract(branch(true_fun, conv$true), defs, types, paths)
  if (length(conv$false)) tf <- trace_abstract(branch(false_fun, conv$false), defs, types, paths)
  outs <- .Call(C_rjc_control, current_trace(), "cond", list(tt$graph, tf$graph), c(list(pred), leaves), integer())
  tree_unflatten(tt$defs[[1L]], outs)
}

# ---- tracing bodies ------------------------------------------------------------

# The abstract type of a leaf: its dtype, shape and whether it is weakly
# typed (plain R data).
leaf_type <- function(x) list(dtype = dtype(x), shape = leaf_shape(x), weak = leaf_weak(x))

type_str <- function(t) paste0(t$dtype, "[", paste(t$shape, collapse = ","), "]")

# Traces f(arg_1, ..., arg_n) into a new graph, where argument i has the tree
# structure defs[[i]] and leaves of types types[[i]] (labelled paths[[i]]).
# f returns a list of parts; each part is flattened on its own. Returns the
# graph, and per part its tree def, leaf types and paths.
trace_abstract <- function(f, defs, types, paths) {
  g <- open_trace()
  on.exit(close_trace())
  args <- lapply(seq_along(defs), function(i) {
    params <- lapply(seq_along(types[[i]]), function(k) {
      t <- types[[i]][[k]]
      .Call(C_rjc_graph_param, g, t$dtype, as.integer(t$shape), isTRUE(t$weak), paths[[i]][[k]])
    })
    tree_unflatten(defs[[i]], params)
  })
  names(args) <- names(defs)
  parts <- lapply(call_traced(f, args), function(p) tree_flatten(p, "value"))
  leaves <- do.call(c, c(list(list()), lapply(parts, `[[`, "leaves")))
  .Call(C_rjc_graph_finish, g, leaves)
  info <- .Call(C_rjc_graph_info, g)
  all_types <- lapply(seq_along(leaves), function(k) {
    list(dtype = info$out_dtypes[[k]], shape = info$out_shapes[[k]], weak = info$out_weak[[k]])
  })
  ends <- cumsum(vapply(parts, function(p) length(p$leaves), 1L))
  starts <- c(0L, ends[-length(ends)])
  list(graph = g,
       defs = lapply(parts, `[[`, "def"),
       types = lapply(seq_along(parts), function(i) all_types[starts[[i]] + seq_len(ends[[i]] - starts[[i]])]),
       paths = lapply(parts, `[[`, "paths"))
}

# R code changes shapes by unit dimensions without a second thought
# (`A %*% h` makes the vector h a column matrix; a length-1 vector is a
# scalar): a carry leaf that comes back with the same dimensions apart from
# extents of 1 is reshaped to the shape it entered with.
fit_carry <- function(carry, types) {
  fl <- tree_flatten(carry)
  if (length(fl$leaves) != length(types)) return(carry)  # check_structure() reports it
  for (k in seq_along(types)) {
    leaf <- fl$leaves[[k]]
    s <- leaf_shape(leaf)
    want <- as.integer(types[[k]]$shape)
    if (is_rj_value(leaf) && !identical(s, want) && identical(s[s != 1L], want[want != 1L])) {
      fl$leaves[[k]] <- rj_reshape(leaf, want)
    }
  }
  tree_unflatten(fl$def, fl$leaves)
}

check_structure <- function(what, want, got) {
  if (!identical(tree_structure(want), tree_structure(got))) {
    rj_abort("type", sprintf("%s: the body must return a carry with the structure of `init` (the same nesting, names and number of arrays)", what))
  }
}

# Compares the carry types a body returned with those it was traced with.
# NULL when they agree; new types when a weakly typed init leaf (an R
# number) only needs the dtype the body gave it (the caller retraces once);
# an error naming the leaf otherwise.
check_carry <- function(what, paths, want, got, retrace) {
  fix <- want
  changed <- FALSE
  for (k in seq_along(want)) {
    w <- want[[k]]
    g <- got[[k]]
    same_shape <- identical(as.integer(w$shape), as.integer(g$shape))
    if (same_shape && identical(w$dtype, g$dtype)) next
    if (retrace && same_shape && isTRUE(w$weak)) {
      fix[[k]] <- g
      changed <- TRUE
      next
    }
    rj_abort("type", sprintf(
      "%s: the loop carry must keep its dtype and shape, but %s changes from %s to %s.\ni Give `init` the type the body returns (e.g. as_dtype(x, \"%s\"), or an array of that shape).",
      what, paths[[k]], type_str(w), type_str(g), g$dtype))
  }
  if (changed) fix else NULL
}
