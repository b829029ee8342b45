// R glue of the forward-mode and batching transforms (src/transforms/jvp.cpp,
// vmap.cpp): graphs in, graphs out. R/transforms.R builds jvp(), vmap(),
// jacfwd(), jacrev() and hessian() on them.
#include "rcpp_glue.h"
#include "transforms/passes.h"

using namespace rj;

namespace {
std::vector<int> int_vec(SEXP x) {
  std::vector<int> v;
  for (int i = 0; i < Rf_length(x); ++i) v.push_back(INTEGER(x)[i]);
  return v;
}
}  // namespace

extern "C" {

// Forward mode: params [g's params, one tangent per input in wrt (0-based)],
// outputs [g's outputs, one tangent per output].
SEXP rjc_graph_jvp(SEXP gptr, SEXP wrt) {
  RJ_TRY
  GraphPtr g = jvp(*get_graph(gptr), int_vec(wrt));
  g->closed = true;
  return wrap_graph(g);
  RJ_CATCH
  return R_NilValue;
}

// Batching: in_axes one 0-based axis per param (-1: not batched), out_axes
// one per output (-1: last), size the batch size.
SEXP rjc_graph_vmap(SEXP gptr, SEXP in_axes, SEXP size, SEXP out_axes) {
  RJ_TRY
  GraphPtr g = vmap(*get_graph(gptr), int_vec(in_axes), (int64_t)Rf_asInteger(size), int_vec(out_axes));
  g->closed = true;
  return wrap_graph(g);
  RJ_CATCH
  return R_NilValue;
}

}  // extern "C"

extern "C" {

// Inlines a finished graph into the open trace `target` (the innermost one):
// its params bound to `args` (tracers of target or of enclosing traces,
// rj_arrays, R data), its captures to values of target's enclosing traces.
// Unlike a call from rjc_graph_call, it works when no argument is traced
// (vmap over a constant basis inside jacfwd). Returns the outputs' tracers.
SEXP rjc_graph_inline(SEXP gptr, SEXP args, SEXP target) {
  RJ_TRY
  GraphPtr sub = get_graph(gptr), g = get_graph(target);
  if (g->closed) fail("internal", "graph inlined into a finished trace");
  if ((size_t)Rf_xlength(args) != sub->params.size()) fail("internal", "graph inline: wrong number of arguments");
  Builder b(*g);
  auto value = [&](Graph* owner, int id) { return owner == g.get() ? id : g->capture(owner, id); };
  std::vector<int> in;
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) {
    SEXP x = VECTOR_ELT(args, i);
    const Type want = sub->type(sub->params[i]);
    int v;
    if (is_tracer(x)) {
      GraphPtr tg = tracer_graph(x);
      if (tg->level > g->level) fail("escaped_tracer", "a traced value of an inner trace was passed to a transform");
      v = value(tg.get(), tracer_id(x));
    } else if (is_array(x)) {
      v = b.constant(array_buffer(x), false);
    } else {
      v = b.constant(buffer_from_r(x, dtype_name(want.dtype)), true);
    }
    if (b.type(v).dtype != want.dtype) v = b.convert(v, want.dtype);
    if (b.type(v).shape != want.shape) v = b.reshape(v, want.shape);
    in.push_back(v);
  }
  for (auto& cs : sub->capture_src) {
    if (cs.outer->level > g->level) fail("internal", "graph inline: a capture of an inner trace");
    in.push_back(value(cs.outer, cs.id));
  }
  auto map = replay(b, *sub, in);
  SEXP out = PROTECT(r_alloc(VECSXP, (R_xlen_t)sub->outputs.size()));
  for (size_t k = 0; k < sub->outputs.size(); ++k) SET_VECTOR_ELT(out, k, new_tracer(g, target, map[sub->outputs[k]]));
  UNPROTECT(1);
  return out;
  RJ_CATCH
  return R_NilValue;
}

}  // extern "C"
