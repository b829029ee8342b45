# Tracing: running an R function on tracers to record a graph.

.rj_state <- new.env(parent = emptyenv())
.rj_state$depth <- 0L

#' Is rjax tracing right now?
#'
#' `TRUE` while a function is being traced by [jit()], [grad()] or another
#' transform: inside, arrays are tracers whose values are unknown.
#' @return `TRUE` or `FALSE`.
#' @examples
#' is_tracing()
#' jit(function(x) { print(is_tracing()); x + 1 })(1)
#' @export
is_tracing <- function() .rj_state$depth > 0L

# Applies operation `op` to a list of values; the C++ side decides between
# recording into the innermost open trace and computing eagerly.
rj_bind <- function(op, args, attrs = NULL) .Call(C_rjc_bind, op, args, attrs)[[1L]]

# Open traces, innermost first: a control-flow call (scan, cond, ...) is
# recorded into the innermost one, where it is called.
.rj_state$graphs <- list()

# Starts a new graph one level deeper than the innermost open trace;
# close_trace() (on exit of the caller) ends it.
open_trace <- function() {
  depth <- .rj_state$depth + 1L
  .rj_state$depth <- depth
  g <- .Call(C_rjc_graph_new, depth)
  .rj_state$graphs <- c(list(g), .rj_state$graphs)
  g
}

# Closing marks the graph finished (also when the trace failed), so that a
# tracer that escaped it (g <<- x, then an error) is an error when used.
close_trace <- function() {
  if (length(.rj_state$graphs)) .Call(C_rjc_graph_close, .rj_state$graphs[[1L]])
  .rj_state$depth <- .rj_state$depth - 1L
  .rj_state$graphs <- .rj_state$graphs[-1L]
}

current_trace <- function() .rj_state$graphs[[1L]]

# Runs `f(args)` with every array leaf of the non-static arguments replaced by
# a parameter of a new graph. Returns list(graph, out_def, in_leaves).
trace_graph <- function(f, args, static = character()) {
  g <- open_trace()
  on.exit(close_trace())
  targs <- args
  leaves <- list()
  nms <- names(args)
  if (is.null(nms)) nms <- rep("", length(args))
  for (i in seq_along(args)) {
    if (nms[[i]] %in% static) next
    label <- if (nzchar(nms[[i]])) nms[[i]] else paste0("..", i)
    fl <- tree_flatten(args[[i]], label)
    params <- lapply(seq_along(fl$leaves), function(k) {
      leaf <- fl$leaves[[k]]
      .Call(C_rjc_graph_param, g, dtype(leaf), leaf_shape(leaf), leaf_weak(leaf), fl$paths[[k]])
    })
    leaves <- c(leaves, fl$leaves)
    targs[i] <- list(tree_unflatten(fl$def, params))
  }
  res <- call_traced(f, targs)
  out <- tree_flatten(res)
  .Call(C_rjc_graph_finish, g, out$leaves)
  list(graph = g, out_def = out$def, in_leaves = leaves, n_out = length(out$leaves))
}

# Calls f on traced arguments, with the traced verbs attached after the
# global environment (R/overrides.R), so that f and the helpers it calls
# reach rjax's verbs whether rjax is attached or only loaded.
# R `if`/`while` on a traced value become a concretization error.
call_traced <- function(f, args) {
  with_traced_verbs(withCallingHandlers(
    do.call(rj_enclose_verbs(f), args),
    error = function(e) {
      if (inherits(e, "rjax_error")) return()
      cl <- conditionCall(e)
      head <- if (is.call(cl)) cl[[1L]] else NULL
      if (is.symbol(head) && as.character(head) %in% c("if", "while", "&&", "||")) {
        concretization_from_call(cl, sys.frames(), sys.calls())
      }
      msg <- conditionMessage(e)
      if (grepl("^argument \"(.*)\" is missing, with no default$", msg)) {
        arg <- sub("^argument \"(.*)\" is missing, with no default$", "\\1", msg)
        rj_abort("type", sprintf(paste0("argument `%s` is missing, with no default, while rjax traces the function.\n",
                                        "i Call the jitted (or transformed) function with every argument it uses."), arg))
      }
      if (looks_like_s4_failure(msg)) unsupported_from_call(cl, msg, sys.frames(), sys.calls())
    }
  ))
}

# Messages base R gives when a function that does not know rjax meets a
# tracer (an S4 object): they are turned into a classed error naming it.
looks_like_s4_failure <- function(msg) {
  pats <- c("type 'S4'", "type \\(S4\\)", "'S4'", "S4 object", "non-numeric argument",
            "not interpretable as", "must be atomic", "no applicable method",
            "cannot xtfrm", "not a vector", "invalid 'x' type", "cannot coerce class")
  any(vapply(pats, grepl, NA, x = msg))
}

unsupported_from_call <- function(cl, msg, frames = list(), calls = list()) {
  fn <- if (is.call(cl) && is.symbol(cl[[1L]])) as.character(cl[[1L]]) else "an R function"
  ops <- error_operands(cl, frames, calls)
  if (length(ops) && !any(vapply(ops, is_rj_value, NA))) {
    # Not a traced value: say what the value is (a character or factor
    # argument is passed to the function as a static R value).
    bad <- Filter(function(v) is.character(v) || is.factor(v) || is.complex(v), ops)
    if (!length(bad)) return(invisible())
    kind <- if (is.factor(bad[[1L]])) "a factor" else if (is.complex(bad[[1L]])) "complex data" else "a character string"
    nm <- names(bad)[[1L]]
    rj_abort("type", paste0(
      "`", fn, "()` got ", kind, if (nzchar(nm)) paste0(" (`", nm, "`)"), " while rjax traced the function (R said: ", msg, ").\n",
      "i jit() and grad() trace numeric, integer and logical data (and lists of them); other arguments are passed as ",
      "static R values. Convert it first (as.numeric(), or as.integer() for a factor's codes)."))
  }
  rj_abort("unsupported", paste0(
    "`", fn, "()` does not work on traced rjax values (R said: ", msg, ").\n",
    "i rjax traces R's arithmetic, Math and Summary groups, %*%, crossprod, solve, chol, ",
    "determinant, diag, colSums/rowSums, `[`, `[<-`, rep, matrix, cbind/rbind, outer, ifelse; ",
    "express the computation with these, or compute it outside the traced function."
  ))
}

# A function that runs f with the traced verbs attached (for bodies of
# control flow and transforms, which may run outside jit()).
overlay_fn <- function(f) {
  f <- rj_enclose_verbs(f)
  function(...) with_traced_verbs(f(...))
}

# The values of the arguments of the call that raised an error, evaluated in
# its frame, when they are all symbols or constants (calls are not evaluated
# again: then nothing is returned).
error_operands <- function(cl, frames, calls) {
  if (!is.call(cl) || !length(frames)) return(list())
  where <- which(vapply(calls, function(x) identical(x[[1L]], quote(.handleSimpleError)), NA))
  if (!length(where) || where[[1L]] < 2L) return(list())
  env <- frames[[where[[1L]] - 1L]]
  args <- as.list(cl)[-1L]
  out <- list()
  for (a in args) {
    if (is.symbol(a) && nzchar(as.character(a))) {
      v <- tryCatch(get(as.character(a), envir = env), error = function(e) NULL)
      out[[as.character(a)]] <- v
    } else if (!is.call(a) && !is.symbol(a)) {
      out[[length(out) + 1L]] <- a
    } else {
      return(list())
    }
  }
  if (is.null(names(out))) names(out) <- rep("", length(out))
  out
}

# Finds which traced value an `if`/`while` condition depended on by
# re-evaluating the condition in the frame that raised the error.
concretization_from_call <- function(cl, frames, calls) {
  cond <- if (as.character(cl[[1L]]) %in% c("if", "while")) cl[[2L]] else cl
  where <- which(vapply(calls, function(x) identical(x[[1L]], quote(.handleSimpleError)), NA))
  val <- NULL
  if (length(where) && where[[1L]] > 1L) {
    env <- frames[[where[[1L]] - 1L]]
    val <- tryCatch(eval(cond, env), error = function(e) NULL)
  }
  what <- paste0("`", as.character(cl[[1L]]), " (", paste(deparse(cond, width.cutoff = 60L), collapse = " "), ")`")
  if (!is_rj_tracer(val)) {
    if (as.character(cl[[1L]]) %in% c("&&", "||")) what <- paste0("`", paste(deparse(cl), collapse = " "), "`")
    val <- NULL
  }
  rj_concretization_error(val, paste("use a traced value as an R condition in", what))
}

rj_concretization_error <- function(x, doing) {
  src <- if (is_rj_tracer(x)) .Call(C_rjc_tracer_sources, x) else character()
  src <- unique(src[src != "<captured>"])
  dep <- if (length(src)) {
    sprintf("The value depends on argument%s %s, whose value is not known while rjax traces the function.",
            if (length(src) > 1L) "s" else "", paste0("`", src, "`", collapse = ", "))
  } else {
    "Its value is not known while rjax traces the function."
  }
  msg <- paste0(
    "Cannot ", doing, ". ", dep, "\n",
    "i Use cond(pred, true_fun, false_fun) for a branch or while_loop() for a loop on traced values,\n",
    "  ifelse()/where() for an element-wise choice, or pass the argument in `static` to jit() ",
    "so that its value is known."
  )
  rj_abort("concretization", msg, data = list(sources = src))
}
