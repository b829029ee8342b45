# Distributed programs: shard_map() over the ranks of an MPI job, and the
# collectives (src/prims/collective.cpp) that communicate between them.
# MPI itself lives in the C++ runtime (src/runtime/mpi.cpp, opened at run
# time); R only binds axis names, splits arguments and checks agreement.

.rj_dist <- new.env(parent = emptyenv())
.rj_dist$axes <- character()   # bound axis names, innermost first
.rj_dist$hooked <- FALSE

# The MPI state; starts MPI the first time when launched by mpirun.
mpi_state <- function() {
  s <- .Call(C_rjc_mpi, "init", NULL)
  if (s$active && !.rj_dist$hooked) mpi_hooks()
  s
}

# Once per MPI job: finalise MPI when R exits, and make an uncaught error
# on one rank end the whole job at once (MPI_Abort) instead of leaving the
# other ranks waiting for it (batch scripts only; a user's own
# options(error) is kept).
mpi_hooks <- function() {
  .rj_dist$hooked <- TRUE
  reg.finalizer(.rj_dist, function(e) .Call(C_rjc_mpi, "finalize", NULL), onexit = TRUE)
  if (!interactive() && is.null(getOption("error"))) {
    options(error = function() .Call(C_rjc_mpi, "abort", paste("R error:", geterrmessage())))
  }
  if (!is.null(t <- getOption("rjax.mpi_timeout"))) .Call(C_rjc_mpi, "timeout", as.numeric(t))
  if (isTRUE(getOption("rjax.mpi_deterministic"))) .Call(C_rjc_mpi, "deterministic", TRUE)
  invisible()
}

#' The MPI job this R process belongs to
#'
#' rjax starts MPI by itself when the R process was started by `mpirun`
#' (for example `mpirun -np 4 Rscript fit.R`); a plain R session is a job of
#' one rank, in which every collective is the identity. MPI (OpenMPI) is
#' opened at run time: rjax installs and works without it.
#'
#' Settings: `options(rjax.mpi_timeout = seconds)` (or the environment
#' variable `RJAX_MPI_TIMEOUT`; default 300) bounds how long a collective
#' waits for the other ranks before a `rjax_distributed_timeout_error`;
#' `options(rjax.mpi_deterministic = TRUE)` (or `RJAX_MPI_DETERMINISTIC=1`)
#' sums in rank order, so that every rank and every run gets the same bits
#' whatever MPI's reduction algorithm (at K times the traffic). Set them
#' before the first collective, or call `rj_mpi_info()` again after
#' setting them.
#'
#' @return A list: `active` (MPI is running), `launched` (started by
#'   mpirun), `rank` (0-based), `size` (number of ranks), `library` (the
#'   libmpi opened), `timeout`, `deterministic`, and the traffic of this
#'   rank so far, `calls` (collectives) and `bytes` (bytes sent into them).
#' @seealso [shard_map()], [rj_psum()].
#' @examples
#' info <- rj_mpi_info()
#' info$rank; info$size
#' @export
rj_mpi_info <- function() {
  s <- mpi_state()
  if (s$active) {
    if (!is.null(t <- getOption("rjax.mpi_timeout"))) s <- .Call(C_rjc_mpi, "timeout", as.numeric(t))
    s <- .Call(C_rjc_mpi, "deterministic", isTRUE(getOption("rjax.mpi_deterministic", s$deterministic)))
  }
  s[c("active", "launched", "rank", "size", "library", "timeout", "deterministic", "calls", "bytes")]
}

#' NCCL for collectives between GPUs
#'
#' With the CUDA backend in an MPI job of several ranks, [rj_psum()] (and
#' the sums of [shard_map()]) and [rj_all_gather()] run on the device
#' buffers through NCCL, opened at run time like the other CUDA libraries,
#' when every rank has it; otherwise (and for [rj_pmax_axis()] /
#' [rj_pmin_axis()], which follow R's NA rules, and in deterministic mode)
#' the values go through the host and MPI. `rj_nccl_info()` says which.
#'
#' @return A list: `loaded` (libnccl opened), `library`, `version` (as
#'   `ncclGetVersion()` gives it, e.g. 22304 for 2.23.4), `why_not` (what
#'   is missing when not loaded), `in_use` (the job runs its device
#'   collectives through NCCL: decided by all ranks at the first one),
#'   `calls` and `bytes` (NCCL collectives and their payload on this rank).
#' @seealso [rj_mpi_info()], [rj_devices()].
#' @examples
#' rj_nccl_info()$loaded
#' @export
rj_nccl_info <- function() .Call(C_rjc_mpi, "nccl", NULL)

# Resets the traffic counters (benchmarks).
rj_mpi_reset_counters <- function() invisible(.Call(C_rjc_mpi, "reset", NULL))

# The size of a bound axis (the number of ranks); an error for unbound names.
axis_size <- function(axis, what) {
  if (!is.character(axis) || length(axis) != 1L || is.na(axis)) {
    rj_abort("value", sprintf("%s: 'axis' must be one axis name (a string), as given to shard_map()", what))
  }
  if (!axis %in% .rj_dist$axes) {
    bound <- if (length(.rj_dist$axes)) paste0("'", .rj_dist$axes, "'", collapse = ", ") else "none"
    rj_abort("axis", sprintf("%s: axis '%s' is not bound (bound axes: %s). Call collectives inside shard_map(f, ..., axis = \"%s\").",
                             what, axis, bound, axis))
  }
  mpi_state()$size
}

# Applies a collective primitive; R data in gives R data out.
collective <- function(prim, x, attrs) {
  r_in <- !is_rj_value(x)
  if (r_in) {
    if (!is.numeric(x) && !is.logical(x)) rj_abort("type", sprintf("%s needs numbers, got %s", prim, class(x)[[1L]]))
    x <- rj_array(x)
  }
  y <- rj_bind(prim, list(x), attrs)
  if (r_in) as_r_data(y) else y
}

as_r_data <- function(y) {
  v <- rj_values(y)
  if (length(y@shape) == 1L) dim(v) <- NULL
  v
}

#' Collectives over a named axis
#'
#' Inside [shard_map()], these combine the values that the ranks of the MPI
#' job hold for the same variable: `rj_psum()` sums them, `rj_pmean()`
#' averages them, `rj_pmax_axis()` and `rj_pmin_axis()` take element-wise
#' extremes (R's NA rules: NA wins over NaN, NaN over numbers),
#' `rj_all_gather()` stacks the ranks' arrays along a dimension (rows by
#' default; every rank must hold the same shape), and `rj_axis_index()` is
#' the rank's position on the axis (0-based). Every rank gets the same
#' result. In a process of its own (no `mpirun`) the axis has one rank:
#' the collectives are the identity and `rj_axis_index()` is 0.
#'
#' The names carry the `rj_` prefix (and `_axis` for the extremes) so that
#' they never mask base R's `pmax()`/`pmin()`.
#'
#' They are primitives: they work eagerly, under [jit()] (where they are
#' library calls of the compiled program, never fused), under [grad()]
#' and [jvp()]-style transforms (the derivative of `rj_psum()` is
#' `rj_psum()` of the cotangent; of `rj_all_gather()` this rank's block of
#' the summed cotangent; of the extremes the cotangent where this rank
#' holds the extreme, split among ties) and under [vmap()]-style batching
#' (the batch axis is carried through). See [shard_map()] for what `grad()`
#' inside versus outside `shard_map()` means.
#'
#' @param x An array (R data or rjax value). `rj_psum()`/`rj_pmean()` need
#'   floating-point values.
#' @param axis The axis name bound by [shard_map()].
#' @param dim The dimension along which `rj_all_gather()` stacks (1: rows).
#' @return An array like `x` (R data when `x` is R data); `rj_all_gather()`
#'   has `dim` extended `K` times; `rj_axis_index()` an integer scalar.
#' @seealso [shard_map()], [rj_mpi_info()].
#' @examples
#' f <- shard_map(function(x) rj_psum(x^2, "i"), in_specs = "rows",
#'                out_specs = "replicated", axis = "i")
#' f(c(1, 2, 3))   # one rank: the identity; under mpirun the sum over ranks
#' g <- shard_map(function(x) rj_axis_index("i") + 0L * length(x), "rows", "replicated", axis = "i")
#' g(1:4)
#' @name collectives
NULL

#' @rdname collectives
#' @export
rj_psum <- function(x, axis) collective("psum", x, list(ints = axis_size(axis, "rj_psum")))

#' @rdname collectives
#' @export
rj_pmean <- function(x, axis) {
  k <- axis_size(axis, "rj_pmean")
  s <- rj_psum(x, axis)
  if (k == 1L) s else s / k
}

#' @rdname collectives
#' @export
rj_pmax_axis <- function(x, axis) collective("pmax_axis", x, list(ints = axis_size(axis, "rj_pmax_axis")))

#' @rdname collectives
#' @export
rj_pmin_axis <- function(x, axis) collective("pmin_axis", x, list(ints = axis_size(axis, "rj_pmin_axis")))

#' @rdname collectives
#' @export
rj_all_gather <- function(x, axis, dim = 1L) {
  k <- axis_size(axis, "rj_all_gather")
  collective("all_gather", x, list(ints = c(k, as.integer(dim) - 1L, mpi_state()$rank)))
}

#' @rdname collectives
#' @export
rj_axis_index <- function(axis) {
  k <- axis_size(axis, "rj_axis_index")
  attrs <- list(ints = k)
  # Inside a trace the rank is a node of the program, not a constant.
  if (is_tracing()) return(.Call(C_rjc_mpi, "emit0", list(current_trace(), "axis_index", attrs)))
  as_r_data(rj_bind("axis_index", list(), attrs))
}

# ---- shard_map ------------------------------------------------------------------

spec_kinds <- c("rows", "replicated", "local")

check_specs <- function(specs, n, what) {
  specs <- as.list(specs)
  if (length(specs) == 1L && n != 1L) specs <- rep(specs, n)
  if (length(specs) != n) {
    rj_abort("value", sprintf("shard_map: %s has %d entries for %d %s", what, length(specs), n,
                              if (what == "in_specs") "arguments" else "outputs"))
  }
  ok <- vapply(specs, function(s) is.character(s) && length(s) == 1L && s %in% spec_kinds, NA)
  if (!all(ok)) {
    rj_abort("value", sprintf("shard_map: each of %s must be one of %s", what, paste0("\"", spec_kinds, "\"", collapse = ", ")))
  }
  unlist(specs)
}

# Rows of rank r when n rows are split over k ranks: contiguous blocks,
# the first n %% k ranks one row more.
rank_rows <- function(n, k, r) {
  base <- n %/% k
  extra <- n %% k
  from <- r * base + min(r, extra)
  len <- base + (r < extra)
  if (len == 0L) integer() else seq.int(from + 1L, length.out = len)
}

nrows_of <- function(x) if (is.null(dim(x))) length(x) else dim(x)[[1L]]

take_rows <- function(x, rows) {
  d <- dim(x)
  if (is.null(d) || length(d) == 1L) return(x[rows])
  if (length(d) == 2L) return(x[rows, , drop = FALSE])
  rj_abort("unsupported", "shard_map: \"rows\" arguments must be vectors or matrices")
}

boundary <- function(prim, x, k) {
  if (!is_rj_value(x)) return(x)  # plain R data carries no derivative
  rj_bind(prim, list(x), list(ints = k))
}

# What every rank must agree on before running f: the function, the specs
# and the arguments' types and shapes (rows of sharded arguments may differ).
agreement_key <- function(f, in_specs, out_specs, axis, args) {
  sig <- vapply(seq_along(args), function(i) {
    x <- args[[i]]
    d <- if (is_rj_value(x)) x@shape else (dim(x) %||% length(x))
    if (in_specs[[i]] == "local") d <- d[-1L]
    paste0(in_specs[[i]], ":", dtype_of(x), "[", paste(d, collapse = ","), "]")
  }, "")
  paste(c(axis, paste(out_specs, collapse = ","), sig, deparse(f)), collapse = "\n")
}

dtype_of <- function(x) if (is_rj_value(x)) x@dtype else typeof(x)

#' Run a function on every rank's shard of the data
#'
#' `shard_map(f, in_specs, out_specs, axis)` returns a function that runs
#' `f` once per rank of the MPI job (JAX's `shard_map` over one named mesh
#' axis), each on its own part of the data. Start the job with
#' `mpirun -np K Rscript script.R`: rjax starts MPI itself; without
#' `mpirun` the job has one rank and `f` sees all the data.
#'
#' Argument specs (`in_specs`, one per argument, or one for all):
#' - `"rows"`: every rank passes the whole array; `f` gets this rank's
#'   block of rows (contiguous blocks; the first `n %% K` ranks get one row
#'   more);
#' - `"local"`: the argument already is this rank's shard (for example
#'   rows read from this rank's own file), passed as is;
#' - `"replicated"`: every rank passes the same value; `f` gets it as is.
#'
#' Output specs (`out_specs`, one per element when `f` returns a list):
#' `"rows"` stacks the ranks' results by rows (every rank's block must
#' have the same number of rows) and returns the whole array on every
#' rank; `"replicated"` returns a result that is the same on every rank
#' (a value made by [rj_psum()] and friends); `"local"` returns each rank's
#' own result.
#'
#' Inside `f`, the collectives ([rj_psum()], [rj_all_gather()], ...)
#' communicate over `axis`. `shard_map()` composes with [jit()], [grad()],
#' and the loop primitives: it traces like any R code. Derivatives:
#' `grad()` of a function that *calls* `shard_map()` is the gradient of the
#' global function (a replicated argument's gradient is summed over the
#' ranks, a row-sharded one is assembled from their blocks). `grad()`
#' *inside* `f` differentiates the sum over ranks of `f`'s per-rank value
#' (JAX's pmap convention): of a replicated `rj_psum(loss, axis)` it gives
#' `K` times this rank's share, so differentiate the rank's own loss and
#' `rj_psum()` the gradient instead.
#'
#' Ranks agree on programs by construction: every rank runs the same
#' script. Before each call (or trace) the ranks exchange a hash of `f`,
#' the specs and the arguments' types and shapes, and each collective
#' checks that every rank calls the same one with the same shape: a
#' mismatch is a `rjax_distributed_mismatch_error` on every rank, never a
#' deadlock. A rank that stops answering makes the others fail after
#' `rj_mpi_info()$timeout` seconds (`rjax_distributed_timeout_error`); a
#' rank that dies or stops on an uncaught R error ends the job (OpenMPI's
#' mpirun, and rjax's MPI_Abort on errors in batch scripts).
#'
#' @param f A function of arrays.
#' @param in_specs One spec per argument of `f` (or one for all).
#' @param out_specs One spec for `f`'s result, or one per element of the
#'   list it returns.
#' @param axis The name under which the collectives in `f` refer to the
#'   ranks.
#' @return A function with `f`'s arguments.
#' @seealso [rj_psum()], [rj_mpi_info()].
#' @examples
#' # Least squares by data parallelism: each rank holds rows of X and y.
#' X <- cbind(1, seq(0, 1, length.out = 20)); y <- 2 + 3 * X[, 2]
#' normal_eq <- shard_map(function(X, y) {
#'   list(rj_psum(crossprod(X), "i"), rj_psum(crossprod(X, y), "i"))
#' }, in_specs = "rows", out_specs = "replicated", axis = "i")
#' ne <- normal_eq(X, y)
#' solve(ne[[1]], ne[[2]])
#' # The gradient of a loss summed over ranks (replicated beta).
#' loss <- function(beta, X, y) shard_map(function(beta, X, y) rj_psum(sum((y - X %*% beta)^2), "i"),
#'   in_specs = c("replicated", "rows", "rows"), out_specs = "replicated", axis = "i")(beta, X, y)
#' grad(loss)(c(0, 0), X, y)
#' @export
shard_map <- function(f, in_specs, out_specs, axis = "ranks") {
  f <- match.fun(f)
  force(in_specs)
  force(out_specs)
  if (!is.character(axis) || length(axis) != 1L || is.na(axis) || !nzchar(axis)) {
    rj_abort("value", "shard_map: 'axis' must be one non-empty name")
  }
  function(...) {
    args <- list(...)
    specs <- check_specs(in_specs, length(args), "in_specs")
    if (axis %in% .rj_dist$axes) {
      rj_abort("unsupported", sprintf("shard_map: axis '%s' is already bound by an enclosing shard_map()", axis))
    }
    s <- mpi_state()
    k <- s$size
    if (k > 1L) {
      .Call(C_rjc_mpi, "agree", list(agreement_key(f, specs, out_specs, axis, args),
                                     "shard_map: the function, specs or argument shapes"))
    }
    local <- lapply(seq_along(args), function(i) {
      x <- args[[i]]
      switch(specs[[i]],
        local = x,
        replicated = boundary("shard_replicated_in", x, k),
        rows = take_rows(boundary("shard_replicated_in", x, k), rank_rows(nrows_of(x), k, s$rank)))
    })
    names(local) <- names(args)
    .rj_dist$axes <- c(axis, .rj_dist$axes)
    on.exit(.rj_dist$axes <- setdiff(.rj_dist$axes, axis), add = TRUE)
    out <- do.call(f, local)
    .rj_dist$axes <- setdiff(.rj_dist$axes, axis)
    is_list <- is.list(out) && !is_rj_value(out)
    outs <- if (is_list) out else list(out)
    ospecs <- check_specs(out_specs, length(outs), "out_specs")
    res <- lapply(seq_along(outs), function(i) {
      y <- outs[[i]]
      switch(ospecs[[i]],
        local = y,
        replicated = boundary("shard_replicated_out", y, k),
        rows = {
          g <- if (k > 1L) rj_all_gather_bound(y, k, s$rank) else y
          boundary("shard_replicated_out", g, k)
        })
    })
    names(res) <- names(outs)
    if (is_list) res else res[[1L]]
  }
}

# all_gather of a shard_map output (the axis is no longer bound there).
rj_all_gather_bound <- function(y, k, rank) collective("all_gather", y, list(ints = c(k, 0L, rank)))
