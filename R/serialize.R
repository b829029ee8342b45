# Saving rjax values. R saves an external pointer as NULL, and R has no
# per-class serialization hook for S4 objects (only ALTREP classes have
# one), so saveRDS() of an rj_array alone cannot keep its native data:
# rj_pack() turns every rj_array inside an R object into a plain R record
# (dtype, shape and the exact bytes), rj_unpack() turns such records back
# into arrays, and rj_save()/rj_load() wrap saveRDS()/readRDS() with them.
# Jitted functions need nothing: a restored one recompiles on its first
# call (see rj_exe_alive() in R/jit.R).

#' Save and load objects holding rjax arrays
#'
#' `rj_save(x, file)` saves any R object (an `rj_array`, or a list such as a
#' fitted model holding arrays) like [saveRDS()], keeping each array's data
#' bit for bit, its dtype and its shape; `rj_load(file)` reads it back with
#' the arrays restored. `rj_pack()`/`rj_unpack()` do the conversion alone,
#' for [serialize()], `save()` or sending objects to parallel workers.
#'
#' Why not plain `saveRDS()`: an `rj_array` keeps its data in native memory,
#' which R does not save (R has no serialization hook for such objects);
#' after `readRDS()` of a bare array, using it is an
#' `rjax_serialization_error` that says so. Functions made by [jit()] can be
#' saved with `saveRDS()`: in a new session they trace and compile again on
#' their first call (with `options(rjax.cache_dir)` set, compiled code comes
#' from the persistent cache, see [rjax_cache_info()]).
#'
#' @param x An R object (arrays anywhere inside nested lists are converted).
#' @param file A file name or connection, as for [saveRDS()].
#' @param ... Passed to [saveRDS()] / [readRDS()].
#' @return `rj_save()`: `NULL`, invisibly. `rj_load()`, `rj_unpack()`: the
#'   object with its arrays. `rj_pack()`: the object with each array replaced
#'   by a record of class `rj_packed_array`.
#' @examples
#' x <- rj_array(matrix(c(1.5, NA, 3, 4), 2), dtype = "f32")
#' path <- tempfile(fileext = ".rds")
#' rj_save(list(a = x, b = "kept"), path)
#' y <- rj_load(path)
#' y$a
#' identical(as.matrix(y$a), as.matrix(x))
#' raw <- serialize(rj_pack(x), NULL)
#' rj_unpack(unserialize(raw))
#' @export
rj_save <- function(x, file, ...) {
  saveRDS(rj_pack(x), file, ...)
  invisible(NULL)
}

#' @rdname rj_save
#' @export
rj_load <- function(file, ...) {
  if (is.character(file) && (length(file) != 1L || !file.exists(file))) {
    rj_abort("io", sprintf("rj_load(): there is no file %s", paste(deparse(file), collapse = " ")))
  }
  rj_unpack(readRDS(file, ...))
}

#' @rdname rj_save
#' @export
rj_pack <- function(x) {
  if (is_rj_tracer(x)) rj_abort("type", "rj_pack(): a traced value cannot be saved (only concrete arrays)")
  if (is_rj_array(x)) {
    return(structure(list(dtype = x@dtype, shape = as.integer(x@shape), bytes = .Call(C_rjc_array_bytes, x)),
                     class = "rj_packed_array"))
  }
  if (is.list(x) && !inherits(x, "rj_packed_array")) {
    at <- attributes(x)
    for (i in seq_along(x)) if (!is.null(x[[i]])) x[[i]] <- rj_pack(x[[i]])
    attributes(x) <- at
  }
  x
}

#' @rdname rj_save
#' @export
rj_unpack <- function(x) {
  if (inherits(x, "rj_packed_array")) return(.Call(C_rjc_array_from_bytes, x$bytes, x$dtype, x$shape))
  if (is.list(x)) {
    at <- attributes(x)
    for (i in seq_along(x)) if (!is.null(x[[i]])) x[[i]] <- rj_unpack(x[[i]])
    attributes(x) <- at
  }
  x
}

#' @export
print.rj_packed_array <- function(x, ...) {
  cli::cat_line(sprintf("<packed rj_array %s[%s]: rj_unpack() restores it>", x$dtype, paste(x$shape, collapse = ",")))
  invisible(x)
}

# Whether a compiled program's native object still exists (FALSE for one
# restored by readRDS()/load(): R saves external pointers as NULL).
rj_exe_alive <- function(exe) .Call(C_rjc_ptr_alive, exe)
