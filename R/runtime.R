# The native runtime as R sees it: threads, memory, interrupts, fork.

#' Threads, memory, interrupts and fork in rjax's native runtime
#'
#' @description
#' **Threads.** All parallel work of compiled programs and eager operations
#' runs on one pool of worker threads. Its size is the one setting
#' `options(rjax.threads = n)` (a positive whole number; `NULL` restores the
#' default), applied at the next rjax call; the default is the environment
#' variable `RJAX_NUM_THREADS` when it is a positive whole number, else the
#' number of CPUs the R process may run on. `rjax_threads()` reports (and
#' sets) it. Small work (below about 1e5 elements) always runs on the
#' calling thread; idle workers sleep, and stop spinning at once when the
#' machine is busy with other processes. If threads cannot be created (a
#' process or memory limit) rjax runs with the threads it got, down to
#' none, and warns with class `rjax_threads_warning`.
#'
#' **Fork.** In a child of `fork()` (`parallel::mclapply()`, `mcparallel()`)
#' rjax runs single-threaded by default, so that children do not
#' oversubscribe the cores the parent spread them over; set
#' `options(rjax.threads)` inside the child to use more. The parent's pool
#' keeps working.
#'
#' **Interrupts.** Compiled loops ([scan_loop()], [fori_loop()], [while_loop()])
#' and long kernels check for a user interrupt (Ctrl-C, `SIGINT`) a few
#' dozen times per second: the computation stops, its memory is freed, and
#' R's interrupt condition is raised (catch it with
#' `tryCatch(..., interrupt = )`). The jitted function stays usable.
#'
#' **Memory.** rjax arrays live in native memory, which R's garbage
#' collector would not see. rjax tells it: an array of 1 MB or more is
#' counted by R as a vector of its size (an untouched placeholder that costs
#' address space, not memory: `gc()` includes it and `mem.maxVSize()` limits
#' it), smaller arrays are counted in batches of 64 MB, and native memory
#' held by compiled programs is watched by a safety net that runs R's
#' collector when native memory exceeds twice (and at least 512 MB more
#' than) what survived the last such collection. So unreferenced arrays
#' are freed in loops as R vectors would be. Freed blocks of 64 KiB or more
#' are kept for reuse (a compiled loop allocates the same sizes again), up
#' to 128 MB in all; `rjax_memory(release = TRUE)` gives them back at once.
#' Blocks of 4 MB or more use transparent huge pages where the system
#' allows. An array larger than the machine's memory is refused before
#' allocation with an error of class `rjax_memory_error`. Compiled kernels
#' are freed with the last compiled program that uses them, and a compiled
#' program holds no memory for its intermediate values between calls.
#'
#' rjax objects cannot be saved: after `saveRDS()`/`readRDS()`,
#' `serialize()`, or transfer to a socket-cluster worker they have no
#' native data, and using them is an error of class
#' `rjax_serialization_error`. Convert arrays with [as.array()] first.
#'
#' @param n A positive whole number of threads (the caller included), or
#'   `NULL` for the default. Missing: only report.
#' @return `rjax_threads()`: the number of threads the pool has (invisibly
#'   when setting).
#' @examples
#' rjax_threads()
#' old <- options(rjax.threads = 1)
#' rjax_threads()
#' options(old)
#' rjax_memory()
#' @name rjax-runtime
#' @aliases rjax_runtime
NULL

#' @rdname rjax-runtime
#' @export
rjax_threads <- function(n) {
  if (!missing(n)) {
    if (!is.null(n) && (!is.numeric(n) || length(n) != 1L || is.na(n) || n < 1 || n != round(n))) {
      rj_abort("type", "rjax_threads(n): n must be a positive whole number, or NULL for the default")
    }
    options(rjax.threads = n)
    return(invisible(runtime_info()[["threads"]]))
  }
  runtime_info()[["threads"]]
}

runtime_info <- function() .Call(C_rjc_runtime_info)

#' @rdname rjax-runtime
#' @param release If `TRUE`, first give the memory kept for reuse back to
#'   the system.
#' @return `rjax_memory()`: an object of class `rjax_memory`, a list with
#'   `live` (bytes in native buffers now), `peak`, `kept` (freed blocks kept
#'   for reuse), `kept_max`, `gc_mark` (live bytes that trigger R's
#'   collector next), `machine` (physical memory) and `kernel_modules`
#'   (compiled kernel modules in memory).
#' @export
rjax_memory <- function(release = FALSE) {
  if (isTRUE(release)) .Call(C_rjc_release_memory)
  i <- runtime_info()
  structure(list(live = i[["live_bytes"]], peak = i[["peak_bytes"]], kept = i[["pooled_bytes"]],
                 kept_max = i[["pool_cap"]], gc_mark = i[["gc_mark"]], machine = i[["machine_bytes"]],
                 kernel_modules = i[["kernel_modules"]]),
            class = "rjax_memory")
}

#' @export
format.rjax_memory <- function(x, ...) {
  mb <- function(b) sprintf("%.1f MB", b / 2^20)
  c(sprintf("native arrays: %s live (peak %s)", mb(x$live), mb(x$peak)),
    sprintf("kept for reuse: %s (at most %s)", mb(x$kept), mb(x$kept_max)),
    sprintf("R's collector runs when live native memory reaches %s", mb(x$gc_mark)),
    sprintf("compiled kernel modules: %d; machine memory: %s", as.integer(x$kernel_modules), mb(x$machine)))
}

#' @export
print.rjax_memory <- function(x, ...) {
  cli::cat_line("<rjax memory>")
  cli::cat_line(paste0("  ", format(x)))
  invisible(x)
}
