# Forward mode, pullbacks, Jacobians and Hessians (R/transforms.R).
#
# The derivative table (helper-grad-table.R) is checked here in forward
# mode, row by row, in f64:
# - JVP against central finite differences along a random tangent;
# - VJP against JVP (the dot-product test <grad f, t> = jvp(f; t));
# - second order: forward over reverse, jvp(grad f; t) (a Hessian-vector
#   product) against finite differences of grad f along t;
# - the JVP through jit on both backends.

jvp_tangent <- function(f, args, tangents) to_r(jvp(f, args, tangents)$tangent)

# (f(x + h t) - f(x - h t)) / 2h, f called on plain R data.
fd_directional <- function(f, args, wrt, tan, eps = 1e-6) {
  shift <- function(s) {
    a <- args
    for (j in seq_along(wrt)) a[[wrt[[j]]]] <- args[[wrt[[j]]]] + s * tan[[j]]
    as.numeric(to_r(do.call(f, a)))
  }
  (shift(eps) - shift(-eps)) / (2 * eps)
}

set.seed(7)
for (row in grad_table) {
  local({
    row <- row
    args <- row$gen()
    wrt <- row$wrt %||% seq_along(args)
    test_that(sprintf("forward mode of '%s': JVP vs finite differences, VJP vs JVP, forward over reverse", row$name), {
      tan <- lapply(wrt, function(k) {
        x <- args[[k]]
        x[] <- stats::rnorm(length(x))
        x
      })
      tangents <- lapply(seq_along(args), function(i) NULL)
      for (j in seq_along(wrt)) tangents[wrt[[j]]] <- list(tan[[j]])
      jt <- as.numeric(jvp_tangent(row$f, args, tangents))
      expect_equal(jt, fd_directional(row$f, args, wrt, tan), tolerance = 1e-6, label = paste(row$name, "JVP"))
      # dot-product test: <VJP(1), t> = JVP(t)
      g <- grads_as_list(do.call(grad(row$f, wrt = wrt), args), length(wrt))
      dot <- sum(vapply(seq_along(wrt), function(j) sum(g[[j]] * tan[[j]]), 0))
      expect_equal(jt, dot, tolerance = 1e-9, label = paste(row$name, "VJP vs JVP"))
      # the same JVP compiled, on both backends
      jf <- function(...) jvp(row$f, list(...), tangents)$tangent
      expect_equal(as.numeric(to_r(do.call(jit(jf), args))), jt, tolerance = 1e-10, label = paste(row$name, "jit llvm"))
      expect_equal(as.numeric(to_r(do.call(jit(jf, backend = "interp"), args))), jt, tolerance = 1e-10,
                   label = paste(row$name, "jit interp"))
      if ((row$order %||% 2) >= 2) {
        gf <- grad(row$f, wrt = wrt)
        hv <- grads_as_list(jvp(gf, args, tangents)$tangent, length(wrt))
        for (j in seq_along(wrt)) {
          fd <- fd_directional(function(...) {
            gs <- grads_as_list(gf(...), length(wrt))
            gs[[j]]
          }, args, wrt, tan, eps = 1e-5)
          expect_equal(as.numeric(hv[[j]]), as.numeric(fd), tolerance = 1e-5,
                       label = sprintf("%s: forward over reverse, argument %d", row$name, wrt[[j]]))
        }
      }
    })
  })
}

test_that("jvp() returns the value and the tangent of pytree results", {
  f <- function(p) list(a = p$x * p$y, b = sum(p$x^2))
  r <- jvp(f, list(list(x = c(1, 2), y = 3)), list(list(x = c(1, 0), y = 0)))
  expect_rj_equal(r$value$a, c(3, 6))
  expect_rj_equal(r$tangent$a, c(3, 0))
  expect_rj_equal(r$tangent$b, 2)
  # NULL tangent: argument held fixed
  r2 <- jvp(function(x, y) x * y, list(2, 5), list(1, NULL))
  expect_rj_equal(r2$tangent, 5)
})

test_that("jvp() through while_loop, fori_loop, scan and cond", {
  g <- function(x) while_loop(function(s) s$i < 3, function(s) list(i = s$i + 1, x = s$x * s$x), list(i = 0, x = x))$x
  expect_rj_equal(jvp(g, list(1.1), list(1))$tangent, 8 * 1.1^7, tolerance = 1e-10)
  h <- function(x) fori_loop(1, 4, function(i, c) c * x + i, 0.5)
  fd <- (as_r(h(1.3 + 1e-6)) - as_r(h(1.3 - 1e-6))) / 2e-6
  expect_equal(as_r(jvp(h, list(1.3), list(1))$tangent), fd, tolerance = 1e-6)
  k <- function(x) cond(x > 0, function(x) x^3, function(x) -x, x)
  expect_rj_equal(jvp(k, list(2), list(1))$tangent, 12)
  expect_rj_equal(jvp(k, list(-2), list(1))$tangent, -1)
  # jit of forward mode through a while loop, on both backends
  jg <- function(x) jvp(g, list(x), list(1))$tangent
  expect_rj_equal(jit(jg)(1.1), 8 * 1.1^7, tolerance = 1e-10)
  expect_rj_equal(jit(jg, backend = "interp")(1.1), 8 * 1.1^7, tolerance = 1e-10)
})

test_that("stop_gradient and custom_vjp in forward mode", {
  expect_rj_equal(jvp(function(x) x * stop_gradient(x), list(3), list(1))$tangent, 3)
  sp <- custom_vjp(function(x) log1p(exp(x)), fwd = function(x) list(log1p(exp(x)), x),
                   bwd = function(x, g) list(g / (1 + exp(-x))))
  expect_rj_equal(jvp(function(x) sp(x) * 1, list(0.3), list(1))$tangent, 1 / (1 + exp(-0.3)))
})

test_that("vjp() gives the value and a pullback", {
  r <- vjp(function(x) c(sum(x^2), prod(x)), c(1, 2, 3))
  expect_rj_equal(r$value, c(14, 6))
  expect_rj_equal(r$pullback(c(1, 0))[[1]], c(2, 4, 6))
  expect_rj_equal(r$pullback(c(0, 1))[[1]], c(6, 3, 2))
  r2 <- vjp(function(a, b) a %*% b, matrix(1:4, 2) / 2, c(1, -1))
  ct <- c(1, 2)
  pb <- r2$pullback(ct)
  expect_rj_equal(pb[[1]], outer(ct, c(1, -1)))
  expect_rj_equal(pb[[2]], as.numeric(crossprod(matrix(1:4, 2) / 2, ct)))
})

test_that("jacfwd and jacrev agree with each other and with the analytic Jacobian", {
  f <- function(x) c(x[1]^2 * x[2], sin(x[2]), x[1] * x[3])
  x <- c(1.5, 0.3, -2)
  J <- rbind(c(2 * x[1] * x[2], x[1]^2, 0), c(0, cos(x[2]), 0), c(x[3], 0, x[1]))
  expect_rj_equal(jacfwd(f)(x), J)
  expect_rj_equal(jacrev(f)(x), J)
  # matrix input, vector output: shape c(out, in)
  g <- function(M) colSums(M^2)
  M <- matrix(c(1, 2, 3, 4, 5, 6), 2)
  Jf <- jacfwd(g)(M)
  expect_equal(dim(Jf), c(3L, 2L, 3L))
  expect_rj_equal(jacrev(g)(M), as_r(Jf))
  expect_equal(as_r(Jf)[2, , 2], c(6, 8))
  # wrt several arguments and by name
  h <- function(a, b) a * b
  Jab <- jacfwd(h, wrt = c("a", "b"))(c(1, 2), c(3, 4))
  expect_named(Jab, c("a", "b"))
  expect_rj_equal(Jab$a, diag(c(3, 4)))
  expect_rj_equal(jacrev(h, wrt = 2)(c(1, 2), c(3, 4)), diag(c(1, 2)))
})

test_that("jacobians of pytree inputs and outputs are nested lists", {
  f <- function(p) list(u = p$w * 2, v = sum(p$w * p$b))
  p <- list(w = c(1, 2), b = c(3, 4))
  J <- jacfwd(f)(p)
  expect_named(J, c("u", "v"))
  expect_named(J$u, c("w", "b"))
  expect_rj_equal(J$u$w, diag(2, 2))
  expect_rj_equal(J$v$b, c(1, 2))
  Jr <- jacrev(f)(p)
  expect_rj_equal(Jr$v$w, c(3, 4))
  expect_rj_equal(Jr$u$b, matrix(0, 2, 2))
})

test_that("hessian is forward over reverse and matches the analytic Hessian", {
  f <- function(x) sum(x^3) + x[1] * x[2]
  x <- c(1, 2, 3)
  H <- diag(6 * x)
  H[1, 2] <- H[2, 1] <- 1
  expect_rj_equal(hessian(f)(x), H)
  expect_rj_equal(jit(hessian(f))(x), H)
  expect_rj_equal(jacfwd(jacrev(f))(x), H)
  # logistic regression: t(X) %*% (w * X)
  set.seed(1)
  X <- matrix(rnorm(40), 10)
  y <- rbinom(10, 1, 0.5)
  ll <- function(b) sum(y * (X %*% b) - log1p(exp(X %*% b)))
  b <- c(0.1, -0.2, 0.3, 0)
  p <- 1 / (1 + exp(-X %*% b))
  expect_rj_equal(hessian(ll)(b), -crossprod(X, as.numeric(p * (1 - p)) * X), tolerance = 1e-10)
})

test_that("derivatives of digamma and lgamma to third order (trigamma, psigamma)", {
  d3 <- function(f) jacfwd(grad(grad(f)))
  expect_rj_equal(d3(function(x) lgamma(x))(2.5), psigamma(2.5, 2), tolerance = 1e-10)
  expect_rj_equal(d3(function(x) digamma(x))(2.5), psigamma(2.5, 3), tolerance = 1e-10)
  expect_rj_equal(grad(function(x) trigamma(x))(1.7), psigamma(1.7, 2), tolerance = 1e-10)
})

test_that("forward-mode errors are classed", {
  expect_error(jvp(function(x) x, list(1, 2), list(1)), class = "rjax_grad_error")
  expect_error(jvp(function(x) x, list(c(1, 2)), list(c(1, 2, 3))), class = "rjax_shape_error")
})

test_that("custom_jvp: the rule serves forward and reverse mode, eagerly and under jit", {
  softplus <- custom_jvp(function(x) log1p(exp(x)),
                         jvp = function(p, t) list(log1p(exp(p[[1]])), t[[1]] / (1 + exp(-p[[1]]))))
  x <- c(-1, 0, 30)
  expect_rj_equal(softplus(x), log1p(exp(x)))
  expect_rj_equal(jvp(softplus, list(x), list(c(1, 1, 1)))$tangent, 1 / (1 + exp(-x)))
  expect_rj_equal(grad(function(x) sum(softplus(x)))(x), 1 / (1 + exp(-x)))
  expect_rj_equal(jit(grad(function(x) sum(softplus(x) * c(1, 2, 3))))(x), c(1, 2, 3) / (1 + exp(-x)))
  # a rule that differs from f's own derivative shows it is used
  f <- custom_jvp(function(x, y) x * y, jvp = function(p, t) list(p[[1]] * p[[2]], 2 * t[[1]] + 3 * t[[2]]))
  expect_rj_equal(jvp(f, list(1, 1), list(1, 0))$tangent, 2)
  expect_rj_equal(grad(f, wrt = 2)(1, 1), 3)
  expect_rj_equal(jacrev(function(v) f(v, v))(c(1, 2)), diag(5, 2))
  expect_rj_equal(vmap(function(v) f(v, 2))(c(1, 2, 3)), c(2, 4, 6))
})

test_that("linearize gives the value and the linear map", {
  lin <- linearize(function(x) sin(x) * x, list(c(1, 2)))
  expect_rj_equal(lin$value, sin(c(1, 2)) * c(1, 2))
  expect_rj_equal(lin$jvp_fn(list(c(1, 0))), c(cos(1) + sin(1), 0))
})
