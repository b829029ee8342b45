# How calls reach rjax's verbs: one dispatch design (see "Dispatch" in
# inst/DESIGN-NOTES.md).
#
# * A namespace function `tv_<verb>` is rjax's version of the base/stats
#   function `<verb>`, with its formals (the contract with R/verbs-*.R).
# * For a verb that is an ordinary R closure (crossprod, colSums, dnorm, ...)
#   rjax makes the S4 generic R itself would make (methods' implicit generic,
#   whose default method *is* the base function, so other packages' methods,
#   Matrix's for instance, merge into it) and gives it methods for every
#   combination of its dispatch arguments in which at least one is an rjax
#   value (`rj_value`: an `rj_array` or a tracer). Plain data never reaches
#   rjax code: the generic calls the base function.
# * For primitives that dispatch only on their first argument (c, max, sum,
#   ...) and base code that cannot dispatch at all (is.matrix, ...), traced
#   code gets small routing closures; these, and the generics, sit in one
#   environment attached right after the global environment while rjax
#   traces (see with_traced_verbs()), so functions in the global environment,
#   user helpers included, find them whether rjax is attached or only loaded,
#   while a user's own function of the same name still wins.

# Dispatch arguments of the verbs whose base function is not generic, where
# the implicit generic's signature would force arguments base R evaluates
# lazily or is needlessly long. Others dispatch on the implicit signature.
rj_dispatch_override <- list(
  ifelse = "test",
  pmax = "...", pmin = "..."
)

# Default methods other than the base function (see rj_ifelse_traced()).
rj_default_override <- list(ifelse = function() rj_ifelse_traced)

# Verbs that never get a generic: primitives and functions whose S4 generic
# would change base R's behaviour (evaluation order, missing()).
rj_no_generic <- c(":", "c", "max", "min", "sum", "prod", "range", "is.matrix", "is.array",
                   "cbind", "rbind", "length", "dim", "rep", "seq_len", "seq_along", "numeric",
                   "double", "integer", "logical", "vector", "list", "unlist", "do.call",
                   "lapply", "sapply", "vapply", "Map", "Reduce", "Filter", "mapply",
                   # FUN / f may capture traced values while X is plain data:
                   # these must see every traced call (verbs' R/verbs-apply.R, R/verbs-math.R)
                   "apply", "integrate", "optimize", "optimise", "uniroot", "optim", "nlminb", "nlm")

# Traced verbs: every namespace function `tv_<verb>`, named by `<verb>`.
rj_traced_verbs <- function() {
  ns <- asNamespace("rjax")
  nms <- grep("^tv_", ls(ns, all.names = TRUE), value = TRUE)
  stats::setNames(mget(nms, envir = ns), sub("^tv_", "", nms))
}

# Where base R (or stats, utils) defines `verb`; NULL when nowhere.
rj_base_home <- function(verb) {
  for (pkg in c("base", "stats", "utils")) {
    ns <- asNamespace(pkg)
    if (exists(verb, envir = ns, inherits = FALSE)) return(pkg)
  }
  NULL
}

# Every non-empty combination of rj_value in the dispatch positions (others
# ANY), capped at the first four positions (2^4 - 1 methods).
rj_method_signatures <- function(sig) {
  sig <- utils::head(sig, 4L)
  k <- length(sig)
  out <- list()
  for (m in seq_len(2^k - 1L)) {
    bits <- bitwAnd(m, bitwShiftL(1L, seq_len(k) - 1L)) > 0L
    s <- ifelse(bits, "rj_value", "ANY")
    last <- max(which(bits))
    out[[length(out) + 1L]] <- stats::setNames(s[seq_len(last)], sig[seq_len(last)])
  }
  out
}

# Some implicit generics come with methods for a "missing" argument (norm's
# `type`): rjax's signatures get the same variants, or those would win.
rj_missing_variants <- function(gen, sigs) {
  have <- strsplit(names(methods::findMethods(gen)), "#", fixed = TRUE)
  have <- Filter(function(h) "missing" %in% h, have)
  out <- list()
  for (h in have) for (s in sigs) {
    full <- c(unname(s), rep("ANY", max(0L, length(h) - length(s))))[seq_along(h)]
    miss <- full == "ANY" & h == "missing"
    if (!any(miss)) next
    full[miss] <- "missing"
    out[[length(out) + 1L]] <- stats::setNames(full, gen@signature[seq_along(h)])
  }
  out
}

# Arguments that every (non-dots) call of the verb may pass and that give its
# size: they must be known while tracing, and a concrete rj_array there is
# read as an R number.
rj_size_args <- list(matrix = c("nrow", "ncol"), diag = c("nrow", "ncol"))

# A method calling tv_<verb> with the generic's formals. Only the arguments
# the caller gave are passed on (so tv_<verb> sees the same missing() and
# uses its own defaults); size arguments holding rjax values become R
# numbers (or a clear error for traced ones).
rj_make_method <- function(verb, gen_formals) {
  size <- rj_size_args[[verb]]
  collect <- lapply(names(gen_formals), function(a) {
    if (a == "...") return(quote(.rj_args <- c(.rj_args, list(...))))
    val <- if (a %in% size) bquote(rj_static_size(.(as.name(a)), .(a), .(verb))) else as.name(a)
    bquote(if (!missing(.(as.name(a)))) .rj_args[.(a)] <- list(.(val)))
  })
  f <- function() NULL
  formals(f) <- gen_formals
  body(f) <- as.call(c(list(as.name("{")), list(quote(.rj_args <- list())), collect,
                       list(bquote(do.call(.(as.name(paste0("tv_", verb))), .rj_args)))))
  environment(f) <- topenv()
  f
}

rj_static_size <- function(v, arg, verb) {
  if (is_rj_tracer(v)) {
    rj_concretization_error(v, sprintf(
      "use a traced value as `%s` of %s(): the size of an array must be known while rjax traces (pass it as a plain R number, or name it in jit(static = ))", arg, verb))
  }
  if (is_rj_array(v)) as.vector(v) else v
}

# `from:to` and rep()'s counts need known numbers: a traced one is a
# concretization error (base R's C code saw the empty placeholder and said
# "argument of length 0" or "invalid 'times' argument").
`tv_:` <- function(from, to) base::`:`(rj_static_size(from, "from", "`:`"), rj_static_size(to, "to", "`:`"))

tv_rep <- function(x, ...) {
  a <- list(...)
  nm <- names(a) %||% character(length(a))
  for (i in seq_along(a)) {
    if (is_rj_tracer(a[[i]])) rj_static_size(a[[i]], if (nzchar(nm[[i]])) nm[[i]] else c("times", "length.out", "each")[[min(i, 3L)]], "rep")
  }
  rep(x, ...)
}

# Creates the generics and methods (run once, at the end of collation, when
# every tv_ function exists: see R/zzz.R). Returns the names of the generics.
rj_make_generics <- function(where) {
  tv <- mget(grep("^tv_", ls(where, all.names = TRUE), value = TRUE), envir = where)
  names(tv) <- sub("^tv_", "", names(tv))
  made <- character()
  for (verb in names(tv)) {
    if (verb %in% rj_no_generic) next
    home <- rj_base_home(verb)
    if (is.null(home)) next
    base_fun <- get(verb, envir = asNamespace(home))
    if (is.primitive(base_fun)) next
    sig <- rj_dispatch_override[[verb]]
    if (is.null(sig)) {
      # The implicit generic (package "base"/"stats"): the one Matrix and
      # other packages make too, so that their methods and rjax's merge.
      suppressMessages(methods::setGeneric(verb, where = where))
      sig <- methods::getGeneric(verb, where = where)@signature
    } else {
      dflt <- if (!is.null(rj_default_override[[verb]])) rj_default_override[[verb]]() else base_fun
      suppressMessages(methods::setGeneric(verb, where = where, signature = sig, useAsDefault = dflt))
    }
    m <- rj_make_method(verb, formals(methods::getGeneric(verb, where = where)))
    if (identical(sig, "...")) {
      methods::setMethod(verb, "rj_dots", rj_dots_method(verb, base_fun, tv[[verb]]), where = where)
    } else {
      sigs <- rj_method_signatures(setdiff(sig, "..."))
      sigs <- c(sigs, rj_missing_variants(methods::getGeneric(verb, where = where), sigs))
      for (s in sigs) methods::setMethod(verb, s, m, where = where)
    }
    made <- c(made, verb)
  }
  made
}

# Dots generics (pmax, pmin) dispatch on the class all `...` share: rjax
# values mixed with R numbers and logicals all belong to rj_dots, and the
# method sends calls without an rjax value back to base R.
setClassUnion("rj_dots", c("rj_value", "numeric", "logical", "matrix", "array"))

rj_dots_method <- function(verb, base_fun, tv) {
  force(base_fun); force(tv)
  f <- function() NULL
  formals(f) <- formals(base_fun)
  body(f) <- substitute({
    if (any(vapply(list(...), is_rj_value, NA))) TV else BASE
  }, list(TV = as.call(c(list(quote(tv)), rj_forward_args(base_fun))),
          BASE = as.call(c(list(quote(base_fun)), rj_forward_args(base_fun)))))
  f
}

rj_forward_args <- function(fun) {
  nms <- names(formals(fun))
  stats::setNames(lapply(nms, as.name), ifelse(nms == "...", "", nms))
}

# cbind()/rbind() of base R dispatch to methods:::cbind (and cbind2/rbind2,
# pairwise) as soon as one argument is an S4 object.
setMethod("cbind2", signature("rj_value", "ANY"), function(x, y, ...) tv_cbind(x, y))
setMethod("cbind2", signature("ANY", "rj_value"), function(x, y, ...) tv_cbind(x, y))
setMethod("cbind2", signature("rj_value", "rj_value"), function(x, y, ...) tv_cbind(x, y))
setMethod("cbind2", signature("rj_value", "missing"), function(x, y, ...) tv_cbind(x))
setMethod("rbind2", signature("rj_value", "ANY"), function(x, y, ...) tv_rbind(x, y))
setMethod("rbind2", signature("ANY", "rj_value"), function(x, y, ...) tv_rbind(x, y))
setMethod("rbind2", signature("rj_value", "rj_value"), function(x, y, ...) tv_rbind(x, y))
setMethod("rbind2", signature("rj_value", "missing"), function(x, y, ...) tv_rbind(x))

# rjax arrays carry no dimnames: setting them (cbind() names its columns)
# leaves the array as it is.
setMethod("dimnames<-", "rj_value", function(x, value) x)

# Routing closures for traced code, where the verb cannot dispatch on the
# position of an rjax value. Each sends calls without an rjax value to base R
# unchanged, and calls whose first argument is one to R's own S4 dispatch.
rj_route_dots <- function(verb) {
  base_fun <- get(verb, envir = baseenv())
  force(verb)
  function(...) {
    args <- list(...)
    if (!length(args) || is_rj_value(args[[1L]]) || !rj_any_value_in(args)) return(base_fun(...))
    rj_dots_traced(verb, args)
  }
}

rj_any_value_in <- function(args) {
  for (a in args) if (is_rj_value(a)) return(TRUE)
  FALSE
}

# c(1, x), sum(1, x), max(0, x), ...: c() concatenates as its rj_value
# method does; the Summary verbs (whose results do not depend on the order
# of their arguments) get the first rjax value moved to the front.
rj_dots_traced <- function(verb, args) {
  if (verb == "c") return(rj_concat_vectors(unname(args)))
  na.rm <- isTRUE(args$na.rm)
  args$na.rm <- NULL
  first <- which(vapply(args, is_rj_value, NA))[[1L]]
  do.call(get(verb, envir = baseenv()), c(args[first], args[-first], list(na.rm = na.rm)))
}

rj_ifelse_traced <- function(test, yes, no) {
  if (is_rj_value(test)) return(tv_ifelse(test, yes, no))
  # As base R: `yes` is evaluated only where some test is TRUE, `no` where
  # some is FALSE.
  t <- if (is.atomic(test) && !is.object(test)) as.logical(test)
  ok <- !is.na(t)
  if ((any(t[ok]) && is_rj_value(yes)) || (any(!t[ok]) && is_rj_value(no))) return(tv_ifelse(test, yes, no))
  base::ifelse(test, yes, no)
}

rj_is_matrix <- function(x) if (is_rj_value(x)) length(x@shape) == 2L else base::is.matrix(x)
rj_is_array <- function(x) if (is_rj_value(x)) length(x@shape) >= 2L else base::is.array(x)

# Type questions about rjax values in traced code, answered as base R would
# for the R array the value stands for (base's answers would describe the S4
# object: typeof() "logical", is.double() FALSE, class() "rj_tracer"), so that
# `if (is.double(x))` or `if (inherits(x, "matrix"))` takes the same branch
# as without jit(). S3 dispatch still sees rjax's classes.
rj_storage <- function(x) switch(x@dtype, f32 = , f64 = "double", i32 = "integer", bool = "logical")
rj_implicit_class <- function(x) {
  r <- length(x@shape)
  if (r == 2L) c("matrix", "array") else if (r > 2L) "array" else switch(rj_storage(x), double = "numeric", rj_storage(x))
}
rj_type_routes <- list(
  is.double = function(x) if (is_rj_value(x)) rj_storage(x) == "double" else base::is.double(x),
  is.integer = function(x) if (is_rj_value(x)) rj_storage(x) == "integer" else base::is.integer(x),
  is.logical = function(x) if (is_rj_value(x)) rj_storage(x) == "logical" else base::is.logical(x),
  is.vector = function(x, mode = "any") {
    if (!is_rj_value(x)) return(base::is.vector(x, mode))
    length(x@shape) <= 1L && mode %in% c("any", rj_storage(x), if (rj_storage(x) != "logical") "numeric")
  },
  typeof = function(x) if (is_rj_value(x)) rj_storage(x) else base::typeof(x),
  storage.mode = function(x) if (is_rj_value(x)) rj_storage(x) else base::storage.mode(x),
  mode = function(x) if (is_rj_value(x)) { if (rj_storage(x) == "logical") "logical" else "numeric" } else base::mode(x),
  class = function(x) if (is_rj_value(x)) rj_implicit_class(x) else base::class(x),
  inherits = function(x, what, which = FALSE) {
    if (!is_rj_value(x)) return(base::inherits(x, what, which))
    cls <- c(rj_implicit_class(x), base::class(x), "rj_value")
    if (which) match(what, cls, nomatch = 0L) else any(what %in% cls)
  },
  anyNA = function(x, recursive = FALSE) if (is_rj_value(x)) any(is.na(x)) else base::anyNA(x, recursive)
)

# The environment attached while tracing: the generics (created in R/zzz.R),
# every other tv_ verb, and the routing closures.
rj_verbs_env <- function() {
  .rj_state$verbs_env %||% {
    ns <- asNamespace("rjax")
    env <- new.env(parent = emptyenv())
    tv <- rj_traced_verbs()
    for (v in names(tv)) {
      gen <- get0(v, envir = ns, inherits = FALSE)
      assign(v, if (methods::is(gen, "genericFunction")) gen else tv[[v]], envir = env)
    }
    for (v in c("c", "sum", "prod", "max", "min", "range")) assign(v, rj_route_dots(v), envir = env)
    assign("cbind", tv_cbind_route, envir = env)
    assign("rbind", tv_rbind_route, envir = env)
    assign("ifelse", rj_ifelse_traced, envir = env)
    assign("is.matrix", rj_is_matrix, envir = env)
    assign("is.array", rj_is_array, envir = env)
    for (v in names(rj_type_routes)) assign(v, rj_type_routes[[v]], envir = env)
    .rj_state$verbs_env <- env
    env
  }
}

tv_cbind_route <- function(..., deparse.level = 1) {
  if (!rj_any_value_in(list(...))) return(base::cbind(..., deparse.level = deparse.level))
  tv_cbind(...)
}
tv_rbind_route <- function(..., deparse.level = 1) {
  if (!rj_any_value_in(list(...))) return(base::rbind(..., deparse.level = deparse.level))
  tv_rbind(...)
}

rj_verbs_search_name <- "rjax:traced-verbs"

# A function whose enclosures reach base R without passing the global
# environment (environment(f) <- new.env(parent = baseenv())) never sees the
# search path: it gets the traced verbs in an environment between it and its
# enclosure, minus every name its own enclosures define (those still win).
rj_enclose_verbs <- function(f) {
  if (!is.function(f) || is.primitive(f)) return(f)
  e <- environment(f)
  own <- character()
  repeat {
    if (identical(e, globalenv()) || identical(e, emptyenv()) || isNamespace(e)) return(f)
    if (identical(e, baseenv())) break
    own <- c(own, ls(e, all.names = TRUE))
    e <- parent.env(e)
  }
  verbs <- as.list(rj_verbs_env(), all.names = TRUE)
  verbs <- verbs[setdiff(names(verbs), own)]
  environment(f) <- list2env(verbs, parent = environment(f))
  f
}

# Evaluates `expr` with the traced verbs attached right after the global
# environment (only around the outermost trace; detached on exit, errors and
# interrupts included).
with_traced_verbs <- function(expr) {
  if (isTRUE(.rj_state$verbs_attached)) return(expr)
  env <- rj_verbs_env()
  attach_fun <- get("attach", envir = baseenv())
  attach_fun(env, pos = 2L, name = rj_verbs_search_name, warn.conflicts = FALSE)
  .rj_state$verbs_attached <- TRUE
  on.exit({
    .rj_state$verbs_attached <- FALSE
    pos <- match(rj_verbs_search_name, search())
    if (!is.na(pos)) detach(pos = pos)
  })
  expr
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# Calls base R's version with the caller's arguments exactly as given (some
# base functions look at nargs() or missing()), reusing values already forced.
forward_to_base <- function(fun, call, env, forced) {
  for (nm in names(forced)) if (!is.null(call[[nm]])) call[[nm]] <- forced[[nm]]
  call[[1L]] <- fun
  eval(call, env)
}

# is.matrix()/is.array() inside rjax's own code (not exported: base's
# primitives do not dispatch; user code under tracing gets the same answer
# from the traced-verbs environment).
is.matrix <- rj_is_matrix
is.array <- rj_is_array
