# Rows of the gradient table (helper-grad-table.R; run by test-grad.R, and
# read by test-registry.R's coverage check) for the collectives of
# src/prims/collective.cpp, appended from this file so that the table's
# owner and the collectives' owner edit different files. In one process the
# axis has one rank, so base R (identity collectives) gives the finite
# differences; test-distributed.R checks the same rules across ranks.

sm <- function(f, in_specs = "replicated", out_specs = "replicated") {
  shard_map(f, in_specs = in_specs, out_specs = out_specs, axis = "i")
}

grad_table <- c(grad_table, list(
  list(name = "rj_psum", f = function(x) sm(function(x) sum(rj_psum(x, "i")^2 * W(3, 2)))(x),
       gen = function() list(rmat(3, 2))),
  list(name = "rj_pmean", f = function(x, y) sm(function(x, y) sum(exp(rj_pmean(x * y, "i"))))(x, y),
       gen = function() list(rmat(3, 2), rmat(3, 2))),
  list(name = "rj_pmax_axis", f = function(x) sm(function(x) sum(rj_pmax_axis(x, "i")^3 * W(3, 2)))(x),
       gen = function() list(rmat(3, 2))),
  list(name = "rj_pmin_axis", f = function(x) sm(function(x) sum(sin(rj_pmin_axis(x, "i")) * W(3, 2)))(x),
       gen = function() list(rmat(3, 2))),
  list(name = "rj_all_gather", f = function(x) {
    sm(function(x) sum(rj_all_gather(x^2, "i") * W(3, 2)) + sum(rj_all_gather(x, "i", dim = 2)^3))(x)
  }, gen = function() list(rmat(3, 2))),
  list(name = "rj_axis_index", f = function(x) sm(function(x) sum(x^2 * (rj_axis_index("i") + 2)))(x),
       gen = function() list(rvec(3))),
  list(name = "shard_map-rows", f = function(b, X) {
    sum(tanh(sm(function(b, X) X %*% b, in_specs = c("replicated", "rows"), out_specs = "rows")(b, X)))
  }, gen = function() list(rvec(2), rmat(4, 2)))
))
