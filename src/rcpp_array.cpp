// R glue for device arrays: external pointers, S4 objects and conversions.
#include <cmath>
#include <limits>
#include <type_traits>

#include "rcpp_glue.h"
#include "rcpp_warnings.h"

namespace rj {

static SEXP proto_array = R_NilValue, proto_tracer = R_NilValue;
static SEXP tag_buffer, tag_graph, tag_exe;
static SEXP s_ptr, s_dtype, s_shape, s_graph, s_id, s_level, s_device;

void r_signal(const char* kind, const char* msg) {
  SEXP ns = PROTECT(R_FindNamespace(Rf_mkString("rjax")));
  SEXP fn = PROTECT(Rf_findFun(Rf_install("rj_abort"), ns));
  SEXP call = PROTECT(Rf_lang3(fn, Rf_mkString(kind), Rf_mkString(msg)));
  Rf_eval(call, ns);
  UNPROTECT(3);
  Rf_error("%s", msg);  // not reached: rj_abort always signals
}

template <class T>
static void finalize(SEXP p) {
  auto* obj = static_cast<std::shared_ptr<T>*>(R_ExternalPtrAddr(p));
  delete obj;
  R_ClearExternalPtr(p);
}

template <class T>
static SEXP wrap_shared(std::shared_ptr<T> x, SEXP tag) {
  auto* heap = new std::shared_ptr<T>(std::move(x));
  SEXP p = PROTECT(R_MakeExternalPtr(heap, tag, R_NilValue));
  R_RegisterCFinalizerEx(p, finalize<T>, TRUE);
  UNPROTECT(1);
  return p;
}

template <class T>
static std::shared_ptr<T> unwrap_shared(SEXP p, SEXP tag, const char* what) {
  if (TYPEOF(p) != EXTPTRSXP || R_ExternalPtrTag(p) != tag || !R_ExternalPtrAddr(p))
    fail("internal", std::string("invalid or expired ") + what + " pointer (objects from another R session cannot be used)");
  return *static_cast<std::shared_ptr<T>*>(R_ExternalPtrAddr(p));
}

SEXP wrap_buffer(BufferPtr b) { return wrap_shared(std::move(b), tag_buffer); }
SEXP wrap_graph(GraphPtr g) { return wrap_shared(std::move(g), tag_graph); }
SEXP wrap_exe(ExecutablePtr e) { return wrap_shared(std::move(e), tag_exe); }
BufferPtr get_buffer(SEXP p) { return unwrap_shared<Buffer>(p, tag_buffer, "array"); }
GraphPtr get_graph(SEXP p) { return unwrap_shared<Graph>(p, tag_graph, "graph"); }
ExecutablePtr get_exe(SEXP p) { return unwrap_shared<Executable>(p, tag_exe, "executable"); }

static bool has_class(SEXP x, const char* cls) {
  if (!IS_S4_OBJECT(x)) return false;
  SEXP k = Rf_getAttrib(x, R_ClassSymbol);
  return TYPEOF(k) == STRSXP && Rf_length(k) >= 1 && std::strcmp(CHAR(STRING_ELT(k, 0)), cls) == 0;
}
bool is_array(SEXP x) { return has_class(x, "rj_array"); }
bool is_tracer(SEXP x) { return has_class(x, "rj_tracer"); }

static SEXP shape_sexp(const Shape& s) {
  SEXP v = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)s.size()));
  for (size_t i = 0; i < s.size(); ++i) INTEGER(v)[i] = (int)s[i];
  UNPROTECT(1);
  return v;
}

SEXP new_array(BufferPtr b) {
  SEXP o = PROTECT(Rf_duplicate(proto_array));
  R_do_slot_assign(o, s_dtype, Rf_mkString(dtype_name(b->dtype)));
  R_do_slot_assign(o, s_shape, shape_sexp(b->shape));
  R_do_slot_assign(o, s_device, Rf_mkString("cpu"));
  R_do_slot_assign(o, s_ptr, wrap_buffer(std::move(b)));
  UNPROTECT(1);
  return o;
}

SEXP new_tracer(const GraphPtr& g, SEXP gptr, int id) {
  SEXP o = PROTECT(Rf_duplicate(proto_tracer));
  const Type& t = g->type(id);
  R_do_slot_assign(o, s_dtype, Rf_mkString(dtype_name(t.dtype)));
  R_do_slot_assign(o, s_shape, shape_sexp(t.shape));
  R_do_slot_assign(o, s_graph, gptr);
  R_do_slot_assign(o, s_id, Rf_ScalarInteger(id));
  R_do_slot_assign(o, s_level, Rf_ScalarInteger(g->level));
  UNPROTECT(1);
  return o;
}

BufferPtr array_buffer(SEXP arr) { return get_buffer(R_do_slot(arr, s_ptr)); }
GraphPtr tracer_graph(SEXP tr) { return get_graph(R_do_slot(tr, s_graph)); }
int tracer_id(SEXP tr) { return INTEGER(R_do_slot(tr, s_id))[0]; }

Shape r_shape(SEXP x) {
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  Shape s;
  if (!Rf_isNull(dim)) {
    for (int i = 0; i < Rf_length(dim); ++i) s.push_back(INTEGER(dim)[i]);
  } else if (Rf_xlength(x) != 1) {
    s.push_back((int64_t)Rf_xlength(x));
  }
  return s;
}

std::string str_arg(SEXP x) {
  if (TYPEOF(x) != STRSXP || Rf_length(x) < 1) fail("internal", "expected a string");
  return CHAR(STRING_ELT(x, 0));
}

template <class TO, class TI>
static void copy_convert(const TI* src, TO* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = (TO)src[i];
}

// R data keeps R's NA: NA_integer_ is INT_MIN in i32 buffers as in R,
// logical NA becomes the bool NA byte, and doubles are copied bit for bit
// (R's NA_real_ is a NaN payload, kept so that is.na/is.nan tell NA from NaN).
// A requested dtype other than R's own goes through the convert primitive:
// R's conversion rules (NA kept; doubles outside the integer range become
// NA with R's warning), the same eagerly and under jit.
BufferPtr buffer_from_r(SEXP x, const std::string& dtype_req) {
  int type = TYPEOF(x);
  if (Rf_isFactor(x)) fail("type", "factors are not numeric data: convert with as.integer() or model.matrix() first");
  if (type != REALSXP && type != INTSXP && type != LGLSXP) {
    const char* tn = Rf_type2char((SEXPTYPE)type);
    fail("type", std::string("rjax arrays hold numbers, but got ") + (type == STRSXP ? "character" : tn) +
                     " data; convert it with as.numeric() (or mark the argument static)");
  }
  int64_t n = (int64_t)Rf_xlength(x);
  DType natural = type == REALSXP ? DType::f64 : type == INTSXP ? DType::i32 : DType::b8;
  DType d = dtype_req.empty() ? natural : dtype_from_name(dtype_req);
  auto b = make_buffer(natural, r_shape(x));
  if (b->size() != n) fail("shape", "the dim attribute does not match the length of the data");
  if (type == REALSXP) {
    if (n) std::memcpy(b->data, REAL(x), (size_t)n * sizeof(double));
  } else if (type == INTSXP) {
    if (n) std::memcpy(b->data, INTEGER(x), (size_t)n * sizeof(int));
  } else {
    const int* p = LOGICAL(x);
    uint8_t* q = b->as<uint8_t>();
    for (int64_t i = 0; i < n; ++i) q[i] = p[i] == NA_LOGICAL ? kNABool : (uint8_t)(p[i] != 0);
  }
  if (d == natural) return b;
  auto c = make_buffer(d, b->shape);
  Attrs a;
  a.dtype = d;
  eval_prim(prim(prim_id("convert")), {b.get()}, *c, a);
  return c;
}

SEXP buffer_to_r(const Buffer& b) {
  int64_t n = b.size();
  SEXP out;
  switch (b.dtype) {
    case DType::f64:
      out = PROTECT(Rf_allocVector(REALSXP, n));
      if (n) std::memcpy(REAL(out), b.data, n * sizeof(double));
      break;
    case DType::f32:
      out = PROTECT(Rf_allocVector(REALSXP, n));
      copy_convert(b.as<float>(), REAL(out), n);
      break;
    case DType::i32:
      out = PROTECT(Rf_allocVector(INTSXP, n));
      if (n) std::memcpy(INTEGER(out), b.data, n * sizeof(int));
      break;
    default: {
      out = PROTECT(Rf_allocVector(LGLSXP, n));
      const uint8_t* p = b.as<uint8_t>();
      for (int64_t i = 0; i < n; ++i) LOGICAL(out)[i] = p[i] == kNABool ? NA_LOGICAL : p[i];
      break;
    }
  }
  if (b.shape.size() >= 2) Rf_setAttrib(out, R_DimSymbol, shape_sexp(b.shape));
  UNPROTECT(1);
  return out;
}

static const char* attr_names[] = {"ints", "lists", "shape", "dtype", "scalar"};

Attrs attrs_from_r(SEXP l) {
  Attrs a;
  if (Rf_isNull(l)) return a;
  SEXP names = Rf_getAttrib(l, R_NamesSymbol);
  for (int i = 0; i < Rf_length(l); ++i) {
    std::string nm = CHAR(STRING_ELT(names, i));
    SEXP v = VECTOR_ELT(l, i);
    auto ints = [&](SEXP x) {
      std::vector<int64_t> r;
      SEXP xi = PROTECT(Rf_coerceVector(x, REALSXP));
      for (int k = 0; k < Rf_length(xi); ++k) r.push_back((int64_t)REAL(xi)[k]);
      UNPROTECT(1);
      return r;
    };
    if (nm == attr_names[0]) a.ints = ints(v);
    else if (nm == attr_names[1]) for (int k = 0; k < Rf_length(v); ++k) a.lists.push_back(ints(VECTOR_ELT(v, k)));
    else if (nm == attr_names[2]) a.shape = ints(v);
    else if (nm == attr_names[3]) a.dtype = dtype_from_name(str_arg(v));
    else if (nm == attr_names[4]) a.scalar = Rf_asReal(v);
    else fail("internal", "unknown attribute '" + nm + "'");
  }
  return a;
}

}  // namespace rj

using namespace rj;

extern "C" {

SEXP rjc_init(SEXP pa, SEXP pt) {
  proto_array = pa;
  proto_tracer = pt;
  R_PreserveObject(pa);
  R_PreserveObject(pt);
  tag_buffer = Rf_install("rj_buffer");
  tag_graph = Rf_install("rj_graph");
  tag_exe = Rf_install("rj_executable");
  s_ptr = Rf_install("ptr");
  s_dtype = Rf_install("dtype");
  s_shape = Rf_install("shape");
  s_graph = Rf_install("graph");
  s_id = Rf_install("id");
  s_level = Rf_install("level");
  s_device = Rf_install("device");
  return R_NilValue;
}

static SEXP array_impl(SEXP x, SEXP dtype) {
  SEXP out = R_NilValue;
  RJ_TRY
  std::string d = Rf_isNull(dtype) ? "" : str_arg(dtype);
  if (is_array(x)) {  // conversion between dtypes
    BufferPtr b = array_buffer(x);
    if (d.empty() || dtype_from_name(d) == b->dtype) return x;
    Graph g;
    Builder bl(g);
    Attrs a;
    a.dtype = dtype_from_name(d);
    int v = bl.emit("convert", {bl.constant(b)}, a);
    return new_array(g.nodes[v].value);
  }
  out = new_array(buffer_from_r(x, d));
  return out;
  RJ_CATCH
  return out;
}

// Conversions can warn (R's "NAs introduced by coercion to integer range").
SEXP rjc_array(SEXP x, SEXP dtype) {
  rj_clear_warnings();
  return rj_emit_warnings(array_impl(x, dtype));
}

SEXP rjc_array_values(SEXP arr) {
  RJ_TRY
  return buffer_to_r(*array_buffer(arr));
  RJ_CATCH
  return R_NilValue;
}

}  // extern "C"
