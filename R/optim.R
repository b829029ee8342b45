# Optimisers in the optax style: each is a list with init(params) and
# update(grads, state, params) returning list(updates, state). They are
# written with rjax verbs only, so they run eagerly on R data or rj_arrays
# and trace inside jit() and scan_loop(). Value-dependent branches (RAdam's
# rectification) use where(), and the step count is an i32 array so that
# the state keeps one signature from step to step.

#' Map a function over the array leaves of pytrees
#'
#' @param f A function of one leaf (and the matching leaves of `...`).
#' @param x A pytree: an array or a nested list of arrays.
#' @param ... Pytrees with the same structure as `x`.
#' @return A pytree with the structure of `x`.
#' @examples
#' tree_map(function(a, b) a + b, list(w = 1:2, b = 3), list(w = c(10, 20), b = 30))
#' @export
tree_map <- function(f, x, ...) {
  fl <- tree_flatten(x)
  others <- lapply(list(...), function(o) tree_flatten(o)$leaves)
  for (o in others) {
    if (length(o) != length(fl$leaves)) rj_abort("shape", "tree_map: the trees have different structures")
  }
  out <- lapply(seq_along(fl$leaves), function(i) {
    do.call(f, c(list(fl$leaves[[i]]), lapply(others, `[[`, i)))
  })
  tree_unflatten(fl$def, out)
}

zeros_like <- function(p) {
  if (is_rj_value(p)) return(rj_broadcast(rj_array(0, dtype = p@dtype), p@shape))
  z <- p
  storage.mode(z) <- "double"
  z[] <- 0
  z
}

# A scalar computed in f64, converted to the dtype of `leaf` so that f32
# parameters stay f32.
as_leaf_dtype <- function(x, leaf) {
  if (is_rj_value(leaf) && leaf@dtype == "f32") as_dtype(x, "f32") else x
}

new_optimizer <- function(init, update, name) {
  structure(list(init = init, update = update), class = c(paste0("rjax_opt_", name), "rjax_optimizer"))
}

#' @export
print.rjax_optimizer <- function(x, ...) {
  cli::cat_line("<rjax optimizer: ", sub("rjax_opt_", "", class(x)[[1L]]), ">")
  invisible(x)
}

stateless <- function(fun, name) {
  new_optimizer(function(params) list(), function(grads, state, params = NULL) {
    list(updates = tree_map(fun, grads), state = state)
  }, name)
}

#' Optimisers (optax style)
#'
#' Each optimiser is a list with `init(params)`, returning its state, and
#' `update(grads, state, params)`, returning `list(updates, state)`;
#' [apply_updates()] adds the updates to the parameters. `opt_chain()`
#' composes transformations left to right. They follow optax exactly:
#' `opt_scale_by_radam()` is optax's `scale_by_radam` (the update is the
#' rectified Adam direction, to be scaled by a negative learning rate),
#' `opt_radam(lr)` is `chain(scale_by_radam(), scale(-lr))`.
#'
#' All of them are written with rjax verbs, so they run on R data, on
#' `rj_array`s, and inside [jit()].
#'
#' @param lr Learning rate.
#' @param b1,b2 Decay rates of the first and second moments.
#' @param eps,eps_root Added to the denominator outside and inside the
#'   square root.
#' @param threshold RAdam's threshold on the length of the approximated
#'   simple moving average (rectification applies above it).
#' @param s Scale factor.
#' @param max_delta Largest absolute update per element.
#' @param max_norm Largest global norm of the updates.
#' @param ... Optimisers to chain.
#' @return An object of class `rjax_optimizer`.
#' @examples
#' opt <- opt_chain(opt_scale_by_radam(), opt_scale(-1), opt_clip(0.1))
#' params <- list(w = c(1, 2))
#' state <- opt$init(params)
#' g <- list(w = c(0.5, -0.5))
#' step <- opt$update(g, state, params)
#' apply_updates(params, step$updates)
#' @name optimizers
NULL

#' @rdname optimizers
#' @export
opt_sgd <- function(lr) stateless(function(g) -lr * g, "sgd")

#' @rdname optimizers
#' @export
opt_scale <- function(s) stateless(function(g) s * g, "scale")

#' @rdname optimizers
#' @export
opt_clip <- function(max_delta) stateless(function(g) pmin(pmax(g, -max_delta), max_delta), "clip")

#' @rdname optimizers
#' @export
opt_clip_by_global_norm <- function(max_norm) {
  new_optimizer(function(params) list(), function(grads, state, params = NULL) {
    leaves <- tree_flatten(grads)$leaves
    norm <- sqrt(Reduce(`+`, lapply(leaves, function(g) sum(g * g))))
    # optax: keep the updates when the norm is below max_norm, else rescale.
    updates <- tree_map(function(g) {
      n <- as_leaf_dtype(norm, g)
      where(n < max_norm, g, g / n * max_norm)
    }, grads)
    list(updates = updates, state = state)
  }, "clip_by_global_norm")
}

moments_init <- function(params) {
  list(m = tree_map(zeros_like, params), v = tree_map(zeros_like, params), t = rj_array(0L))
}

moments_update <- function(grads, state, b1, b2) {
  list(
    m = tree_map(function(m, g) b1 * m + (1 - b1) * g, state$m, grads),
    v = tree_map(function(v, g) b2 * v + (1 - b2) * g * g, state$v, grads),
    t = state$t + 1L
  )
}

#' @rdname optimizers
#' @export
opt_scale_by_adam <- function(b1 = 0.9, b2 = 0.999, eps = 1e-8, eps_root = 0) {
  new_optimizer(moments_init, function(grads, state, params = NULL) {
    st <- moments_update(grads, state, b1, b2)
    bc1 <- 1 - b1^st$t
    bc2 <- 1 - b2^st$t
    updates <- tree_map(function(m, v) {
      (m / as_leaf_dtype(bc1, m)) / (sqrt(v / as_leaf_dtype(bc2, v) + eps_root) + eps)
    }, st$m, st$v)
    list(updates = updates, state = st)
  }, "scale_by_adam")
}

#' @rdname optimizers
#' @export
opt_adam <- function(lr, b1 = 0.9, b2 = 0.999, eps = 1e-8) {
  opt_chain(opt_scale_by_adam(b1, b2, eps), opt_scale(-lr))
}

#' @rdname optimizers
#' @export
opt_scale_by_radam <- function(b1 = 0.9, b2 = 0.999, eps = 1e-8, eps_root = 0, threshold = 5) {
  rho_inf <- 2 / (1 - b2) - 1
  new_optimizer(moments_init, function(grads, state, params = NULL) {
    st <- moments_update(grads, state, b1, b2)
    t <- st$t
    b2t <- b2^t
    rho <- rho_inf - 2 * t * b2t / (1 - b2t)
    bc1 <- 1 - b1^t
    bc2 <- 1 - b2t
    rect <- rho >= threshold
    # Where rho < threshold, r is not used (and may be NaN): where() drops it.
    r <- sqrt(pmax((rho - 4) * (rho - 2) * rho_inf, 0) / ((rho_inf - 4) * (rho_inf - 2) * rho))
    updates <- tree_map(function(m, v) {
      mhat <- m / as_leaf_dtype(bc1, m)
      vhat <- v / as_leaf_dtype(bc2, v)
      where(rect, as_leaf_dtype(r, m) * mhat / (sqrt(vhat + eps_root) + eps), mhat)
    }, st$m, st$v)
    list(updates = updates, state = st)
  }, "scale_by_radam")
}

#' @rdname optimizers
#' @export
opt_radam <- function(lr, b1 = 0.9, b2 = 0.999, eps = 1e-8, eps_root = 0, threshold = 5) {
  opt_chain(opt_scale_by_radam(b1, b2, eps, eps_root, threshold), opt_scale(-lr))
}

#' @rdname optimizers
#' @export
opt_chain <- function(...) {
  opts <- list(...)
  new_optimizer(
    function(params) lapply(opts, function(o) o$init(params)),
    function(grads, state, params = NULL) {
      new_state <- vector("list", length(opts))
      u <- grads
      for (i in seq_along(opts)) {
        r <- opts[[i]]$update(u, state[[i]], params)
        u <- r$updates
        new_state[[i]] <- r$state
      }
      list(updates = u, state = new_state)
    },
    "chain"
  )
}

#' Apply optimiser updates to parameters
#'
#' @param params A pytree of parameters.
#' @param updates A pytree of the same structure (from an optimiser's
#'   `update()`).
#' @return `params + updates`, leaf by leaf.
#' @examples
#' apply_updates(list(w = c(1, 2)), list(w = c(0.1, -0.1)))
#' @export
apply_updates <- function(params, updates) tree_map(function(p, u) p + u, params, updates)
