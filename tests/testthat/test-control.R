# Control flow: scan, fori_loop, while_loop, cond.

r_of <- function(x) if (is.list(x)) lapply(x, r_of) else if (methods::is(x, "rj_array")) as_r(x) else x

test_that("scan matches an R loop (carry, stacked ys, both backends, eager)", {
  set.seed(1)
  A <- matrix(rnorm(9) / 3, 3)
  U <- matrix(rnorm(3 * 7), 3)
  h0 <- c(1, -1, 0.5)
  ref_h <- h0
  ref_ys <- matrix(0, 3, 7)
  ref_s <- numeric(7)
  for (t in 1:7) {
    ref_h <- tanh(drop(A %*% ref_h) + U[, t])
    ref_ys[, t] <- ref_h
    ref_s[t] <- sum(ref_h^2)
  }
  f <- function(h0, U) scan_loop(function(h, u) {
    h <- tanh(A %*% h + u)
    list(h, list(h = h, s = sum(h^2)))
  }, h0, U)
  for_backends({
    out <- jit(f)(h0, U)
    expect_equal(as.vector(as_r(out$carry)), ref_h, tolerance = 1e-12, label = backend)
    # y = A %*% h is a [3, 1] matrix: stacked along a new last dimension
    expect_equal(dim(out$ys$h), c(3L, 1L, 7L))
    expect_equal(as.vector(as_r(out$ys$h)), as.vector(ref_ys), tolerance = 1e-12)
    expect_equal(as_r(out$ys$s), ref_s, tolerance = 1e-12)
  })
  eager <- f(h0, U)
  expect_equal(as.vector(as_r(eager$ys$h)), as.vector(ref_ys), tolerance = 1e-12)
})

test_that("scan: reverse, length without xs, zero length, rank-0 ys", {
  x <- c(1, 2, 3, 4)
  for_backends({
    out <- jit(function(x) scan_loop(function(c, v) list(c + v, c + v), 0, x, reverse = TRUE))(x)
    expect_equal(as_r(out$ys), rev(cumsum(rev(x))), label = backend)
    expect_equal(as_r(out$carry), 10)
    cnt <- jit(function(s) scan_loop(function(c, x) list(c * 2, c), s, length = 5))(1)
    expect_equal(as_r(cnt$carry), 32)
    expect_equal(as_r(cnt$ys), c(1, 2, 4, 8, 16))
    z <- jit(function(s) scan_loop(function(c, x) list(c + 1, c * 2), s, length = 0))(c(1, 2))
    expect_equal(as_r(z$carry), c(1, 2))
    expect_equal(dim(z$ys), c(2L, 0L))
  })
  # xs as a list of arrays, ys NULL; eager call
  out <- scan_loop(function(c, x) list(c + x$a * x$b, NULL), 0, list(a = 1:3, b = c(2, 2, 2)))
  expect_equal(as_r(out$carry), 12)
  expect_null(out$ys)
  # a single R number as xs is one slice
  expect_equal(as_r(scan_loop(function(c, x) list(c + x, x * 2), 1, 5)$ys), 10)
})

test_that("scan carries nested lists and optimizer-like states", {
  step <- function(s, g) {
    m <- 0.9 * s$m + 0.1 * g
    v <- 0.99 * s$v + 0.01 * g^2
    list(list(m = m, v = v, t = s$t + 1L), m / (sqrt(v) + 1e-8))
  }
  G <- matrix(seq(0.1, 1.2, length.out = 12), 3)
  init <- list(m = numeric(3), v = numeric(3), t = 0L)
  ref <- init
  for (k in 1:4) ref <- step(ref, G[, k])[[1]]
  for_backends({
    out <- jit(function(init, G) scan_loop(step, init, G))(init, G)
    expect_equal(as_r(out$carry$m), ref$m, tolerance = 1e-12)
    expect_equal(as_r(out$carry$v), ref$v, tolerance = 1e-12)
    expect_equal(as_r(out$carry$t), 4L)
    expect_equal(dim(out$ys), c(3L, 4L))
  })
})

test_that("fori_loop is inclusive, skips upper < lower, and takes traced bounds", {
  for_backends({
    expect_equal(as_r(jit(function(s) fori_loop(1, 10, function(i, s) s + i, s))(0)), 55, label = backend)
    expect_equal(as_r(jit(function(s) fori_loop(5, 4, function(i, s) s + i, s))(7)), 7)
    expect_equal(as_r(jit(function(s) fori_loop(3, 3, function(i, s) s * i, s))(2)), 6)
    traced <- jit(function(s, lo, hi) fori_loop(lo, hi, function(i, s) s + i, s))
    expect_equal(as_r(traced(0, 1L, 10L)), 55)
    expect_equal(as_r(traced(0, 5L, 4L)), 0)
  })
  expect_equal(as_r(fori_loop(1, 4, function(i, x) x * 2, c(1, 2))), c(16, 32))
})

test_that("the tutorial loop agrees with base R under fori_loop", {
  set.seed(2)
  n <- 6
  A <- diag(n) * 4 + matrix(rnorm(n * n) / 10, n)
  B <- matrix(rnorm(n * n) / 10, n)
  x0 <- rnorm(n)
  ref <- x0
  for (i in 1:20) ref <- drop(B %*% ref + solve(A, ref) + sqrt(sum(ref^2)) / 100)
  f <- function(x, A, B) fori_loop(1, 20, function(i, x) B %*% x + solve(A, x) + sqrt(sum(x^2)) / 100, x)
  for_backends({
    expect_equal(as.vector(as_r(jit(f)(x0, A, B))), ref, tolerance = 1e-10, label = backend)
  })
})

test_that("while_loop runs to its condition, eagerly and compiled", {
  newton <- function(x) while_loop(function(s) abs(s$x^2 - 2) > 1e-12,
                                   function(s) list(x = s$x - (s$x^2 - 2) / (2 * s$x), n = s$n + 1L),
                                   list(x = x, n = 0L))
  for_backends({
    out <- jit(newton)(1)
    expect_equal(as_r(out$x), sqrt(2), tolerance = 1e-12, label = backend)
    expect_equal(as_r(out$n), 5L)
    # condition false at once
    expect_equal(as_r(jit(newton)(sqrt(2))$n), 0L)
  })
  out <- while_loop(function(c) c < 100, function(c) c * 3, 1)
  expect_equal(as_r(out), 243)
})

test_that("cond picks a branch on traced and R predicates", {
  f <- function(x) cond(sum(x) > 0, function(x) x * 2, function(x) -x, x)
  for_backends({
    expect_equal(as_r(jit(f)(c(1, 2))), c(2, 4), label = backend)
    expect_equal(as_r(jit(f)(c(-1, -2))), c(1, 2))
  })
  expect_equal(cond(TRUE, function(a, b) a + b, function(a, b) a - b, 1, 2), 3)
  expect_equal(cond(FALSE, function(a, b) a + b, function(a, b) a - b, 1, 2), -1)
  # several outputs, a weakly typed branch output, captured values
  y <- rj_array(c(1, 2, 3), dtype = "f32")
  g <- jit(function(x, p) cond(p > 0, function(x) list(a = x * y, b = 0), function(x) list(a = x, b = sum(x)), x))
  out <- g(rj_array(c(1, 1, 1), dtype = "f32"), 1)
  expect_equal(dtype(out$a), "f32")
  expect_equal(as_r(out$a), c(1, 2, 3))
  expect_equal(dtype(out$b), "f32")
})

test_that("gradients of scan agree with finite differences (1000 steps)", {
  set.seed(3)
  n <- 3
  A <- matrix(rnorm(n * n) / 3, n)
  U <- matrix(rnorm(n * 1000) / 10, n)
  loss <- function(h0, w) {
    out <- scan_loop(function(h, u) {
      h <- tanh(A %*% h * w + u)
      list(h, sum(h))
    }, h0, U)
    sum(out$carry^2) + sum(out$ys) / 1000
  }
  h0 <- c(0.5, -0.2, 0.1)
  w <- 1.1
  num <- function(h0, w) {
    h <- h0
    s <- 0
    for (t in 1:1000) {
      h <- tanh(drop(A %*% h) * w + U[, t])
      s <- s + sum(h)
    }
    sum(h^2) + s / 1000
  }
  fd_h <- fd_grad(function(v) num(v, w), h0)
  fd_w <- fd_grad(function(v) num(h0, v), w)
  for_backends({
    g <- jit(grad(loss, wrt = 1:2))(h0, w)
    expect_equal(as.vector(as_r(g$h0)), fd_h, tolerance = 1e-6, label = backend)
    expect_equal(as_r(g$w), fd_w, tolerance = 1e-6)
  })
  g <- grad(loss, wrt = 1:2)(h0, w)  # eager grad
  expect_equal(as.vector(as_r(g$h0)), fd_h, tolerance = 1e-6)
})

test_that("gradients flow to xs, through reverse scans and fori_loop", {
  xs <- c(0.5, 1.5, -0.3, 2)
  f <- function(xs, a) scan_loop(function(c, x) list(c * a + sin(x), c * x), 1, xs, reverse = TRUE)
  loss <- function(xs, a) { o <- f(xs, a); o$carry + sum(o$ys^2) }
  num <- function(xs, a) {
    c <- 1
    s <- 0
    for (t in rev(seq_along(xs))) { s <- s + (c * xs[t])^2; c <- c * a + sin(xs[t]) }
    c + s
  }
  for_backends({
    g <- jit(grad(loss, wrt = 1:2))(xs, 0.7)
    expect_equal(as_r(g$xs), fd_grad(function(v) num(v, 0.7), xs), tolerance = 1e-7, label = backend)
    expect_equal(as_r(g$a), fd_grad(function(v) num(xs, v), 0.7), tolerance = 1e-7)
  })
  pw <- function(x) fori_loop(1, 5, function(i, y) y * x + i, x)
  expect_equal(as_r(grad(function(x) sum(pw(x)))(c(0.3, 1.2))),
               fd_grad(function(v) sum(sapply(v, function(x) { y <- x; for (i in 1:5) y <- y * x + i; y })), c(0.3, 1.2)),
               tolerance = 1e-6)
})

test_that("gradients of cond follow the branch taken", {
  f <- function(x) sum(cond(sum(x) > 0, function(x) x^2, function(x) sin(x), x))
  for_backends({
    expect_equal(as_r(jit(grad(f))(c(1, 2))), c(2, 4), label = backend)
    expect_equal(as_r(jit(grad(f))(c(-1, -2))), cos(c(-1, -2)))
  })
  # gradient wrt a value the branch captures
  h <- function(x, k) sum(cond(k > 0, function(x) x * k, function(x) x + k, x))
  g <- jit(grad(h, wrt = 1:2))(c(1, 2), 3)
  expect_equal(as_r(g$x), c(3, 3))
  expect_equal(as_r(g$k), 3)
  g <- jit(grad(h, wrt = 1:2))(c(1, 2), -3)
  expect_equal(as_r(g$k), 2)
})

test_that("nested loops: scan inside scan, cond inside scan", {
  inner <- function(c, x) scan_loop(function(a, y) list(a + x * y, NULL), c, c(1, 2, 3))$carry
  f <- function(x0, xs) scan_loop(function(c, x) {
    c2 <- inner(c, x)
    list(c2, cond(c2 > 10, function(v) v - 10, function(v) v, c2))
  }, x0, xs)
  ref_c <- 0
  ref_y <- numeric(4)
  xs <- c(1, 0.5, 2, -1)
  for (t in 1:4) {
    ref_c <- ref_c + xs[t] * 6
    ref_y[t] <- if (ref_c > 10) ref_c - 10 else ref_c
  }
  for_backends({
    out <- jit(f)(0, xs)
    expect_equal(as_r(out$carry), ref_c, label = backend)
    expect_equal(as_r(out$ys), ref_y)
  })
  g <- jit(grad(function(x0, xs) sum(f(x0, xs)$ys), wrt = 2))(0, xs)
  expect_equal(as_r(g), fd_grad(function(v) {
    c <- 0; s <- 0
    for (t in 1:4) { c <- c + v[t] * 6; s <- s + if (c > 10) c - 10 else c }
    s
  }, xs), tolerance = 1e-6)
})

test_that("loop bodies capture arrays as constants and traced values as inputs", {
  w <- rj_array(c(1, 2), dtype = "f64")
  f <- function(x, k) scan_loop(function(c, i) list(c + w * k, NULL), x, length = 3)$carry
  for_backends({
    expect_equal(as_r(jit(f)(c(0, 0), 2)), c(6, 12), label = backend)
  })
  expect_equal(as_r(jit(grad(function(x, k) sum(f(x, k)), wrt = 2))(c(0, 0), 2)), 9)
})

test_that("a weakly typed init takes the dtype the body gives it", {
  x <- rj_array(c(1, 2), dtype = "f32")
  out <- jit(function(x) fori_loop(1, 3, function(i, s) s + x, c(0, 0)))(x)
  expect_equal(dtype(out), "f32")
  expect_equal(as_r(out), c(3, 6))
})

test_that("errors: carry type changes, wrong structure, while_loop gradients, bad cond branches", {
  x32 <- rj_array(c(1, 2, 3), dtype = "f32")
  expect_error(jit(function(m) scan_loop(function(s, x) list(list(m = as_dtype(s$m, "f32")), NULL), list(m = m), length = 2))(rj_array(c(1, 2, 3))),
               class = "rjax_type_error", regexp = "carry\\$m changes from f64\\[3\\] to f32\\[3\\]")
  expect_error(jit(function(m) scan_loop(function(s, x) list(sum(s), NULL), m, length = 2))(c(1, 2, 3)),
               class = "rjax_type_error", regexp = "changes from f64\\[3\\] to f64\\[\\]")
  expect_error(scan_loop(function(s, x) list(list(s, s), NULL), 1, length = 2), class = "rjax_type_error", regexp = "structure")
  expect_error(scan_loop(function(s, x) s, 1, length = 2), class = "rjax_type_error", regexp = "list\\(carry, y\\)")
  expect_error(scan_loop(function(s, x) list(s, x), 1), class = "rjax_type_error", regexp = "length")
  expect_error(grad(function(x) while_loop(function(s) s < 10, function(s) s * 2, x))(1), class = "rjax_grad_error")
  expect_error(jit(function(x) cond(sum(x) > 0, function(x) x, function(x) sum(x), x))(c(1, 2)),
               class = "rjax_type_error", regexp = "f64\\[2\\] and false_fun returns f64\\[\\]")
  expect_error(jit(function(x) cond(sum(x) > 0, function(x) x, function(x) list(x), x))(c(1, 2)),
               class = "rjax_type_error", regexp = "structure")
  expect_error(jit(function(x) cond(x > 0, function(x) x, function(x) x, x))(c(1, 2)), class = "rjax_shape_error")
  # R `if` on a traced value points to cond() and while_loop()
  expect_error(jit(function(x) if (sum(x) > 0) x else -x)(1), class = "rjax_concretization_error", regexp = "cond\\(")
  expect_error(jit(function(x) { while (x > 0) x <- x - 1; x })(1), class = "rjax_concretization_error", regexp = "while_loop")
})

test_that("make_ir shows the loop with its body", {
  ir <- make_ir(function(x) scan_loop(function(c, v) list(c * v, NULL), 1, x)$carry)(c(1, 2, 3))
  expect_match(format(ir), "scan\\[length=3")
})
