# Devices: the CPU and NVIDIA GPUs (src/backend/cuda/). The CUDA libraries
# are opened at run time, so none of this needs CUDA to build or load;
# asking for "cuda" where the driver, the toolkit's NVRTC or a GPU is
# missing is an rjax_device_error that says which.

# The GPUs as rows of rj_devices() (R/transforms.R): id, platform "cuda",
# kind (the GPU's name and architecture), threads NA, memory in bytes.
rj_cuda_device_rows <- function(info = .Call(C_rjc_cuda_info)) {
  n <- length(info$names)
  data.frame(id = seq_len(n) - 1L, platform = rep("cuda", n),
             kind = if (n) paste0(info$names, " (", info$arch, ")") else character(),
             threads = rep(NA_integer_, n), memory = as.numeric(info$memory), stringsAsFactors = FALSE)
}

#' Is a CUDA GPU usable?
#'
#' `TRUE` when the CUDA driver, NVRTC and at least one GPU are present, so
#' that `jit(f, backend = "cuda")` can compile.
#'
#' Programs run on one GPU per process: the one numbered by the environment
#' variable `RJAX_CUDA_DEVICE` when set, else, in an MPI job, the process's
#' rank on its node modulo the node's GPUs (one GPU per rank, as NCCL
#' needs, see [rj_nccl_info()]), else GPU 0.
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

# Waits for the GPU's queued work (block_until_ready(), R/transforms.R);
# nothing to do without one.
rj_device_sync <- function() invisible(.Call(C_rjc_cuda_sync))

# The one device of a call's array arguments: mixing devices is an error.
rj_common_device <- function(leaves) {
  dev <- NULL
  for (a in leaves) {
    if (!is_rj_array(a)) next
    if (is.null(dev)) dev <- a@device
    else if (!identical(dev, a@device)) {
      rj_abort("device", sprintf(
        "arguments live on different devices (%s and %s): move them to one with rj_to_device() first",
        dev, a@device))
    }
  }
  if (is.null(dev)) "cpu" else dev
}
