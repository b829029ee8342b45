# The persistent compile cache (src/backend/llvm/objcache.h): compiled
# object code kept in files across sessions, keyed by the kernels of the
# optimised program, the CPU, LLVM and rjax. Off unless
# options(rjax.cache_dir) is set; the core reads the directory from the
# environment variable RJAX_CACHE_DIR (it knows no R), which rj_cache_sync()
# sets from the option before each compile.

.rj_cache_state <- new.env(parent = emptyenv())

rj_cache_sync <- function() {
  dir <- getOption("rjax.cache_dir")
  if (is.null(dir) || identical(dir, FALSE) || !nzchar(dir[[1L]])) {
    # Unset only what this session set: an RJAX_CACHE_DIR given from
    # outside (a shell, rjax-run's users) stays in force.
    if (isTRUE(.rj_cache_state$set)) {
      Sys.unsetenv("RJAX_CACHE_DIR")
      .rj_cache_state$set <- FALSE
    }
    return(invisible(NULL))
  }
  if (!is.character(dir) || length(dir) != 1L) {
    rj_abort("type", "options(rjax.cache_dir) must be a single directory path (or NULL to turn the cache off)")
  }
  dir <- path.expand(dir)
  if (!dir.exists(dir) && !dir.create(dir, recursive = TRUE, showWarnings = FALSE)) {
    rj_abort("io", sprintf("cannot create the compile cache directory '%s' (options(rjax.cache_dir))", dir))
  }
  if (!identical(Sys.getenv("RJAX_CACHE_DIR"), dir)) Sys.setenv(RJAX_CACHE_DIR = dir)
  .rj_cache_state$set <- TRUE
  invisible(dir)
}

#' The persistent compile cache
#'
#' With `options(rjax.cache_dir = dir)`, the native code the `"llvm"`
#' backend compiles is also written to files in `dir`, and a later R
#' session that compiles the same program loads it from there instead of
#' compiling again (JAX's persistent compilation cache). Off by default;
#' a sensible directory is `tools::R_user_dir("rjax", "cache")`. Tracing
#' still runs in each session (it is what finds the program); the cache
#' saves the LLVM optimisation and code generation, usually most of the
#' time of a first call.
#'
#' Entries are keyed by a hash of the compiled kernels of the optimised
#' program (primitives by name, every attribute and type), the target CPU
#' name and features, the LLVM version and the rjax version, and carry a
#' checksum: a corrupt entry, or one written for another CPU, LLVM or rjax,
#' is never loaded: the code is compiled again and the entry rewritten. Set
#' the option to `NULL` to turn the cache off. The environment variable
#' `RJAX_CACHE_DIR` has the same effect (and is what `rjax-run` reads, as
#' its `--cache-dir` option).
#'
#' @param dir The cache directory (default: the current setting).
#' @return `rjax_cache_info()`: a list with the directory, the number of
#'   entries and their total size in bytes, and this session's counts of
#'   `hits`, `misses`, `rejected` (corrupt or foreign) entries and `writes`.
#'   `rjax_cache_clear()`: the number of entries removed, invisibly.
#' @examples
#' old <- options(rjax.cache_dir = file.path(tempdir(), "rjax-cache"))
#' jf <- jit(function(x) sum(exp(x) / 2), backend = "llvm")
#' jf(1:10)
#' rjax_cache_info()
#' rjax_cache_clear()
#' options(old)
#' # a persistent location for real use:
#' tools::R_user_dir("rjax", "cache")
#' @export
rjax_cache_info <- function(dir = NULL) {
  rj_cache_sync()
  if (is.null(dir)) dir <- Sys.getenv("RJAX_CACHE_DIR")
  files <- if (nzchar(dir) && dir.exists(dir)) list.files(dir, pattern = "\\.rjo$", full.names = TRUE) else character()
  st <- .Call(C_rjc_cache_stats)
  structure(list(dir = if (nzchar(dir)) dir else NA_character_, entries = length(files),
                 bytes = sum(file.size(files)), hits = st[[1L]], misses = st[[2L]], rejected = st[[3L]],
                 writes = st[[4L]]), class = "rjax_cache_info")
}

#' @rdname rjax_cache_info
#' @export
rjax_cache_clear <- function(dir = NULL) {
  info <- rjax_cache_info(dir)
  if (is.na(info$dir)) return(invisible(0L))
  files <- list.files(info$dir, pattern = "\\.rjo(\\.tmp[0-9]+)?$", full.names = TRUE)
  invisible(sum(file.remove(files)))
}

#' @export
print.rjax_cache_info <- function(x, ...) {
  if (is.na(x$dir)) {
    cli::cat_line("<rjax compile cache: off (set options(rjax.cache_dir = tools::R_user_dir(\"rjax\", \"cache\")))>")
  } else {
    cli::cat_line(sprintf("<rjax compile cache %s: %d entries, %s>", x$dir, x$entries, format(structure(x$bytes, class = "object_size"), units = "auto")))
  }
  cli::cat_line(sprintf("  this session: %g hits, %g misses, %g rejected, %g writes", x$hits, x$misses, x$rejected, x$writes))
  invisible(x)
}
