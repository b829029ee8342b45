# Pytrees: nested lists whose leaves are arrays. Numeric and logical R data
# and rj values are array leaves; lists are nodes (S3-classed lists keep
# their class and attributes); objects of a class given to register_pytree()
# are nodes through their flatten/unflatten functions; anything else
# (strings, functions, NULL, ...) is kept in the structure as a static
# value. Environment-based objects that are not registered (Reference
# classes, R6, environments) are an error: a traced value stored into one
# would leak out of the trace.

is_array_leaf <- function(x) {
  is_rj_value(x) || ((is.numeric(x) || is.logical(x)) && is.atomic(x) && !is.object(x) && !is.null(x))
}

.rj_pytrees <- new.env(parent = emptyenv())

#' Register a class as a pytree node
#'
#' Lists (plain or S3-classed, whose class and attributes are kept) are
#' pytree nodes out of the box: their numeric elements are traced by
#' [jit()], differentiated by [grad()] and carried by [scan_loop()],
#' [fori_loop()] and [while_loop()]. `register_pytree()` makes objects of
#' another class -- S4, R6 or Reference classes, or any object rjax should
#' look into -- work the same way: `flatten(x)` returns a list of the
#' object's parts (arrays, or lists of them), `unflatten(x, parts)` builds an
#' object like `x` from new parts (it must not modify `x`: environment-based
#' objects should be copied, e.g. with `x$copy()` or `x$clone()`).
#'
#' An environment-based object (a Reference-class or R6 object, an
#' environment) that is not registered is an error when passed to a
#' transform: rjax cannot see inside it, and traced values assigned into it
#' would outlive the trace.
#' @param class A class name (as `inherits()` sees it).
#' @param flatten A function of the object returning a list.
#' @param unflatten A function of the object and a list like `flatten()`'s.
#' @return `class`, invisibly.
#' @examples
#' Point <- setRefClass("Point", fields = list(xy = "ANY"))
#' register_pytree("Point",
#'   flatten = function(p) list(xy = p$xy),
#'   unflatten = function(p, parts) Point$new(xy = parts$xy))
#' f <- function(p) sum(p$xy^2)
#' grad(function(xy) f(Point$new(xy = xy)))(c(1, 2))
#' jit(function(p) p$xy * 2)(Point$new(xy = c(1, 2)))
#' @export
register_pytree <- function(class, flatten, unflatten) {
  if (!is.character(class) || length(class) != 1L || is.na(class)) rj_abort("type", "register_pytree(): 'class' must be one class name")
  if (!is.function(flatten) || !is.function(unflatten)) {
    rj_abort("type", "register_pytree(): 'flatten' and 'unflatten' must be functions")
  }
  assign(class, list(flatten = flatten, unflatten = unflatten), envir = .rj_pytrees)
  invisible(class)
}

rj_pytree_of <- function(v) {
  if (!length(ls(.rj_pytrees))) return(NULL)
  for (cl in class(v)) {
    r <- .rj_pytrees[[cl]]
    if (!is.null(r)) return(r)
  }
  if (isS4(v)) for (cl in methods::is(v)) if (!is.null(r <- .rj_pytrees[[cl]])) return(r)
  NULL
}

is_env_object <- function(v) is.environment(v) || (isS4(v) && methods::is(v, "envRefClass"))

# A registered object in the structure: its parts, and the object itself
# (for unflatten).
rj_node <- function(obj, parts, reg) structure(list(obj = obj, parts = parts, unflatten = reg$unflatten), class = "rj_node")

# Returns list(leaves, paths, def) where def is x with every leaf replaced by
# a leaf marker, so that tree_unflatten(def, leaves) rebuilds x.
tree_flatten <- function(x, path = "") {
  leaves <- list()
  paths <- character()
  nodes <- FALSE
  walk <- function(v, p) {
    if (is_array_leaf(v)) {
      leaves[[length(leaves) + 1L]] <<- v
      paths[[length(paths) + 1L]] <<- p
      return(structure(length(leaves), class = "rj_leaf"))
    }
    reg <- if (is.object(v)) rj_pytree_of(v)
    if (!is.null(reg)) {
      parts <- reg$flatten(v)
      if (!is.list(parts)) rj_abort("type", sprintf("the flatten function registered for class '%s' must return a list", class(v)[[1L]]))
      nodes <<- TRUE
      return(rj_node(v, walk(parts, p), reg))
    }
    if (is_env_object(v)) rj_unregistered(v, p)
    if (is.list(v) && !isS4(v)) {
      attrs <- attributes(v)
      v <- unclass(v)
      nms <- names(v)
      for (i in seq_along(v)) {
        sub <- if (!is.null(nms) && nzchar(nms[[i]])) paste0(p, "$", nms[[i]]) else paste0(p, "[[", i, "]]")
        r <- walk(v[[i]], sub)
        if (!is.null(r)) v[[i]] <- r
      }
      attributes(v) <- attrs
      return(v)
    }
    v
  }
  def <- walk(x, path)
  list(leaves = leaves, paths = paths, def = def, nodes = nodes)
}

# The structure of a tree for comparisons and cache keys: registered objects
# count by class and parts, not by identity.
tree_structure <- function(def) {
  if (inherits(def, "rj_node")) return(list(rj_node = class(def$obj), parts = tree_structure(def$parts)))
  if (is.list(def) && !isS4(def) && !inherits(def, "rj_leaf")) {
    attrs <- attributes(def)
    def <- lapply(unclass(def), tree_structure)
    attributes(def) <- attrs
  }
  def
}

rj_unregistered <- function(v, p) {
  what <- if (isS4(v)) sprintf("a Reference-class object of class '%s'", class(v)[[1L]])
          else if (length(class(v)) && !identical(class(v), "environment")) sprintf("an environment-based object of class '%s'", class(v)[[1L]])
          else "an environment"
  rj_abort("type", sprintf(paste0(
    "%s is %s: rjax cannot trace values inside it, and traced values stored into it would leak out of the trace.\n",
    "i Register its class with register_pytree(class, flatten, unflatten), or pass its arrays (a list) instead."),
    if (nzchar(p)) paste0("`", p, "`") else "the value", what))
}

tree_unflatten <- function(def, leaves) {
  build <- function(v) {
    if (inherits(v, "rj_leaf")) return(leaves[[unclass(v)]])
    if (inherits(v, "rj_node")) return(v$unflatten(v$obj, build(v$parts)))
    if (is.list(v) && !isS4(v)) {
      attrs <- attributes(v)
      v <- unclass(v)
      for (i in seq_along(v)) {
        r <- build(v[[i]])
        if (is.null(r)) v[i] <- list(NULL) else v[[i]] <- r
      }
      attributes(v) <- attrs
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
