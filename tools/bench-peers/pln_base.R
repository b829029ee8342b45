# Base R peer: the JAX tutorial's PLN fit with hand-written gradients.
#   Rscript pln_base.R DATA_DIR ITERS [slip|correct]
# DATA_DIR holds Y.bin and O.bin (float64, column-major, n x p) and dims.txt.
# Prints one CSV line: impl,dtype,config,seconds,loss,blas
args <- commandArgs(trailingOnly = TRUE)
dir <- args[[1]]; iters <- as.integer(args[[2]]); slip <- identical(args[3], "slip")
dims <- scan(file.path(dir, "dims.txt"), quiet = TRUE); n <- dims[[1]]; p <- dims[[2]]
Y <- matrix(readBin(file.path(dir, "Y.bin"), "double", n * p), n)
O <- matrix(readBin(file.path(dir, "O.bin"), "double", n * p), n)
# The loop itself is tut_base_r() of inst/benchmarks/pln_levels.R (one copy).
source("inst/benchmarks/pln_levels.R")
r <- tut_base_r(Y, O, iters, slip = slip)
# R's BLAS as sessionInfo() reports it (Debian's alternatives decide it).
blas <- gsub(",", ";", normalizePath(sessionInfo()$BLAS, mustWork = FALSE))
cat(sprintf("base_R,f64,hand-written gradients,%.3f,%.6g,%s (OPENBLAS_CORETYPE=%s)\n", r$seconds, r$loss[[iters]], blas,
            Sys.getenv("OPENBLAS_CORETYPE", "default")))
