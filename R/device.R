# Devices: the CPU and NVIDIA GPUs (src/backend/cuda/). The CUDA libraries
# are opened at run time, so none of this needs CUDA to build or load;
# asking for "cuda" where the driver, the toolkit's NVRTC or a GPU is
# missing is an rjax_device_error that says which.

#' Devices rjax can run on
#'
#' Lists the CPU and the NVIDIA GPUs the CUDA driver reports, with their
#' names, memory and architectures. No CUDA installation is needed to call
#' it: without a driver or a GPU the list holds the CPU only, and the
#' `cuda` attribute says what was looked for and found (the driver, the
#' runtime compiler NVRTC, cuBLAS and cuSOLVER).
#'
#' @return A data frame with one row per device: `device` (`"cpu"`,
#'   `"cuda:0"`, ...), `kind`, `name`, `memory_gb` and `arch` (`"sm_90"`
#'   for an H100 or H200; `NA` for the CPU). Attribute `cuda`: one line per
#'   CUDA library.
#' @seealso [rj_to_device()], [block_until_ready()].
#' @examples
#' d <- rj_devices()
#' d
#' cat(attr(d, "cuda"))
#' @export
rj_devices <- function() {
  info <- .Call(C_rjc_cuda_info)
  n <- length(info$names)
  d <- data.frame(
    device = c("cpu", if (n) paste0("cuda:", seq_len(n) - 1L)),
    kind = c("cpu", rep("cuda", n)),
    name = c(sprintf("host CPU (%d threads)", as.integer(runtime_info()[["threads"]])), info$names),
    memory_gb = c(NA_real_, round(info$memory / 2^30, 1)),
    arch = c(NA_character_, info$arch),
    stringsAsFactors = FALSE
  )
  attr(d, "cuda") <- info$libraries
  d
}

#' Is a CUDA GPU usable?
#'
#' `TRUE` when the CUDA driver, NVRTC and at least one GPU are present, so
#' that `jit(f, backend = "cuda")` can compile.
#' @return `TRUE` or `FALSE`.
#' @examples
#' rj_cuda_available()
#' @export
rj_cuda_available <- function() {
  info <- .Call(C_rjc_cuda_info)
  isTRUE(info$driver) && isTRUE(info$nvrtc) && length(info$names) > 0L
}

# The canonical device name ("cpu" or "cuda"), or a classed error naming
# what is missing when the device cannot be used here.
rj_check_device <- function(device) {
  if (!is.character(device) || length(device) != 1L || is.na(device)) {
    rj_abort("device", "device must be a single string: \"cpu\" or \"cuda\"")
  }
  dev <- sub(":0$", "", device)
  if (dev == "cpu") return("cpu")
  if (dev != "cuda") {
    rj_abort("device", sprintf("unknown device '%s': rjax runs on \"cpu\" and \"cuda\" (see rj_devices())", device))
  }
  .Call(C_rjc_cuda_require)  # rjax_device_error: driver, NVRTC or GPU missing
  "cuda"
}

#' Move an array to a device
#'
#' `rj_to_device(x, "cpu")` makes `x` an `rj_array` on the CPU.
#' `rj_to_device(x, "cuda")` first checks that a GPU can be used and
#' otherwise raises an `rjax_device_error` saying what is missing (the
#' CUDA driver, NVRTC, or a GPU). In this version arrays live on the CPU:
#' programs compiled with `jit(f, backend = "cuda")` copy their arguments
#' to the GPU and their results back at each call, so a device-resident
#' `rj_array` is not available yet, and asking for one on a machine with a
#' GPU is an `rjax_unsupported_error` that says so.
#' @param x An `rj_array` or R data.
#' @param device `"cpu"` or `"cuda"`.
#' @return An `rj_array`.
#' @examples
#' x <- rj_to_device(c(1, 2, 3), "cpu")
#' device(x)
#' try(rj_to_device(x, "cuda"))  # an error saying what is missing, without a GPU
#' @export
rj_to_device <- function(x, device) {
  dev <- rj_check_device(device)
  if (dev == "cpu") {
    if (is_rj_array(x) && identical(x@device, "cpu")) return(x)
    return(rj_array(if (is_rj_array(x)) rj_values(x) else x, dtype = dtype(x)))
  }
  rj_abort("unsupported", paste(
    "device-resident arrays are not in this version of rjax;",
    "compile with jit(f, backend = \"cuda\"): its calls copy arguments to the GPU and results back."))
}

#' Wait until results are computed
#'
#' As JAX's `block_until_ready()`: returns its argument once every
#' computation it depends on has finished. rjax's CPU backends finish
#' before a call returns, and its CUDA programs wait for the GPU before
#' they return their results, so this only synchronises the GPU when one
#' is in use; it is cheap to call anywhere (for example before reading a
#' timer).
#' @param x Any value (an `rj_array`, a list of them, R data).
#' @return `x`, invisibly.
#' @examples
#' y <- block_until_ready(jit(function(x) x * 2)(c(1, 2)))
#' y
#' @export
block_until_ready <- function(x) {
  .Call(C_rjc_cuda_sync)
  invisible(x)
}

# The one device of a call's array arguments: mixing devices is an error.
rj_common_device <- function(leaves) {
  devs <- unique(unlist(lapply(leaves, function(a) if (is_rj_array(a)) a@device), use.names = FALSE))
  if (length(devs) > 1L) {
    rj_abort("device", sprintf(
      "arguments live on different devices (%s): move them to one with rj_to_device() first",
      paste(devs, collapse = ", ")))
  }
  if (length(devs)) devs else "cpu"
}
