# Saving rjax values: rj_save()/rj_load() and rj_pack()/rj_unpack() keep
# arrays bit for bit; saved jitted functions and PLN fits work in a new session.

test_that("rj_save/rj_load keep data, dtype and shape of every array", {
  a <- rj_array(matrix(c(1.5, NA, -3, 1e-300), 2))
  b <- rj_array(array(1:24, c(2, 3, 4)), dtype = "f32")
  i <- rj_array(c(5L, -7L, .Machine$integer.max))
  l <- rj_array(c(TRUE, FALSE, TRUE))
  s <- rj_array(2.5)
  v1 <- rj_array(7, dtype = "f64") # rank 0
  obj <- list(a = a, nested = list(b = b, i = i, txt = "kept", n = NULL), l = l, s = s, v1 = v1)
  class(obj) <- "my_model"
  path <- tempfile(fileext = ".rds")
  expect_null(rj_save(obj, path))
  got <- rj_load(path)
  expect_s3_class(got, "my_model")
  expect_identical(got$nested$txt, "kept")
  expect_true("n" %in% names(got$nested))
  for (nm in c("a", "l", "s", "v1")) {
    expect_identical(dtype(got[[nm]]), dtype(obj[[nm]]))
    expect_identical(dim(got[[nm]]), dim(obj[[nm]]))
    expect_identical(as.array(got[[nm]]), as.array(obj[[nm]]))
  }
  expect_identical(got$nested$b@shape, c(2L, 3L, 4L))
  expect_identical(dtype(got$nested$b), "f32")
  expect_identical(as.array(got$nested$b), as.array(b))
  expect_identical(as.array(got$nested$i), as.array(i))
  # serialize() with rj_pack(): the same
  r <- rj_unpack(unserialize(serialize(rj_pack(a), NULL)))
  expect_identical(as.array(r), as.array(a))
  expect_output(print(rj_pack(b)), "packed rj_array f32\\[2,3,4\\]")
  expect_error(rj_unpack(structure(list(dtype = "f64", shape = 3L, bytes = raw(5)), class = "rj_packed_array")),
               class = "rjax_format_error")
})

test_that("plain readRDS of an array says what to do", {
  path <- tempfile(fileext = ".rds")
  saveRDS(rj_array(1:3), path)
  x <- readRDS(path)
  expect_error(as.array(x), class = "rjax_serialization_error")
})

test_that("a saved jitted function and a saved pln_fit work in a new session", {
  jf <- jit(function(x, y) sum(exp(x) * y))
  x <- matrix(seq(0, 1, length.out = 6), 2)
  want <- as.array(jf(x, 2))
  sim <- pln_simulate(40, 4, seed = 2)
  fit <- pln_fit(sim$Y, O = sim$O, control = pln_control(max_iter = 30))
  path <- tempfile(fileext = ".rds")
  saveRDS(list(jf = jf, x = x, fit = fit, want = want, coef = coef(fit)), path)
  res <- run_child(c("library(rjax)",
                     sprintf("s <- readRDS('%s')", path),
                     "report('same', identical(as.array(s$jf(s$x, 2)), s$want))",
                     "report('again', identical(as.array(s$jf(s$x, 2)), s$want))",
                     "report('coef', identical(coef(s$fit), s$coef))",
                     "invisible(capture.output(print(s$fit)))",
                     "report('ok', 1)"))
  expect_identical(unname(res[c("same", "again", "coef", "ok")]), c("TRUE", "TRUE", "TRUE", "1"))
})
