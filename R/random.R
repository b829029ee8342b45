# Random numbers with explicit keys, as jax.random (kernels in
# src/prims/random.cpp). A key is an i32 vector of length 2; the same key
# always gives the same draws, eagerly, under jit(), under vmap() (over a
# stack of keys from rj_split()) and inside loops, on every backend.

#' Random numbers with explicit keys
#'
#' rjax's random numbers follow `jax.random`: there is no hidden state, a
#' *key* determines the draws. `rj_key(seed)` makes a key, `rj_split(key,
#' n)` derives `n` independent keys (the columns of a `2 x n` matrix; take
#' one with `keys[, k]`), `rj_fold_in(key, data)` derives a key from an
#' integer. The generator is threefry2x32 with 20 rounds (the counter-based
#' cipher of Random123, as in JAX); keys, `rj_split()`, `rj_fold_in()` and
#' `rj_uniform()` give the same bits as JAX's default implementation. Never
#' reuse a key for two draws that should be independent: split it.
#'
#' Samplers: `rj_uniform()` on `[min, max)`, `rj_normal()`,
#' `rj_exponential()`, `rj_bernoulli()` (logical), `rj_categorical()`
#' (1-based categories from log-probabilities, Gumbel-max), `rj_gamma()`
#' (Marsaglia-Tsang), `rj_poisson()` (integer; Knuth for small rates,
#' Hormann's transformed rejection for large ones), `rj_permutation()`.
#' Under [vmap()] over a stack of keys, each lane draws what its key gives
#' alone.
#' @param seed An integer (a double up to 2^53 is split into two 32-bit
#'   words as JAX does with 64-bit seeds).
#' @param key A key (an i32 vector of length 2).
#' @param n Number of keys (`rj_split()`), or the size of the permutation.
#' @param data An integer folded into the key.
#' @param shape Dimensions of the result (`integer()` for a scalar, a
#'   number for a vector).
#' @param dtype `"f64"` (default) or `"f32"`.
#' @param min,max Range of the uniform distribution.
#' @param mean,sd Mean and standard deviation of the normal distribution.
#' @param rate Rate of the exponential distribution, of the gamma
#'   distribution (`rj_gamma()`).
#' @param p Probability of `TRUE`.
#' @param logits Unnormalised log-probabilities of the categories (a vector).
#' @param alpha Shape parameter of the gamma distribution (an array: one
#'   draw per element unless `shape` is given).
#' @param lambda Rates of the Poisson distribution (one draw per element
#'   unless `shape` is given).
#' @param x For `rj_permutation()`: a number `n` (a permutation of `1:n`)
#'   or a vector to shuffle.
#' @return A key, a `2 x n` matrix of keys, or an array of draws.
#' @examples
#' key <- rj_key(42)
#' keys <- rj_split(key, 3)
#' rj_uniform(keys[, 1], 5)
#' rj_normal(keys[, 2], c(2, 3))
#' rj_poisson(keys[, 3], c(0.5, 5, 50))
#' # the same draws under jit and vmap
#' f <- function(k) sum(rj_normal(k, 4))
#' jit(f)(keys[, 1]); f(keys[, 1])
#' vmap(f)(keys)
#' @name rj_random
NULL

#' @rdname rj_random
#' @export
rj_key <- function(seed) {
  if (is_rj_value(seed)) return(rj_concat_keys(0L, as_dtype(seed, "i32")))
  if (!is.numeric(seed) || length(seed) != 1L || is.na(seed) || seed != round(seed) || abs(seed) > 2^53) {
    rj_abort("type", "rj_key(): the seed must be a single whole number (at most 2^53 in absolute value)")
  }
  # JAX: the high and low 32-bit words of the seed (two's complement).
  s <- if (seed < 0) seed + 2^64 else seed
  hi <- floor(s / 2^32) %% 2^32
  lo <- s %% 2^32
  rj_array(c(as_i32_bits(hi), as_i32_bits(lo)), dtype = "i32")
}

# A 32-bit word (0 <= w < 2^32) as the i32 of that bit pattern.
as_i32_bits <- function(w) as.integer(if (w >= 2^31) w - 2^32 else w)

rj_concat_keys <- function(a, b) {
  a <- rj_reshape(as_rj(rj_array(a, dtype = "i32")), 1L)
  b <- rj_reshape(as_dtype(as_rj(b), "i32"), 1L)
  rj_bind("concat", list(a, b), list(ints = 0L))
}

as_key <- function(key) {
  k <- if (is_rj_value(key)) key else rj_array(key, dtype = "i32")
  if (!identical(dtype(k), "i32") || !identical(as.integer(k@shape), 2L)) {
    rj_abort("type", "not a key: a key is an i32 vector of length 2, from rj_key() or rj_split() (one column of its result)")
  }
  k
}

# Words threefry(key, 0:(m - 1)), JAX's _random_bits for m 32-bit words.
random_words <- function(key, m) {
  counts <- rj_array(seq_len(m) - 1L, dtype = "i32")
  if (m == 1L) counts <- rj_reshape(counts, 1L)
  rj_bind("rng_threefry", list(as_key(key), counts))
}

#' @rdname rj_random
#' @export
rj_split <- function(key, n = 2L) {
  n <- as.integer(n)
  rj_reshape(random_words(key, 2L * n), c(2L, n))
}

#' @rdname rj_random
#' @export
rj_fold_in <- function(key, data) {
  d <- if (is_rj_value(data)) as_dtype(data, "i32") else rj_array(as_i32_bits(as.numeric(data) %% 2^32), dtype = "i32")
  counts <- rj_bind("concat", list(rj_array(array(0L, 1), dtype = "i32"), rj_reshape(d, 1L)), list(ints = 0L))
  rj_bind("rng_threefry", list(as_key(key), counts))
}

draw_shape <- function(shape) as.integer(shape)

# Uniform floats in [0, 1) of a shape, from JAX's bits-to-float construction.
unit_uniform <- function(key, shape, dtype) {
  shape <- draw_shape(shape)
  n <- as.integer(if (length(shape)) prod(shape) else 1)
  if (identical(dtype, "f32")) {
    u <- rj_bind("rng_unit", list(random_words(key, n)), list(dtype = "f32"))
  } else if (identical(dtype, "f64")) {
    w <- random_words(key, 2L * n)
    hi <- rj_gather(w, list(seq_len(n) - 1L))
    lo <- rj_gather(w, list(n + seq_len(n) - 1L))
    u <- rj_bind("rng_unit", list(hi, lo), list(dtype = "f64"))
  } else {
    rj_abort("dtype", sprintf("random draws are f32 or f64, not '%s'", dtype))
  }
  rj_reshape(u, shape)
}

#' @rdname rj_random
#' @export
rj_uniform <- function(key, shape = integer(), dtype = "f64", min = 0, max = 1) {
  u <- unit_uniform(key, shape, dtype)
  pmax(min, u * (max - min) + min)
}

#' @rdname rj_random
#' @export
rj_normal <- function(key, shape = integer(), dtype = "f64", mean = 0, sd = 1) {
  # JAX: sqrt(2) erfinv(u) with u uniform on (-1, 1), i.e. qnorm((u + 1) / 2).
  lo <- if (identical(dtype, "f32")) -1 + 2^-24 else -1 + 2^-53
  u <- rj_uniform(key, shape, dtype, lo, 1)
  qnorm((u + 1) / 2) * sd + mean
}

#' @rdname rj_random
#' @export
rj_exponential <- function(key, shape = integer(), dtype = "f64", rate = 1) {
  -log1p(-unit_uniform(key, shape, dtype)) / rate
}

#' @rdname rj_random
#' @export
rj_bernoulli <- function(key, p = 0.5, shape = NULL) {
  if (is.null(shape)) shape <- leaf_shape(p)
  unit_uniform(key, shape, "f64") < p
}

#' @rdname rj_random
#' @export
rj_categorical <- function(key, logits, shape = integer()) {
  logits <- as_rj(logits)
  k <- logits@shape[[1L]]
  shape <- draw_shape(shape)
  n <- as.integer(if (length(shape)) prod(shape) else 1)
  tiny <- 2.2250738585072014e-308
  u <- rj_uniform(key, c(k, n), "f64", tiny, 1)
  g <- -log(-log(u)) + rj_broadcast(rj_reshape(as_dtype(logits, "f64"), c(k, 1L)), c(k, n))
  idx <- rj_bind("argmax", list(g), list(ints = 1L)) + 1L
  rj_reshape(idx, shape)
}

#' @rdname rj_random
#' @export
rj_gamma <- function(key, alpha, shape = NULL, dtype = "f64", rate = 1) {
  a <- param_array(alpha, shape, dtype)
  rj_bind("rng_gamma", list(as_key(key), a)) / rate
}

#' @rdname rj_random
#' @export
rj_poisson <- function(key, lambda, shape = NULL) {
  rj_bind("rng_poisson", list(as_key(key), param_array(lambda, shape, "f64")))
}

# A parameter as a float array of the draws' shape.
param_array <- function(x, shape, dtype) {
  x <- as_dtype(as_rj(x), dtype)
  if (is.null(shape)) return(x)
  shape <- draw_shape(shape)
  if (identical(as.integer(x@shape), shape)) return(x)
  if (length(x@shape)) rj_abort("shape", "a parameter array must be a scalar or have the draws' shape")
  rj_broadcast(x, shape)
}

#' @rdname rj_random
#' @export
rj_permutation <- function(key, x) {
  if (is.numeric(x) && length(x) == 1L && !is_rj_value(x)) {
    return(rj_bind("rng_permutation", list(as_key(key)), list(ints = as.integer(x))))
  }
  x <- as_rj(x)
  n <- x@shape[[1L]]
  p <- rj_bind("rng_permutation", list(as_key(key)), list(ints = as.integer(n)))
  if (length(x@shape) != 1L) rj_abort("shape", "rj_permutation() shuffles a vector (or give n for a permutation of 1:n)")
  # x[p] as a product with the permutation matrix, so that it traces with a traced key
  P <- as_dtype(outer(p, seq_len(n), "=="), dtype(x))
  as.numeric_rj(P %*% x)
}

as.numeric_rj <- function(m) rj_reshape(m, m@shape[[1L]])
