// The primitive registry as R data, for the registry-completeness test
// (tests/testthat/test-registry.R): which rules each primitive has. Also
// the primitives a traced program uses (recursively through control-flow
// bodies), so that tests can check that every primitive is exercised.
#include <set>

#include "rcpp_glue.h"

using namespace rj;

namespace {

void collect_prims(const Graph& g, std::set<std::string>& out) {
  for (const Node& n : g.nodes) {
    out.insert(prim(n.prim).name);
    for (const GraphPtr& s : n.sub) collect_prims(*s, out);
  }
}

SEXP str_or_na(const char* s) { return s ? Rf_mkChar(s) : NA_STRING; }

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
                          p.jvp != nullptr, p.batch != nullptr};
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

}  // extern "C"
