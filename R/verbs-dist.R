# Traced densities and distribution functions (stats' d/p/q functions that
# likelihoods are written with). Each tv_<name> is called with stats'
# formals; with no rjax value among the arguments it is stats' function.
# Otherwise the log-density is composed from differentiable primitives
# (lgamma, log, log1p, ...), so gradients come from their rules: nothing here
# defines a derivative. Parameters recycle as R's arithmetic does.
#
# Support and edge cases give R's values. Outside the support (x < 0 for
# dpois, ...) the formula is evaluated at a harmless point and replaced by
# -Inf ("double where"), so that neither a spurious "NaNs produced" warning
# nor a NaN gradient leaks from the branch that is not taken. Invalid
# parameters (sd < 0, lambda < 0, ...) give NaN; where the formula takes the
# log of the bad parameter, the native "NaNs produced" warning is R's.

rj_ln_sqrt_2pi <- 0.918938533204672741780329736406  # log(sqrt(2 pi))

# Log-density -> density or log-density, as `log` asks.
dist_out <- function(ld, log) if (check_flag(log, "log")) ld else exp(ld)

# Log-probability of a lower-tail log-probability -> what lower.tail/log.p ask.
# `lp_lower`, `lp_upper`: log P(X <= q), log P(X > q).
prob_out <- function(lp_lower, lp_upper, lower.tail, log.p) {
  lp <- if (check_flag(lower.tail, "lower.tail")) lp_lower else lp_upper
  if (check_flag(log.p, "log.p")) lp else exp(lp)
}

# Replaces x where `bad` by a harmless value (double where).
safe_at <- function(bad, x, harmless) where(bad, harmless, x)

# R's R_nonint(): not within 1e-7 (relative) of a whole number.
dist_nonint <- function(x) abs(x - round(x)) > 1e-7 * pmax(1, abs(x))

# R warns "non-integer x = ..." (once per element) and gives density 0. When
# x is plain R data that is known while tracing, so the warning is R's.
warn_nonint <- function(x) {
  if (!is_rj_value(x) && is.numeric(x)) {
    bad <- x[is.finite(x) & abs(x - round(x)) > 1e-7 * pmax(1, abs(x))]
    for (v in bad) warning(sprintf("non-integer x = %f", v), call. = FALSE)
  }
}

# log(choose(n, k)) for the (recycled) whole numbers n >= k >= 0.
dist_lchoose <- function(n, k) lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)

# x * log(y) with 0 where x == 0 (so 0 * log(0) is 0, as in R's densities).
dist_xlogy <- function(x, y) where(x == 0, 0, x * log(safe_at(x == 0, y, 1)))

# log(1 + exp(t)) without overflow, smooth at 0 (both branches evaluated at
# points where they are finite).
log1pexp <- function(t) {
  pos <- t > 0
  tp <- where(pos, t, 0)
  tn <- where(pos, 0, t)
  where(pos, tp + log1p(exp(-tp)), log1p(exp(tn)))
}

# log(1 - exp(x)) for x <= 0, R's R_Log1_Exp.
log1mexp <- function(x) {
  near <- x > -0.693147180559945309417232121458
  where(near, log(-expm1(where(near, x, -1))), log1p(-exp(where(near, -1, x))))
}

tv_dnorm <- function(x, mean = 0, sd = 1, log = FALSE) {
  if (!rj_any_value(x, mean, sd)) return(stats::dnorm(x, mean, sd, log))
  z <- (x - mean) / safe_at(sd == 0, sd, 1)
  ld <- -0.5 * z * z - base::log(safe_at(sd == 0, sd, 1)) - rj_ln_sqrt_2pi
  # sd = 0: a point mass at the mean (R: Inf there, 0 elsewhere)
  ld <- where(sd == 0, where(x == mean, Inf, -Inf), ld)
  dist_out(ld, log)
}

tv_dpois <- function(x, lambda, log = FALSE) {
  if (!rj_any_value(x, lambda)) return(stats::dpois(x, lambda, log))
  warn_nonint(x)
  out <- x < 0 | dist_nonint(x)
  xs <- safe_at(out, x, 0)
  ld <- dist_xlogy(xs, lambda) - lambda - lgamma(xs + 1)
  dist_out(where(out, -Inf, ld), log)
}

tv_dbinom <- function(x, size, prob, log = FALSE) {
  if (!rj_any_value(x, size, prob)) return(stats::dbinom(x, size, prob, log))
  warn_nonint(x)
  out <- x < 0 | x > size | dist_nonint(x)
  xs <- safe_at(out, x, 0)
  ns <- safe_at(out, size, 0)
  rest <- ns - xs
  # (size - x) * log(1 - prob) through log1p, accurate where prob is small
  ld <- dist_lchoose(ns, xs) + dist_xlogy(xs, prob) +
    where(rest == 0, 0, rest * log1p(-safe_at(rest == 0, prob, 0)))
  bad <- prob < 0 | prob > 1 | size < 0 | dist_nonint(size)
  dist_out(where(bad, NaN, where(out, -Inf, ld)), log)
}

tv_dnbinom <- function(x, size, prob, mu, log = FALSE) {
  call <- match.call()
  if (!rj_any_value(x, size, if (!missing(prob)) prob, if (!missing(mu)) mu)) {
    return(forward_to_base(stats::dnbinom, call, parent.frame(), list()))
  }
  if (!missing(mu) && !missing(prob)) rj_abort("type", "dnbinom(): 'prob' and 'mu' both specified")
  warn_nonint(x)
  out <- x < 0 | dist_nonint(x)
  xs <- safe_at(out, x, 0)
  lc <- lgamma(xs + size) - lgamma(size) - lgamma(xs + 1)
  ld <- if (!missing(mu)) {
    # prob = size / (size + mu): size * log(prob) = -size * log1p(mu / size)
    lc - size * log1p(mu / size) + dist_xlogy(xs, mu) - dist_xlogy(xs, size + mu)
  } else {
    lc + size * log(prob) + where(xs == 0, 0, xs * log1p(-safe_at(xs == 0, prob, 0)))
  }
  dist_out(where(out, -Inf, ld), log)
}

tv_dgamma <- function(x, shape, rate = 1, scale = 1 / rate, log = FALSE) {
  if (!rj_any_value(x, shape, if (!missing(rate)) rate, if (!missing(scale)) scale)) {
    return(forward_to_base(stats::dgamma, match.call(), parent.frame(), list()))
  }
  if (!missing(rate) && !missing(scale)) {
    rj_abort("type", "dgamma(): specify 'rate' or 'scale' but not both")
  }
  pos <- x > 0
  xs <- safe_at(!pos, x, 1)
  ld <- -lgamma(shape) - shape * base::log(scale) + (shape - 1) * base::log(xs) - xs / scale
  # x = 0: Inf for shape < 1, the rate for shape == 1, 0 for shape > 1
  at0 <- where(shape < 1, Inf, where(shape == 1, -base::log(scale), -Inf))
  ld <- where(pos, ld, where(x == 0, at0, -Inf))
  dist_out(where(shape < 0 | scale <= 0, NaN, ld), log)
}

tv_dbeta <- function(x, shape1, shape2, ncp = 0, log = FALSE) {
  if (!rj_any_value(x, shape1, shape2, ncp)) {
    return(forward_to_base(stats::dbeta, match.call(), parent.frame(), list()))
  }
  if (!missing(ncp)) rj_unsupported("dbeta(ncp =)", "Only the central beta density is traced; leave out 'ncp'.")
  inside <- x > 0 & x < 1
  xs <- safe_at(!inside, x, 0.5)
  a <- shape1; b <- shape2
  lbeta <- lgamma(a) + lgamma(b) - lgamma(a + b)
  ld <- (a - 1) * base::log(xs) + (b - 1) * log1p(-xs) - lbeta
  # the end points: Inf, the limit b (resp. a) or 0 by the exponent's sign
  at0 <- where(a < 1, Inf, where(a == 1, base::log(b), -Inf))
  at1 <- where(b < 1, Inf, where(b == 1, base::log(a), -Inf))
  ld <- where(inside, ld, where(x == 0, at0, where(x == 1, at1, -Inf)))
  dist_out(where(a < 0 | b < 0, NaN, ld), log)
}

tv_dexp <- function(x, rate = 1, log = FALSE) {
  if (!rj_any_value(x, rate)) return(stats::dexp(x, rate, log))
  ld <- base::log(rate) - rate * safe_at(x < 0, x, 0)
  dist_out(where(x < 0, -Inf, ld), log)
}

tv_dlnorm <- function(x, meanlog = 0, sdlog = 1, log = FALSE) {
  if (!rj_any_value(x, meanlog, sdlog)) return(stats::dlnorm(x, meanlog, sdlog, log))
  pos <- x > 0
  lx <- base::log(safe_at(!pos, x, 1))
  ld <- tv_dnorm(lx, meanlog, sdlog, log = TRUE) - lx
  dist_out(where(pos, ld, -Inf), log)
}

tv_dt <- function(x, df, ncp, log = FALSE) {
  if (!rj_any_value(x, df, if (!missing(ncp)) ncp)) {
    return(forward_to_base(stats::dt, match.call(), parent.frame(), list()))
  }
  if (!missing(ncp)) rj_unsupported("dt(ncp =)", "Only the central t density is traced; leave out 'ncp'.")
  ok <- df > 0
  dfs <- safe_at(!ok, df, 1)
  ld <- lgamma((dfs + 1) / 2) - lgamma(dfs / 2) - 0.5 * base::log(dfs * pi) -
    (dfs + 1) / 2 * log1p(x * x / dfs)
  dist_out(where(ok, ld, NaN), log)
}

tv_dlogis <- function(x, location = 0, scale = 1, log = FALSE) {
  if (!rj_any_value(x, location, scale)) return(stats::dlogis(x, location, scale, log))
  z <- abs((x - location) / scale)
  ld <- -z - base::log(scale) - 2 * log1pexp(-z)
  dist_out(where(scale <= 0, NaN, ld), log)
}

tv_dweibull <- function(x, shape, scale = 1, log = FALSE) {
  if (!rj_any_value(x, shape, scale)) return(stats::dweibull(x, shape, scale, log))
  pos <- x > 0
  xs <- safe_at(!pos, x, 1) / scale
  ld <- base::log(shape / scale) + (shape - 1) * base::log(xs) - xs^shape
  at0 <- where(shape < 1, Inf, where(shape == 1, -base::log(scale), -Inf))
  ld <- where(pos, ld, where(x == 0, at0, -Inf))
  dist_out(where(shape <= 0 | scale <= 0, NaN, ld), log)
}

tv_dunif <- function(x, min = 0, max = 1, log = FALSE) {
  if (!rj_any_value(x, min, max)) return(stats::dunif(x, min, max, log))
  ld <- where(x >= min & x <= max, -base::log(max - min), -Inf)
  dist_out(where(max < min, NaN, ld), log)
}

tv_plogis <- function(q, location = 0, scale = 1, lower.tail = TRUE, log.p = FALSE) {
  if (!rj_any_value(q, location, scale)) return(stats::plogis(q, location, scale, lower.tail, log.p))
  z <- (q - location) / scale
  out <- prob_out(-log1pexp(-z), -log1pexp(z), lower.tail, log.p)
  where(scale <= 0, NaN, out)
}

tv_qlogis <- function(p, location = 0, scale = 1, lower.tail = TRUE, log.p = FALSE) {
  if (!rj_any_value(p, location, scale)) return(stats::qlogis(p, location, scale, lower.tail, log.p))
  lower <- check_flag(lower.tail, "lower.tail")
  z <- if (check_flag(log.p, "log.p")) {
    if (lower) p - log1mexp(p) else log1mexp(p) - p
  } else {
    if (lower) base::log(p / (1 - p)) else base::log((1 - p) / p)
  }
  where(scale < 0, NaN, location + scale * z)
}

tv_pexp <- function(q, rate = 1, lower.tail = TRUE, log.p = FALSE) {
  if (!rj_any_value(q, rate)) return(stats::pexp(q, rate, lower.tail, log.p))
  t <- rate * safe_at(q < 0, q, 0)  # P(X > q) = exp(-t)
  out <- prob_out(log1mexp(-t), -t, lower.tail, log.p)
  neg <- prob_out(-Inf, 0, lower.tail, log.p)
  where(q <= 0, neg, out)
}
