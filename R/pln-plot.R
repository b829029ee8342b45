# Plots of PLN fits (base graphics): the ELBO trajectory on a log scale of
# the distance to its final value, and the latent correlation matrix in
# hierarchical-clustering order with species labels and a colour key.

#' Plot a PLN fit
#'
#' `type = "elbo"`: the ELBO trajectory, drawn as the distance to the final
#' ELBO on a log scale, so that the end of the fit is visible (on the raw
#' scale it is flattened by the first iterations). `type = "correlation"`:
#' the latent correlation matrix `cov2cor(Sigma)`, species ordered by
#' hierarchical clustering (average linkage on `1 - correlation`), with
#' species labels (every k-th when there are many) and a colour key.
#' @param x A `pln_fit`.
#' @param type `"elbo"` or `"correlation"`.
#' @param max_labels Largest number of species labels drawn on each axis.
#' @param order For `"correlation"`: `"hclust"` or `"none"` (the data order).
#' @param ... Passed to the main plotting call.
#' @return `x`, invisibly.
#' @examples
#' sim <- pln_simulate(80, 12, seed = 1)
#' fit <- pln_fit(sim$Y, O = sim$O)
#' plot(fit)
#' plot(fit, type = "correlation")
#' @export
plot.pln_fit <- function(x, type = c("elbo", "correlation"), max_labels = 40L, order = c("hclust", "none"), ...) {
  type <- match.arg(type)
  if (type == "elbo") pln_plot_elbo(x$elbo, x$converged, ...) else pln_plot_correlation(x$Sigma, max_labels, match.arg(order), ...)
  invisible(x)
}

pln_plot_elbo <- function(elbo, converged, main = "ELBO trajectory", ...) {
  final <- elbo[[length(elbo)]]
  gap <- final - elbo
  keep <- gap > 0
  if (!any(keep)) {
    graphics::plot(seq_along(elbo), elbo, type = "l", xlab = "iteration", ylab = "ELBO", main = main, ...)
    return(invisible())
  }
  it <- seq_along(elbo)
  graphics::plot(it[keep], gap[keep], log = "y", type = "l", lwd = 2, col = "#2166AC", xlab = "iteration",
                 ylab = "final ELBO - ELBO (log scale)", main = main, ...)
  graphics::mtext(sprintf("final ELBO %.2f after %d iterations (%s)", final, length(elbo),
                          if (isTRUE(converged)) "converged" else "not converged"), side = 3, line = 0.3, cex = 0.8)
  graphics::abline(h = 10^seq(-8, 8), col = "grey90", lty = 3)
}

pln_cor_order <- function(r, order) {
  if (order == "none" || ncol(r) < 3L) return(seq_len(ncol(r)))
  stats::hclust(stats::as.dist(1 - r), method = "average")$order
}

pln_plot_correlation <- function(Sigma, max_labels = 40L, order = "hclust", main = "Latent correlations", ...) {
  r <- stats::cov2cor(Sigma)
  p <- ncol(r)
  o <- pln_cor_order(r, order)
  r <- r[o, o, drop = FALSE]
  labs <- colnames(r) %||% as.character(o)
  step <- max(1L, ceiling(p / max_labels))
  at <- seq(1L, p, by = step)
  cols <- grDevices::hcl.colors(101, "Blue-Red 3")
  op <- graphics::par(no.readonly = TRUE)
  on.exit(graphics::par(op))
  graphics::layout(matrix(1:2, 1), widths = c(6, 1))
  cex <- max(0.35, min(0.9, 25 / length(at)))
  graphics::par(mar = c(6, 6, 3, 1))
  graphics::image(seq_len(p), seq_len(p), r[, rev(seq_len(p)), drop = FALSE], zlim = c(-1, 1), col = cols,
                  axes = FALSE, xlab = "", ylab = "", main = main, ...)
  graphics::axis(1, at = at, labels = labs[at], las = 2, cex.axis = cex, tick = FALSE, line = -0.5)
  graphics::axis(2, at = p + 1L - at, labels = labs[at], las = 1, cex.axis = cex, tick = FALSE, line = -0.5)
  graphics::box()
  if (step > 1L) graphics::mtext(sprintf("every %d-th species labelled; order: %s", step, order), side = 3, line = 0.3, cex = 0.7)
  graphics::par(mar = c(6, 1, 3, 3.5))
  graphics::image(1, seq(-1, 1, length.out = 101), matrix(seq(-1, 1, length.out = 101), 1), col = cols,
                  axes = FALSE, xlab = "", ylab = "")
  graphics::axis(4, at = seq(-1, 1, 0.5), las = 1, cex.axis = 0.8)
  graphics::mtext("correlation", side = 3, line = 0.5, cex = 0.8)
  graphics::box()
  invisible(o)
}
