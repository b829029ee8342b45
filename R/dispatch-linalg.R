# solve() with an rjax value in either argument (the S4 generic of
# R/overrides.R routes here; backsolve(), forwardsolve(), kronecker() are in
# R/ops-linalg.R).

# R data among the operands becomes an array of the rjax operands' float
# dtype (R numbers are weakly typed).
rj_float_like <- function(x, others) {
  if (is_rj_value(x)) return(x)
  d <- common_dtype(Filter(is_rj_value, others))
  as_rj(x, if (!is.null(d) && d %in% c("f32", "f64")) d else NULL)
}

tv_solve <- function(a, b, ...) {
  if (missing(b)) return(solve.rj_value(rj_float_like(a, list())))
  solve.rj_value(rj_float_like(a, list(b)), b, ...)
}
