# Registry completeness: every primitive carries the rules its kind needs
# (src/ir/ir.h, PrimDef), and the gradient and semantics tables exercise
# every one of them (on both backends: the tables' tests run each row
# eagerly, under jit with llvm and with the interpreter).

registry <- function() as.data.frame(.Call(rjax:::C_rjc_registry), stringsAsFactors = FALSE)

test_that("the registry lists every primitive with its rules", {
  reg <- registry()
  expect_gt(nrow(reg), 60)
  expect_false(anyDuplicated(reg$name) > 0)
  for (p in c("add", "atan2", "psigamma", "pnorm", "qnorm", "cumsum", "cumprod", "cummax", "cummin",
              "argmax", "argmin", "reduce_sum", "reduce_any", "matmul", "scan")) {
    expect_true(p %in% reg$name, label = p)
  }
})

test_that("every primitive has an evaluation, or says why it has none", {
  reg <- registry()
  ops <- reg[is.na(reg$structural), ]
  expect_identical(ops$name[!ops$eval & is.na(ops$no_eval)], character())
  expect_true(all(nzchar(stats::na.omit(ops$no_eval))))
})

test_that("every primitive has a derivative rule, or an explicit non-differentiable declaration with a reason", {
  reg <- registry()
  ops <- reg[is.na(reg$structural), ]
  expect_identical(ops$name[!ops$partials & !ops$vjp & is.na(ops$nondiff)], character())
  expect_true(all(nchar(stats::na.omit(ops$nondiff)) > 10))
  # one or the other, never both
  expect_identical(ops$name[(ops$partials | ops$vjp) & !is.na(ops$nondiff)], character())
})

test_that("element-wise primitives have one scalar description, and their jvp and batching rules", {
  reg <- registry()
  ew <- reg[reg$elementwise, ]
  expect_gt(nrow(ew), 40)
  expect_identical(ew$name[!ew$scalar], character())
  expect_identical(ew$name[!ew$jvp], character())
  expect_identical(ew$name[!ew$batch], character())
  # non-element-wise primitives never have a scalar description
  expect_identical(reg$name[!reg$elementwise & reg$scalar], character())
})

test_that("reductions and cumulative ops are defined by a monoid", {
  reg <- registry()
  expect_identical(reg$name[reg$reduces & !reg$monoid], character())
  for (p in c("cumsum", "cumprod", "cummax", "cummin")) expect_true(reg$monoid[reg$name == p], label = p)
})

test_that("every primitive declares the backends that run it", {
  reg <- registry()
  ops <- reg[is.na(reg$structural), ]
  expect_identical(ops$name[!nzchar(ops$backends)], character())
  expect_true(all(grepl("interp", ops$backends)))
})

test_that("the R verbs the registry names exist", {
  reg <- registry()
  ns <- asNamespace("rjax")
  verbs <- unique(stats::na.omit(reg$r_name))
  found <- vapply(verbs, function(v) exists(v, envir = ns, mode = "function"), NA)
  expect_identical(verbs[!found], character())
  internal <- reg$name[is.na(reg$structural) & is.na(reg$r_name)]
  if (length(internal)) {
    skip(sprintf("%d primitives are reached only through other verbs (no R verb of their own): %s",
                 length(internal), paste(internal, collapse = ", ")))
  }
})

test_that("every primitive has a forward-mode rule (or is non-differentiable) and a batching rule", {
  reg <- registry()
  ops <- reg[is.na(reg$structural), ]
  expect_identical(ops$name[!ops$jvp & is.na(ops$nondiff)], character())
  expect_identical(ops$name[!ops$batch], character())
})

# The primitives a traced function uses, its gradient program's too.
prims_of <- function(f, args, with_grad = FALSE) {
  tr <- rjax:::trace_graph(f, args)
  p <- .Call(rjax:::C_rjc_graph_prims, tr$graph)
  g <- character()
  if (with_grad) {
    gg <- .Call(rjax:::C_rjc_graph_vjp, tr$graph, seq_along(args) - 1L)
    g <- .Call(rjax:::C_rjc_graph_prims, gg)
  }
  list(fwd = p, grad = g)
}

test_that("every primitive has a row in the derivative and agreement tests", {
  reg <- registry()
  set.seed(1)
  fwd <- character()
  grad_order2 <- character()
  seen <- character()
  for (row in grad_table) {
    args <- row$gen()
    wrt <- row$wrt %||% seq_along(args)
    tr <- rjax:::trace_graph(row$f, args)
    p <- .Call(rjax:::C_rjc_graph_prims, tr$graph)
    g <- .Call(rjax:::C_rjc_graph_prims, .Call(rjax:::C_rjc_graph_vjp, tr$graph, as.integer(wrt - 1L)))
    fwd <- union(fwd, p)
    if ((row$order %||% 2) >= 2) grad_order2 <- union(grad_order2, g)
    seen <- union(seen, union(p, g))
  }
  for (row in semantics_table) seen <- union(seen, prims_of(row$f, row$args)$fwd)
  ops <- reg[is.na(reg$structural), ]
  # Differentiable primitives: differentiated by a row (forward graph), or
  # met in the gradient program of a second-order row (whose check
  # differentiates that program again).
  differentiable <- ops$name[ops$partials | ops$vjp]
  refused <- "while"  # reverse mode refuses it by design (test-control.R checks the error)
  expect_identical(setdiff(setdiff(differentiable, refused), union(fwd, grad_order2)), character())
  # Every primitive: in some row of the tables (all compare both backends).
  expect_identical(setdiff(ops$name, seen), character())
})
