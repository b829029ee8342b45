# Classed conditions. Every error rjax raises inherits from "rjax_error"
# and from a specific class "rjax_<kind>_error" (shape, dtype, type, na,
# index, concretization, grad, unsupported, singular, not_pd, backend, ...).

rj_condition <- function(kind, message, call = NULL, data = list()) {
  # A device that cannot be used (no CUDA driver, toolkit or GPU) is also a
  # backend error: code that handles an unavailable backend handles it too.
  parents <- if (identical(kind, "device")) "rjax_backend_error"
  structure(
    class = c(paste0("rjax_", kind, "_error"), parents, "rjax_error", "error", "condition"),
    c(list(message = message, call = call), data)
  )
}

# Called from C++ (after unwinding) and from R code.
rj_abort <- function(kind, message, call = NULL, data = list()) {
  stop(rj_condition(kind, message, call, data))
}

# An R function that rjax cannot trace; names it and says what to do.
rj_unsupported <- function(what, hint = NULL) {
  msg <- sprintf("'%s' is not supported on rjax arrays (inside jit() or on rj_array values).", what)
  if (!is.null(hint)) msg <- paste(msg, hint)
  rj_abort("unsupported", msg)
}

# A classed warning: "rjax_<kind>_warning", "rjax_warning" (pln: not converged).
rj_warn <- function(kind, message, call = NULL, data = list()) {
  warning(structure(
    class = c(paste0("rjax_", kind, "_warning"), "rjax_warning", "warning", "condition"),
    c(list(message = message, call = call), data)
  ))
}
