# Classes: rj_value is what the verbs dispatch on; rj_array holds a native
# buffer, rj_tracer stands for a value of a program being traced.
#' @import methods
NULL

setClass("rj_value", representation("VIRTUAL", dtype = "character", shape = "integer"))
# An rj_array (and a tracer) is also a logical vector of length 0, or of
# length 1 for a one-element array whose value is known, holding the truth
# value R's `if` and `while` read (they look at R data only and cannot
# dispatch): `if (rj_array(2) > 1)` works, and so does `if (x > 0)` under an
# un-jitted grad(), which traces with the concrete inputs at hand. The
# values themselves live in the native buffer. (R/zzz.R gives
# rj_array its own copies of the rj_value methods of generics that have
# methods for basic vector classes, so that those never win.)
setClass("rj_array", contains = c("rj_value", "logical"), representation(ptr = "externalptr", device = "character"))
setClass("rj_tracer", contains = c("rj_value", "logical"),
         representation(graph = "externalptr", id = "integer", level = "integer"))

#' Device arrays
#'
#' `rj_array()` copies R data into a native buffer with a fixed dtype. Values
#' stay there between calls of jitted functions, and the same R verbs that
#' work on base matrices work on them, op by op ("eager" mode).
#'
#' Dtypes follow R: doubles become `"f64"`, integers `"i32"`, logicals
#' `"bool"`; `"f32"` halves memory and doubles speed where precision allows.
#' Plain R numbers combined with an `"f32"` array stay `"f32"` (they are
#' *weakly typed*); two arrays of different float dtypes are never promoted
#' silently: convert one with [as_dtype()].
#'
#' `NA` in double data becomes `NaN` (there is no separate NA payload in
#' native floats); `NA` in integer or logical data is an error.
#'
#' Shapes are R's dims (column-major). A length-1 vector becomes a scalar
#' (rank 0), a vector without `dim` a rank-1 array.
#'
#' @param x A numeric, integer or logical vector, matrix or array (or a
#'   numeric data frame), or an `rj_array`.
#' @param dtype `NULL` (from R's type) or one of `"f64"`, `"f32"`, `"i32"`,
#'   `"bool"`.
#' @param device `"cpu"`; `"cuda"` gives an `rjax_device_error` saying what
#'   is missing without a GPU (see [rj_to_device()]).
#' @return An `rj_array`.
#' @examples
#' x <- rj_array(matrix(1:6 / 2, 2), dtype = "f32")
#' x
#' dtype(x); dim(x)
#' as.matrix(exp(x) * 2)
#' @export
rj_array <- function(x, dtype = NULL, device = "cpu") {
  if (!identical(device, "cpu")) return(rj_to_device(rj_array(x, dtype), device))  # R/device.R
  if (is.data.frame(x)) x <- as.matrix(x)
  if (is_rj_tracer(x)) {
    return(if (is.null(dtype)) x else as_dtype(x, dtype))
  }
  .Call(C_rjc_array, x, dtype)
}

#' @rdname rj_array
#' @param x An `rj_array` (or a traced value inside [jit()]).
#' @export
as_dtype <- function(x, dtype) {
  if (is_rj_tracer(x)) return(rj_bind("convert", list(x), list(dtype = dtype)))
  .Call(C_rjc_array, x, dtype)
}

#' @rdname rj_array
#' @export
is_rj_array <- function(x) isS4(x) && identical(class(x)[[1L]], "rj_array")

# rj_array and rj_tracer have no subclasses, so the class attribute decides
# (methods::is() costs microseconds on every verb and jit call).
is_rj_tracer <- function(x) isS4(x) && identical(class(x)[[1L]], "rj_tracer")
is_rj_value <- function(x) isS4(x) && class(x)[[1L]] %in% c("rj_array", "rj_tracer")

#' The dtype and device of an array
#'
#' @param x An `rj_array`, a traced value, or R data.
#' @return A string: `"f64"`, `"f32"`, `"i32"` or `"bool"`; `"cpu"`.
#' @examples
#' dtype(rj_array(1:3)); dtype(2.5); device(rj_array(1))
#' @export
dtype <- function(x) {
  if (is_rj_value(x)) return(x@dtype)
  switch(typeof(x), double = "f64", integer = "i32", logical = "bool",
         rj_abort("type", sprintf("%s data has no rjax dtype", typeof(x))))
}

#' @rdname dtype
#' @export
device <- function(x) {
  if (is_rj_array(x)) return(x@device)
  if (is_rj_tracer(x)) return("traced")
  "R"
}

# Values of a concrete array as an R vector (dims attached when rank >= 2).
rj_values <- function(x) {
  if (is_rj_tracer(x)) rj_concretization_error(x, "convert a traced value to R data")
  .Call(C_rjc_array_values, x)
}

rj_dims <- function(x) if (length(x@shape) >= 2L) x@shape else NULL

#' Convert arrays back to R
#'
#' `as.array()`, `as.matrix()`, `as.vector()`, `as.numeric()`,
#' `as.integer()` and `as.logical()` copy an `rj_array`'s values into R.
#' Inside a traced function the values are unknown: `as.vector()`,
#' `as.numeric()` and `as.logical()` then reshape or convert the traced
#' value instead, and `as.array()`/`as.matrix()` keep it traced.
#' @param x An `rj_array`.
#' @param ... Unused.
#' @name rj_array-conversion
#' @return R data.
#' @examples
#' x <- rj_array(matrix(1:4, 2))
#' as.matrix(x); as.vector(x)
NULL

#' @rdname rj_array-conversion
#' @export
as.array.rj_value <- function(x, ...) {
  if (is_rj_tracer(x)) return(x)
  v <- rj_values(x)
  if (is.null(dim(v))) dim(v) <- length(v)
  v
}

#' @rdname rj_array-conversion
#' @export
as.matrix.rj_value <- function(x, ...) {
  if (is_rj_tracer(x)) {
    if (length(x@shape) == 2L) return(x)
    return(rj_reshape(x, c(length(x), 1L)))
  }
  v <- rj_values(x)
  if (length(dim(v)) != 2L) dim(v) <- c(length(v), 1L)
  v
}

#' @rdname rj_array-conversion
#' @param mode As for [base::as.vector()].
#' @export
setMethod("as.vector", "rj_value", function(x, mode = "any") {
  if (is_rj_tracer(x)) {
    v <- rj_reshape(x, length(x))
    if (mode %in% c("numeric", "double") && !x@dtype %in% c("f32", "f64")) v <- as_dtype(v, "f64")
    if (mode == "logical") v <- as_dtype(v, "bool")
    if (mode == "integer") v <- as_dtype(v, "i32")
    return(v)
  }
  as.vector(rj_values(x), mode)
})

#' @rdname rj_array-conversion
#' @export
setMethod("as.numeric", "rj_value", function(x, ...) as.vector(x, "numeric"))
#' @rdname rj_array-conversion
#' @export
setMethod("as.integer", "rj_value", function(x, ...) as.vector(x, "integer"))
#' @rdname rj_array-conversion
#' @export
setMethod("as.logical", "rj_value", function(x, ...) as.vector(x, "logical"))

#' @rdname rj_array-conversion
#' @export
setMethod("dim", "rj_value", function(x) rj_dims(x))
#' @rdname rj_array-conversion
#' @export
setMethod("length", "rj_value", function(x) as.integer(prod(x@shape)))
#' @rdname rj_array-conversion
#' @export
setMethod("is.numeric", "rj_value", function(x) x@dtype %in% c("f32", "f64", "i32"))

#' @export
format.rj_value <- function(x, ...) {
  sprintf("<%s %s[%s]%s>", if (is_rj_tracer(x)) "traced" else "rj_array", x@dtype,
          paste(x@shape, collapse = ","), if (is_rj_array(x)) paste0(" ", x@device) else "")
}

#' @export
print.rj_value <- function(x, ...) {
  cat(format(x), "\n", sep = "")
  if (is_rj_array(x)) {
    v <- rj_values(x)
    if (length(x@shape) == 1L && length(v) == 0L) cat("<empty>\n") else print(v, ...)
  }
  invisible(x)
}

setMethod("show", "rj_value", function(object) print.rj_value(object))

#' @export
summary.rj_value <- function(object, ...) {
  if (is_rj_tracer(object)) rj_unsupported("summary()", "summary() builds a printed table; use quantile(), mean() or range(), which trace.")
  summary(as.vector(rj_values(object)), ...)
}

#' @rdname rj_array-conversion
#' @param target,current As in [base::all.equal()]: either may be an
#'   `rj_array` (compared by its values as R data).
#' @method all.equal rj_value
#' @export
all.equal.rj_value <- function(target, current, ...) {
  if (is_rj_tracer(target) || is_rj_tracer(current)) {
    rj_concretization_error(if (is_rj_tracer(target)) target else current, "compare a traced value with all.equal()")
  }
  as_r_value <- function(v) if (is_rj_array(v)) rj_values(v) else v
  all.equal(as_r_value(target), as_r_value(current), ...)
}
