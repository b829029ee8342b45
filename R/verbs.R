#' Base R and stats functions that work inside traced functions
#'
#' Inside [jit()], [grad()] and the other transforms, these functions of
#' base R and stats work on traced values (and on `rj_array`s) in any
#' argument position, and give base R's values; with ordinary R data they
#' are base R's functions, unchanged. Derivatives come from the primitives
#' they are written with, so every one of them is differentiable where the
#' mathematics is.
#'
#' **Densities and distribution functions** (stats' arguments, recycled over
#' every parameter as R does): `dnorm`, `dpois`, `dbinom`, `dnbinom` (`size`
#' with `prob` or `mu`), `dgamma` (`rate` or `scale`), `dbeta`, `dexp`,
#' `dlnorm`, `dt`, `dlogis`, `dweibull`, `dunif` (all with `log`), `pnorm`,
#' `qnorm`, `plogis`, `qlogis`, `pexp` (with `lower.tail` and `log.p`).
#' Values outside the support give 0 (`-Inf` on the log scale); invalid
#' parameters give `NaN`, with R's "NaNs produced" warning where R warns. A
#' non-integer count in `dpois`/`dbinom`/`dnbinom` gives 0 with R's
#' warning when the counts are plain R data. The non-central `dt`/`dbeta`
#' (`ncp`) are not traced.
#'
#' **Statistics**: `var`, `cov`, `cor` (Pearson), `sd`, `scale` (the result
#' carries no `"scaled:center"` attributes), `sweep`, `mean` (also with
#' `trim`), `median`, `sort`, `rowsum` (the groups must be plain R data; no
#' row names), `tabulate` (with `nbins` given), `which.max`, `which.min`,
#' and the cumulative `cumsum`, `cumprod`, `cummax`, `cummin`. `sort()` and
#' the order statistics use a sorting network of element-wise minima and
#' maxima, so the traced program has a fixed shape and gradients flow to the
#' elements that land in each position.
#'
#' **Shapes and indexing**: `drop`, `rev`, `head`, `tail` (also negative
#' `n`), `array`, negative indices, indexing and assignment by a two-column
#' (one column per dimension) index matrix, `lower.tri`/`upper.tri` and
#' `row`/`col` (plain logical/integer matrices, as in R), `[[`, and the
#' assignments `x[i] <- v`, `x[[i]] <- v`, `x[i, j] <- v`, `diag(x) <- v`,
#' also when `x` is plain R data such as `numeric(n)` or `matrix(0, n, m)`
#' and `v` a traced value (the container then becomes traced).
#'
#' **Linear algebra**: `backsolve`, `forwardsolve`, `kronecker`, `%x%`,
#' besides `%*%`, `crossprod`, `solve`, `chol`, `determinant` (see
#' [rj-linalg]).
#'
#' **Apply family**: `apply`, `sapply`, `vapply`, `lapply`, `mapply`, `Map`,
#' `Reduce` (also with `accumulate`), `do.call` and `unlist`. `FUN` is
#' traced once per slice or element (the number of slices is known from the
#' shapes) and the results are stacked into a vector, matrix or array exactly
#' where base R would simplify; where base R gives a list, so does rjax.
#' `Filter` would need the values to know the result's length: it is an
#' error that says so.
#'
#' Results of these functions are arrays without names or other attributes
#' (traced values have none). Anything else that cannot work on traced
#' values stops with an `rjax_unsupported_error` or
#' `rjax_concretization_error` that names the function and says what to
#' write instead.
#' @name rjax_verbs
#' @examples
#' X <- cbind(1, c(0.5, -1.2, 0.3, 2.1, -0.4))
#' y <- c(2, 0, 1, 6, 1)
#' nll <- function(b) -sum(dpois(y, exp(X %*% b), log = TRUE))
#' jit(nll)(c(0.1, 0.2))
#' nll(c(0.1, 0.2))
#' grad(nll)(c(0.1, 0.2))
#'
#' # preallocate and fill, apply over rows, a trimmed mean
#' f <- function(x) {
#'   out <- numeric(length(x))
#'   for (i in seq_along(x)) out[i] <- x[i]^2
#'   M <- matrix(0, 2, 2)
#'   diag(M) <- x[1:2]
#'   sum(apply(M, 1, max)) + mean(out, trim = 0.2)
#' }
#' jit(f)(c(3, 1, 4, 1, 5))
#' f(c(3, 1, 4, 1, 5))
#'
#' # a multivariate normal log-density with chol() and backsolve()
#' S <- matrix(c(2, 0.5, 0.5, 1), 2)
#' ld <- function(mu, x) {
#'   R <- chol(S)
#'   z <- backsolve(R, x - mu, transpose = TRUE)
#'   -sum(log(diag(R))) - 0.5 * sum(z^2) - log(2 * pi)
#' }
#' grad(ld)(c(0, 0), c(1, -1))
NULL
