# rjax demo (make demo): fit a Poisson log-normal model with pln_fit() on the
# oaks data (../shared/data/oaks when present, simulated data otherwise),
# print the fit summary, then time the ELBO and its gradient: base R against
# rjax's compiled code.
suppressPackageStartupMessages(library(rjax))

oaks <- file.path("..", "shared", "data", "oaks")
if (file.exists(file.path(oaks, "counts.csv"))) {
  Y <- as.matrix(read.csv(file.path(oaks, "counts.csv")))
  Off <- as.matrix(read.csv(file.path(oaks, "offsets.csv")))
  covs <- read.csv(file.path(oaks, "covariates.csv"), stringsAsFactors = TRUE)
  covs$tree <- factor(covs$tree, levels = c("susceptible", "intermediate", "resistant"))
  source_name <- "oaks (116 leaves x 114 taxa)"
} else {
  sim <- pln_simulate(116, 114, d = 1, depth = 8, seed = 1)
  Y <- sim$Y; Off <- round(exp(sim$O)); covs <- data.frame(tree = gl(3, 1, 116))
  source_name <- "simulated data (116 x 114; ../shared/data/oaks is absent)"
}
data <- pln_data(Y, covs, Off)
cli::cli_h1("rjax demo: Poisson log-normal fit on {source_name}")

fit <- pln_fit(Abundance ~ 1 + offset(log(Offset)), data, control = pln_control(max_iter = 1000, progress = TRUE))
print(summary(fit))
cli::cli_text("PLNmodels' log-likelihood on oaks (~ 1): -32028.47 (ALGORITHMS.md)")
fit_tree <- pln_fit(Abundance ~ tree + offset(log(Offset)), data, control = pln_control(max_iter = 1000))
print(fit_tree)
cli::cli_text("PLNmodels' log-likelihood on oaks (~ tree): -31386.55")

cli::cli_h2("ELBO and gradient at the tutorial's size (rows x 100, n = {100 * nrow(Y)}): base R vs rjax, median of 10 runs")
rows <- rep(seq_len(nrow(Y)), 100)
n <- length(rows); p <- ncol(Y)
Yd <- unname(Y)[rows, ] + 0; O <- unname(log(Off))[rows, ]; X <- matrix(1, n, 1)
elbo <- function(B, M, S, Y, O, X, Omega) {
  S2 <- S * S
  Z <- O + X %*% B + M
  A <- exp(Z + S2 / 2)
  nrow(Y) / 2 * determinant(Omega)$modulus + sum(Y * Z - A + 0.5 * log(S2)) -
    0.5 * sum((M %*% Omega) * M) - 0.5 * sum(colSums(S2) * diag(Omega))
}
grads_by_hand <- function(B, M, S, Y, O, X, Omega) {
  A <- exp(O + X %*% B + M + S^2 / 2)
  list(B = crossprod(X, Y - A), M = (Y - A) - M %*% Omega, S = -A * S + 1 / S - S * rep(diag(Omega), each = nrow(Y)))
}
B <- fit$B; M <- fit$M[rows, ]; S <- fit$S[rows, ]; Omega <- fit$Omega
med <- function(f, reps = 10) { f(); median(vapply(seq_len(reps), function(i) system.time(f())[["elapsed"]], 0)) * 1e3 }
jelbo <- jit(elbo)
vg <- jit(value_and_grad(elbo, wrt = c("B", "M", "S")))
args <- lapply(list(B, M, S, Yd, O, X, Omega), rj_array)
r <- do.call(vg, args)
err <- max(abs(as.matrix(r$grad$M) - grads_by_hand(B, M, S, Yd, O, X, Omega)$M))
tab <- data.frame(
  computation = c("ELBO", "ELBO + gradients (B, M, S)"),
  base_R_ms = c(med(function() elbo(B, M, S, Yd, O, X, Omega)),
                med(function() { elbo(B, M, S, Yd, O, X, Omega); grads_by_hand(B, M, S, Yd, O, X, Omega) })),
  rjax_ms = c(med(function() do.call(jelbo, args)), med(function() do.call(vg, args)))
)
tab$speedup <- round(tab$base_R_ms / tab$rjax_ms, 1)
print(tab, row.names = FALSE, digits = 3)
cli::cli_alert_info("max |autodiff - hand-written gradient of M| = {signif(err, 3)}")
cli::cli_alert_success("done")
