# vmap (R/transforms.R, src/transforms/vmap.cpp): batched programs against
# a loop over the lanes of the same function.

# The lanes of f over the last axis of each argument in `mapped` (others
# fixed), stacked along a new last axis as vmap does.
lane_loop <- function(f, args, mapped = seq_along(args)) {
  n <- utils::tail(dim(as.array(args[[mapped[[1]]]])) %||% length(args[[mapped[[1]]]]), 1)
  res <- lapply(seq_len(n), function(k) {
    a <- args
    for (i in mapped) {
      x <- as.array(args[[i]])
      d <- dim(x)
      a[[i]] <- if (length(d) <= 1L) x[[k]] else {
        y <- array(x, c(prod(d[-length(d)]), d[length(d)]))[, k]
        if (length(d) > 2L) array(y, d[-length(d)]) else y
      }
    }
    as.array(to_r(do.call(f, a)))
  })
  d1 <- dim(res[[1]])
  out <- simplify2array(lapply(res, as.vector))
  if (length(d1) > 1L) array(out, c(d1, n)) else out
}

expect_lanes <- function(f, args, mapped = seq_along(args), in_axes = -1L, tol = 1e-10) {
  got <- to_r(do.call(vmap(f, in_axes = in_axes), args))
  want <- lane_loop(f, args, mapped)
  expect_equal(as.vector(got), as.vector(want), tolerance = tol)
  expect_equal(length(got), length(want))
}

set.seed(11)

test_that("element-wise ops, reductions and shapes batch lane by lane", {
  expect_lanes(function(x) exp(-x / 2) * sin(x), list(seq(0, 3, length.out = 7)))
  X <- matrix(rnorm(12), 3)
  expect_lanes(function(x) sum(x^2) + max(x), list(X))
  expect_lanes(function(x) cumsum(x) * rev(x), list(X))
  expect_lanes(function(x) c(x[2:3], x[1] * 2), list(X))
  expect_lanes(function(x) { x[2] <- x[1] + 1; x }, list(X))
  expect_lanes(function(x) outer(x, x)[, 2], list(X))
  expect_lanes(function(x) which.max(x), list(X))
  A <- array(rnorm(24), c(2, 3, 4))
  expect_lanes(function(m) colSums(t(m) %*% m), list(A))
  expect_lanes(function(m) rowSums(m) + prod(m), list(A))
})

test_that("matrix products, solve, chol and determinant batch with stacked kernels", {
  A <- array(rnorm(3 * 3 * 5), c(3, 3, 5))
  for (k in 1:5) A[, , k] <- crossprod(A[, , k]) + diag(3)
  B <- matrix(rnorm(15), 3)
  M <- matrix(rnorm(9), 3)
  expect_lanes(function(a, b) a %*% b, list(A, B))                        # both batched
  expect_lanes(function(b) M %*% b, list(B))                              # right side only: one GEMM
  expect_lanes(function(a) a %*% M, list(A))                              # left side only
  expect_lanes(function(a, b) crossprod(a, b), list(A, B))
  expect_lanes(function(a, b) solve(a, b), list(A, B))
  Ms <- rj_array(M + diag(3) * 3)
  expect_lanes(function(b) solve(Ms, b), list(B))
  expect_lanes(function(a) solve(a), list(A))
  expect_lanes(function(a) chol(a), list(A))
  expect_lanes(function(a) det(a), list(A))
  expect_lanes(function(a) determinant(a)$modulus, list(A))
})

test_that("in_axes and out_axes: rows, unmapped arguments, pytrees", {
  X <- matrix(1:6, 3)
  r <- vmap(function(x, y) sum(x * y), in_axes = list(1, NULL))(X, c(1, 10))
  expect_rj_equal(r, as.numeric(X %*% c(1, 10)))
  r2 <- vmap(function(x) x * 2, in_axes = 1, out_axes = 1)(X)
  expect_rj_equal(r2, X * 2)
  p <- list(w = matrix(1:6, 2), b = c(1, 2, 3))
  r3 <- vmap(function(p) sum(p$w) + p$b)(p)
  expect_rj_equal(r3, colSums(p$w) + p$b)
  r4 <- vmap(function(p) list(s = p$w * p$b, t = p$b))(p)
  expect_rj_equal(r4$s, sweep(p$w, 2, p$b, "*"))
  expect_error(vmap(function(x, y) x + y)(c(1, 2), c(1, 2, 3)), class = "rjax_shape_error")
  expect_error(vmap(function(x) x, in_axes = 3)(c(1, 2)), class = "rjax_shape_error")
})

test_that("vmap composes with grad, jit, jacfwd and itself", {
  f <- function(x) exp(-x / 2) * sin(x)
  x <- seq(0, 10, length.out = 21)
  d1 <- function(x) exp(-x / 2) * (cos(x) - sin(x) / 2)
  d2 <- function(x) exp(-x / 2) * (-3 / 4 * sin(x) - cos(x))
  expect_rj_equal(vmap(grad(f))(x), d1(x))
  expect_rj_equal(vmap(grad(grad(f)))(x), d2(x))
  expect_rj_equal(jit(vmap(grad(f)))(x), d1(x))
  # grad of a vmapped function
  g <- function(w) sum(vmap(function(v) sum(v * w)^2)(matrix(1:6, 3)))
  w <- c(0.5, -1, 2)
  Xm <- matrix(1:6, 3)
  expect_rj_equal(grad(g)(w), as.numeric(2 * Xm %*% crossprod(Xm, w)))
  # jacfwd of a vmapped function, vmap of a Jacobian
  expect_rj_equal(jacfwd(vmap(function(v) v^2))(c(1, 2)), diag(c(2, 4)))
  J <- vmap(jacfwd(function(v) v * v[1]))(matrix(c(1, 2, 3, 4), 2))
  expect_equal(dim(J), c(2L, 2L, 2L))
  expect_rj_equal(as_r(J)[, , 2], rbind(c(6, 0), c(4, 3)))
  # nested vmap: an outer product
  o <- vmap(function(a) vmap(function(b) a * b)(c(1, 2, 3)))(c(10, 20))
  expect_rj_equal(o, outer(c(1, 2, 3), c(10, 20)))
  # grad of chol/det through vmap
  gd <- grad(function(s) sum(vmap(function(a) log(det(a)))(s)))
  S <- array(0, c(2, 2, 3)); for (k in 1:3) S[, , k] <- diag(2) * k + 0.1
  gs <- as_r(gd(S))
  expect_equal(gs[, , 2], t(solve(S[, , 2])), tolerance = 1e-10)
})

test_that("vmap through scan, fori_loop, while_loop and cond", {
  # scan with a batched carry
  f <- function(x) scan_loop(function(c, xi) list(c * x + xi, c), 1, c(1, 2, 3))$carry
  expect_lanes(f, list(c(0.5, 1, 2)))
  # fori_loop
  g <- function(x) fori_loop(1, 5, function(i, c) c + i * x, 0)
  expect_lanes(g, list(c(1, 2, 3)))
  # while_loop with a batched predicate: lanes stop at different times and are frozen
  h <- function(x) while_loop(function(s) s$v < 100, function(s) list(v = s$v * 2, n = s$n + 1), list(v = x, n = 0))$n
  expect_rj_equal(vmap(h)(c(1, 30, 200, 7)), c(7, 2, 0, 4))
  expect_rj_equal(jit(vmap(h), backend = "interp")(c(1, 30, 200, 7)), c(7, 2, 0, 4))
  # cond with a batched predicate becomes a select
  k <- function(x) cond(x > 0, function(x) sqrt(abs(x)), function(x) -x^2, x)
  expect_rj_equal(vmap(k)(c(4, -2, 9)), c(2, -4, 3))
  # cond with an unbatched predicate on batched operands
  k2 <- function(x, p) cond(p > 0, function(x) x * 2, function(x) x, x)
  expect_rj_equal(vmap(k2, in_axes = list(-1, NULL))(c(1, 2), 1), c(2, 4))
})

test_that("selu's where and its vmap(grad)", {
  selu <- function(x, alpha = 1.67, lambda = 1.05) lambda * ifelse(x > 0, x, alpha * exp(x) - alpha)
  x <- c(-2, -0.5, 0.5, 2)
  expect_rj_equal(vmap(selu)(x), selu(x))
  expect_rj_equal(vmap(grad(selu))(x), ifelse(x > 0, 1.05, 1.05 * 1.67 * exp(x)))
})

test_that("rj_devices() lists the CPU and block_until_ready() returns its argument", {
  d <- rj_devices()
  expect_s3_class(d, "data.frame")
  expect_true("cpu" %in% d$platform)
  x <- list(a = rj_array(1:3), b = 2)
  expect_identical(block_until_ready(x), x)
})

test_that("which.max ignores NaN as jnp.nanargmax, under vmap and jit too", {
  v <- c(NaN, 3, 7, NaN, 1)
  expect_equal(as_r(which.max(rj_array(v))), 3L)
  m <- cbind(c(NaN, 2, 5), c(4, NaN, 1))
  expect_rj_equal(vmap(function(x) which.max(x))(m), c(3L, 1L))
  expect_rj_equal(jit(function(x) which.max(x))(v), 3L)
})

test_that("a singular lane of a batched solve gives NaN, the other lanes their solution", {
  A <- array(0, c(2, 2, 3))
  A[, , 1] <- diag(2); A[, , 2] <- matrix(1, 2, 2); A[, , 3] <- diag(2) * 2
  r <- as_r(vmap(function(a) solve(a, c(1, 1)))(A))
  expect_equal(r[, 1], c(1, 1))
  expect_true(all(is.nan(r[, 2])))
  expect_equal(r[, 3], c(0.5, 0.5))
  expect_error(solve(rj_array(matrix(1, 2, 2)), c(1, 1)), class = "rjax_singular_error")  # unbatched: R's error
})

test_that("batched loop constants, scanned inputs and forward mode under vmap", {
  # a batched cond constant: each lane stops at its own limit
  expect_rj_equal(vmap(function(lim) while_loop(function(s) s < lim, function(s) s * 2, 1))(c(10, 100, 1000)),
                  c(16, 128, 1024))
  # batched scanned inputs: the scan axis stays last, the batch axis before it
  sc <- function(xs) scan_loop(function(c, x) list(c + x^2, c), 0, xs)
  expect_rj_equal(vmap(function(xs) sc(xs)$carry)(matrix(1:6, 3)), c(14, 77))
  expect_rj_equal(vmap(function(xs) sc(xs)$ys)(matrix(1:6, 3)), cbind(c(0, 1, 5), c(0, 16, 41)))
  # an unbatched matrix and a batched vector in a while body
  m <- matrix(c(0.5, 0, 0, 0.5), 2)
  w <- function(m, b) while_loop(function(s) s$i < 3, function(s) list(i = s$i + 1, v = m %*% s$v + b),
                                 list(i = 0, v = c(1, 1)))$v
  expect_rj_equal(vmap(w, in_axes = list(NULL, -1))(m, matrix(1:4, 2)), cbind(c(1.875, 3.625), c(5.375, 7.125)))
  # jvp of vmap, vmap of jvp, vmap of jacfwd through a while loop
  expect_rj_equal(jvp(vmap(function(x) x^3), list(c(1, 2)), list(c(1, 1)))$tangent, c(3, 12))
  expect_rj_equal(vmap(function(x) jvp(function(y) y^3, list(x), list(1))$tangent)(c(1, 2)), c(3, 12))
  J <- vmap(jacfwd(function(v) while_loop(function(s) s[1] < 10, function(s) s * 2, v)))(matrix(c(1, 1, 3, 3), 2))
  expect_rj_equal(as_r(J)[, , 1], diag(16, 2))
  expect_rj_equal(as_r(J)[, , 2], diag(4, 2))
  # reverse mode through a while loop stays refused under vmap
  expect_error(grad(function(x) sum(vmap(function(v) while_loop(function(s) s < 10, function(s) s * 2, v))(x)))(c(1, 3)),
               class = "rjax_grad_error")
})

test_that("nested vmap and derivatives of vmapped linear algebra (stacks with several batch axes)", {
  set.seed(5)
  S <- array(0, c(3, 3, 4))
  for (k in 1:4) S[, , k] <- crossprod(matrix(rnorm(9), 3)) + diag(3)
  W <- matrix(1:9, 3)
  g <- as_r(grad(function(s) sum(vmap(function(a) sum(chol(a) * W))(s)))(S))
  for (k in 1:4) expect_equal(g[, , k], as_r(grad(function(a) sum(chol(a) * W))(S[, , k])), tolerance = 1e-12)
  ff <- function(v) sum(sapply(1:4, function(k) log(det(S[, , k] * v[1] + diag(3) * v[2]))))
  H <- as_r(hessian(function(v) sum(vmap(function(a) log(det(a * v[1] + diag(3) * v[2])))(S)))(c(1, 0.5)))
  e <- 1e-4
  Hfd <- matrix(0, 2, 2)
  for (i in 1:2) for (j in 1:2) {
    ei <- replace(numeric(2), i, e); ej <- replace(numeric(2), j, e); v0 <- c(1, 0.5)
    Hfd[i, j] <- (ff(v0 + ei + ej) - ff(v0 + ei - ej) - ff(v0 - ei + ej) + ff(v0 - ei - ej)) / (4 * e^2)
  }
  expect_equal(H, Hfd, tolerance = 1e-6)
  A <- array(rnorm(2 * 2 * 3 * 4), c(2, 2, 3, 4)); bb <- array(rnorm(2 * 3 * 4), c(2, 3, 4))
  r <- vmap(function(a4, b4) vmap(function(a, b) solve(a + diag(2) * 3, b))(a4, b4))(A, bb)
  want <- sapply(1:4, function(j) sapply(1:3, function(i) solve(A[, , i, j] + diag(2) * 3, bb[, i, j])), simplify = "array")
  expect_equal(as_r(r), want, tolerance = 1e-12)
})

# Every row of the derivative table, vmapped over three argument sets and
# against the loop over them: the batching rules of every primitive the
# table reaches, in its function and in its gradient program.
stack_args <- function(sets) {
  lapply(seq_along(sets[[1]]), function(i) {
    parts <- lapply(sets, function(s) s[[i]])
    d <- dim(parts[[1]])
    n1 <- length(parts[[1]])
    shape <- if (!is.null(d)) d else if (n1 == 1L) integer() else n1
    array(unlist(parts), c(shape, length(sets)))
  })
}
slice_last <- function(x, k) {
  d <- dim(x)
  if (length(d) == 1L) return(x[[k]])
  y <- array(x, c(prod(d[-length(d)]), d[length(d)]))[, k]
  if (length(d) > 2L) array(y, d[-length(d)]) else y
}

set.seed(19)
for (row in grad_table) {
  local({
    row <- row
    test_that(sprintf("vmap of '%s' and of its gradient equal the loop over lanes", row$name), {
      sets <- lapply(1:3, function(k) row$gen())
      args <- stack_args(sets)
      wrt <- row$wrt %||% seq_along(args)
      got <- as.numeric(to_r(do.call(vmap(row$f), args)))
      want <- vapply(1:3, function(k) as.numeric(to_r(do.call(row$f, sets[[k]]))), 0)
      expect_equal(got, want, tolerance = 1e-10, label = paste(row$name, "vmap"))
      g <- grad(row$f, wrt = wrt[[1]])
      gv <- to_r(do.call(vmap(g), args))
      for (k in 1:3) {
        expect_equal(as.numeric(slice_last(as.array(gv), k)), as.numeric(to_r(do.call(g, sets[[k]]))),
                     tolerance = 1e-10, label = paste(row$name, "vmap(grad)"))
      }
    })
  })
}
