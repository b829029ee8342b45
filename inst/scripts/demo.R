# rjax demo: trace, compile and differentiate a Poisson log-normal ELBO.
# Uses the oaks data from ../shared when present, simulated data otherwise.
suppressPackageStartupMessages(library(rjax))

oaks <- file.path("..", "shared", "data", "oaks")
if (file.exists(file.path(oaks, "counts.csv"))) {
  Y <- as.matrix(read.csv(file.path(oaks, "counts.csv")))
  O <- log(as.matrix(read.csv(file.path(oaks, "offsets.csv"))))
  source_name <- "oaks (116 leaves x 114 taxa)"
} else {
  set.seed(1)
  n <- 116; p <- 114
  O <- matrix(log(runif(n * p, 500, 5000)), n)
  Y <- matrix(rpois(n * p, exp(O - 7)), n)
  source_name <- "simulated data (116 x 114)"
}
dimnames(Y) <- dimnames(O) <- NULL
n <- nrow(Y); p <- ncol(Y)
X <- matrix(1, n, 1)
cli::cli_h1("rjax demo on {source_name}")

# The PLN evidence lower bound with Omega = solve(Sigma) given (ALGORITHMS.md).
elbo <- function(B, M, S, Y, O, X, Omega) {
  S2 <- S * S
  Z <- O + X %*% B + M
  A <- exp(Z + S2 / 2)
  n <- nrow(Y)
  n / 2 * determinant(Omega)$modulus +
    sum(Y * Z - A + 0.5 * log(S2)) -
    0.5 * sum((M %*% Omega) * M) -
    0.5 * sum(colSums(S2) * diag(Omega))
}

B <- matrix(colMeans(log(Y + 1) - O), 1)
M <- matrix(0, n, p); S <- matrix(0.5, n, p); Omega <- diag(p)

cli::cli_h2("The traced program (make_ir)")
print(make_ir(elbo)(B, M, S, Y, O, X, Omega))

cli::cli_h2("Values and timings")
time_it <- function(f, reps = 20) {
  f()
  t <- system.time(for (i in seq_len(reps)) f())[["elapsed"]]
  t / reps * 1e3
}
jelbo <- jit(elbo)
vg <- jit(value_and_grad(elbo, wrt = c("B", "M", "S")))
base_val <- elbo(B, M, S, Y, O, X, Omega)
jit_val <- as.vector(jelbo(B, M, S, Y, O, X, Omega))
cli::cli_alert_info("ELBO (constant terms left out): base R {format(base_val, digits = 10)}, rjax jit {format(jit_val, digits = 10)}")
res <- vg(B, M, S, Y, O, X, Omega)
dM_analytic <- (Y - exp(O + X %*% B + M + S^2 / 2)) - M %*% Omega
cli::cli_alert_info("max |grad M - analytic| = {signif(max(abs(as.matrix(res$grad$M) - dM_analytic)), 3)}")
tab <- data.frame(
  what = c("base R ELBO", "rjax jit ELBO", "rjax jit value_and_grad"),
  ms = c(time_it(function() elbo(B, M, S, Y, O, X, Omega)),
         time_it(function() jelbo(B, M, S, Y, O, X, Omega)),
         time_it(function() vg(B, M, S, Y, O, X, Omega)))
)
tab$ms <- round(tab$ms, 3)
print(tab, row.names = FALSE)
cli::cli_alert_success("done")
