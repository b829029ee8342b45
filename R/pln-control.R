# pln_control(): the options of pln_fit() and pln_pca(), validated once
# with messages that say which option is wrong and what it must be.

pln_bad_control <- function(name, must, value) {
  shown <- if (is.null(value)) "NULL" else paste(utils::capture.output(utils::str(value, give.head = FALSE)), collapse = " ")
  rj_abort("pln_control", sprintf("pln_control(): `%s` must be %s, not %s.", name, must, trimws(shown)))
}

pln_check_count_arg <- function(x, name, min = 1) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || x < min || x != round(x) || !is.finite(x)) {
    pln_bad_control(name, sprintf("a whole number >= %d", min), x)
  }
  as.integer(x)
}

pln_check_positive <- function(x, name, allow_zero = FALSE) {
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) && is.finite(x) && (x > 0 || (allow_zero && x == 0))
  if (!ok) pln_bad_control(name, if (allow_zero) "a finite number >= 0" else "a finite number > 0", x)
  as.numeric(x)
}

pln_check_flag <- function(x, name) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) pln_bad_control(name, "TRUE or FALSE", x)
  x
}

pln_check_choice <- function(x, name, choices) {
  if (!is.character(x) || length(x) < 1L || is.na(x[[1L]]) || !(x[[1L]] %in% choices)) {
    pln_bad_control(name, paste0("one of ", paste0('"', choices, '"', collapse = ", ")), x)
  }
  x[[1L]]
}

#' Control of a PLN fit
#'
#' Options of [pln_fit()] and [pln_pca()]. Every option is checked here, so
#' a wrong value is reported before any work is done. A plain list, such as
#' `control = list(max_iter = 50)`, is accepted by the fitting functions and
#' completed with these defaults.
#'
#' **Convergence.** The fit stops at the first iteration whose relative
#' change of the ELBO, `|ELBO_k - ELBO_(k-1)| / |ELBO_k|`, is below
#' `ftol_rel` (PLNmodels' criterion of the same name; by default, as in
#' PLNmodels, `1e-6` when `n < 1.5 p` and `1e-8` otherwise). When `max_iter`
#' iterations run first, the fit is returned with `converged = FALSE` and a
#' warning of class `rjax_pln_not_converged_warning`.
#'
#' **Algorithms.** `"vem"` (default): variational EM, with `B` and `Sigma`
#' in closed form and one Newton step per variational parameter, accelerated
#' by SQUAREM; one iteration is one SQUAREM cycle (three EM steps).
#' `"radam"`: the first-order optimiser of the JAX tutorial (RAdam on the
#' variational parameters, `B` and `Sigma` in closed form after every step;
#' one iteration is one optimiser step), with learning rate `lr`.
#'
#' @param covariance Covariance model of the latent layer: `"full"`,
#'   `"diagonal"` or `"spherical"`.
#' @param algorithm `"vem"` or `"radam"` (see Details).
#' @param max_iter Maximum number of iterations.
#' @param ftol_rel Stop when the relative change of the ELBO over one
#'   iteration is below this (`NULL`: `1e-6` if `n < 1.5 p`, else `1e-8`).
#' @param lr Learning rate (`algorithm = "radam"` only).
#' @param optimizer `"radam"` or `"adam"`, or an `rjax_optimizer` object
#'   (`algorithm = "radam"` only).
#' @param clip Largest absolute update per element (`NULL`: no clipping;
#'   `algorithm = "radam"` only).
#' @param dtype `"f64"` or `"f32"`.
#' @param backend Backend for the compiled iterations (`"llvm"` or
#'   `"interp"`).
#' @param chunk Iterations per compiled call (convergence is checked after
#'   each call, on every iteration of it).
#' @param trace Keep the ELBO of every iteration.
#' @param progress Show a progress bar.
#' @param distributed Fit over the ranks of an MPI job (`mpirun -np K
#'   Rscript fit.R`): the data given to [pln_fit()] on each rank are that
#'   rank's samples (rows), and the statistics that sum over samples are
#'   all-reduced (see [pln_fit_distributed()]). Without `mpirun` the fit is
#'   the single-process fit.
#' @param tol Deprecated name of `ftol_rel`.
#' @return A list of class `pln_control`.
#' @examples
#' pln_control(max_iter = 200)
#' pln_control(covariance = "diagonal", ftol_rel = 1e-6)
#' try(pln_control(max_iter = 0))
#' @export
pln_control <- function(covariance = c("full", "diagonal", "spherical"), algorithm = c("vem", "radam"),
                        max_iter = 1000L, ftol_rel = NULL, lr = 0.1, optimizer = "radam", clip = NULL,
                        dtype = c("f64", "f32"), backend = getOption("rjax.backend", "llvm"),
                        chunk = 10L, trace = TRUE, progress = interactive(), distributed = FALSE, tol = NULL) {
  covariance <- pln_check_choice(covariance, "covariance", c("full", "diagonal", "spherical"))
  algorithm <- pln_check_choice(algorithm, "algorithm", c("vem", "radam"))
  if (!is.null(tol)) ftol_rel <- tol
  if (!inherits(optimizer, "rjax_optimizer")) optimizer <- pln_check_choice(optimizer, "optimizer", c("radam", "adam"))
  if (!is.null(clip)) clip <- pln_check_positive(clip, "clip")
  structure(list(
    covariance = covariance, algorithm = algorithm,
    max_iter = pln_check_count_arg(max_iter, "max_iter"),
    ftol_rel = if (is.null(ftol_rel)) NULL else pln_check_positive(ftol_rel, "ftol_rel", allow_zero = TRUE),
    lr = pln_check_positive(lr, "lr"), optimizer = optimizer, clip = clip,
    dtype = pln_check_choice(dtype, "dtype", c("f64", "f32")),
    backend = pln_check_choice(backend, "backend", c("llvm", "interp")),
    chunk = pln_check_count_arg(chunk, "chunk"),
    trace = pln_check_flag(trace, "trace"), progress = pln_check_flag(progress, "progress"),
    distributed = pln_check_flag(distributed, "distributed")
  ), class = "pln_control")
}

# control = list(...) or a pln_control object -> a validated pln_control.
as_pln_control <- function(control) {
  if (inherits(control, "pln_control")) return(control)
  if (is.null(control)) return(pln_control())
  if (!is.list(control) || (length(control) && is.null(names(control))) || any(names(control) == "")) {
    rj_abort("pln_control", "`control` must be pln_control(...) or a named list of its options, such as list(max_iter = 50).")
  }
  unknown <- setdiff(names(control), names(formals(pln_control)))
  if (length(unknown)) {
    rj_abort("pln_control", sprintf("`control` has unknown option%s %s; the options are those of pln_control(): %s.",
                                     if (length(unknown) > 1L) "s" else "", paste0("`", unknown, "`", collapse = ", "),
                                     paste(names(formals(pln_control)), collapse = ", ")))
  }
  do.call(pln_control, control)
}

#' @rdname pln_control
#' @param x A `pln_control` object.
#' @param ... Unused.
#' @export
print.pln_control <- function(x, ...) {
  cli::cat_line("<pln_control>")
  cli::cat_line(sprintf("  covariance %s, algorithm %s, dtype %s, backend %s", x$covariance, x$algorithm, x$dtype, x$backend))
  ftol <- if (is.null(x$ftol_rel)) "1e-6 if n < 1.5 p, else 1e-8" else format(x$ftol_rel)
  cli::cat_line(sprintf("  stop: relative ELBO change < ftol_rel = %s, or max_iter = %d iterations (checked every iteration, compiled in chunks of %d)",
                        ftol, x$max_iter, x$chunk))
  if (x$algorithm == "radam") {
    opt <- if (inherits(x$optimizer, "rjax_optimizer")) "custom optimizer" else x$optimizer
    cli::cat_line(sprintf("  optimizer %s, lr %g%s", opt, x$lr, if (is.null(x$clip)) "" else sprintf(", clip %g", x$clip)))
  }
  if (isTRUE(x$distributed)) cli::cat_line("  distributed over the ranks of the MPI job (each rank passes its samples)")
  invisible(x)
}

# The stopping tolerance for an n x p problem (PLNmodels' default rule).
pln_ftol <- function(control, n, p) {
  if (is.null(control$ftol_rel)) control$ftol_rel <- if (n < 1.5 * p) 1e-6 else 1e-8
  control
}
