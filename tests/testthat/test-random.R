# Random numbers with explicit keys (R/random.R, src/prims/random.cpp).

u32 <- function(h) {  # a hex word as the i32 of its bit pattern
  v <- strtoi(substr(h, 1, 4), 16) * 65536 + strtoi(substr(h, 5, 8), 16)
  as.integer(if (v >= 2^31) v - 2^32 else v)
}
threefry <- function(key, ctr) {
  r <- rjax:::rj_bind("rng_threefry", list(rj_array(vapply(key, u32, 1L), dtype = "i32"),
                                           rj_array(array(vapply(ctr, u32, 1L), 2), dtype = "i32")))
  v <- as_r(r) %% 2^32
  sprintf("%04x%04x", as.integer(v %/% 65536), as.integer(v %% 65536))
}

test_that("threefry2x32-20 passes Random123's known-answer vectors", {
  # kat_vectors: threefry2x32 20 <ctr0 ctr1> <key0 key1> -> <out0 out1>
  expect_equal(threefry(c("00000000", "00000000"), c("00000000", "00000000")), c("6b200159", "99ba4efe"))
  expect_equal(threefry(c("ffffffff", "ffffffff"), c("ffffffff", "ffffffff")), c("1cb996fc", "bb002be7"))
  expect_equal(threefry(c("13198a2e", "03707344"), c("243f6a88", "85a308d3")), c("c4923a9c", "483df7a0"))
})

test_that("keys, split, fold_in and uniform give JAX's bits", {
  expect_equal(as_r(rj_key(0)), c(0L, 0L))
  expect_equal(as_r(rj_key(42)), c(0L, 42L))
  expect_equal(as_r(rj_key(2^32 + 5)), c(1L, 5L))
  # jax.random.split(PRNGKey(0))
  expect_equal(as_r(rj_split(rj_key(0))) %% 2^32, matrix(c(4146024105, 967050713, 2718843009, 1272950319), 2))
  # jax.random.uniform(PRNGKey(0)) and normal(PRNGKey(0)) in float32
  expect_equal(as_r(rj_uniform(rj_key(0), dtype = "f32")), 0.41845703, tolerance = 1e-7)
  expect_equal(as_r(rj_normal(rj_key(0), dtype = "f32")), -0.20584226, tolerance = 1e-6)
  k2 <- rj_fold_in(rj_key(0), 7)
  expect_equal(as_r(k2), as_r(rjax:::rj_bind("rng_threefry", list(rj_key(0), rj_array(c(0L, 7L), dtype = "i32")))))
  expect_false(identical(as_r(rj_fold_in(rj_key(0), 8)), as_r(k2)))
  expect_error(rj_uniform(c(1, 2, 3), 2), class = "rjax_type_error")
})

test_that("draws are identical eagerly, under jit on both backends, under vmap and inside scan", {
  key <- rj_key(123)
  f <- function(k) list(u = rj_uniform(k, 5), n = rj_normal(k, c(2, 2)), e = rj_exponential(k, 3),
                        b = rj_bernoulli(k, 0.3, 4), c = rj_categorical(k, log(c(0.2, 0.5, 0.3)), 6),
                        g = rj_gamma(k, c(0.5, 2, 9)), p = rj_poisson(k, c(0.5, 4, 40)), s = rj_permutation(k, 7))
  eager <- to_r(f(key))
  expect_equal(to_r(jit(f)(key)), eager)
  expect_equal(to_r(jit(f, backend = "interp")(key)), eager)
  keys <- rj_split(key, 4)
  vm <- to_r(vmap(f)(keys))
  for (k in 1:4) {
    one <- to_r(f(as_r(keys)[, k]))
    expect_equal(vm$u[, k], one$u)
    expect_equal(vm$n[, , k], one$n)
    expect_equal(vm$g[, k], one$g)
    expect_equal(vm$p[, k], one$p)
    expect_equal(vm$s[, k], one$s)
    expect_equal(vm$c[, k], one$c)
  }
  # inside scan: one key per step
  body <- function(c, k) list(c + sum(rj_normal(k, 3)), rj_uniform(k, 2))
  r <- scan(body, 0, keys)
  expect_equal(as_r(r$ys)[, 3], as_r(rj_uniform(as_r(keys)[, 3], 2)))
  expect_equal(as_r(jit(function(ks) scan(body, 0, ks)$carry)(keys)), as_r(r$carry))
})

test_that("each sampler has the right moments and distribution (KS / chi-squared, fixed seed)", {
  ks <- rj_split(rj_key(2024), 8)
  k <- function(i) as_r(ks)[, i]
  n <- 20000
  u <- as_r(rj_uniform(k(1), n, min = 2, max = 5))
  expect_gt(min(u), 2); expect_lt(max(u), 5)
  expect_gt(stats::ks.test(u, "punif", 2, 5)$p.value, 0.001)
  z <- as_r(rj_normal(k(2), n, mean = 1, sd = 2))
  expect_equal(mean(z), 1, tolerance = 0.05); expect_equal(sd(z), 2, tolerance = 0.05)
  expect_gt(stats::ks.test(z, "pnorm", 1, 2)$p.value, 0.001)
  e <- as_r(rj_exponential(k(3), n, rate = 3))
  expect_equal(mean(e), 1 / 3, tolerance = 0.03)
  expect_gt(stats::ks.test(e, "pexp", 3)$p.value, 0.001)
  for (a in c(0.3, 1, 4.5)) {
    g <- as_r(rj_gamma(k(4), rep(a, n), rate = 2))
    expect_equal(mean(g), a / 2, tolerance = 0.05)
    expect_equal(var(g), a / 4, tolerance = 0.1)
    expect_gt(stats::ks.test(g, "pgamma", a, 2)$p.value, 0.001)
  }
  for (lam in c(3, 50)) {
    p <- as_r(rj_poisson(rj_fold_in(k(5), lam), rep(lam, n)))
    expect_type(p, "integer")
    expect_equal(mean(p), lam, tolerance = 0.03); expect_equal(var(p), lam, tolerance = 0.08)
    br <- c(-1, stats::qpois(seq(0.1, 0.9, 0.1), lam), Inf)
    obs <- table(cut(p, unique(br)))
    pr <- diff(stats::ppois(unique(br), lam))
    expect_gt(stats::chisq.test(obs, p = pr / sum(pr))$p.value, 0.001)
  }
  b <- as_r(rj_bernoulli(k(6), 0.3, n))
  expect_type(b, "logical")
  expect_equal(mean(b), 0.3, tolerance = 0.03)
  pr <- c(0.2, 0.5, 0.3)
  cc <- as_r(rj_categorical(k(7), log(pr), n))
  expect_gt(stats::chisq.test(table(factor(cc, 1:3)), p = pr)$p.value, 0.001)
  pm <- as_r(rj_permutation(k(8), 10))
  expect_setequal(pm, 1:10)
  firsts <- vapply(1:2000, function(i) as_r(rj_permutation(rj_fold_in(k(8), i), 4))[[1]], 1L)
  expect_gt(stats::chisq.test(table(firsts))$p.value, 0.001)
  expect_equal(sort(as_r(rj_permutation(k(8), c(5, 6, 7)))), c(5, 6, 7))
})

test_that("f32 draws and vmap over keys of a Newton-style start", {
  x <- as_r(rj_uniform(rj_key(1), c(3, 100), dtype = "f32"))
  expect_equal(dim(x), c(3L, 100L))
  starts <- vmap(function(k) rj_uniform(k, 3, min = -1, max = 1))(rj_split(rj_key(5), 100))
  expect_equal(dim(as_r(starts)), c(3L, 100L))
  expect_true(all(abs(as_r(starts)) < 1))
})
