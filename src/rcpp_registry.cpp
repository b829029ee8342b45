// The primitive registry as R data, for the registry-completeness test
// (tests/testthat/test-registry.R): which rules each primitive has. Also
// the primitives a traced program uses (recursively through control-flow
// bodies), so that tests can check that every primitive is exercised.
#include <set>

#include "rcpp_glue.h"
#include "rcpp_warnings.h"

using namespace rj;

namespace {

void collect_prims(const Graph& g, std::set<std::string>& out) {
  for (const Node& n : g.nodes) {
    out.insert(prim(n.prim).name);
    for (const GraphPtr& s : n.sub) collect_prims(*s, out);
  }
}

SEXP str_or_na(const char* s) { return s ? Rf_mkChar(s) : NA_STRING; }

// Runs graph g (inputs bound to `in`) on the interpreter; results as rj_arrays.
SEXP run_to_r(const GraphPtr& g, const std::vector<BufferPtr>& in) {
  auto res = compile_interp(g)->run(in);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)res.size()));
  for (size_t k = 0; k < res.size(); ++k) SET_VECTOR_ELT(out, k, new_array(res[k]));
  UNPROTECT(1);
  return out;
}

Type type_of(const Buffer& b) { return Type{b.dtype, b.shape}; }

// One node of primitive `name` on params of the given types, in a new graph.
int emit_on_params(Graph& g, const std::string& name, const std::vector<Type>& ts, const Attrs& a,
                   std::vector<int>* params) {
  for (auto& t : ts) params->push_back(g.add_param(t, "<arg>"));
  Builder b(g);
  return b.emit(name, *params, a);
}

SEXP rule_check_impl(SEXP name, SEXP args, SEXP extra, SEXP attrs, SEXP mode_s) {
  RJ_TRY
  const std::string p = str_arg(name), mode = str_arg(mode_s);
  const PrimDef& def = prim(prim_id(p));
  const Attrs a = attrs_from_r(attrs);
  std::vector<BufferPtr> in;
  std::vector<Type> ts;
  for (R_xlen_t i = 0; i < Rf_xlength(args); ++i) {
    in.push_back(buffer_from_r(VECTOR_ELT(args, i), ""));
    ts.push_back(type_of(*in.back()));
  }
  auto g = std::make_shared<Graph>();
  if (mode == "value" || mode == "jvp") {
    std::vector<int> params;
    int out = emit_on_params(*g, p, ts, a, &params);
    g->outputs.push_back(out);
    if (mode == "jvp") {
      if (!def.jvp) fail("internal", p + " has no jvp rule");
      std::vector<int> tangents;
      for (R_xlen_t i = 0; i < Rf_xlength(extra); ++i) {
        SEXP t = VECTOR_ELT(extra, i);
        if (Rf_isNull(t)) { tangents.push_back(-1); continue; }
        in.push_back(buffer_from_r(t, ""));
        tangents.push_back(g->add_param(type_of(*in.back()), "<tangent>"));
      }
      Node n = g->nodes[out];
      Builder b(*g);
      int t = def.jvp(b, n, out, tangents);
      g->outputs.push_back(t >= 0 ? t : b.zeros_like(out));
    }
    return run_to_r(g, in);
  }
  if (mode == "batch") {  // args are batched along extra[k] (-1: not batched)
    if (!def.batch) fail("internal", p + " has no batching rule");
    std::vector<int> axes;
    for (int i = 0; i < Rf_length(extra); ++i) axes.push_back(INTEGER(extra)[i]);
    std::vector<Type> unbatched;
    for (size_t k = 0; k < ts.size(); ++k) {
      Type t = ts[k];
      if (axes[k] >= 0) t.shape.erase(t.shape.begin() + axes[k]);
      unbatched.push_back(t);
    }
    Graph scratch;
    std::vector<int> sp;
    Node n = scratch.nodes[emit_on_params(scratch, p, unbatched, a, &sp)];
    std::vector<int> params;
    for (auto& t : ts) params.push_back(g->add_param(t, "<batched>"));
    Builder b(*g);
    int out_axis = -1;
    g->outputs.push_back(def.batch(b, n, unbatched, params, axes, &out_axis));
    SEXP res = PROTECT(run_to_r(g, in));
    SEXP both = PROTECT(Rf_allocVector(VECSXP, 2));
    SET_VECTOR_ELT(both, 0, VECTOR_ELT(res, 0));
    SET_VECTOR_ELT(both, 1, Rf_ScalarInteger(out_axis));
    UNPROTECT(2);
    return both;
  }
  fail("internal", "unknown rule check mode '" + mode + "'");
  RJ_CATCH
  return R_NilValue;
}

}  // namespace

extern "C" {

// A list of equal-length columns (a data frame once R adds the class):
// name, r_name, elementwise, reduces, eval, scalar, monoid, partials, vjp,
// jvp, batch, nondiff, no_eval, structural, backends.
SEXP rjc_registry() {
  RJ_TRY
  const int n = prim_count();
  const char* cols[] = {"name", "r_name", "elementwise", "reduces", "eval", "scalar", "monoid", "partials", "vjp",
                        "jvp", "batch", "nondiff", "no_eval", "structural", "backends"};
  const int nc = sizeof(cols) / sizeof(cols[0]);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, nc));
  SEXP nm = PROTECT(Rf_allocVector(STRSXP, nc));
  for (int c = 0; c < nc; ++c) {
    SET_STRING_ELT(nm, c, Rf_mkChar(cols[c]));
    bool text = c < 2 || (c >= 11);
    SET_VECTOR_ELT(out, c, Rf_allocVector(text ? STRSXP : LGLSXP, n));
  }
  for (int i = 0; i < n; ++i) {
    const PrimDef& p = prim(i);
    std::string be;
    if (p.backends & kBackendInterp) be += "interp";
    if (p.backends & kBackendLlvm) be += be.empty() ? "llvm" : ",llvm";
    SET_STRING_ELT(VECTOR_ELT(out, 0), i, Rf_mkChar(p.name.c_str()));
    SET_STRING_ELT(VECTOR_ELT(out, 1), i, str_or_na(p.r_name));
    const bool flags[] = {p.elementwise, p.reduces, p.eval != nullptr || p.scalar != nullptr, p.scalar != nullptr,
                          p.monoid != nullptr, p.partials != nullptr, p.vjp != nullptr || p.vjp_tuple != nullptr,
                          p.jvp != nullptr || p.jvp_tuple != nullptr, p.batch != nullptr || p.batch_tuple != nullptr};
    for (int c = 0; c < 9; ++c) LOGICAL(VECTOR_ELT(out, 2 + c))[i] = flags[c];
    SET_STRING_ELT(VECTOR_ELT(out, 11), i, str_or_na(p.nondiff));
    SET_STRING_ELT(VECTOR_ELT(out, 12), i, str_or_na(p.no_eval));
    SET_STRING_ELT(VECTOR_ELT(out, 13), i, str_or_na(p.structural));
    SET_STRING_ELT(VECTOR_ELT(out, 14), i, Rf_mkChar(be.c_str()));
  }
  Rf_setAttrib(out, R_NamesSymbol, nm);
  UNPROTECT(2);
  return out;
  RJ_CATCH
  return R_NilValue;
}

// The names of the primitives graph `gptr` uses, sub-graphs included.
SEXP rjc_graph_prims(SEXP gptr) {
  RJ_TRY
  std::set<std::string> names;
  collect_prims(*get_graph(gptr), names);
  SEXP out = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)names.size()));
  R_xlen_t k = 0;
  for (const auto& s : names) SET_STRING_ELT(out, k++, Rf_mkChar(s.c_str()));
  UNPROTECT(1);
  return out;
  RJ_CATCH
  return R_NilValue;
}

// Applies one primitive's rules directly, for tests of rules whose
// transforms are written later (wave 2): mode "value" runs primitive
// `name` on `args`; "jvp" also returns its JVP rule's tangent for the
// tangents in `extra` (NULL entries: zero); "batch" runs its batching rule
// on args batched along the axes in `extra` (-1: unbatched) and returns
// list(result, batch axis of the result).
SEXP rjc_rule_check(SEXP name, SEXP args, SEXP extra, SEXP attrs, SEXP mode) {
  rj_clear_warnings();
  return rj_emit_warnings(rule_check_impl(name, args, extra, attrs, mode));
}

}  // extern "C"
