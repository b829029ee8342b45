# Programs that outlive the R session: jit_export() writes a jitted
# function's program for one signature to a file (the format of
# src/ir/serialize.h), jit_import() reads it back as a function, and
# rjax-run runs it without R.

#' Export and import compiled programs
#'
#' `jit_export(jf, ..., file)` traces and optimises the jitted function `jf`
#' for the signature of the example arguments (as [jit_lower()] does; a
#' `jit_lower()` result may be given instead of `jf` and the arguments) and
#' writes the program to `file`. The file is self-contained and versioned:
#' every primitive by name with its attributes, the types (with weak flags),
#' the constants with their exact bytes, loop bodies, and the tree structure
#' of the arguments and results, under a header with the format version,
#' the rjax version and a checksum.
#'
#' `jit_import(file)` reads such a file in any R session, verifies it (a
#' corrupted, truncated, foreign or ill-typed file is an
#' `rjax_format_error`), compiles it and returns a function of class
#' `rjax_compiled` that takes the arguments the program was exported for and
#' checks their signature (dtypes, shapes, structure and the values of
#' static arguments; another signature is an `rjax_signature_error`). Its
#' results are bit for bit those of the original on the same backend.
#'
#' The same file runs without R through the `rjax-run` command-line program
#' installed with the package (`system.file("bin", "rjax-run", package =
#' "rjax")`; see `rjax-run --help`), with inputs and outputs as NumPy
#' `.npy` files.
#'
#' @param jf A function made by [jit()], or the result of [jit_lower()].
#' @param ... Example arguments (their dtypes, shapes, structure and the
#'   values of static arguments define the exported signature); none when
#'   `jf` is a `jit_lower()` result.
#' @param file Path of the program file (by convention `.rjax`).
#' @param backend Backend to compile the imported program for (default: the
#'   backend the exporting function used).
#' @return `jit_export()`: `file`, invisibly. `jit_import()`: a function of
#'   class `rjax_compiled` (and `rjax_imported`).
#' @seealso [jit_lower()], [rj_save()] for arrays.
#' @examples
#' f <- function(x, y) list(total = sum(x * y), scaled = x / 2)
#' jf <- jit(f)
#' path <- tempfile(fileext = ".rjax")
#' jit_export(jf, c(1, 2, 3), c(4, 5, 6), file = path)
#' g <- jit_import(path)
#' g
#' g(c(1, 2, 3), c(1, 1, 1))
#' try(g(1:2, 1:2))  # another signature
#' @export
jit_export <- function(jf, ..., file) {
  lo <- if (inherits(jf, "rjax_lowered")) jf else jit_lower(jf, ...)
  if (inherits(jf, "rjax_lowered") && ...length()) rj_abort("type", "jit_export(): give either a jit_lower() result or a jitted function with arguments, not both")
  writeBin(program_bytes(lo), file)
  invisible(file)
}

#' @rdname jit_export
#' @export
jit_import <- function(file, backend = NULL) {
  if (!is.character(file) || length(file) != 1L || !file.exists(file))
    rj_abort("io", sprintf("jit_import(): no file '%s'", paste(file, collapse = " ")))
  bytes <- readBin(file, "raw", file.size(file))
  imported_function(program_parse(bytes), backend, source = normalizePath(file))
}

# The lowered program (graph, signature, tree structure) as file bytes.
program_bytes <- function(lo) {
  # The formals (names and unevaluated defaults) match arguments on import
  # as the original function matched them.
  fm <- if (is.function(lo$f) && !is.primitive(lo$f)) as.list(formals(lo$f)) else list()
  meta <- list(
    backend = charToRaw(lo$backend),
    r_key = charToRaw(enc2utf8(lo$key)),
    r_static = serialize(as.character(lo$static), NULL, xdr = TRUE),
    r_formals = serialize(fm, NULL, xdr = TRUE),
    r_out_def = serialize(lo$out_def, NULL, xdr = TRUE)
  )
  .Call(C_rjc_program_bytes, lo$graph, meta)
}

# Parses and verifies program bytes; the R side of its meta entries.
program_parse <- function(bytes) {
  p <- .Call(C_rjc_program_parse, bytes)
  m <- p[[2L]]
  need <- c("backend", "r_key", "r_static", "r_formals", "r_out_def")
  if (!all(need %in% names(m))) rj_abort("format", "the program file was not written by jit_export() (its R signature is missing)")
  key <- rawToChar(m$r_key)
  Encoding(key) <- "UTF-8"  # written by enc2utf8(): non-ASCII argument names compare equal
  list(graph = p[[1L]], backend = rawToChar(m$backend), key = key,
       static = unserialize(m$r_static), formals = unserialize(m$r_formals),
       out_def = unserialize(m$r_out_def), format_version = p[[3L]], rjax_version = p[[4L]])
}

# A function over the exported signature: arguments matched as the original
# function matched them (by its formals' names), signature checked, the
# compiled program run.
imported_function <- function(p, backend = NULL, source = NA_character_) {
  backend <- match.arg(if (is.null(backend)) p$backend else backend, rj_backends())
  rj_cache_sync()
  exe <- .Call(C_rjc_compile, p$graph, backend)
  f0 <- if (length(p$formals)) as.function(c(p$formals, list(NULL))) else function(...) NULL
  key <- p$key
  static <- p$static
  out_def <- p$out_def
  run <- function(...) {
    args <- match_args(f0, list(...))
    sig <- signature_key(args, static)
    if (!identical(sig$key, key)) {
      rj_abort("signature", paste0(
        "these arguments do not have the signature the program was exported for.\n",
        "Exported for:\n  ", gsub("\n", "\n  ", key), "\nGot:\n  ", gsub("\n", "\n  ", sig$key),
        "\nExport the function again (jit_export()) with arguments like these."))
    }
    tree_unflatten(out_def, .Call(C_rjc_run, exe, sig$leaves))
  }
  structure(run, class = c("rjax_imported", "rjax_compiled", "function"),
            rjax = list(backend = backend, graph = p$graph, source = source, key = key,
                        format_version = p$format_version, rjax_version = p$rjax_version))
}

#' @export
print.rjax_imported <- function(x, ...) {
  a <- attr(x, "rjax")
  sig <- .Call(C_rjc_program_signature, a$graph)
  cli::cat_line("<rjax imported program, backend ", a$backend, ": format ", a$format_version,
                ", written by rjax ", a$rjax_version, ">")
  if (!is.na(a$source)) cli::cat_line("  file:    ", a$source)
  cli::cat_line("  inputs:  ", if (length(sig[[1L]])) paste(sig[[1L]], collapse = ", ") else "(none)")
  cli::cat_line("  outputs: ", paste(sig[[2L]], collapse = ", "))
  invisible(x)
}

#' The rjax-run command-line program
#'
#' Path of `rjax-run`, installed with the package: it runs a program written
#' by [jit_export()] without R, on a chosen backend, with inputs from NumPy
#' `.npy` files, writing its outputs as `.npy` files (`--repeat N` prints
#' timings). Run it with `--help` for its options.
#' @return The path of the executable (an error if it was not installed).
#' @examples
#' exe <- rjax_run_path()
#' cat(system2(exe, "--help", stdout = TRUE), sep = "\n")
#' @export
rjax_run_path <- function() {
  p <- system.file("bin", "rjax-run", package = "rjax")
  if (!nzchar(p)) rj_abort("io", "rjax-run is not installed with this copy of rjax (reinstall the package)")
  p
}

#' Read and write NumPy .npy files
#'
#' `rj_write_npy(x, file)` writes an array (an `rj_array`, or R data
#' converted with `rj_array(x, dtype)`) as a NumPy `.npy` file;
#' `rj_read_npy(file)` reads one as an `rj_array`. These are the input and
#' output files of `rjax-run` ([rjax_run_path()]). Arrays are written in
#' R's column-major layout with `fortran_order = True`, so `numpy.load()`
#' gives an array with R's dims and values; files in C order (numpy's
#' default) are read correctly too. Dtypes: f64 (`<f8`), f32 (`<f4`), i32
#' (`<i4`), bool (`|b1`).
#' @param x An `rj_array` or R numeric/integer/logical data.
#' @param file Path of the `.npy` file.
#' @param dtype For R data: the dtype to write (default from R's type).
#' @return `rj_write_npy()`: `file`, invisibly; `rj_read_npy()`: an `rj_array`.
#' @examples
#' f <- tempfile(fileext = ".npy")
#' rj_write_npy(matrix(1:6, 2), f)
#' rj_read_npy(f)
#' @export
rj_write_npy <- function(x, file, dtype = NULL) {
  if (!is_rj_array(x) || !is.null(dtype)) x <- rj_array(x, dtype = dtype)
  .Call(C_rjc_npy_write, x, path.expand(file))
  invisible(file)
}

#' @rdname rj_write_npy
#' @export
rj_read_npy <- function(file) .Call(C_rjc_npy_read, path.expand(file))
