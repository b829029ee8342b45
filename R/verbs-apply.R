# Traced apply family: apply, sapply, vapply, lapply, mapply, Map, Reduce,
# do.call, unlist. Shapes are static, so R's own looping runs while tracing:
# FUN is traced once per slice or element and the results are stacked into
# arrays exactly where base R would simplify (a list where R gives a list).
# With no rjax value involved every function here is base's, with base's
# result.

# An rjax value as the list of its elements (what lapply() iterates over).
rj_as_list <- function(x) {
  n <- length(x)
  if (n == 0L) return(list())
  v <- rj_reshape(x, n)
  lapply(seq_len(n), function(k) v[k])
}

any_rj_in <- function(lst) any(vapply(lst, is_rj_value, NA))

# Stacks same-length results as base's simplify2array(): all of length one
# give a vector, all of length k a k x n matrix (with higher = TRUE and a
# common dim, an array of dim c(dim, n)); otherwise the list itself.
rj_stack <- function(answer, higher = FALSE) {
  lens <- unique(lengths(answer))
  if (length(lens) != 1L || any(vapply(answer, is.list, NA))) return(answer)
  flat <- rj_concat_vectors(answer)
  n <- length(answer)
  if (lens == 1L) return(if (n == 1L) rj_reshape(flat, integer()) else flat)
  d <- dim(answer[[1L]])
  same_dims <- !is.null(d) && all(vapply(answer, function(a) identical(dim(a), d), NA))
  rj_reshape(flat, if (higher && same_dims) c(d, n) else c(lens, n))
}

rj_simplify <- function(answer, higher = FALSE) {
  if (!any_rj_in(answer)) return(simplify2array(answer, higher = higher))
  rj_stack(answer, higher)
}

tv_lapply <- function(X, FUN, ...) {
  FUN <- match.fun(FUN)
  if (is_rj_value(X)) X <- rj_as_list(X)
  base::lapply(X, FUN, ...)
}

tv_sapply <- function(X, FUN, ..., simplify = TRUE, USE.NAMES = TRUE) {
  FUN <- match.fun(FUN)
  answer <- tv_lapply(X = X, FUN = FUN, ...)
  if (USE.NAMES && is.character(X) && is.null(names(answer))) names(answer) <- X
  if (!isFALSE(simplify) && length(answer)) rj_simplify(answer, higher = (simplify == "array")) else answer
}

tv_vapply <- function(X, FUN, FUN.VALUE, ..., USE.NAMES = TRUE) {
  FUN <- match.fun(FUN)
  if (!is_rj_value(X)) {
    # Base's vapply() does the checks and the result unless FUN gives rjax
    # values; those are collected and stacked instead.
    got <- list()
    seen <- FALSE
    res <- base::vapply(X, function(...) {
      r <- FUN(...)
      got[[length(got) + 1L]] <<- r
      if (!is_rj_value(r)) return(r)
      seen <<- TRUE
      if (length(r) != length(FUN.VALUE)) {
        stop(sprintf("values must be length %d,\n but FUN(X[[%d]]) result is length %d", length(FUN.VALUE), length(got), length(r)), call. = FALSE)
      }
      FUN.VALUE
    }, FUN.VALUE, ..., USE.NAMES = USE.NAMES)
    if (!seen) return(res)
    answer <- got
  } else {
    answer <- tv_lapply(X, FUN, ...)
    for (k in seq_along(answer)) {
      if (length(answer[[k]]) != length(FUN.VALUE)) {
        rj_abort("shape", sprintf("values must be length %d, but FUN(X[[%d]]) result is length %d", length(FUN.VALUE), k, length(answer[[k]])))
      }
    }
  }
  if (!length(answer)) return(FUN.VALUE[0L])
  out <- rj_stack(answer, higher = FALSE)
  if (!is.null(dim(FUN.VALUE))) out <- rj_reshape(out, c(dim(FUN.VALUE), length(answer)))
  out
}

tv_mapply <- function(FUN, ..., MoreArgs = NULL, SIMPLIFY = TRUE, USE.NAMES = TRUE) {
  FUN <- match.fun(FUN)
  dots <- lapply(list(...), function(a) if (is_rj_value(a)) rj_as_list(a) else a)
  answer <- do.call(base::mapply, c(list(FUN = FUN), dots, list(MoreArgs = MoreArgs, SIMPLIFY = FALSE, USE.NAMES = USE.NAMES)))
  if (!isFALSE(SIMPLIFY) && length(answer)) rj_simplify(answer, higher = (SIMPLIFY == "array")) else answer
}

tv_Map <- function(f, ...) {
  f <- match.fun(f)
  tv_mapply(FUN = f, ..., SIMPLIFY = FALSE)
}

tv_Reduce <- function(f, x, init, right = FALSE, accumulate = FALSE, simplify = TRUE) {
  if (is_rj_value(x)) x <- rj_as_list(x)
  if (!accumulate) {
    args <- c(list(f, x), if (!missing(init)) list(init), list(right = right))
    return(do.call(base::Reduce, args))
  }
  # accumulate = TRUE: base R would unlist() rjax values (they extend
  # "logical"), and f may capture traced values while x is plain, so the
  # accumulation is done here, in base R's order.
  f <- match.fun(f)
  ind <- seq_along(x)
  if (right) ind <- rev(ind)
  if (missing(init)) {
    if (!length(ind)) return(list())
    acc <- x[[ind[[1L]]]]
    ind <- ind[-1L]
  } else {
    acc <- init
  }
  out <- list(acc)
  for (i in ind) {
    acc <- if (right) forceAndCall(2, f, x[[i]], acc) else forceAndCall(2, f, acc, x[[i]])
    out[[length(out) + 1L]] <- acc
  }
  if (right) out <- rev(out)
  if (!isTRUE(simplify) || !all(vapply(out, length, 1L) == 1L)) return(out)
  if (any_rj_in(out)) rj_stack(out) else unlist(out, recursive = FALSE)
}

tv_Filter <- function(f, x) {
  if (!is_rj_value(x)) return(base::Filter(f, x))
  rj_concretization_error(x, "select elements of a traced value with Filter() (the length of the result would depend on the values; use where() to zero out elements instead)")
}

tv_do.call <- function(what, args, quote = FALSE, envir = parent.frame()) {
  if (is.character(what) && length(what) == 1L && is.list(args) && any_rj_in(args)) {
    what <- get0(what, envir = rj_verbs_env(), inherits = FALSE, mode = "function") %||%
      get(what, envir = envir, mode = "function")
  }
  base::do.call(what, args, quote = quote, envir = envir)
}

# The array leaves of a (nested) list, in order.
rj_leaves <- function(x) {
  if (!is.list(x)) return(list(x))
  do.call(c, lapply(unname(x), rj_leaves))
}

tv_unlist <- function(x, recursive = TRUE, use.names = TRUE) {
  if (!is.list(x) || !any(vapply(rj_leaves(x), is_rj_value, NA))) return(base::unlist(x, recursive, use.names))
  if (!recursive && any(vapply(x, is.list, NA))) {
    rj_unsupported("unlist(recursive = FALSE) of nested lists holding traced values", "Flatten them fully with unlist(x).")
  }
  leaves <- Filter(function(l) length(l) > 0L, rj_leaves(x))
  out <- rj_concat_vectors(leaves)
  if (length(out) == 1L) rj_reshape(out, integer()) else out
}

tv_apply <- function(X, MARGIN, FUN, ..., simplify = TRUE) {
  FUN <- match.fun(FUN)
  got <- list()
  seen <- FALSE
  # Base's apply() slices (rjax values too: aperm, dim<- and [ work on
  # them) and calls FUN; results that are rjax values are stacked here.
  res <- base::apply(X, MARGIN, function(...) {
    r <- FUN(...)
    if (is_rj_value(r)) seen <<- TRUE
    got[[length(got) + 1L]] <<- r
    r
  }, ..., simplify = simplify)
  if (!seen) return(res)
  if (!isTRUE(simplify)) return(res)
  dims <- dim(X)
  if (is.character(MARGIN)) rj_unsupported("apply() with MARGIN given by dimnames", "Give MARGIN as dimension numbers.")
  d_ans <- dims[MARGIN]
  lens <- unique(lengths(got))
  if (length(lens) != 1L || lens == 0L) return(res)
  flat <- rj_concat_vectors(got)
  if (lens == 1L) return(if (length(d_ans) == 1L) flat else rj_reshape(flat, d_ans))
  rj_reshape(flat, c(lens, d_ans))
}

# split()/tapply()/ave() of a traced vector by plain R groups: the groups
# are known while tracing, so each piece is a static selection.
rj_groups <- function(f, what) {
  if (is_rj_value(f)) rj_concretization_error(f, sprintf("group by a traced value in %s()", what))
  if (is.list(f)) f <- interaction(f, drop = TRUE, lex.order = FALSE)
  as.factor(f)
}

tv_split <- function(x, f, drop = FALSE, ...) {
  if (!is_rj_value(x)) return(base::split(x, f, drop, ...))
  g <- rj_groups(f, "split")
  v <- rj_reshape(x, length(x))
  if (length(g) != length(v)) rj_abort("shape", "split(): the groups must have the length of x")
  lev <- levels(g)
  if (drop) lev <- lev[lev %in% as.character(g)]
  stats::setNames(lapply(lev, function(l) v[which(g == l)]), lev)
}

tv_tapply <- function(X, INDEX, FUN = NULL, ..., default = NA, simplify = TRUE) {
  if (!is_rj_value(X)) return(base::tapply(X, INDEX, FUN, ..., default = default, simplify = simplify))
  if (is.list(INDEX) && length(INDEX) > 1L) {
    rj_unsupported("tapply() with several grouping factors on traced values", "Group by one factor (interaction(f1, f2)) or use rowsum().")
  }
  if (is.list(INDEX)) INDEX <- INDEX[[1L]]
  FUN <- match.fun(FUN)
  pieces <- tv_split(X, INDEX)
  out <- lapply(pieces, FUN, ...)
  if (simplify) rj_simplify(unname(out)) else out
}

tv_ave <- function(x, ..., FUN = mean) {
  if (!is_rj_value(x)) return(stats::ave(x, ..., FUN = FUN))
  if (...length() == 0L) return(rj_broadcast(rj_reshape(FUN(x), integer()), length(x)))
  if (...length() > 1L) rj_unsupported("ave() with several grouping factors on traced values", "Group by interaction(f1, f2).")
  g <- rj_groups(..1, "ave")
  v <- rj_reshape(x, length(x))
  lev <- levels(g)
  stats_g <- rj_concat_vectors(lapply(lev, function(l) FUN(v[which(g == l)])))
  rj_gather(stats_g, list(as.integer(g) - 1L))
}
