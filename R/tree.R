# Pytrees: nested (named) lists whose leaves are arrays. Numeric and logical
# R data and rj values are array leaves; anything else (strings, functions,
# NULL, ...) is kept in the structure as a static value.

is_array_leaf <- function(x) {
  is_rj_value(x) || ((is.numeric(x) || is.logical(x)) && is.atomic(x) && !is.object(x) && !is.null(x))
}

# Returns list(leaves, paths, def) where def is x with every leaf replaced by
# a leaf marker, so that tree_unflatten(def, leaves) rebuilds x.
tree_flatten <- function(x, path = "") {
  leaves <- list()
  paths <- character()
  walk <- function(v, p) {
    if (is_array_leaf(v)) {
      leaves[[length(leaves) + 1L]] <<- v
      paths[[length(paths) + 1L]] <<- p
      return(structure(length(leaves), class = "rj_leaf"))
    }
    if (is.list(v) && !is.object(v) || inherits(v, "rj_tree")) {
      nms <- names(v)
      for (i in seq_along(v)) {
        sub <- if (!is.null(nms) && nzchar(nms[[i]])) paste0(p, "$", nms[[i]]) else paste0(p, "[[", i, "]]")
        r <- walk(v[[i]], sub)
        if (!is.null(r)) v[[i]] <- r
      }
      return(v)
    }
    v
  }
  def <- walk(x, path)
  list(leaves = leaves, paths = paths, def = def)
}

tree_unflatten <- function(def, leaves) {
  build <- function(v) {
    if (inherits(v, "rj_leaf")) return(leaves[[unclass(v)]])
    if (is.list(v) && !is.object(v)) {
      for (i in seq_along(v)) {
        r <- build(v[[i]])
        if (is.null(r)) v[i] <- list(NULL) else v[[i]] <- r
      }
    }
    v
  }
  build(def)
}

# A string describing a leaf's abstract value (dtype, shape, weak type).
leaf_signature <- function(x) {
  if (is_rj_value(x)) return(paste0(x@dtype, "[", paste(x@shape, collapse = ","), "]"))
  d <- dim(x)
  shape <- if (!is.null(d)) d else if (length(x) == 1L) integer() else length(x)
  paste0(dtype(x), "w[", paste(shape, collapse = ","), "]")
}

# Plain R numbers are weakly typed, and so are traced values computed from them.
leaf_weak <- function(x) {
  if (is_rj_tracer(x)) return(.Call(C_rjc_tracer_weak, x))
  !is_rj_value(x)
}

leaf_shape <- function(x) {
  if (is_rj_value(x)) return(x@shape)
  d <- dim(x)
  if (!is.null(d)) as.integer(d) else if (length(x) == 1L) integer() else length(x)
}
