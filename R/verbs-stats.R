# Traced summary statistics: var, cov, cor, sd, scale, sweep, mean (with
# trim), median, sort, rowsum, tabulate, which.max/which.min. Each falls
# back to base/stats with no rjax value among its arguments. Results carry
# no attributes (traced values have none): scale()'s "scaled:center" and
# rowsum()'s row names are left out.

# A vector or matrix argument as an rjax value with at least two dims
# (vectors are one column, as R's as.matrix()).
rj_as_matrix <- function(x) {
  x <- as_rj(x)
  if (length(x@shape) == 2L) x else rj_reshape(x, c(length(x), 1L))
}

# Column-centred copy of a matrix.
rj_center_cols <- function(x) sweep_rj(x, 2L, colMeans(x), `-`)

tv_var <- function(x, y = NULL, na.rm = FALSE, use) {
  if (!rj_any_value(x, y)) return(forward_to_base(stats::var, match.call(), parent.frame(), list()))
  use <- if (missing(use)) { if (isTRUE(na.rm)) "na.or.complete" else "everything" } else rj_cov_use(use)
  vec <- is.null(dim(x)) && (is.null(y) || is.null(dim(y)))
  if (use != "everything") return(rj_var_complete(x, y, vec))
  if (vec && is.null(y)) {
    n <- length(x)
    d <- float_of(as_rj(x)) - mean(float_of(as_rj(x)))
    return(sum(d * d) / (n - 1))
  }
  xc <- rj_center_cols(float_of(rj_as_matrix(x)))
  yc <- if (is.null(y)) xc else rj_center_cols(float_of(rj_as_matrix(y)))
  out <- crossprod(xc, yc) / (xc@shape[[1L]] - 1)
  if (vec) rj_reshape(out, integer()) else out
}

# `use =` of var/cov/cor: the complete-case choices keep static shapes (rows
# with a missing value get weight 0); the others depend on the data.
rj_cov_use <- function(use) {
  use <- match.arg(use, c("everything", "all.obs", "complete.obs", "na.or.complete", "pairwise.complete.obs"))
  if (use == "all.obs") rj_unsupported("use = \"all.obs\"", "Whether to signal an error would depend on traced values; use \"everything\" (NA propagates) or \"complete.obs\".")
  if (use == "pairwise.complete.obs") rj_unsupported("use = \"pairwise.complete.obs\"", "Use \"complete.obs\" (complete cases), or impute before the traced function.")
  if (use == "na.or.complete") "complete.obs" else use
}

# Covariance over complete cases: a row counts when neither x nor y has a
# missing value in it. Base R gives NA for no complete case (na.or.complete);
# here n - 1 <= 0 gives NaN/Inf.
rj_var_complete <- function(x, y, vec) {
  xm <- float_of(rj_as_matrix(x))
  ym <- if (is.null(y)) xm else float_of(rj_as_matrix(y))
  w <- (rowSums(is.na(xm)) == 0) & (rowSums(is.na(ym)) == 0)
  w <- as_dtype(w, xm@dtype)
  n <- sum(w)
  centre <- function(m) {
    m0 <- rj_na_fill(m, 0) * w
    (m0 - rep(colSums(m0) / n, each = m@shape[[1L]])) * w
  }
  xc <- centre(xm)
  yc <- if (is.null(y)) xc else centre(ym)
  out <- crossprod(xc, yc) / (n - 1)
  if (vec) rj_reshape(out, integer()) else out
}

tv_cov <- function(x, y = NULL, use = "everything", method = c("pearson", "kendall", "spearman")) {
  if (!rj_any_value(x, y)) return(forward_to_base(stats::cov, match.call(), parent.frame(), list()))
  if (!missing(method) && !identical(match.arg(method), "pearson")) {
    rj_unsupported(sprintf("cov(method = \"%s\")", method[[1L]]), "Rank correlations need sorting of traced values; use the Pearson covariance.")
  }
  tv_var(x, y, use = use)
}

tv_cor <- function(x, y = NULL, use = "everything", method = c("pearson", "kendall", "spearman")) {
  if (!rj_any_value(x, y)) return(forward_to_base(stats::cor, match.call(), parent.frame(), list()))
  if (!missing(method) && !identical(match.arg(method), "pearson")) {
    rj_unsupported(sprintf("cor(method = \"%s\")", method[[1L]]), "Rank correlations need sorting of traced values; use the Pearson correlation.")
  }
  s <- tv_var(x, y, use = use)
  if (rj_cov_use(use) != "everything") {
    # Standard deviations over the same complete cases as the covariance.
    xm <- rj_as_matrix(x); ym <- if (is.null(y)) xm else rj_as_matrix(y)
    both <- tv_cbind(xm, ym)
    v <- diag(tv_var(both, use = use))
    px <- xm@shape[[2L]]
    sx <- sqrt(v[seq_len(px)]); sy <- if (is.null(y)) sx else sqrt(v[-seq_len(px)])
  } else {
    sx <- sqrt(diag(tv_var(rj_as_matrix(x))))
    sy <- if (is.null(y)) sx else sqrt(diag(tv_var(rj_as_matrix(y))))
  }
  if (!length(s@shape)) return(s / (sx * sy))
  s / outer(sx, sy)
}

tv_sd <- function(x, na.rm = FALSE) {
  if (!is_rj_value(x)) return(stats::sd(x, na.rm))
  sqrt(tv_var(rj_reshape(x, length(x)), na.rm = na.rm))
}

# sweep() for rjax values: STATS laid out over the MARGIN dimensions and
# broadcast over the others (no copy of x's size is made of STATS).
sweep_rj <- function(x, MARGIN, STATS, FUN) {
  dims <- dim(x) %||% length(x)
  MARGIN <- as.integer(MARGIN)
  if (!is_rj_value(STATS)) STATS <- as_rj(STATS, if (is_rj_value(x)) x@dtype)
  if (length(STATS) != prod(dims[MARGIN])) {
    rj_abort("shape", sprintf("sweep(): STATS has length %d, the MARGIN dimensions %d elements",
                              length(STATS), as.integer(prod(dims[MARGIN]))))
  }
  s <- rj_reshape(STATS, dims[MARGIN])
  if (is.unsorted(MARGIN)) s <- rj_transpose(s, order(MARGIN) - 1L)
  s <- rj_reshape(s, ifelse(seq_along(dims) %in% MARGIN, dims, 1L))
  FUN(x, rj_broadcast(s, dims))
}

tv_sweep <- function(x, MARGIN, STATS, FUN = "-", check.margin = TRUE, ...) {
  if (!rj_any_value(x, STATS)) return(base::sweep(x, MARGIN, STATS, FUN, check.margin, ...))
  FUN <- match.fun(FUN)
  sweep_rj(x, MARGIN, STATS, function(a, b) FUN(a, b, ...))
}

tv_scale <- function(x, center = TRUE, scale = TRUE) {
  if (!rj_any_value(x, center, scale)) return(base::scale(x, center, scale))
  x <- float_of(rj_as_matrix(x))
  n <- x@shape[[1L]]
  if (is.logical(center) && !is_rj_value(center)) {
    if (center) x <- rj_center_cols(x)
  } else {
    x <- sweep_rj(x, 2L, center, `-`)
  }
  if (is.logical(scale) && !is_rj_value(scale)) {
    if (scale) x <- sweep_rj(x, 2L, sqrt(colSums(x * x) / max(1, n - 1)), `/`)
  } else {
    x <- sweep_rj(x, 2L, scale, `/`)
  }
  x
}

# A sorting network (Batcher's bitonic sort over the length padded to a
# power of two with +Inf): only element-wise min/max on static positions,
# so it traces with a fixed graph and is differentiable (each output is one
# of the inputs). log2(n) (log2(n) + 1) / 2 compare-exchange stages.
rj_sort_values <- function(x, decreasing = FALSE) {
  v <- float_of(rj_reshape(x, length(x)))
  n <- length(v)
  if (n <= 1L) return(v)
  m <- 2L^ceiling(log2(n))
  if (m > n) v <- rj_concat_vectors(list(v, rep(Inf, m - n)))
  pos <- seq_len(m) - 1L
  k <- 2L
  while (k <= m) {
    j <- k %/% 2L
    while (j >= 1L) {
      partner <- bitwXor(pos, j)
      lo <- pos < partner
      up <- bitwAnd(pos, k) == 0L  # ascending block
      w <- rj_gather(v, list(partner))
      takes_min <- lo == up
      v <- where(takes_min, pmin(v, w), pmax(v, w))
      j <- j %/% 2L
    }
    k <- k * 2L
  }
  v <- rj_gather(v, list(seq_len(n) - 1L))
  if (decreasing) v[n:1L] else v
}

tv_sort <- function(x, decreasing = FALSE, ...) {
  if (!is_rj_value(x)) return(base::sort(x, decreasing, ...))
  rj_sort_values(x, decreasing)
}

tv_median <- function(x, na.rm = FALSE, ...) {
  if (!is_rj_value(x)) return(stats::median(x, na.rm, ...))
  if (isTRUE(na.rm)) rj_unsupported("median(na.rm = TRUE)", "The middle position would depend on how many values are missing; remove missing values before the traced function.")
  n <- length(x)
  s <- rj_sort_values(x)
  half <- (n + 1L) %/% 2L
  m <- if (n %% 2L == 1L) s[half] else mean(s[half + 0:1])
  # base R: any missing value makes the median NA (sorting would move it).
  rj_ew("select", any(is.na(x)), NA_real_, float_of(as_rj(m)))
}

tv_mean <- function(x, ...) {
  if (!is_rj_value(x)) return(base::mean(x, ...))
  mean.rj_value(x, ...)
}

# mean(x, trim): the mean of the values left after dropping the
# floor(n * trim) smallest and largest, as base R's mean.default.
rj_trimmed_mean <- function(x, trim) {
  if (!is.numeric(trim) || length(trim) != 1L || is.na(trim)) rj_abort("type", "'trim' must be numeric of length one")
  n <- length(x)
  if (trim >= 0.5) return(tv_median(x))
  lo <- floor(n * trim) + 1
  hi <- n + 1 - lo
  s <- rj_sort_values(x)[lo:hi]
  rj_reduce("reduce_sum", s, NULL) / length(s)
}

tv_rowsum <- function(x, group, reorder = TRUE, ...) {
  if (!is_rj_value(x)) return(base::rowsum(x, group, reorder, ...))
  if (is_rj_value(group)) rj_concretization_error(group, "group rows by a traced value in rowsum()")
  x <- rj_as_matrix(x)
  if (length(group) != x@shape[[1L]]) rj_abort("shape", "incorrect length for 'group'")
  g <- if (reorder) sort(unique(group)) else unique(group)
  ind <- outer(g, group, "==") + 0
  base::matrix(ind, length(g)) %*% float_of(x)
}

tv_tabulate <- function(bin, nbins = max(1L, bin, na.rm = TRUE)) {
  if (!is_rj_value(bin)) return(base::tabulate(bin, nbins))
  if (missing(nbins)) {
    rj_concretization_error(bin, "size tabulate()'s result by a traced value: give 'nbins'")
  }
  b <- rj_reshape(bin, length(bin))
  k <- seq_len(as.integer(nbins))
  hits <- outer(b, k, "==")
  rj_reduce("reduce_sum", as_dtype(hits, "i32"), 0L)  # integer counts, as R
}
