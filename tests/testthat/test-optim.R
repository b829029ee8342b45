# Plain R transcriptions of ALGORITHMS.md / optax, used as references.
ref_radam_step <- function(p, g, st, b1 = 0.9, b2 = 0.999, eps = 1e-8, eps_root = 0, threshold = 5) {
  rho_inf <- 2 / (1 - b2) - 1
  st$m <- b1 * st$m + (1 - b1) * g
  st$v <- b2 * st$v + (1 - b2) * g^2
  st$t <- st$t + 1
  t <- st$t
  rho <- rho_inf - 2 * t * b2^t / (1 - b2^t)
  mhat <- st$m / (1 - b1^t)
  vhat <- st$v / (1 - b2^t)
  if (rho >= threshold) {
    r <- sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    u <- r * mhat / (sqrt(vhat + eps_root) + eps)
  } else {
    u <- mhat
  }
  list(u = u, st = st)
}

ref_adam_step <- function(g, st, b1 = 0.9, b2 = 0.999, eps = 1e-8) {
  st$m <- b1 * st$m + (1 - b1) * g
  st$v <- b2 * st$v + (1 - b2) * g^2
  st$t <- st$t + 1
  u <- (st$m / (1 - b1^st$t)) / (sqrt(st$v / (1 - b2^st$t)) + eps)
  list(u = u, st = st)
}

# A gradient that changes with the parameters, so trajectories can diverge.
toy_grad <- function(p) sin(3 * p) + p^2 - 0.5

test_that("the tutorial's RAdam chain matches the pseudo-code step by step (10 steps)", {
  set.seed(10)
  p0 <- matrix(rnorm(12), 3)
  opt <- opt_chain(opt_scale_by_radam(), opt_scale(-1), opt_clip(0.1))
  p <- p0; st <- opt$init(p)
  rp <- p0; rst <- list(m = 0 * p0, v = 0 * p0, t = 0)
  for (i in 1:10) {
    step <- opt$update(toy_grad(p), st, p)
    p <- apply_updates(p, step$updates)
    st <- step$state
    r <- ref_radam_step(rp, toy_grad(rp), rst)
    rst <- r$st
    rp <- rp + pmin(pmax(-r$u, -0.1), 0.1)
    expect_equal(as.matrix(p), rp, tolerance = 1e-12)
  }
  expect_equal(as.vector(st[[1]]$t), 10L)
})

test_that("RAdam switches to the rectified update after step 5 (threshold)", {
  opt <- opt_scale_by_radam()
  st <- opt$init(c(0, 0))
  rst <- list(m = c(0, 0), v = c(0, 0), t = 0)
  for (i in 1:8) {
    g <- c(0.3, -2) * i
    r1 <- opt$update(g, st)
    st <- r1$state
    r2 <- ref_radam_step(NULL, g, rst)
    rst <- r2$st
    expect_equal(as.vector(r1$updates), r2$u, tolerance = 1e-12)
  }
})

test_that("Adam, SGD, scale, clip and clip_by_global_norm follow optax", {
  set.seed(11)
  p <- list(a = rnorm(4), b = matrix(rnorm(4), 2))
  opt <- opt_adam(0.01)
  st <- opt$init(p)
  ra <- list(m = 0 * p$a, v = 0 * p$a, t = 0)
  for (i in 1:10) {
    g <- list(a = toy_grad(p$a), b = toy_grad(p$b))
    s <- opt$update(g, st, p)
    r <- ref_adam_step(toy_grad(as.vector(p$a)), ra)
    ra <- r$st
    expect_equal(as.vector(s$updates$a), -0.01 * r$u, tolerance = 1e-12)
    p <- apply_updates(p, s$updates)
    st <- s$state
  }
  g <- list(a = c(3, 4), b = 0)
  expect_equal(as.vector(opt_sgd(0.5)$update(g, list())$updates$a), c(-1.5, -2))
  expect_equal(as.vector(opt_clip(3.5)$update(g, list())$updates$a), c(3, 3.5))
  clipped <- opt_clip_by_global_norm(1)$update(g, list())$updates
  expect_equal(as.vector(clipped$a), c(0.6, 0.8), tolerance = 1e-12)
  kept <- opt_clip_by_global_norm(10)$update(g, list())$updates
  expect_equal(as.vector(kept$a), c(3, 4))
})

test_that("optimisers keep f32 parameters in f32 and trace under jit", {
  set.seed(12)
  p <- rj_array(matrix(rnorm(6), 2), dtype = "f32")
  opt <- opt_radam(0.1)
  st <- opt$init(p)
  step <- jit(function(p, st) {
    s <- opt$update(toy_grad(p), st, p)
    list(p = apply_updates(p, s$updates), st = s$state)
  })
  pe <- p; ste <- st
  for (i in 1:7) {
    r <- step(p, st)
    p <- r$p; st <- r$st
    e <- opt$update(toy_grad(pe), ste, pe)
    pe <- apply_updates(pe, e$updates); ste <- e$state
  }
  expect_equal(dtype(p), "f32")
  expect_equal(as.matrix(p), as.matrix(pe), tolerance = 1e-6)
  expect_output(print(opt), "rjax optimizer")
})

test_that("tree_map checks structures", {
  expect_equal(tree_map(function(a, b) a + b, list(1, 2), list(10, 20)), list(11, 22))
  expect_error(tree_map(`+`, list(1, 2), list(1)), class = "rjax_shape_error")
})
