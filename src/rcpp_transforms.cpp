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
// Brings an R value into the open trace g, with the type `want`: a tracer of
// g or of an enclosing trace (captured), an rj_array, or R data.
int bind_value(Builder& b, Graph& g, SEXP x, const Type& want) {
  int v;
  if (is_tracer(x)) {
    GraphPtr tg = tracer_graph(x);
    if (tg->level > g.level) fail("escaped_tracer", "a traced value of an inner trace was passed to a transform");
    v = tg.get() == &g ? tracer_id(x) : g.capture(tg.get(), tracer_id(x));
  } else if (is_array(x)) {
    v = b.constant(array_buffer(x), false);
  } else {
    v = b.constant(buffer_from_r(x, dtype_name(want.dtype)), true);
  }
  if (b.type(v).dtype != want.dtype) v = b.convert(v, want.dtype);
  if (b.type(v).shape != want.shape) v = b.reshape(v, want.shape);
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
  std::vector<int> in;
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) in.push_back(bind_value(b, *g, VECTOR_ELT(args, i), sub->type(sub->params[i])));
  for (auto& cs : sub->capture_src) {
    if (cs.outer->level > g->level) fail("internal", "graph inline: a capture of an inner trace");
    in.push_back(cs.outer == g.get() ? cs.id : g->capture(cs.outer, cs.id));
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

extern "C" {

// Records a call of a custom_jvp function in the open trace `target`: a
// custom_jvp_call node owning the traced graphs of f and of its forward rule
// (src/prims/custom.cpp). `args` are the argument leaves (values of target
// or of enclosing traces, or constants). Returns a list with the result.
SEXP rjc_custom_jvp_call(SEXP fptr, SEXP ruleptr, SEXP args, SEXP target) {
  RJ_TRY
  GraphPtr f = get_graph(fptr), rule = get_graph(ruleptr), g = get_graph(target);
  for (const GraphPtr& s : {f, rule})
    if (!s->captures.empty())
      fail("grad", "custom_jvp: f and its jvp rule must not use traced values from outside (closures over a value "
                   "being traced); pass such values as arguments");
  if (f->outputs.size() != 1) fail("grad", "custom_jvp: f must return a single array");
  if (rule->outputs.size() != 2) fail("grad", "custom_jvp: the jvp rule must return list(value, tangent)");
  const Type vt = f->type(f->outputs[0]), rt = rule->type(rule->outputs[0]), tt = rule->type(rule->outputs[1]);
  if (!vt.same(rt) || !vt.same(tt))
    fail("grad", "custom_jvp: the rule's value and tangent must have f's type " + vt.str() + " (got " + rt.str() +
                     " and " + tt.str() + ")");
  Builder b(*g);
  Node n;
  n.prim = prim_id("custom_jvp_call");
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) n.in.push_back(bind_value(b, *g, VECTOR_ELT(args, i), f->type(f->params.at(i))));
  n.sub = {f, rule};
  n.type = vt;
  n.type.weak = false;
  n.attrs.dtype = vt.dtype;
  n.attrs.shape = vt.shape;
  g->nodes.push_back(std::move(n));
  SEXP out = PROTECT(r_alloc(VECSXP, 1));
  SET_VECTOR_ELT(out, 0, new_tracer(g, target, (int)g->nodes.size() - 1));
  UNPROTECT(1);
  return out;
  RJ_CATCH
  return R_NilValue;
}

}  // extern "C"
