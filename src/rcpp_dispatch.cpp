// The jitted call's signature in C++, for the common case: every argument
// is an array leaf (an rj_array / rj_tracer, or a plain numeric or logical
// vector without a class) or a plain list (no attributes but names) of such
// leaves and lists. Then this computes, in one native pass, what R's
// signature_key() computes (R/jit.R): the leaves in order and a cache key
// (per argument: each leaf's dtype, shape and weak type, and the nesting and
// names of its lists). Anything else -- a static argument, a named argument
// holding no array, a string, NULL, function, factor, classed list or
// registered pytree anywhere in the arguments -- returns NULL, and
// signature_key() applies R's full rules. Keys made here start with "C"
// (R's start with "sig:"), so the two kinds never collide, and a given call
// always takes the same path (the path depends only on what its arguments
// are).
//
// R entry points: .Call(C_rjc_signature, args, static) returns
// list(key = <string>, leaves = <list of leaves in order>, static = <names>)
// or NULL; .Call(C_rjc_dispatch, cache, args, static, output) runs a whole
// cached call (below).
#include <R.h>
#include <Rinternals.h>

#include <cstring>
#include <string>

#include "rcpp_glue.h"

namespace {

bool class_is(SEXP x, const char* a, const char* b = nullptr) {
  SEXP cl = Rf_getAttrib(x, R_ClassSymbol);
  if (TYPEOF(cl) != STRSXP || XLENGTH(cl) < 1) return false;
  const char* c = CHAR(STRING_ELT(cl, 0));
  return std::strcmp(c, a) == 0 || (b && std::strcmp(c, b) == 0);
}

bool is_rj_value(SEXP x) { return IS_S4_OBJECT(x) && class_is(x, "rj_array", "rj_tracer"); }

bool is_array_leaf(SEXP x) {
  if (is_rj_value(x)) return true;
  int t = TYPEOF(x);
  return (t == REALSXP || t == INTSXP || t == LGLSXP) && !OBJECT(x);
}

void append_int(std::string& s, long long v) { s += std::to_string(v); }

// dtype[shape] of an rj value, dtype "w"[shape] of R data (weakly typed).
void leaf_signature(SEXP x, std::string& s) {
  if (is_rj_value(x)) {
    static SEXP dtype_sym = Rf_install("dtype"), shape_sym = Rf_install("shape");
    SEXP d = R_do_slot(x, dtype_sym), sh = R_do_slot(x, shape_sym);
    s += CHAR(STRING_ELT(d, 0));
    s += '[';
    for (R_xlen_t i = 0; i < XLENGTH(sh); ++i) {
      if (i) s += ',';
      append_int(s, INTEGER(sh)[i]);
    }
    s += ']';
    return;
  }
  switch (TYPEOF(x)) {
    case REALSXP: s += "f64w["; break;
    case INTSXP: s += "i32w["; break;
    default: s += "boolw["; break;
  }
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  if (!Rf_isNull(dim)) {
    for (R_xlen_t i = 0; i < XLENGTH(dim); ++i) {
      if (i) s += ',';
      append_int(s, INTEGER(dim)[i]);
    }
  } else if (XLENGTH(x) != 1) {
    append_int(s, (long long)XLENGTH(x));
  }
  s += ']';
}

struct Walk {
  SEXP leaves;       // a growable VECSXP (protected by the caller)
  R_xlen_t n = 0;
  std::string& sigs;     // leaf signatures of the current argument
  std::string& shape;    // structure of the current argument

  void push(SEXP leaf) {
    if (n == XLENGTH(leaves)) {
      SEXP bigger = PROTECT(Rf_allocVector(VECSXP, 2 * n + 4));
      for (R_xlen_t i = 0; i < n; ++i) SET_VECTOR_ELT(bigger, i, VECTOR_ELT(leaves, i));
      R_Reprotect(bigger, index);
      leaves = bigger;
      UNPROTECT(1);
    }
    SET_VECTOR_ELT(leaves, n++, leaf);
  }
  PROTECT_INDEX index;

  // False when v is not a tree of leaves and plain lists (R's rules apply).
  bool walk(SEXP v) {
    if (is_array_leaf(v)) {
      if (!sigs.empty()) sigs += ';';
      leaf_signature(v, sigs);
      push(v);
      shape += '#';
      return true;
    }
    if (TYPEOF(v) != VECSXP || OBJECT(v) || IS_S4_OBJECT(v)) return false;
    for (SEXP at = ATTRIB(v); at != R_NilValue; at = CDR(at))
      if (TAG(at) != R_NamesSymbol) return false;
    SEXP nms = Rf_getAttrib(v, R_NamesSymbol);
    shape += '(';
    for (R_xlen_t i = 0; i < XLENGTH(v); ++i) {
      if (!Rf_isNull(nms)) {
        shape += CHAR(STRING_ELT(nms, i));
        shape += '=';
      }
      if (!walk(VECTOR_ELT(v, i))) return false;
      shape += ',';
    }
    shape += ')';
    return true;
  }
};

bool in_strings_n(SEXP strs, R_xlen_t n, const char* s) {
  for (R_xlen_t i = 0; i < n; ++i)
    if (std::strcmp(CHAR(STRING_ELT(strs, i)), s) == 0) return true;
  return false;
}

bool in_strings(SEXP strs, const char* s) {
  for (R_xlen_t i = 0; i < XLENGTH(strs); ++i)
    if (std::strcmp(CHAR(STRING_ELT(strs, i)), s) == 0) return true;
  return false;
}

// The fast signature of a call: its key (into `key`) and a list of its
// leaves, plus the static names without repeats (into *st_out); R_NilValue
// when R's rules must apply. Allocates (the caller runs it in r_safe()).
SEXP fast_signature(SEXP args, SEXP static_names, std::string& key, std::string& sigs, std::string& shape,
                    SEXP* st_out) {
  SEXP nms = Rf_getAttrib(args, R_NamesSymbol);
  Walk w{R_NilValue, 0, sigs, shape, 0};
  SEXP leaves0 = Rf_allocVector(VECSXP, 8);
  PROTECT_WITH_INDEX(leaves0, &w.index);
  w.leaves = leaves0;
  key = "C";  // never equal to a key R's signature_key() made
  for (R_xlen_t i = 0; i < XLENGTH(args); ++i) {
    SEXP a = VECTOR_ELT(args, i);
    if (OBJECT(a) && class_is(a, "rj_missing_arg")) continue;  // a missing argument (R/jit.R): absent
    const char* nm = Rf_isNull(nms) ? "" : CHAR(STRING_ELT(nms, i));
    bool named = nm[0] != '\0';
    if (named && in_strings(static_names, nm)) {
      UNPROTECT(1);
      return R_NilValue;  // a static argument: keyed by value in R
    }
    R_xlen_t before = w.n;
    sigs.clear();
    shape.clear();
    if (!w.walk(a) || (named && w.n == before)) {
      UNPROTECT(1);
      return R_NilValue;
    }
    key += '\n';
    key += nm;
    key += ':';
    key += sigs;
    key += '|';
    if (!(w.n - before == 1 && shape == "#")) key += shape;
  }
  SEXP leaves = PROTECT(Rf_allocVector(VECSXP, w.n));
  for (R_xlen_t i = 0; i < w.n; ++i) SET_VECTOR_ELT(leaves, i, VECTOR_ELT(w.leaves, i));
  if (st_out) {
    SEXP st = PROTECT(Rf_allocVector(STRSXP, XLENGTH(static_names)));
    R_xlen_t n_st = 0;
    for (R_xlen_t i = 0; i < XLENGTH(static_names); ++i)
      if (!in_strings_n(st, n_st, CHAR(STRING_ELT(static_names, i)))) SET_STRING_ELT(st, n_st++, STRING_ELT(static_names, i));
    *st_out = Rf_allocVector(STRSXP, n_st);
    for (R_xlen_t i = 0; i < n_st; ++i) SET_STRING_ELT(*st_out, i, STRING_ELT(st, i));
    UNPROTECT(1);
  }
  UNPROTECT(2);
  return leaves;
}

SEXP list_elt(SEXP list, const char* name) {
  SEXP nms = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(list) != VECSXP || TYPEOF(nms) != STRSXP) return R_NilValue;
  for (R_xlen_t i = 0; i < XLENGTH(list); ++i)
    if (std::strcmp(CHAR(STRING_ELT(nms, i)), name) == 0) return VECTOR_ELT(list, i);
  return R_NilValue;
}

SEXP env_get(SEXP env, const char* name) {
  SEXP v = Rf_findVarInFrame(env, Rf_install(name));
  return v == R_UnboundValue ? R_NilValue : v;
}

}  // namespace

extern "C" SEXP rjc_run(SEXP, SEXP);            // rcpp_trace.cpp
extern "C" SEXP rjc_array_values(SEXP);         // rcpp_array.cpp

extern "C" SEXP rjc_signature(SEXP args, SEXP static_names) {
  RJ_TRY
  // The strings live outside r_safe(): an R error inside unwinds past it.
  std::string key, sigs, shape;
  if (TYPEOF(args) != VECSXP) rj::fail("type", "the signature of a call needs its arguments as a list");
  if (TYPEOF(static_names) != STRSXP) rj::fail("type", "the names of static arguments must be a character vector");
  return rj::r_safe([&] {
    SEXP st_out = R_NilValue;
    SEXP leaves = fast_signature(args, static_names, key, sigs, shape, &st_out);
    if (Rf_isNull(leaves)) return R_NilValue;
    PROTECT(leaves);
    PROTECT(st_out);
    SEXP out = PROTECT(Rf_allocVector(VECSXP, 3));
    SET_VECTOR_ELT(out, 0, Rf_mkString(key.c_str()));
    SET_VECTOR_ELT(out, 1, leaves);
    SET_VECTOR_ELT(out, 2, st_out);
    SEXP onm = PROTECT(Rf_allocVector(STRSXP, 3));
    SET_STRING_ELT(onm, 0, Rf_mkChar("key"));
    SET_STRING_ELT(onm, 1, Rf_mkChar("leaves"));
    SET_STRING_ELT(onm, 2, Rf_mkChar("static"));
    Rf_setAttrib(out, R_NamesSymbol, onm);
    UNPROTECT(4);
    return out;
  });
  RJ_CATCH
  return R_NilValue;
}

// A jitted call's whole fast path (jit()'s impl, R/jit.R): the signature
// as above, the compiled program from the function's cache (an environment:
// entries, used, tick; the least-recently-used stamp is updated as
// rj_cache_get() does), the devices of rj_array arguments (one device, else
// R's path raises the classed error), the run, and R-in/R-out conversion
// (`output`: "auto", "r" or "rj_array", rj_outputs()'s rule). Returns
// list(result) when the output tree is a single leaf, else list(out_def,
// outputs) for R's tree_unflatten(). NULL: not handled here (a new signature, a static or
// non-array argument, a dead program): R's path runs.
extern "C" SEXP rjc_dispatch(SEXP cache, SEXP args, SEXP static_names, SEXP output) {
  RJ_TRY
  // The strings live outside r_safe(): an R error inside (a kernel's
  // warning turned error, a failed conversion) unwinds past it.
  std::string key, sigs, shape;
  if (TYPEOF(args) != VECSXP || TYPEOF(static_names) != STRSXP || TYPEOF(cache) != ENVSXP) return R_NilValue;
  return rj::r_safe([&]() -> SEXP {
    SEXP leaves = fast_signature(args, static_names, key, sigs, shape, nullptr);
    if (Rf_isNull(leaves)) return R_NilValue;
    PROTECT(leaves);
    SEXP entries = env_get(cache, "entries");
    SEXP entry = TYPEOF(entries) == ENVSXP ? Rf_findVarInFrame(entries, Rf_install(key.c_str())) : R_UnboundValue;
    SEXP exe = TYPEOF(entry) == VECSXP ? list_elt(entry, "exe") : R_NilValue;
    if (TYPEOF(exe) != EXTPTRSXP || R_ExternalPtrAddr(exe) == nullptr) {  // new signature, or a restored function
      UNPROTECT(1);
      return R_NilValue;
    }
    SEXP def = list_elt(entry, "out_def");
    // One device among the rj_array arguments; any rj_array keeps outputs native under "auto".
    static SEXP device_sym = Rf_install("device");
    SEXP dev = R_NilValue;
    bool any_array = false;
    for (R_xlen_t i = 0; i < XLENGTH(leaves); ++i) {
      SEXP l = VECTOR_ELT(leaves, i);
      if (!IS_S4_OBJECT(l) || !class_is(l, "rj_array")) continue;
      any_array = true;
      SEXP d = R_do_slot(l, device_sym);
      if (Rf_isNull(dev)) {
        dev = d;
      } else if (TYPEOF(d) != STRSXP || TYPEOF(dev) != STRSXP ||
                 std::strcmp(CHAR(STRING_ELT(d, 0)), CHAR(STRING_ELT(dev, 0))) != 0) {
        UNPROTECT(1);
        return R_NilValue;  // mixed devices: R's path raises rjax_device_error
      }
    }
    // The least-recently-used stamp (rj_cache_get()).
    SEXP used = env_get(cache, "used"), tick = env_get(cache, "tick");
    if (TYPEOF(used) == ENVSXP && TYPEOF(tick) == REALSXP && XLENGTH(tick) == 1) {
      SEXP t = PROTECT(Rf_ScalarReal(REAL(tick)[0] + 1));
      Rf_defineVar(Rf_install("tick"), t, cache);
      Rf_defineVar(Rf_install(key.c_str()), t, used);
      UNPROTECT(1);
    }
    SEXP outs = PROTECT(rjc_run(exe, leaves));
    const char* mode = TYPEOF(output) == STRSXP && XLENGTH(output) == 1 ? CHAR(STRING_ELT(output, 0)) : "auto";
    if (std::strcmp(mode, "r") == 0 || (std::strcmp(mode, "auto") == 0 && !any_array)) {
      for (R_xlen_t i = 0; i < XLENGTH(outs); ++i) {
        SEXP o = VECTOR_ELT(outs, i);
        if (IS_S4_OBJECT(o) && class_is(o, "rj_array")) SET_VECTOR_ELT(outs, i, rjc_array_values(o));
      }
    }
    const bool leaf = Rf_inherits(def, "rj_leaf") && XLENGTH(outs) == 1;
    SEXP res = PROTECT(Rf_allocVector(VECSXP, leaf ? 1 : 2));
    if (leaf) {
      SET_VECTOR_ELT(res, 0, VECTOR_ELT(outs, 0));
    } else {
      SET_VECTOR_ELT(res, 0, def);
      SET_VECTOR_ELT(res, 1, outs);
    }
    UNPROTECT(3);
    return res;
  });
  RJ_CATCH
  return R_NilValue;
}
