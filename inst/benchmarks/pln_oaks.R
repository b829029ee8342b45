# pln_fit() on oaks with the default control, against PLNmodels' published
# values (inst/benchmark/compare_backends_results.csv in PLN-team/PLNmodels:
# builtin Newton backend, full covariance). Each model is fitted in a fresh
# R process ("cold": the run includes tracing and compiling) and then again
# in the same process ("warm": jit's cache). Writes bench/results/pln_oaks.csv.
#
# Run from the repository root: Rscript inst/benchmarks/pln_oaks.R
# (needs ../shared/data/oaks; set RJAX_SHARED to point elsewhere).

shared <- Sys.getenv("RJAX_SHARED", file.path("..", "shared"))
oaks_dir <- file.path(shared, "data", "oaks")
if (!file.exists(file.path(oaks_dir, "counts.csv"))) stop("pln_oaks.R needs ", oaks_dir)

models <- c(intercept = "Abundance ~ 1 + offset(log(Offset))", tree = "Abundance ~ 0 + tree + offset(log(Offset))")
plnmodels <- data.frame(
  model = names(models),
  builtin_loglik = c(-32028.47, -31386.55), builtin_s = c(3.8, 2.6),
  nlopt_loglik = c(-32048.50, -31405.29), torch_loglik = c(-32042.18, -31455.96)
)

one_model <- sprintf('
suppressPackageStartupMessages(library(rjax))
d <- "%s"
Y <- as.matrix(read.csv(file.path(d, "counts.csv"))); Off <- as.matrix(read.csv(file.path(d, "offsets.csv")))
cov <- read.csv(file.path(d, "covariates.csv"), stringsAsFactors = TRUE)
cov$tree <- factor(cov$tree, levels = c("susceptible", "intermediate", "resistant"))
oaks <- pln_data(Y, cov, Off)
f <- as.formula(commandArgs(TRUE)[[1]])
tm <- function() { t0 <- proc.time(); fit <- pln_fit(f, oaks); t1 <- proc.time() - t0; list(fit, t1) }
a <- tm(); b <- tm()
cat(sprintf("RESULT %%.4f %%d %%s %%.3f %%.3f %%.3f %%.3f\\n", a[[1]]$loglik, a[[1]]$n_iter, a[[1]]$converged,
            a[[2]][["elapsed"]], a[[2]][["user.self"]], b[[2]][["elapsed"]], b[[2]][["user.self"]]))
', normalizePath(oaks_dir))
script <- tempfile(fileext = ".R")
writeLines(one_model, script)
rs <- file.path(R.home("bin"), "Rscript")
rows <- lapply(names(models), function(m) {
  out <- system2(rs, c(script, shQuote(models[[m]])), stdout = TRUE)
  v <- strsplit(sub("^RESULT ", "", grep("^RESULT", out, value = TRUE)), " ")[[1]]
  data.frame(model = m, formula = models[[m]], loglik = as.numeric(v[1]), iterations = as.integer(v[2]),
             converged = as.logical(v[3]), cold_s = as.numeric(v[4]), cold_cpu_s = as.numeric(v[5]),
             warm_s = as.numeric(v[6]), warm_cpu_s = as.numeric(v[7]))
})
res <- merge(do.call(rbind, rows), plnmodels, by = "model", sort = FALSE)
res$ahead_of_builtin <- res$loglik - res$builtin_loglik
res$speedup_cold_vs_builtin <- res$builtin_s / res$cold_s
res$load <- paste(utils::head(strsplit(readLines("/proc/loadavg"), " ")[[1]], 3L), collapse = " ")
dir.create(file.path("bench", "results"), recursive = TRUE, showWarnings = FALSE)
utils::write.csv(res, file.path("bench", "results", "pln_oaks.csv"), row.names = FALSE)
print(res[, c("model", "loglik", "builtin_loglik", "ahead_of_builtin", "iterations", "converged",
              "cold_s", "cold_cpu_s", "warm_s", "warm_cpu_s", "builtin_s")], row.names = FALSE)
