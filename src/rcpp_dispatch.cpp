// The jitted call's signature in C++: flattening the argument tree into its
// array leaves, and the cache key (per argument: each leaf's dtype, shape
// and weak type, and the tree's structure; or the value of a static
// argument). Same rules as R/tree.R's tree_flatten() and is_array_leaf():
// rj_array / rj_tracer values and plain numeric or logical vectors are
// leaves; lists (and "rj_tree" objects) are walked; anything else (strings,
// NULL, functions, ...) is a static value inside the structure. A named
// argument listed in `static`, or holding no array at all, is static: its
// value (deparsed once here, as R's signature_key() did) is in the key.
//
// R entry point: .Call(C_rjc_signature, args, static) returns
// list(key = <string>, leaves = <list of leaves in order>, static = <names>).
// The walk is one pass over the arguments with no R-level calls except
// deparse() for static values.
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

bool inherits_from(SEXP x, const char* what) {
  SEXP cl = Rf_getAttrib(x, R_ClassSymbol);
  if (TYPEOF(cl) != STRSXP) return false;
  for (R_xlen_t i = 0; i < XLENGTH(cl); ++i)
    if (std::strcmp(CHAR(STRING_ELT(cl, i)), what) == 0) return true;
  return false;
}

bool is_rj_value(SEXP x) { return IS_S4_OBJECT(x) && class_is(x, "rj_array", "rj_tracer"); }

bool is_array_leaf(SEXP x) {
  if (is_rj_value(x)) return true;
  int t = TYPEOF(x);
  return (t == REALSXP || t == INTSXP || t == LGLSXP) && !OBJECT(x);
}

bool is_tree_node(SEXP x) { return (TYPEOF(x) == VECSXP && !OBJECT(x)) || inherits_from(x, "rj_tree"); }

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

// deparse(x, control = c("keepNA", "digits17")), collapsed: the key of a
// static value (may run R code: called inside r_safe()).
void deparse_into(SEXP x, std::string& s) {
  SEXP ctrl = PROTECT(Rf_allocVector(STRSXP, 2));
  SET_STRING_ELT(ctrl, 0, Rf_mkChar("keepNA"));
  SET_STRING_ELT(ctrl, 1, Rf_mkChar("digits17"));
  SEXP call = PROTECT(Rf_lang3(Rf_install("deparse"), x, ctrl));
  SET_TAG(CDDR(call), Rf_install("control"));
  SEXP d = PROTECT(Rf_eval(call, R_BaseEnv));
  for (R_xlen_t i = 0; i < XLENGTH(d); ++i) s += CHAR(STRING_ELT(d, i));
  UNPROTECT(3);
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

  void walk(SEXP v) {
    if (is_array_leaf(v)) {
      if (!sigs.empty()) sigs += ';';
      leaf_signature(v, sigs);
      push(v);
      shape += '#';
      return;
    }
    if (is_tree_node(v)) {
      SEXP nms = Rf_getAttrib(v, R_NamesSymbol);
      shape += '(';
      for (R_xlen_t i = 0; i < XLENGTH(v); ++i) {
        if (!Rf_isNull(nms)) {
          shape += CHAR(STRING_ELT(nms, i));
          shape += '=';
        }
        walk(VECTOR_ELT(v, i));
        shape += ',';
      }
      shape += ')';
      return;
    }
    shape += '{';
    deparse_into(v, shape);
    shape += '}';
  }
};

bool in_strings(SEXP strs, const char* s) {
  for (R_xlen_t i = 0; i < XLENGTH(strs); ++i)
    if (std::strcmp(CHAR(STRING_ELT(strs, i)), s) == 0) return true;
  return false;
}

}  // namespace

extern "C" SEXP rjc_signature(SEXP args, SEXP static_names) {
  RJ_TRY
  // The strings live outside r_safe(): an R error inside unwinds past it.
  std::string key, sigs, shape;
  if (TYPEOF(args) != VECSXP) rj::fail("type", "the signature of a call needs its arguments as a list");
  if (TYPEOF(static_names) != STRSXP) rj::fail("type", "the names of static arguments must be a character vector");
  return rj::r_safe([&] {
    SEXP nms = Rf_getAttrib(args, R_NamesSymbol);
    Walk w{R_NilValue, 0, sigs, shape, 0};
    SEXP leaves0 = Rf_allocVector(VECSXP, 8);
    PROTECT_WITH_INDEX(leaves0, &w.index);
    w.leaves = leaves0;
    SEXP st = PROTECT(Rf_allocVector(STRSXP, XLENGTH(static_names) + XLENGTH(args)));
    R_xlen_t n_st = 0;
    for (R_xlen_t i = 0; i < XLENGTH(static_names); ++i) SET_STRING_ELT(st, n_st++, STRING_ELT(static_names, i));
    key = "C";  // never equal to a key R's signature_key() made
    for (R_xlen_t i = 0; i < XLENGTH(args); ++i) {
      SEXP a = VECTOR_ELT(args, i);
      const char* nm = Rf_isNull(nms) ? "" : CHAR(STRING_ELT(nms, i));
      key += '\n';
      key += nm;
      bool named = nm[0] != '\0';
      if (named && in_strings(static_names, nm)) {
        key += '=';
        deparse_into(a, key);
        continue;
      }
      R_xlen_t before = w.n;
      sigs.clear();
      shape.clear();
      w.walk(a);
      if (named && w.n == before) {  // named and holding no array: static by value
        if (!in_strings(st, nm)) SET_STRING_ELT(st, n_st++, STRING_ELT(nms, i));
        key += '=';
        key += shape;
        continue;
      }
      key += ':';
      key += sigs;
      key += '|';
      if (!(w.n - before == 1 && shape == "#")) key += shape;
    }
    SEXP leaves = PROTECT(Rf_allocVector(VECSXP, w.n));
    for (R_xlen_t i = 0; i < w.n; ++i) SET_VECTOR_ELT(leaves, i, VECTOR_ELT(w.leaves, i));
    SEXP st_out = PROTECT(Rf_allocVector(STRSXP, n_st));
    for (R_xlen_t i = 0; i < n_st; ++i) SET_STRING_ELT(st_out, i, STRING_ELT(st, i));
    SEXP out = PROTECT(Rf_allocVector(VECSXP, 3));
    SET_VECTOR_ELT(out, 0, Rf_mkString(key.c_str()));
    SET_VECTOR_ELT(out, 1, leaves);
    SET_VECTOR_ELT(out, 2, st_out);
    SEXP onm = PROTECT(Rf_allocVector(STRSXP, 3));
    SET_STRING_ELT(onm, 0, Rf_mkChar("key"));
    SET_STRING_ELT(onm, 1, Rf_mkChar("leaves"));
    SET_STRING_ELT(onm, 2, Rf_mkChar("static"));
    Rf_setAttrib(out, R_NamesSymbol, onm);
    UNPROTECT(6);
    return out;
  });
  RJ_CATCH
  return R_NilValue;
}
