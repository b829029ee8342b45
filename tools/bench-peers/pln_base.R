# Base R peer: the JAX tutorial's PLN fit with hand-written gradients.
#   Rscript pln_base.R DATA_DIR ITERS [slip|correct]
# DATA_DIR holds Y.bin and O.bin (float64, column-major, n x p) and dims.txt.
# Prints one CSV line: impl,dtype,config,seconds,loss
args <- commandArgs(trailingOnly = TRUE)
dir <- args[[1]]; iters <- as.integer(args[[2]]); slip <- identical(args[3], "slip")
dims <- scan(file.path(dir, "dims.txt"), quiet = TRUE); n <- dims[[1]]; p <- dims[[2]]
Y <- matrix(readBin(file.path(dir, "Y.bin"), "double", n * p), n)
O <- matrix(readBin(file.path(dir, "O.bin"), "double", n * p), n)
X <- matrix(1, n, 1)
k <- pmax(Y, 1); stir <- sum(log(sqrt(2 * pi * k)) + k * log(k / exp(1)))
radam <- function(g, st, b1 = 0.9, b2 = 0.999, eps = 1e-8, threshold = 5) {
  rho_inf <- 2 / (1 - b2) - 1
  st$m <- b1 * st$m + (1 - b1) * g; st$v <- b2 * st$v + (1 - b2) * g^2; st$t <- st$t + 1; t <- st$t
  rho <- rho_inf - 2 * t * b2^t / (1 - b2^t)
  mhat <- st$m / (1 - b1^t); vhat <- st$v / (1 - b2^t)
  u <- if (rho >= threshold) sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)) * mhat / (sqrt(vhat) + eps) else mhat
  list(u = pmin(pmax(-u, -0.1), 0.1), st = st)
}
t0 <- proc.time()[["elapsed"]]
B <- matrix(0, 1, p); M <- matrix(0, n, p); S <- matrix(1, n, p)
sts <- lapply(1:3, function(i) list(m = 0, v = 0, t = 0))
for (it in seq_len(iters)) {
  Sigma <- (crossprod(M) + diag(colSums(S^2))) / n
  Om <- solve(Sigma)
  S2 <- S^2; Z <- O + X %*% B + M; A <- exp(Z + S2 / 2)
  MOm <- if (slip) M else M %*% Om
  tr <- sum(MOm * M) + sum(colSums(S2) * diag(Om))
  loss <- -(n / 2 * determinant(Om)$modulus + sum(Y * Z - A + 0.5 * log(S2)) - 0.5 * tr + n * p / 2 - stir)
  gB <- -crossprod(X, Y - A)
  gM <- -((Y - A) - MOm)
  gS <- -(-A * S + 1 / S - S * rep(diag(Om), each = n))
  r <- radam(gB, sts[[1]]); B <- B + r$u; sts[[1]] <- r$st
  r <- radam(gM, sts[[2]]); M <- M + r$u; sts[[2]] <- r$st
  r <- radam(gS, sts[[3]]); S <- S + r$u; sts[[3]] <- r$st
}
cat(sprintf("base_R,f64,hand-written gradients,%.3f,%.6g\n", proc.time()[["elapsed"]] - t0, loss))
