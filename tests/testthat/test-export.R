# jit_export() / jit_import(): round trips in this and in fresh R processes,
# signature checks, bad files, and rjax-run on exported programs.

test_that("the core's version is the package's", {
  p <- tempfile(fileext = ".rjax")
  jit_export(jit(function(x) x + 1), 1, file = p)
  expect_identical(attr(jit_import(p), "rjax")$rjax_version, as.character(utils::packageVersion("rjax")))
})

for (backend in rjax:::rj_backends()) {
  test_that(paste("export/import round trip is bit-identical:", backend), {
    f <- function(x, p, k) list(total = sum(exp(x) * p$a) + k, m = crossprod(x, x) / p$b, i = p$i + 1L)
    jf <- jit(f, static = "k", backend = backend)
    x <- matrix(seq(-1, 1, length.out = 12), 4)
    p <- list(a = rj_array(matrix(1:12 / 7, 4), dtype = "f32"), b = 3, i = 5:7)
    path <- tempfile(fileext = ".rjax")
    expect_identical(jit_export(jf, x, p, k = 2, file = path), path)
    g <- jit_import(path)
    expect_s3_class(g, "rjax_compiled")
    want <- jf(x, p, k = 2)
    got <- g(x, p, k = 2)
    expect_identical(names(got), c("total", "m", "i"))
    for (nm in names(want)) expect_identical(as.array(got[[nm]]), as.array(want[[nm]]))
    expect_identical(dtype(got$total), dtype(want$total))
    expect_output(print(g), "inputs:  x f64\\[4,3\\], p\\$a f32\\[4,3\\]")
    # another signature, or another static value, is refused
    expect_error(g(x[1:2, ], p, k = 2), class = "rjax_signature_error")
    expect_error(g(x, p, k = 3), class = "rjax_signature_error")
    # a jit_lower() result exports the same program
    path2 <- tempfile(fileext = ".rjax")
    jit_export(jit_lower(jf, x, p, k = 2), file = path2)
    expect_identical(readBin(path2, "raw", 1e6), readBin(path, "raw", 1e6))
  })
}

test_that("an imported program gives the same bits in a fresh R process", {
  set.seed(1)
  x <- matrix(rnorm(30), 6)
  w <- rnorm(5)
  for (backend in rjax:::rj_backends()) {
    jf <- jit(function(x, w) sum(log1p(exp(x %*% w))) + sum(x^2) / 3, backend = backend)
    path <- tempfile(fileext = ".rjax")
    jit_export(jf, x, w, file = path)
    xs <- tempfile(fileext = ".rds")
    saveRDS(list(x = x, w = w), xs)
    out <- tempfile(fileext = ".rds")
    res <- run_child(c("library(rjax)",
                       sprintf("a <- readRDS('%s'); g <- jit_import('%s')", xs, path),
                       sprintf("saveRDS(as.array(g(a$x, a$w)), '%s')", out),
                       "report('ok', 1)"))
    expect_identical(res[["ok"]], "1")
    expect_identical(readRDS(out), as.array(jf(x, w)), label = backend)
  }
})

test_that("bad program files give rjax_format_error, never a crash", {
  jf <- jit(function(x) sum(x * 2))
  path <- tempfile(fileext = ".rjax")
  jit_export(jf, c(1, 2, 3), file = path)
  bytes <- readBin(path, "raw", 1e6)
  bad <- tempfile()
  writeBin(bytes[1:(length(bytes) - 5)], bad)
  expect_error(jit_import(bad), class = "rjax_format_error", regexp = "truncated")
  b2 <- bytes
  b2[length(b2) - 10] <- as.raw(bitwXor(as.integer(b2[length(b2) - 10]), 1L))
  writeBin(b2, bad)
  expect_error(jit_import(bad), class = "rjax_format_error", regexp = "checksum")
  b3 <- bytes
  b3[9] <- as.raw(7)
  writeBin(b3, bad)
  expect_error(jit_import(bad), class = "rjax_format_error", regexp = "format version 7")
  writeBin(charToRaw("not a program"), bad)
  expect_error(jit_import(bad), class = "rjax_format_error")
  expect_error(jit_import(tempfile()), class = "rjax_io_error")
  # random damage in R too (the C++ fuzz test does thousands)
  set.seed(3)
  for (i in 1:40) {
    b <- bytes
    k <- sample(length(b), 2)
    b[k] <- as.raw(sample(0:255, 2))
    if (i %% 2) b <- b[seq_len(sample(length(b) - 1, 1))]
    writeBin(b, bad)
    r <- tryCatch({ jit_import(bad); "parsed" }, rjax_format_error = function(e) "format")
    expect_true(r %in% c("parsed", "format"))
  }
})

test_that("rjax-run runs an exported PLN step and agrees with R", {
  exe <- rjax_run_path()
  expect_true(file.exists(exe))
  expect_match(paste(system2(exe, "--help", stdout = TRUE), collapse = "\n"), "--repeat N")
  set.seed(5)
  d <- grad_pln_data(30, 4, 2)
  pr <- pln_params(30, 4, 2)
  # one gradient-ascent step of the PLN ELBO in (B, M, S), gradients by rjax
  step <- function(B, M, S, Y, X, O, Omega) {
    vg <- value_and_grad(grad_pln_elbo, wrt = 1:3)(B, M, S, Y, X, O, Omega)
    list(elbo = vg$value, B = B + 1e-3 * vg$grad[[1]], M = M + 1e-3 * vg$grad[[2]], S = S + 1e-3 * vg$grad[[3]])
  }
  args <- list(B = pr$B, M = pr$M, S = pr$S, Y = d$Y, X = d$X, O = d$O, Omega = pr$Omega)
  dir <- tempfile()
  dir.create(dir)
  prog <- file.path(dir, "step.rjax")
  ins <- vapply(names(args), function(nm) {
    f <- file.path(dir, paste0(nm, ".npy"))
    rj_write_npy(args[[nm]], f)
    paste0(nm, "=", f)
  }, "")
  for (be in rjax:::rj_backends()) {
    jf <- jit(step, backend = be)
    want <- do.call(jf, args)
    do.call(jit_export, c(list(jf), args, list(file = prog)))
    info <- system2(exe, c(shQuote(prog), "--info"), stdout = TRUE)
    expect_true(any(grepl("Y i32\\[30,4\\]", info)))
    out <- system2(exe, c(shQuote(prog), shQuote(ins), "--backend", be, "--out", shQuote(dir), "--repeat", "3"),
                   stdout = TRUE, stderr = TRUE)
    expect_true(any(grepl("^repeat=3 median_ms=[0-9.]+ min_ms=[0-9.]+", out)), info = paste(out, collapse = "\n"))
    got <- lapply(1:4, function(k) as.array(rj_read_npy(file.path(dir, paste0("out", k, ".npy")))))
    # same backend, same program: the same bits as R's run
    for (k in 1:4) expect_identical(got[[k]], as.array(want[[k]]), label = paste(be, names(want)[k]))
  }
  # positional inputs work too; a missing input is a clear error (status 1)
  out <- system2(exe, c(shQuote(prog), shQuote(sub("^[A-Za-z]+=", "", ins)), "--no-out"), stdout = TRUE, stderr = TRUE)
  expect_null(attr(out, "status"))
  bad <- suppressWarnings(system2(exe, c(shQuote(prog), shQuote(ins[-1])), stdout = TRUE, stderr = TRUE))
  expect_identical(attr(bad, "status"), 1L)
  expect_match(paste(bad, collapse = "\n"), "input 1 \\(B, f64\\[2,4\\]\\) is missing")
  run_bad <- function(...) {
    r <- suppressWarnings(system2(exe, c(...), stdout = TRUE, stderr = TRUE))
    list(status = attr(r, "status"), text = paste(r, collapse = "\n"))
  }
  wrong <- file.path(dir, "wrong.npy")
  rj_write_npy(matrix(0, 3, 3), wrong)
  r <- run_bad(shQuote(prog), shQuote(c(paste0("B=", wrong), ins[-1])))
  expect_identical(r$status, 1L)
  expect_match(r$text, "is f64\\[3,3\\], the program takes f64\\[2,4\\]")
  r <- run_bad(shQuote(prog), shQuote(ins), "--backend", "tpu")
  expect_identical(r$status, 1L)
  expect_match(r$text, "unknown backend 'tpu'")
  r <- run_bad(shQuote(prog), "--repeat", "zero")
  expect_identical(r$status, 2L)
  r <- run_bad(shQuote(wrong))
  expect_identical(r$status, 1L)
  expect_match(r$text, "not an rjax program")
  r <- run_bad(shQuote(prog), shQuote(paste0("nope=", wrong)))
  expect_match(r$text, "has no input 'nope'")
})

test_that("rjax-run runs the PLN fit's compiled chunk (scan of RAdam steps) as R does", {
  ns <- asNamespace("rjax")
  skip_if_not(all(c("pln_chunk_fn", "pln_step_fn", "pln_optimizer") %in% ls(ns, all.names = TRUE)))
  exe <- rjax_run_path()
  sim <- pln_simulate(40, 5, seed = 3)
  Y <- sim$Y
  X <- matrix(1, nrow(Y), 1)
  O <- sim$O
  ctrl <- pln_control(max_iter = 5)
  arr <- function(x) rj_array(x, dtype = ctrl$dtype)
  L <- log1p(Y) - O
  XtX <- crossprod(X)
  B0 <- solve(XtX, crossprod(X, L))
  M0 <- L - X %*% B0
  S0 <- matrix(0.5, nrow(Y), ncol(Y))
  data <- list(Y = arr(Y), X = arr(X), O = arr(O), XtX = arr(XtX))
  opt <- ns$pln_optimizer(ctrl)
  st <- list(M = arr(M0), S = arr(S0), B = arr(B0), Sigma = arr((crossprod(M0) + diag(colSums(S0^2))) / nrow(Y)))
  st$opt <- opt$init(list(M = st$M, S = st$S))
  dir <- tempfile()
  dir.create(dir)
  prog <- file.path(dir, "chunk.rjax")
  for (be in rjax:::rj_backends()) {
    chunk <- ns$pln_chunk_fn(ns$pln_step_fn(opt), be)
    want <- chunk(st, data, 4L)
    jit_export(chunk, st, data, 4L, file = prog)
    # inputs by their argument paths (st$M, st$opt$..., data$Y, ...)
    info <- system2(exe, c(shQuote(prog), "--info"), stdout = TRUE)
    labels <- sub("^ +[0-9]+ (\\S+) .*$", "\\1", grep("^ +[0-9]+ ", info[seq_len(which(info == "outputs:") - 1L)], value = TRUE))
    leaves <- rjax:::tree_flatten(list(st = st, data = data))
    paths <- sub("^\\$", "", leaves$paths)
    expect_setequal(labels, paths)
    ins <- vapply(seq_along(paths), function(k) {
      f <- file.path(dir, sprintf("in%d.npy", k))
      rj_write_npy(leaves$leaves[[k]], f)
      paste0(paths[[k]], "=", f)
    }, "")
    out <- system2(exe, c(shQuote(prog), shQuote(ins), "--backend", be, "--out", shQuote(dir)), stdout = TRUE, stderr = TRUE)
    expect_null(attr(out, "status"))
    flat <- rjax:::tree_flatten(want)$leaves
    for (k in seq_along(flat)) {
      got <- as.array(rj_read_npy(file.path(dir, sprintf("out%d.npy", k))))
      expect_identical(got, as.array(flat[[k]]), label = paste(be, "output", k))
    }
  }
})

test_that("non-ASCII names in the argument tree survive export", {
  nm <- "\u00e9t\u00e9"
  jf <- jit(function(p) sum(p[[nm]] * 2))
  arg <- stats::setNames(list(c(1, 2, 3)), nm)
  path <- tempfile(fileext = ".rjax")
  jit_export(jf, arg, file = path)
  g <- jit_import(path)
  expect_identical(as.array(g(arg)), as.array(jf(arg)))
})
