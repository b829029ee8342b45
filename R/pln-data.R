# Data for PLN models: pln_data() and compute_offset() as PLNmodels'
# prepare_data() and compute_offset(), and the validation that pln_fit()
# and pln_pca() run once, up front, with messages that name the problem.

pln_where <- function(m, bad) {
  ij <- which(bad, arr.ind = TRUE)[1L, ]
  rn <- rownames(m)[[ij[[1L]]]] %||% ij[[1L]]
  cn <- colnames(m)[[ij[[2L]]]] %||% ij[[2L]]
  sprintf("%d value%s, the first at row %s, column %s", sum(bad), if (sum(bad) > 1L) "s" else "", rn, cn)
}

pln_data_error <- function(fmt, ...) rj_abort("pln_data", sprintf(fmt, ...))

# counts -> a numeric matrix, or a classed error saying what is wrong.
pln_check_counts <- function(Y, what = "counts") {
  # Sparse Matrix objects are accepted (densified: the ELBO's exp() term is
  # dense anyway, so a sparse Y would save only one n x p matrix).
  if (inherits(Y, "Matrix") && requireNamespace("Matrix", quietly = TRUE)) Y <- as.matrix(Y)
  if (is.data.frame(Y)) Y <- as.matrix(Y)
  if (is.null(dim(Y))) {
    pln_data_error("%s must be a matrix with one column per species (a PLN model needs at least two species), not a vector of length %d.",
                   what, length(Y))
  }
  if (!is.numeric(Y) && !is.logical(Y)) pln_data_error("%s must be numeric counts, not %s.", what, typeof(Y))
  storage.mode(Y) <- "double"
  if (nrow(Y) == 0L || ncol(Y) == 0L) pln_data_error("%s has %d rows and %d columns: a PLN model needs samples (rows) and species (columns).", what, nrow(Y), ncol(Y))
  if (ncol(Y) < 2L) pln_data_error("%s has a single column: a PLN model needs at least two species (columns), as it models their covariance.", what)
  if (anyNA(Y)) pln_data_error("%s contain NA: %s. Remove or impute those samples (PLN counts cannot be missing).", what, pln_where(Y, is.na(Y)))
  if (any(is.infinite(Y))) pln_data_error("%s contain infinite values: %s.", what, pln_where(Y, is.infinite(Y)))
  if (any(Y < 0)) pln_data_error("%s contain negative values: %s. Counts must be >= 0.", what, pln_where(Y, Y < 0))
  if (any(Y != round(Y))) {
    pln_data_error("%s contain non-integer values: %s. Non-integer counts are not allowed (the model is Poisson); round them if they are counts.",
                   what, pln_where(Y, Y != round(Y)))
  }
  Y
}

# The model-level checks: all-zero species cannot be fitted (their latent
# mean goes to -Inf).
pln_check_species <- function(Y, ev = pln_eager_reducers(FALSE)) {
  zero <- which(ev$sum(colSums(Y)) == 0)
  if (length(zero)) {
    nm <- colnames(Y)[zero] %||% as.character(zero)
    pln_data_error("%d species (column%s %s) have only zero counts: their latent mean would be -Inf. Remove them, e.g. Y[, colSums(Y) > 0].",
                   length(zero), if (length(zero) > 1L) "s" else "", paste(utils::head(nm, 5L), collapse = ", "))
  }
  invisible(Y)
}

# In a distributed fit (`ev`) a rank's rows may miss a level: the rank is
# that of all samples (of the all-reduced X'X).
pln_check_design <- function(X, n, ev = pln_eager_reducers(FALSE)) {
  if (!is.numeric(X) || is.null(dim(X))) pln_data_error("the design matrix X must be a numeric matrix.")
  if (nrow(X) != n) pln_data_error("the design matrix X has %d rows but the counts have %d.", nrow(X), n)
  if (ncol(X) == 0L) pln_data_error("the design matrix has no columns: use ~ 1 for an intercept-only model.")
  if (anyNA(X) || any(!is.finite(X))) pln_data_error("the covariates contain NA or infinite values: %s.", pln_where(X, !is.finite(X)))
  qx <- if (ev$distributed) qr(ev$sum(crossprod(X))) else qr(X)
  if (qx$rank < ncol(X)) {
    pln_data_error("the design matrix is rank deficient (rank %d < %d columns; e.g. %s): drop aliased covariates.",
                   qx$rank, ncol(X), paste(colnames(X)[qx$pivot[-seq_len(qx$rank)]] %||% "a column", collapse = ", "))
  }
  X
}

# Offsets on the log scale: a number, a length-n vector or an n x p matrix.
pln_check_offset <- function(O, n, p) {
  if (is.null(O)) return(matrix(0, n, p))
  if (!is.numeric(O)) pln_data_error("the offsets must be numeric, not %s.", typeof(O))
  if (is.null(dim(O)) || ncol(O) == 1L) {
    if (!(length(O) %in% c(1L, n))) pln_data_error("the offsets have length %d: give a number, one per sample (%d) or an n x p matrix (%d x %d).", length(O), n, n, p)
    O <- matrix(as.vector(O), n, p)
  }
  if (!identical(dim(O), c(n, p))) pln_data_error("the offsets are %d x %d but the counts are %d x %d.", nrow(O), ncol(O), n, p)
  if (anyNA(O) || any(!is.finite(O))) {
    pln_data_error("the offsets (log scale) contain NA or infinite values: %s (a zero raw offset, such as an empty sample's total count, gives log(0) = -Inf).",
                   pln_where(O, !is.finite(O)))
  }
  O
}

pln_check_weights <- function(w, n) {
  if (is.null(w)) return(rep(1, n))
  if (!is.numeric(w) || length(w) != n || anyNA(w) || any(!is.finite(w)) || any(w <= 0)) {
    pln_data_error("weights must be %d positive finite numbers (one per sample).", n)
  }
  as.numeric(w)
}

#' Offsets for count data
#'
#' Normalisation offsets as in PLNmodels' `compute_offset()`, on the raw
#' (not log) scale, one per sample: `"TSS"` the total count of the sample;
#' `"CSS"` cumulative-sum scaling (sum of the counts up to the median of its
#' positive counts, divided by the median of those sums); `"RLE"` relative
#' log expression (median ratio to the species' geometric means over
#' positive counts); `"GMPR"` the geometric mean of pairwise median ratios;
#' `"none"`: all 1.
#'
#' @param counts An n x p matrix of counts.
#' @param offset One of `"TSS"`, `"CSS"`, `"RLE"`, `"GMPR"`, `"none"`.
#' @return A numeric vector of length n.
#' @examples
#' Y <- matrix(rpois(60, 5), 10)
#' compute_offset(Y, "TSS")
#' compute_offset(Y, "GMPR")
#' @export
compute_offset <- function(counts, offset = c("TSS", "CSS", "RLE", "GMPR", "none")) {
  offset <- match.arg(offset)
  Y <- pln_check_counts(counts)
  off <- switch(offset,
    TSS = rowSums(Y),
    CSS = {
      s <- apply(Y, 1L, function(y) {
        y <- y[y > 0]
        if (!length(y)) return(0)
        sum(y[y <= stats::quantile(y, 0.5, names = FALSE)])
      })
      s / stats::median(s[s > 0])
    },
    RLE = {
      L <- log(Y)
      L[!is.finite(L)] <- NA
      ref <- colMeans(L, na.rm = TRUE)
      apply(L, 1L, function(l) exp(stats::median(l - ref, na.rm = TRUE)))
    },
    GMPR = {
      n <- nrow(Y)
      r <- matrix(NA_real_, n, n)
      for (i in seq_len(n)) for (k in seq_len(n)) {
        both <- Y[i, ] > 0 & Y[k, ] > 0
        if (i != k && any(both)) r[i, k] <- stats::median(Y[i, both] / Y[k, both])
      }
      exp(rowMeans(log(r), na.rm = TRUE))
    },
    none = rep(1, nrow(Y))
  )
  if (offset != "none" && any(!is.finite(off) | off <= 0)) {
    bad <- which(!is.finite(off) | off <= 0)
    rj_warn("pln_offset", sprintf("compute_offset(\"%s\"): %d sample%s (e.g. row %d) get a zero or undefined offset (too few positive counts).",
                                  offset, length(bad), if (length(bad) > 1L) "s" else "", bad[[1L]]))
  }
  off
}

#' Build a PLN data set
#'
#' Puts counts, covariates and offsets into one data frame, as PLNmodels'
#' `prepare_data()` does: the counts are the matrix column `Abundance`, the
#' offsets (raw scale, to be used as `offset(log(Offset))`) the column
#' `Offset`, the covariates ordinary columns.
#' @param counts An n x p matrix of counts.
#' @param covariates A data frame with n rows (or `NULL`).
#' @param offset How to compute the offsets: `"TSS"` (default), `"CSS"`,
#'   `"RLE"`, `"GMPR"` or `"none"` (see [compute_offset()]), or the raw
#'   offsets themselves: a length-n vector or an n x p matrix (such as
#'   sequencing depths per sample and kingdom).
#' @return A data frame with columns `Abundance`, `Offset` and the covariates.
#' @examples
#' sim <- pln_simulate(30, 5)
#' d <- pln_data(sim$Y)                        # TSS offsets
#' d2 <- pln_data(sim$Y, offset = exp(sim$O))  # given offsets
#' str(d, max.level = 1)
#' @export
pln_data <- function(counts, covariates = NULL, offset = "TSS") {
  Y <- pln_check_counts(counts)
  n <- nrow(Y)
  if (is.character(offset)) {
    Off <- compute_offset(Y, offset)
  } else {
    Off <- if (is.data.frame(offset)) as.matrix(offset) else offset
    if (!is.numeric(Off)) pln_data_error("offset must be a method name or numeric raw offsets, not %s.", typeof(Off))
    if (is.null(dim(Off))) {
      if (length(Off) != n) pln_data_error("offset has length %d but counts have %d rows.", length(Off), n)
    } else if (!identical(dim(Off), dim(Y)) && !identical(dim(Off), c(n, 1L))) {
      pln_data_error("offset is %d x %d but counts are %d x %d.", nrow(Off), ncol(Off), n, ncol(Y))
    }
  }
  out <- if (is.null(covariates)) data.frame(row.names = seq_len(n)) else as.data.frame(covariates)
  if (nrow(out) != n) pln_data_error("covariates have %d rows but counts have %d (one row per sample).", nrow(out), n)
  out$Abundance <- Y
  out$Offset <- Off
  out
}
