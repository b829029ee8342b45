# The CUDA backend without a GPU (src/backend/cuda/):
#  (a) NVRTC compiles every kernel rendered for the programs below, for
#      sm_90 (skipped where libnvrtc is absent);
#  (b) the same rendered text, compiled as host C++ with the grid shim
#      (backend "cuda-shim": blocks as loops, threads as fibers, shuffles
#      emulated), matches the interpreter on those programs;
#  (c) every error path that needs no device.

cuda_info <- function() .Call(rjax:::C_rjc_cuda_info)
has_nvrtc <- function() isTRUE(cuda_info()$nvrtc)
has_gpu <- function() rjax::rj_cuda_available()
has_cxx <- function() nzchar(Sys.which(Sys.getenv("RJAX_SHIM_CXX", "c++")))

skip_without_shim <- function() skip_if_not(has_cxx(), "no C++ compiler for the CUDA grid shim")

# Lowered program of f at the arguments.
lowered <- function(f, ...) jit_lower(jit(f), ...)

# f on the shim and on the interpreter, as R values, with the warnings
# each raised (sorted messages).
shim_vs_interp <- function(f, ...) {
  lo <- lowered(f, ...)
  to_r <- function(x) if (is.list(x)) lapply(x, to_r) else as_r(x)
  run <- function(backend) {
    w <- character()
    v <- withCallingHandlers(to_r(jit_compile(lo, backend = backend)(...)), warning = function(c) {
      w <<- c(w, conditionMessage(c))
      invokeRestart("muffleWarning")
    })
    list(value = v, warnings = sort(unique(w)))
  }
  s <- run("cuda-shim")
  i <- run("interp")
  list(shim = s$value, interp = i$value, shim_warnings = s$warnings, interp_warnings = i$warnings)
}
expect_shim_agrees <- function(f, ..., tolerance = 1e-12) {
  r <- shim_vs_interp(f, ...)
  expect_equal(r$shim, r$interp, tolerance = tolerance)
  expect_identical(r$shim_warnings, r$interp_warnings)
  invisible(r)
}

# Every element-wise primitive of the registry applied to suitable inputs
# (one output each), as one program: one fused kernel per dtype.
elementwise_names <- function() {
  reg <- as.data.frame(.Call(rjax:::C_rjc_registry), stringsAsFactors = FALSE)
  reg$name[reg$elementwise]
}
all_elementwise <- function(dtype) {
  function(x, y, z, b, c) {
    out <- list()
    for (p in elementwise_names()) {
      out[[p]] <- switch(p,
        acosh = rjax:::rj_bind(p, list(y)),
        psigamma = rjax:::rj_bind(p, list(y), list(ints = 1L)),
        pnorm = , qnorm = rjax:::rj_bind(p, list(x, z * 0.1, y), list(ints = c(1L, 0L))),
        convert = rjax:::rj_bind(p, list(z), list(dtype = "i32")),
        not = rjax:::rj_bind(p, list(b)),
        and = , or = rjax:::rj_bind(p, list(b, c)),
        select = rjax:::rj_bind(p, list(b, x, z)),
        neg = , abs = , sign = , floor = , ceiling = , round = , trunc = , is_na = , is_nan = , is_finite = ,
        sin = , cos = , atan = , sinh = , tanh = , asinh = , exp = , expm1 = , stop_gradient = rjax:::rj_bind(p, list(z)),
        add = , sub = , mul = , div = , pow = , max = , min = , mod = , idiv = , atan2 = , eq = , ne = , lt = , le = , gt = , ge =
          rjax:::rj_bind(p, list(z, y)),
        rjax:::rj_bind(p, list(x)))
    }
    out
  }
}
ew_inputs <- function(dtype, n = 500) {
  set.seed(11)
  z <- c(NA, NaN, Inf, -Inf, 0, -0.5, 2.5, stats::rnorm(n - 7) * 3)
  list(x = rj_array(stats::runif(n, 0.05, 0.95), dtype), y = rj_array(stats::runif(n, 1.1, 3), dtype),
       z = rj_array(z, dtype), b = stats::runif(n) > 0.5, c = stats::runif(n) > 0.3)
}

test_that("every element-wise primitive renders, and the shim matches the interpreter (f64 and f32)", {
  skip_without_shim()
  for (dt in c("f64", "f32")) {
    a <- ew_inputs(dt)
    f <- all_elementwise(dt)
    r <- shim_vs_interp(f, a$x, a$y, a$z, a$b, a$c)
    expect_setequal(names(r$shim), elementwise_names())
    expect_identical(r$shim_warnings, r$interp_warnings)
    expect_true(length(r$shim_warnings) > 0)  # NaNs produced, integer range
    for (p in names(r$interp)) {
      expect_equal(r$shim[[p]], r$interp[[p]], tolerance = if (dt == "f32") 1e-6 else 1e-13,
                   label = paste(dt, p, "on the shim"))
    }
  }
})

test_that("NVRTC compiles the rendered kernels for sm_90", {
  skip_if_not(has_nvrtc(), "NVRTC (libnvrtc) not found")
  progs <- list(
    ew64 = c(list(all_elementwise("f64")), unname(ew_inputs("f64", 20))),
    ew32 = c(list(all_elementwise("f32")), unname(ew_inputs("f32", 20))),
    red = list(function(m) list(sum(m), colSums(m), rowMeans(exp(m)), max(m), min(m * 2), prod(m)), matrix(1.5, 4, 3)),
    ints = list(function(i) list(sum(i), i %/% 3L, i %% 3L, max(i)), 1:10),
    grad = list(grad(function(b, x) sum(exp(x %*% b) - x %*% b)), c(0.1, 0.2), matrix(1:6 / 6, 3))
  )
  for (nm in names(progs)) {
    p <- progs[[nm]]
    src <- .Call(rjax:::C_rjc_cuda_source, do.call(lowered, p)$graph)
    expect_match(src, "__global__ void rjk0_main", fixed = TRUE, label = nm)
    bytes <- .Call(rjax:::C_rjc_cuda_nvrtc, src, "sm_90")
    expect_gt(bytes, 1000, label = paste(nm, "CUBIN size"))
  }
})

test_that("reductions over every axis kind agree with the interpreter (grid-stride, several blocks and chunks)", {
  skip_without_shim()
  set.seed(5)
  m <- matrix(stats::rnorm(130 * 70), 130, 70)  # rows > block x grid of the shim; 5 column chunks
  m[3, 4] <- NA
  f <- function(m) {
    e <- exp(m / 4)
    list(sum(e), colSums(e), rowSums(e), colMeans(m), rowMeans(m), max(m, na.rm = TRUE), min(e),
         sum(m, na.rm = TRUE), mean(e), prod(e[1:5, 1]), e * 2)
  }
  expect_shim_agrees(f, m)
  expect_shim_agrees(f, rj_array(m, "f32"), tolerance = 1e-5)
  # one column, one row, a scalar
  g <- function(v) list(sum(v), colSums(v), rowSums(v))
  expect_shim_agrees(g, matrix(1:9 / 3, 9, 1))
  expect_shim_agrees(g, matrix(1:9 / 3, 1, 9))
})

test_that("fused slices (nested diff, row and column ranges of a matrix) read at their offsets on the device", {
  skip_without_shim()
  set.seed(6)
  five_diff <- function(x) diff(diff(diff(diff(diff(x)))))
  for (n in c(7, 1000, 40001)) {  # 40001: more elements than the shim's grid covers in one stride
    x <- stats::rnorm(n)
    expect_shim_agrees(five_diff, x)
    expect_shim_agrees(five_diff, rj_array(x, "f32"), tolerance = 1e-5)
    expect_identical(shim_vs_interp(five_diff, x)$shim, five_diff(x))
  }
  X <- matrix(stats::rnorm(130 * 70), 130, 70)
  expect_shim_agrees(function(X) X[-1, ] - X[-nrow(X), ], X)
  expect_shim_agrees(function(X) X[, -1] - X[, -ncol(X)], X)
  expect_shim_agrees(function(X) list(diff(diff(X)) * X[3:130, ], colSums(X[5:20, 2:9] * X[4:19, 1:8]),
                                      rowSums(X[-1, -1] - X[-130, -70]), sum(X[2:100, 7:9])), X)
  src <- .Call(rjax:::C_rjc_cuda_source, lowered(function(X) X[-1, ] - X[-nrow(X), ], X)$graph)
  expect_match(src, "[i + j * 130LL + 1LL]", fixed = TRUE)
})

test_that("integer semantics, NA rules and warnings survive the device path", {
  skip_without_shim()
  f <- function(i, j) list(i + j, i * j, i %/% j, i %% j, sum(i), -i, abs(i), max(i))
  i <- c(5L, -7L, NA, .Machine$integer.max, 0L, 3L)
  j <- c(2L, 3L, 1L, 1L, 0L, -2L)
  r <- shim_vs_interp(f, i, j)
  expect_equal(r$shim, r$interp)
  expect_identical(r$shim_warnings, r$interp_warnings)
  expect_identical(r$shim[[1]], suppressWarnings(i + j))
  expect_warning(jit_compile(lowered(f, i, j), backend = "cuda-shim")(i, j), "integer overflow")
  expect_warning(jit_compile(lowered(function(x) sum(x), .Machine$integer.max + 0L * 1:2), backend = "cuda-shim")(
    c(.Machine$integer.max, 5L)), "integer overflow")
  expect_warning(v <- jit_compile(lowered(function(x) max(x), numeric(0)), backend = "cuda-shim")(numeric(0)), "max")
  expect_identical(as_r(v), -Inf)
  expect_warning(jit_compile(lowered(function(x) sqrt(x), c(1, 2)), backend = "cuda-shim")(c(-1, 4)), "NaN")
})

test_that("R's NA stays NA, apart from NaN, in f64 device arithmetic", {
  skip_without_shim()
  f <- function(x, y) list(x + y, y * x, exp(x), x / 2, sqrt(y) - x)
  x <- c(NA, NaN, 1, NA, 2)
  y <- c(1, 1, NA, NaN, NaN)
  lo <- lowered(f, x, y)
  # A GPU returns the canonical NaN from arithmetic: the rendered f64 ops keep the operand's NaN.
  expect_match(.Call(rjax:::C_rjc_cuda_source, lo$graph), "rj_nan_keep2(", fixed = TRUE)
  got <- lapply(jit_compile(lo, backend = "cuda-shim")(x, y), as_r)
  expect_identical(got, suppressWarnings(f(x, y)))
})

test_that("programs with host steps and control flow run through the device executable", {
  skip_without_shim()
  set.seed(2)
  x <- matrix(stats::rnorm(40), 10, 4)
  b <- c(0.1, -0.2, 0.3, 0.05)
  loss <- function(b, x) sum(exp(x %*% b) - 2 * (x %*% b))
  expect_shim_agrees(grad(loss), b, x)
  prods <- function(x) list(crossprod(x), tcrossprod(x), x %*% t(x)[, 1:3], crossprod(x, x[, 1:2]), x[, 1:2] %*% t(x[1:3, 1:2]))
  expect_shim_agrees(prods, x)  # matrix products: the device's gemm (the shim's plays cuBLAS's contract)
  expect_shim_agrees(prods, rj_array(x, "f32"), tolerance = 1e-6)
  expect_shim_agrees(function(a, b) a %*% b, matrix(0, 3, 0), matrix(0, 0, 2))  # k = 0
  body <- function(x) fori_loop(1, 5, function(i, acc) acc * 0.5 + sum(x) / i, 0)
  expect_shim_agrees(body, x)
})

test_that("asking for CUDA without a GPU is an rjax_device_error that says what is missing", {
  skip_if(has_gpu(), "a GPU is present")
  lo <- lowered(function(x) x + 1, c(1, 2))
  e <- expect_error(jit_compile(lo, backend = "cuda"), class = "rjax_device_error")
  expect_match(conditionMessage(e), "driver|GPU")
  expect_error(rj_to_device(c(1, 2), "cuda"), class = "rjax_device_error")
  expect_error(rj_array(c(1, 2), device = "cuda"), class = "rjax_device_error")
  e <- expect_error(jit(function(x) x + 1, backend = "cuda"), class = "rjax_device_error")
  expect_s3_class(e, "rjax_backend_error")  # an unavailable device is an unavailable backend
  expect_error(rj_to_device(1, "tpu"), "unknown device", class = "rjax_device_error")
  d <- rj_devices()
  expect_identical(d$platform, "cpu")
  expect_match(attr(d, "cuda"), "driver:")
  expect_identical(nrow(rjax:::rj_cuda_device_rows(list(names = character(), arch = character(), memory = numeric()))), 0L)
  g <- rjax:::rj_cuda_device_rows(list(names = "NVIDIA H200", arch = "sm_90", memory = 150e9))
  expect_identical(names(g), names(d))
  expect_identical(g$kind, "NVIDIA H200 (sm_90)")
  expect_false(rj_cuda_available())
  expect_identical(block_until_ready(3), 3)
})

test_that("NVRTC reports a kernel it rejects with its log; a missing toolkit is named", {
  skip_if_not(has_nvrtc(), "NVRTC (libnvrtc) not found")
  e <- expect_error(.Call(rjax:::C_rjc_cuda_nvrtc, "extern \"C\" __global__ void k() { undefined_thing(); }", "sm_90"),
                    class = "rjax_internal_error")
  expect_match(conditionMessage(e), "undefined_thing")
  res <- run_rscript(c(
    "library(rjax)",
    "e <- tryCatch(.Call(rjax:::C_rjc_cuda_nvrtc, 'x', 'sm_90'), error = identity)",
    "cat('CLASS', class(e)[1], '\\n'); cat('MSG', conditionMessage(e), '\\n')"),
    env = c(RJAX_CUDA_LIB_DIR = tempdir(), RJAX_NVRTC = ""))
  expect_match(res$stdout, "CLASS rjax_device_error")
  expect_match(res$stdout, "NVRTC")
})

test_that("the shim without a compiler is an rjax_device_error", {
  old <- Sys.getenv("RJAX_SHIM_CXX", NA)
  on.exit(if (is.na(old)) Sys.unsetenv("RJAX_SHIM_CXX") else Sys.setenv(RJAX_SHIM_CXX = old))
  Sys.setenv(RJAX_SHIM_CXX = file.path(tempdir(), "no-such-compiler"))
  lo <- lowered(function(x) x * 3 + 0.25, c(1, 2, 3))
  expect_error(jit_compile(lo, backend = "cuda-shim"), "compiler", class = "rjax_device_error")
})

test_that("arrays of different devices in one call are a classed error", {
  a <- rj_array(c(1, 2))
  b <- rj_array(c(3, 4))
  b@device <- "cuda:0"  # as a device array would be
  expect_error(rjax:::rj_common_device(list(a, b)), "different devices", class = "rjax_device_error")
  expect_identical(rjax:::rj_common_device(list(a, 1)), "cpu")
  expect_error(jit(function(x, y) x + y)(a, b), "different devices", class = "rjax_device_error")
})
