# The JAX tutorial's PLN fit rebuilt in R with rjax, at the tutorial's
# "levels" (see vignettes/pln-timings.Rmd), plus base R with hand-written
# gradients. Sourced by the vignette and by tools/bench-peers/run.R.
#
# The objective is the tutorial's, with its slip in the trace term when
# slip = TRUE (same cost either way; ALGORITHMS.md). Sigma is the closed form
# of the current M, S at the start of each iteration, used as a constant.
# Every level returns list(seconds, compile_seconds, loss = loss per iteration).

tut_loss <- function(B, M, S, Omega, Y, O, X, stir, slip) {
  n <- nrow(Y); p <- ncol(Y)
  S2 <- S * S
  Z <- O + X %*% B + M
  A <- exp(Z + S2 / 2)
  MOm <- if (slip) M else M %*% Omega
  tr <- sum(MOm * M) + sum(colSums(S2) * diag(Omega))
  -(n / 2 * determinant(Omega)$modulus + sum(Y * Z - A + 0.5 * log(S2)) - 0.5 * tr + n * p / 2 - stir)
}

tut_omega <- function(M, S) solve((crossprod(M) + diag(colSums(S * S))) / nrow(M))

tut_stirling <- function(Y) {
  k <- pmax(Y, 1)
  sum(log(sqrt(2 * pi * k)) + k * log(k / exp(1)))
}

tut_opt <- function() rjax::opt_chain(rjax::opt_scale_by_radam(), rjax::opt_scale(-1), rjax::opt_clip(0.1))

tut_init <- function(Y, dtype) {
  n <- nrow(Y); p <- ncol(Y)
  a <- function(x) rjax::rj_array(x, dtype = dtype)
  list(B = a(matrix(0, 1, p)), M = a(matrix(0, n, p)), S = a(matrix(1, n, p)))
}

tut_data <- function(Y, O, dtype) {
  a <- function(x) rjax::rj_array(x, dtype = dtype)
  list(Y = a(Y), O = a(O), X = a(matrix(1, nrow(Y), 1)), stir = tut_stirling(Y))
}

# One iteration on a parameter list: loss, gradient, RAdam chain update.
tut_step_fn <- function(slip, vg, opt) {
  function(params, opt_state, data) {
    Omega <- tut_omega(params$M, params$S)
    r <- vg(params, Omega, data$Y, data$O, data$X, data$stir)
    u <- opt$update(r$grad, opt_state, params)
    list(params = rjax::apply_updates(params, u$updates), opt_state = u$state, loss = r$value)
  }
}

tut_vg <- function(slip) {
  rjax::value_and_grad(function(params, Omega, Y, O, X, stir) {
    tut_loss(params$B, params$M, params$S, Omega, Y, O, X, stir, slip)
  })
}

elapsed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  force(expr)
  proc.time()[["elapsed"]] - t0
}

# Level 0, no jit: every gradient is traced again and run op by op by the
# interpreter (no fusion, no cache), the optimiser runs as eager operations.
tut_level0 <- function(Y, O, iters, dtype = "f32", slip = FALSE) {
  data <- tut_data(Y, O, dtype); params <- tut_init(Y, dtype); opt <- tut_opt()
  st <- opt$init(params)
  loss <- numeric(iters)
  secs <- elapsed(for (i in seq_len(iters)) {
    vg <- rjax::jit(tut_vg(slip), backend = "interp")  # a new function: no cache, as without jit
    r <- tut_step_fn(slip, vg, opt)(params, st, data)
    params <- r$params; st <- r$opt_state; loss[[i]] <- as.vector(r$loss)
  })
  list(seconds = secs, compile_seconds = NA_real_, loss = loss)
}

# Level 1: jit of the loss-and-gradient and of the update, an R for loop.
tut_level1 <- function(Y, O, iters, dtype = "f32", slip = FALSE, backend = getOption("rjax.backend")) {
  data <- tut_data(Y, O, dtype); params <- tut_init(Y, dtype); opt <- tut_opt()
  st <- opt$init(params)
  vg <- rjax::jit(tut_vg(slip), backend = backend)
  upd <- rjax::jit(function(g, st, params) {
    u <- opt$update(g, st, params)
    list(params = rjax::apply_updates(params, u$updates), st = u$state)
  }, backend = backend)
  omega <- rjax::jit(tut_omega, backend = backend)
  comp <- elapsed({
    Om <- omega(params$M, params$S)
    r <- vg(params, Om, data$Y, data$O, data$X, data$stir)
    upd(r$grad, st, params)
  })
  loss <- numeric(iters)
  secs <- elapsed(for (i in seq_len(iters)) {
    Om <- omega(params$M, params$S)
    r <- vg(params, Om, data$Y, data$O, data$X, data$stir)
    u <- upd(r$grad, st, params)
    params <- u$params; st <- u$st; loss[[i]] <- as.vector(r$value)
  })
  list(seconds = secs, compile_seconds = comp, loss = loss)
}

# Level 2: the whole fit is one compiled program, a scan over iterations.
# Parameters travel as separate arrays B, M, S in the carry.
tut_level2 <- function(Y, O, iters, dtype = "f32", slip = FALSE, backend = getOption("rjax.backend")) {
  data <- tut_data(Y, O, dtype); p0 <- tut_init(Y, dtype); opt <- tut_opt()
  vg <- rjax::value_and_grad(function(B, M, S, Omega, Y, O, X, stir) tut_loss(B, M, S, Omega, Y, O, X, stir, slip),
                             wrt = c("B", "M", "S"))
  fit <- rjax::jit(function(B, M, S, st, Y, O, X, stir) {
    body <- function(carry, x) {
      Omega <- tut_omega(carry$M, carry$S)
      r <- vg(carry$B, carry$M, carry$S, Omega, Y, O, X, stir)
      u <- opt$update(r$grad, carry$st, list(B = carry$B, M = carry$M, S = carry$S))
      np <- rjax::apply_updates(list(B = carry$B, M = carry$M, S = carry$S), u$updates)
      list(list(B = np$B, M = np$M, S = np$S, st = u$state), r$value)
    }
    rjax::scan_loop(body, list(B = B, M = M, S = S, st = st), length = iters)
  }, backend = backend)
  st <- opt$init(list(B = p0$B, M = p0$M, S = p0$S))
  lowered <- rjax::jit_lower(fit, p0$B, p0$M, p0$S, st, data$Y, data$O, data$X, data$stir)
  comp <- elapsed(exe <- rjax::jit_compile(lowered))
  secs <- elapsed(r <- exe(p0$B, p0$M, p0$S, st, data$Y, data$O, data$X, data$stir))
  list(seconds = secs, compile_seconds = comp, loss = as.vector(r$ys))
}

# Level 3/4: as level 2, with the parameters in one named-list pytree.
tut_level3 <- function(Y, O, iters, dtype = "f32", slip = FALSE, backend = getOption("rjax.backend")) {
  data <- tut_data(Y, O, dtype); params <- tut_init(Y, dtype); opt <- tut_opt()
  step <- tut_step_fn(slip, tut_vg(slip), opt)
  fit <- rjax::jit(function(params, st, data) {
    rjax::scan_loop(function(carry, x) {
      r <- step(carry$params, carry$st, data)
      list(list(params = r$params, st = r$opt_state), r$loss)
    }, list(params = params, st = st), length = iters)
  }, backend = backend)
  st <- opt$init(params)
  lowered <- rjax::jit_lower(fit, params, st, data)
  comp <- elapsed(exe <- rjax::jit_compile(lowered))
  secs <- elapsed(r <- exe(params, st, data))
  list(seconds = secs, compile_seconds = comp, loss = as.vector(r$ys))
}

# Base R with hand-written gradients (the same algorithm; f64).
tut_base_r <- function(Y, O, iters, slip = FALSE) {
  n <- nrow(Y); p <- ncol(Y); X <- matrix(1, n, 1); stir <- tut_stirling(Y)
  radam <- function(g, st, b1 = 0.9, b2 = 0.999, eps = 1e-8, threshold = 5) {
    rho_inf <- 2 / (1 - b2) - 1
    st$m <- b1 * st$m + (1 - b1) * g; st$v <- b2 * st$v + (1 - b2) * g^2; st$t <- st$t + 1; t <- st$t
    rho <- rho_inf - 2 * t * b2^t / (1 - b2^t)
    mhat <- st$m / (1 - b1^t); vhat <- st$v / (1 - b2^t)
    u <- if (rho >= threshold) sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)) * mhat / (sqrt(vhat) + eps) else mhat
    list(u = pmin(pmax(-u, -0.1), 0.1), st = st)
  }
  B <- matrix(0, 1, p); M <- matrix(0, n, p); S <- matrix(1, n, p)
  sts <- lapply(1:3, function(i) list(m = 0, v = 0, t = 0))
  loss <- numeric(iters)
  secs <- elapsed(for (it in seq_len(iters)) {
    Om <- base::solve((base::crossprod(M) + base::diag(base::colSums(S^2))) / n)
    S2 <- S^2; Z <- O + X %*% B + M; A <- exp(Z + S2 / 2)
    MOm <- if (slip) M else M %*% Om
    loss[[it]] <- -(n / 2 * determinant(Om)$modulus + sum(Y * Z - A + 0.5 * log(S2)) -
                      0.5 * (sum(MOm * M) + sum(base::colSums(S2) * base::diag(Om))) + n * p / 2 - stir)
    gB <- -base::crossprod(X, Y - A); gM <- -((Y - A) - MOm); gS <- -(-A * S + 1 / S - S * rep(base::diag(Om), each = n))
    r <- radam(gB, sts[[1]]); B <- B + r$u; sts[[1]] <- r$st
    r <- radam(gM, sts[[2]]); M <- M + r$u; sts[[2]] <- r$st
    r <- radam(gS, sts[[3]]); S <- S + r$u; sts[[3]] <- r$st
  })
  list(seconds = secs, compile_seconds = NA_real_, loss = loss)
}

# oaks repeated `rep` times when ../shared is present, simulated data of the
# same shape otherwise.
tut_load_data <- function(rep = 100L, shared = c("../shared", "../../shared", "../../../shared")) {
  d <- Filter(function(s) file.exists(file.path(s, "data/oaks/counts.csv")), shared)
  if (length(d)) {
    f <- file.path(d[[1L]], "data/oaks")
    Y <- unname(as.matrix(utils::read.csv(file.path(f, "counts.csv"))))
    O <- unname(log(as.matrix(utils::read.csv(file.path(f, "offsets.csv")))))
    src <- "oaks"
  } else {
    set.seed(42)
    sim <- rjax::pln_simulate(116, 114, depth = 8)
    Y <- sim$Y; O <- sim$O
    src <- "simulated (oaks-shaped)"
  }
  idx <- rep(seq_len(nrow(Y)), times = rep)
  list(Y = Y[idx, , drop = FALSE] + 0, O = O[idx, , drop = FALSE], source = src, rep = rep)
}
