# The forward-mode (jvp) and batching rules every element-wise primitive
# carries, checked directly on each primitive (the transforms that use them
# come in wave 2): JVPs against central finite differences of the
# primitive itself, batching rules against the primitive applied slice by
# slice, for every batch axis.

rule_check <- function(name, args, extra = NULL, attrs = NULL, mode = "value") {
  lapply(.Call(rjax:::C_rjc_rule_check, name, args, extra, attrs, mode), function(x) if (is_rj_array(x)) as_r(x) else x)
}

# Valid inputs for primitive p (n elements each) and its attributes.
rule_inputs <- function(p, arity, n = 6) {
  u <- function(lo, hi) stats::runif(n, lo, hi)
  attrs <- switch(p, psigamma = list(ints = 2L), pnorm = , qnorm = list(ints = c(1L, 0L)), convert = list(dtype = "f64"), NULL)
  args <- switch(p,
    acosh = list(u(1.2, 2)),
    pnorm = list(u(-2, 2), u(-0.5, 0.5), u(0.5, 2)),
    qnorm = list(u(0.1, 0.9), u(-0.5, 0.5), u(0.5, 2)),
    select = list(stats::runif(n) > 0.5, u(-1, 1), u(-1, 1)),
    mod = list(u(0.1, 0.9), u(1.1, 2)),
    lapply(seq_len(arity), function(k) u(0.2, 0.8)))
  list(args = args, attrs = attrs)
}

registry_df <- function() as.data.frame(.Call(rjax:::C_rjc_registry), stringsAsFactors = FALSE)

test_that("JVP rules of element-wise primitives match finite differences", {
  reg <- registry_df()
  ew <- reg[reg$elementwise & reg$partials & reg$name != "convert", ]
  set.seed(3)
  for (i in seq_len(nrow(ew))) {
    p <- ew$name[[i]]
    arity <- if (p %in% c("pnorm", "qnorm", "select")) 3L else if (p %in% c("add", "sub", "mul", "div", "pow", "max", "min", "mod", "atan2")) 2L else 1L
    inp <- rule_inputs(p, arity)
    float <- vapply(inp$args, is.double, NA)
    tangents <- lapply(seq_along(inp$args), function(k) if (float[[k]]) stats::rnorm(length(inp$args[[k]])) else NULL)
    got <- rule_check(p, inp$args, tangents, inp$attrs, "jvp")
    h <- 1e-6
    shifted <- function(sgn) Map(function(a, t) if (is.null(t)) a else a + sgn * h * t, inp$args, tangents)
    fd <- (rule_check(p, shifted(1), attrs = inp$attrs)[[1]] - rule_check(p, shifted(-1), attrs = inp$attrs)[[1]]) / (2 * h)
    expect_equal(got[[2]], fd, tolerance = 1e-6, label = sprintf("jvp of %s", p))
    # a zero tangent everywhere gives a zero tangent
    zero <- rule_check(p, inp$args, lapply(tangents, function(t) NULL), inp$attrs, "jvp")
    expect_true(all(zero[[2]] == 0), label = sprintf("zero jvp of %s", p))
  }
})

test_that("JVP of a tangent on one operand of a scalar-broadcast binary op", {
  got <- rule_check("mul", list(c(1, 2, 3), 2), list(NULL, 1), mode = "jvp")
  expect_equal(got[[2]], c(1, 2, 3))
  got <- rule_check("atan2", list(0.5, c(1, 2)), list(1, NULL), mode = "jvp")
  expect_equal(got[[2]], c(1, 2) / (0.25 + c(1, 2)^2))
})

test_that("batching rules of element-wise primitives agree with slice-by-slice results, on every axis", {
  reg <- registry_df()
  ew <- reg[reg$elementwise & reg$name != "convert" & reg$name != "stop_gradient", ]
  set.seed(4)
  nb <- 3L
  for (i in seq_len(nrow(ew))) {
    p <- ew$name[[i]]
    arity <- if (p %in% c("pnorm", "qnorm", "select")) 3L else
      if (p %in% c("add", "sub", "mul", "div", "pow", "max", "min", "mod", "idiv", "atan2", "eq", "ne", "lt", "le", "gt", "ge", "and", "or")) 2L else 1L
    inp <- rule_inputs(p, arity, n = 4 * nb)
    if (p %in% c("not", "and", "or")) inp$args <- lapply(inp$args, function(a) a > 0.5)
    # each operand: a 4 x nb batch (axis 1 or 0), or an unbatched slice [4], or a scalar
    for (layout in list(c(1L, 1L, 1L), c(0L, 1L, -1L), c(1L, -1L, 0L), c(-1L, 0L, 1L))) {
      axes <- layout[seq_len(arity)]
      if (all(axes < 0)) next
      batched <- Map(function(a, ax) {
        m <- matrix(a, 4, nb)
        if (ax == 0L) t(m) else if (ax == 1L) m else m[, 1]
      }, inp$args, axes)
      if (arity >= 2 && axes[[2]] < 0) batched[[2]] <- batched[[2]][[1]]  # a scalar operand too
      r <- rule_check(p, batched, as.integer(axes), inp$attrs, "batch")
      res <- r[[1]]
      oax <- r[[2]]
      for (j in seq_len(nb)) {
        slice_args <- Map(function(b, ax) if (ax == 0L) b[j, ] else if (ax == 1L) b[, j] else b, batched, axes)
        want <- rule_check(p, slice_args, attrs = inp$attrs)[[1]]
        got <- if (oax == 0L) res[j, ] else res[, j]
        expect_identical(got, want, label = sprintf("batch of %s, layout %s, slice %d", p, paste(axes, collapse = ","), j))
      }
    }
  }
})
