# The gradient table: every differentiable primitive reachable from R verbs,
# and compositions, checked against finite differences (first and second
# order, both backends) by test-grad.R; test-registry.R checks from it that
# every primitive with a derivative rule appears in some row.
# Each row: name, f (works on plain R data too: base R gives the finite
# differences), gen() -> list of arguments (respecting the domain: positive
# for log, SPD for chol, ...), optionally wrt and order.

rmat <- function(r, c, lo = -1, hi = 1) matrix(stats::runif(r * c, lo, hi), r, c)
rvec <- function(n, lo = -1, hi = 1) stats::runif(n, lo, hi)
W <- function(r, c) matrix(seq_len(r * c) / (r * c) - 0.3, r, c)  # fixed weights make outputs mix

unary <- function(name, fun, lo = -0.9, hi = 0.9, order = 2) {
  list(name = name, f = function(x) sum(fun(x) * W(3, 2)), gen = function() list(rmat(3, 2, lo, hi)), order = order)
}

grad_table <- list(
  # element-wise unary
  unary("neg", function(x) -x),
  unary("exp", exp),
  unary("log", log, 0.5, 2),
  unary("log1p", log1p, 0.1, 2),
  unary("expm1", expm1),
  unary("sqrt", sqrt, 0.5, 2),
  unary("abs", abs, 0.2, 1),
  unary("abs-negative", abs, -1, -0.2),
  unary("sin", sin), unary("cos", cos), unary("tan", tan),
  unary("asin", asin), unary("acos", acos), unary("atan", atan),
  unary("sinh", sinh), unary("cosh", cosh), unary("tanh", tanh),
  unary("asinh", asinh), unary("acosh", acosh, 1.5, 3), unary("atanh", atanh),
  unary("lgamma", lgamma, 0.5, 3),
  unary("gamma", gamma, 0.5, 3),
  unary("digamma", digamma, 0.5, 3),
  unary("trigamma", trigamma, 0.5, 3),
  unary("psigamma-2", function(x) psigamma(x, 2), 0.5, 3),
  unary("psigamma-negative-x", function(x) psigamma(x, 1), -0.9, -0.1),
  unary("log2", log2, 0.5, 2),
  unary("log-base", function(x) log(x, 3), 0.5, 2),
  unary("square", function(x) x^2),
  unary("cube-root", function(x) x^(1 / 3), 0.5, 2),
  unary("mean-scale", function(x) x / mean(x), 0.5, 2),
  # element-wise binary (both operands differentiated)
  list(name = "add", f = function(x, y) sum((x + y) * W(3, 2)), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "sub", f = function(x, y) sum((x - y)^2), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "mul", f = function(x, y) sum(x * y * x), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "div", f = function(x, y) sum(x / y), gen = function() list(rmat(3, 2), rmat(3, 2, 0.5, 2))),
  list(name = "pow", f = function(x, y) sum(x^y), gen = function() list(rmat(3, 2, 0.5, 2), rmat(3, 2))),
  list(name = "pow-scalar-exponent", f = function(x, y) sum(x^y), gen = function() list(rmat(3, 2, 0.5, 2), 1.7)),
  list(name = "mod", f = function(x, y) sum((x %% y) * W(3, 2)), gen = function() list(rmat(3, 2, 0.1, 0.9), rmat(3, 2, 1.1, 2)), order = 1),
  list(name = "pmax", f = function(x, y) sum(pmax(x, y) * W(3, 2)), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "pmin", f = function(x, y) sum(pmin(x, y, 0.3)^2), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "ifelse", f = function(x, y) sum(ifelse(x > y, x * y, exp(y))), gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "atan2", f = function(y, x) sum(atan2(y, x) * W(3, 2)), gen = function() list(rmat(3, 2), rmat(3, 2, 0.5, 2))),
  list(name = "atan2-left-half", f = function(y, x) sum(atan2(y, x)^2), gen = function() list(rmat(3, 2, 0.2, 1), rmat(3, 2, -2, -0.5))),
  # the normal distribution (all three arguments differentiated)
  list(name = "pnorm", f = function(q, m, s) sum(pnorm(q, m, s) * W(3, 2)), gen = function() list(rmat(3, 2, -2, 2), rmat(3, 2), rmat(3, 2, 0.5, 2))),
  list(name = "pnorm-upper-log", f = function(q, m, s) sum(pnorm(q, m, s, lower.tail = FALSE, log.p = TRUE)), gen = function() list(rmat(3, 2, -2, 6), rvec(1), 1.3)),
  list(name = "pnorm-log-far-tail", f = function(q) sum(pnorm(q, log.p = TRUE)), gen = function() list(rvec(3, -30, -10))),
  list(name = "qnorm", f = function(p, m, s) sum(qnorm(p, m, s) * W(3, 2)), gen = function() list(rmat(3, 2, 0.05, 0.95), rmat(3, 2), rmat(3, 2, 0.5, 2))),
  list(name = "qnorm-upper-log", f = function(p) sum(qnorm(p, 1, 2, lower.tail = FALSE, log.p = TRUE)^2), gen = function() list(rvec(4, -3, -0.1))),
  list(name = "compare-mask", f = function(x) sum((x > 0) * x^2), gen = function() list(rmat(3, 2))),
  # reductions
  list(name = "sum", f = function(x) sum(x)^2, gen = function() list(rmat(3, 2))),
  list(name = "prod", f = function(x) prod(x), gen = function() list(rmat(3, 2, 0.5, 2))),
  list(name = "max", f = function(x) max(x) * sum(x), gen = function() list(rmat(3, 2))),
  list(name = "min", f = function(x) min(x)^2, gen = function() list(rmat(3, 2, 0.1, 1))),
  list(name = "mean", f = function(x) mean(x^2), gen = function() list(rmat(3, 2))),
  list(name = "colSums", f = function(x) sum(colSums(x)^2), gen = function() list(rmat(3, 2))),
  list(name = "rowSums", f = function(x) sum(rowSums(x)^3), gen = function() list(rmat(3, 2))),
  list(name = "colMeans", f = function(x) sum(exp(colMeans(x))), gen = function() list(rmat(3, 2))),
  list(name = "rowMeans", f = function(x) sum(rowMeans(x) * c(1, 2, 3))^2, gen = function() list(rmat(3, 2))),
  list(name = "prod-with-a-zero", f = function(x) prod(x), gen = function() list(c(0.5, 0, 1.5, -2))),
  list(name = "prod-with-two-zeros", f = function(x) prod(x) + sum(x^2), gen = function() list(c(0.5, 0, 1.5, 0))),
  # cumulative functions
  list(name = "cumsum", f = function(x) sum(cumsum(x) * 1:6), gen = function() list(rmat(3, 2))),
  list(name = "cumprod", f = function(x) sum(cumprod(x) * 1:5), gen = function() list(rvec(5, 0.5, 1.5))),
  list(name = "cumprod-with-zeros", f = function(x) sum(cumprod(x) * c(1, -2, 3, 1, 2)), gen = function() list(c(0.5, 0, 1.5, -0.7, 0))),
  list(name = "cummax", f = function(x) sum(cummax(x) * 1:6), gen = function() list(c(0.1, 0.5, 0.3, 0.9, 0.2, 0.7))),
  list(name = "cummin", f = function(x) sum(cummin(x)^2), gen = function() list(matrix(c(0.9, 0.5, 0.7, 0.2, 0.3, -0.1), 3))),
  # broadcasting and R's recycling
  list(name = "recycle-column-vector", f = function(x, v) sum((x + v)^2 * W(3, 4)), gen = function() list(rmat(3, 4), rvec(3))),
  list(name = "recycle-scalar", f = function(x, s) sum(exp(x * s)), gen = function() list(rmat(3, 4), 0.7)),
  list(name = "vector-times-matrix", f = function(x, v) sum(v * x * x), gen = function() list(rmat(2, 3), rvec(2))),
  # shapes
  list(name = "reshape-dim", f = function(x) { dim(x) <- c(2, 6); sum(x[, 1:3]^2) + sum(x[2, ]) }, gen = function() list(rmat(3, 4))),
  list(name = "matrix", f = function(x) sum(matrix(x, 2) %*% c(1, -1, 2)), gen = function() list(rvec(6))),
  list(name = "t", f = function(x) sum(t(x) * W(2, 3)^2), gen = function() list(rmat(3, 2))),
  list(name = "aperm", f = function(x) sum(aperm(x, c(3, 1, 2))[, , 1]^2), gen = function() list(array(rvec(24), c(2, 3, 4)))),
  list(name = "index", f = function(x) sum(x[c(1, 3), -1]^2) + x[2, 2], gen = function() list(rmat(3, 3))),
  list(name = "index-logical", f = function(x) sum(x[c(TRUE, FALSE, TRUE), ]^3), gen = function() list(rmat(3, 2))),
  list(name = "index-linear", f = function(x) sum(x[c(2, 5, 5)]^2), gen = function() list(rmat(3, 2))),
  list(name = "subassign", f = function(x, v) { x[2, ] <- v; sum(x^2 * W(3, 2)) }, gen = function() list(rmat(3, 2), rvec(2))),
  list(name = "subassign-scalar", f = function(x, s) { x[c(1, 4)] <- s; sum(exp(x)) }, gen = function() list(rmat(3, 2), 0.4)),
  list(name = "diag-extract", f = function(x) sum(diag(x)^2) + sum(x), gen = function() list(rmat(3, 3))),
  list(name = "diag-build", f = function(v) sum(diag(v) %*% W(3, 3)^2) + sum(diag(v)^2), gen = function() list(rvec(3))),
  list(name = "cbind", f = function(x, y) sum(cbind(x, y, 1)^2 * W(3, 4)), gen = function() list(rmat(3, 2), rvec(3))),
  list(name = "rbind", f = function(x, y) sum(rbind(x, y)^3), gen = function() list(rmat(2, 3), rmat(1, 3))),
  list(name = "c", f = function(x, y) sum(c(x, y)^2 * 1:5), gen = function() list(rvec(3), rvec(2))),
  list(name = "rep-times", f = function(x) sum(rep(x, 3)^2 * 1:6), gen = function() list(rvec(2))),
  list(name = "rep-each", f = function(x) sum(rep(x, each = 2)^2 * 1:6), gen = function() list(rvec(3))),
  list(name = "rep-length", f = function(x) sum(rep(x, length.out = 5)^2 * 1:5), gen = function() list(rvec(3))),
  # linear algebra
  list(name = "matmul", f = function(a, b) sum((a %*% b)^2), gen = function() list(rmat(3, 2), rmat(2, 4))),
  list(name = "matmul-vector", f = function(a, v) sum(exp(a %*% v)), gen = function() list(rmat(3, 2), rvec(2))),
  list(name = "crossprod", f = function(a, b) sum(crossprod(a, b) * W(2, 4)) + sum(crossprod(a)^2), gen = function() list(rmat(3, 2), rmat(3, 4))),
  list(name = "tcrossprod", f = function(a, b) sum(tcrossprod(a, b)^2) + sum(tcrossprod(a) * W(3, 3)), gen = function() list(rmat(3, 2), rmat(4, 2))),
  list(name = "solve-inverse", f = function(a) sum(solve(a) * W(3, 3)), gen = function() list(rmat(3, 3) + diag(3) * 3)),
  list(name = "solve-system", f = function(a, b) sum(solve(a, b)^2), gen = function() list(rmat(3, 3) + diag(3) * 3, rmat(3, 2))),
  list(name = "solve-vector", f = function(a, b) sum(solve(a, b)), gen = function() list(rmat(3, 3) + diag(3) * 3, rvec(3))),
  list(name = "det", f = function(a) det(a), gen = function() list(rmat(3, 3) + diag(3) * 2)),
  list(name = "determinant", f = function(a) sum(determinant(a)$modulus), gen = function() list(rmat(3, 3) - diag(3) * 2)),
  list(name = "chol", f = function(x) sum(chol(tcrossprod(x) + diag(3)) * W(3, 3)), gen = function() list(rmat(3, 3))),
  list(name = "chol-logdet", f = function(x) 2 * sum(log(diag(chol(crossprod(x) + diag(3))))), gen = function() list(rmat(4, 3))),
  # compositions
  list(name = "mlp-loss", f = function(W1, b1, W2, X, y) {
    h <- tanh(X %*% W1 + rep(b1, each = nrow(X)))
    out <- h %*% W2
    mean((out - y)^2)
  }, gen = function() list(rmat(3, 4), rvec(4), rmat(4, 1), rmat(5, 3), rmat(5, 1)), wrt = 1:3),
  list(name = "logsumexp", f = function(x) { m <- max(x); log(sum(exp(x - m))) + m }, gen = function() list(rvec(5))),
  list(name = "normal-loglik", f = function(m, s, y) sum(log(pnorm(y, m, s) - pnorm(y - 1, m, s))), gen = function() list(rvec(3), 1.5, c(0.2, 1.1, -0.4))),
  # transforms with rules of their own
  list(name = "custom_vjp", f = function(x) sum(grad_table_softplus(x) * c(1, 2, 3)), gen = function() list(rvec(3, -2, 2))),
  list(name = "scan", f = function(x) {
    r <- scan_loop(function(c, xi) list(c * xi + 1, c^2), 0.5, x)
    r$carry + sum(r$ys)
  }, gen = function() list(rvec(4, 0.5, 1))),
  list(name = "custom_jvp", f = function(x) sum(grad_table_softplus_jvp(x) * c(1, 2, 3))^2, gen = function() list(rvec(3, -2, 2))),
  list(name = "random-draws", f = function(x, key) {
    sum(x * rj_normal(key, 3) + x^2 * rj_uniform(key, 3) + x * rj_gamma(key, c(1, 2, 3)) +
          x * rj_poisson(key, c(1, 5, 20)) + x * rj_permutation(key, 3) + x * rj_fold_in(key, 1)[1] / 1e9)
  }, gen = function() list(rvec(3), c(0L, 3L)), wrt = 1),
  list(name = "cond", f = function(x) cond(sum(x) > 0, function(x) sum(x^3), function(x) -sum(exp(x)), x), gen = function() list(rvec(3, 0.1, 1)))
)


# softplus with a custom forward rule (the custom_jvp row).
grad_table_softplus_jvp <- custom_jvp(
  function(x) log1p(exp(x)),
  jvp = function(p, t) list(log1p(exp(p[[1]])), t[[1]] / (1 + exp(-p[[1]])))
)

# softplus with a custom gradient rule (the custom_vjp row).
grad_table_softplus <- custom_vjp(
  function(x) log1p(exp(x)),
  fwd = function(x) list(log1p(exp(x)), x),
  bwd = function(x, g) list(g / (1 + exp(-x)))
)
