// R glue for device arrays: external pointers, S4 objects and conversions;
// the per-call bookkeeping of every entry point (rj::guarded, in
// rcpp_glue.h): interrupts, warnings from the runtime, options(rjax.threads)
// and R's garbage collection under native memory pressure.
#include <cmath>
#include <limits>
#include <type_traits>

#include "backend/llvm/jit.h"
#include "rcpp_glue.h"
#include "rcpp_warnings.h"
#include "runtime/interrupt.h"
#include "runtime/memory.h"
#include "runtime/thread_pool.h"

extern "C" void Rf_onintr(void);  // R's own interrupt (Rinterface.h; used by Rcpp too)

namespace rj {

static SEXP proto_array = R_NilValue, proto_tracer = R_NilValue;
static SEXP tag_buffer, tag_graph, tag_exe;
static SEXP s_ptr, s_dtype, s_shape, s_graph, s_id, s_level, s_device;

SEXP r_unwind_token() {
  static SEXP token = [] {
    SEXP t = R_MakeUnwindCont();
    R_PreserveObject(t);
    return t;
  }();
  return token;
}

// Calls rjax:::rj_abort(kind, msg) in R; used after every C++ object is gone.
static void call_abort(const char* kind, const char* msg) {
  SEXP ns = PROTECT(R_FindNamespace(Rf_mkString("rjax")));
  SEXP f = PROTECT(Rf_findFun(Rf_install("rj_abort"), ns));
  SEXP call = PROTECT(Rf_lang3(f, Rf_mkString(kind), Rf_mkString(msg)));
  Rf_eval(call, ns);
  UNPROTECT(3);
}

void r_signal(const char* kind, const char* msg) {
  if (std::strcmp(kind, "interrupt") == 0) {
    Rf_onintr();  // the condition of class "interrupt" that Ctrl-C gives in R
    Rf_error("%s", msg);  // not reached
  }
  call_abort(kind, msg);
  Rf_error("%s", msg);  // not reached: rj_abort always signals
}

// ---- per-call bookkeeping -------------------------------------------------

// R_CheckUserInterrupt() longjmps when an interrupt is pending: inside
// R_ToplevelExec that longjmp ends at the top-level context made there, so
// no C++ frame is skipped. FALSE from R_ToplevelExec means "interrupted".
static void check_user_interrupt(void*) { R_CheckUserInterrupt(); }
static bool r_interrupt_pending() { return R_ToplevelExec(check_user_interrupt, nullptr) == FALSE; }

// options(rjax.threads): applied when it changes (compared by value).
static std::string g_threads_notice;
static void sync_threads_option() {
  static SEXP sym = Rf_install("rjax.threads");
  static int applied = -1;  // -1: never looked; 0: default
  SEXP v = Rf_GetOption1(sym);
  int n = 0;
  if (!Rf_isNull(v)) {
    double d = (TYPEOF(v) == REALSXP || TYPEOF(v) == INTSXP) && Rf_xlength(v) == 1 ? Rf_asReal(v) : NAN;
    if (std::isfinite(d) && d >= 1 && d == std::floor(d)) n = d > kMaxThreads ? kMaxThreads + 1 : (int)d;
    else n = -2;  // invalid: default, with a warning once per change
  }
  if (n == applied) return;
  applied = n;
  if (n == -2)
    g_threads_notice = "options(rjax.threads) must be a positive whole number (or NULL for the default); using the default (" +
                       std::to_string(pool_default_threads()) + " threads)";
  try {
    set_pool_threads(n > 0 ? n : 0);
  } catch (...) {
    g_threads_notice = "rjax could not resize its thread pool (out of memory)";
  }
}

void r_before_call() { sync_threads_option(); }

// R's collector sees only the small R objects that hold native buffers.
// Three mechanisms make it collect dead rj_arrays in time:
// - An rj_array of kBallastMin bytes or more holds an uninitialised raw
//   vector of the same size (a "ballast", never written: address space, not
//   resident memory), as the value of the weak reference that carries its
//   finalizer (so it is not part of the object: serialize() does not see
//   it). R counts it in its vector heap, so R's generational collector
//   treats the array as the large vector it is: collections run as such
//   arrays are made, and dead ones already promoted to an older generation
//   are found when R escalates (it does, as their ballasts fill its heap).
//   gc() shows them; mem.maxVSize() limits them.
// - Smaller arrays are summed instead: once kProbeBytes have been wrapped,
//   a raw vector of that size is allocated and dropped at once (a "probe",
//   mapped rather than taken from the malloc heap), which R counts until its
//   next collection. Ballasts for every small array would inflate R's
//   heap trigger and let R's own small objects spread (resident memory grew
//   by tens of MB in a loop of 100 kB arrays); probes do not.
// - A safety net for native memory held by other R objects (compiled
//   programs, traced graphs): when the native bytes in use exceed a mark,
//   run a full collection (R_gc, tens of ms) and set the next mark at twice
//   what survives, at least kGcMinGrowth above it.
constexpr size_t kBallastMin = size_t(1) << 20;
constexpr int64_t kProbeBytes = int64_t(64) << 20;
constexpr int64_t kGcMinGrowth = int64_t(512) << 20;
static int64_t g_wrapped = 0;  // bytes wrapped into rj_arrays since the last probe
static int64_t g_gc_mark = kGcMinGrowth;

// warning(<condition of class cls, "rjax_warning", "warning">).
static void warn_classed(const char* cls, const std::string& msg) {
  SEXP cond = PROTECT(Rf_allocVector(VECSXP, 2));
  SET_VECTOR_ELT(cond, 0, Rf_mkString(msg.c_str()));
  SEXP nm = PROTECT(Rf_allocVector(STRSXP, 2));
  SET_STRING_ELT(nm, 0, Rf_mkChar("message"));
  SET_STRING_ELT(nm, 1, Rf_mkChar("call"));
  Rf_setAttrib(cond, R_NamesSymbol, nm);
  SEXP cl = PROTECT(Rf_allocVector(STRSXP, 4));
  const char* classes[] = {cls, "rjax_warning", "warning", "condition"};
  for (int i = 0; i < 4; ++i) SET_STRING_ELT(cl, i, Rf_mkChar(classes[i]));
  Rf_setAttrib(cond, R_ClassSymbol, cl);
  SEXP call = PROTECT(Rf_lang2(Rf_install("warning"), cond));
  Rf_eval(call, R_BaseEnv);
  UNPROTECT(4);
}

SEXP r_after_call(SEXP res) {
  PROTECT(res);
  if (g_wrapped >= kProbeBytes) {
    R_xlen_t n = (R_xlen_t)g_wrapped;
    g_wrapped = 0;
    Rf_allocVector(RAWSXP, n);  // garbage at once: counted until R's next collection
  }
  if (live_bytes() > g_gc_mark) {
    R_gc();
    int64_t live = live_bytes();
    g_gc_mark = live + std::max(kGcMinGrowth, live);
  }
  std::string notice = pool_take_notice();
  if (!g_threads_notice.empty()) {
    notice = g_threads_notice + (notice.empty() ? "" : "; " + notice);
    g_threads_notice.clear();
  }
  if (!notice.empty()) warn_classed("rjax_threads_warning", notice);
  UNPROTECT(1);
  return res;
}

// ---- safe R constructors ----------------------------------------------------

SEXP r_string(const std::string& s) {
  const char* c = s.c_str();
  return r_safe([&] { return Rf_mkString(c); });
}
SEXP r_char(const std::string& s) {
  const char* c = s.c_str();
  return r_safe([&] { return Rf_mkChar(c); });
}
SEXP r_int(int v) {
  return r_safe([&] { return Rf_ScalarInteger(v); });
}
SEXP r_lgl(bool v) {
  return r_safe([&] { return Rf_ScalarLogical(v ? TRUE : FALSE); });
}
SEXP r_alloc(SEXPTYPE type, R_xlen_t n) {
  return r_safe([&] { return Rf_allocVector(type, n); });
}
void r_set_attrib(SEXP x, SEXP name, SEXP value) {
  r_safe([&] { Rf_setAttrib(x, name, value); });
}

// ---- external pointers ------------------------------------------------------

template <class T>
static void finalize(SEXP p) {
  auto* obj = static_cast<std::shared_ptr<T>*>(R_ExternalPtrAddr(p));
  delete obj;
  R_ClearExternalPtr(p);
}

// The external pointer is made (and its finalizer registered) first, empty;
// the C++ object is attached after the last R allocation, so an R error in
// between leaks nothing. `ballast`: see kBallastMin.
template <class T>
static SEXP wrap_shared(std::shared_ptr<T> x, SEXP tag, size_t ballast = 0) {
  auto heap = std::make_unique<std::shared_ptr<T>>(std::move(x));
  SEXP p = r_safe([&] {
    SEXP e = PROTECT(R_MakeExternalPtr(nullptr, tag, R_NilValue));
    SEXP val = PROTECT(ballast ? Rf_allocVector(RAWSXP, (R_xlen_t)ballast) : R_NilValue);
    R_MakeWeakRefC(e, val, finalize<T>, TRUE);  // the finalizer, and the ballast kept while e lives
    UNPROTECT(2);
    return e;
  });
  R_SetExternalPtrAddr(p, heap.release());
  return p;
}

template <class T>
static std::shared_ptr<T> unwrap_shared(SEXP p, SEXP tag, const char* what) {
  if (TYPEOF(p) != EXTPTRSXP || R_ExternalPtrTag(p) != tag)
    fail("internal", std::string("invalid ") + what + " pointer");
  if (!R_ExternalPtrAddr(p))
    fail("serialization", std::string("this ") + what +
                              " has no native data: it was saved and restored (saveRDS(), save(), serialize(), or sent "
                              "to a parallel worker by a socket cluster), and rjax objects live in native memory that "
                              "is not saved. " +
                              (std::strcmp(what, "rj_array") == 0
                                   ? "Convert arrays with as.array() before saving and with rj_array() after loading"
                                   : "Call jit() (or the transform) again after loading"));
  return *static_cast<std::shared_ptr<T>*>(R_ExternalPtrAddr(p));
}

SEXP wrap_buffer(BufferPtr b) {
  size_t bytes = b->nbytes();
  if (bytes >= kBallastMin) return wrap_shared(std::move(b), tag_buffer, bytes);
  g_wrapped += (int64_t)bytes;
  return wrap_shared(std::move(b), tag_buffer);
}
SEXP wrap_graph(GraphPtr g) { return wrap_shared(std::move(g), tag_graph); }
SEXP wrap_exe(ExecutablePtr e) { return wrap_shared(std::move(e), tag_exe); }
BufferPtr get_buffer(SEXP p) { return unwrap_shared<Buffer>(p, tag_buffer, "rj_array"); }
GraphPtr get_graph(SEXP p) { return unwrap_shared<Graph>(p, tag_graph, "traced value or program"); }
ExecutablePtr get_exe(SEXP p) { return unwrap_shared<Executable>(p, tag_exe, "compiled program"); }

static bool has_class(SEXP x, const char* cls) {
  if (!IS_S4_OBJECT(x)) return false;
  SEXP k = Rf_getAttrib(x, R_ClassSymbol);
  return TYPEOF(k) == STRSXP && Rf_length(k) >= 1 && std::strcmp(CHAR(STRING_ELT(k, 0)), cls) == 0;
}
bool is_array(SEXP x) { return has_class(x, "rj_array"); }
bool is_tracer(SEXP x) { return has_class(x, "rj_tracer"); }

// R dims are int: a larger extent cannot be given to R.
static void check_r_dims(const Shape& s) {
  for (int64_t e : s)
    if (e > INT_MAX)
      fail("shape", "an array of shape [" + shape_str(s) + "] cannot be returned to R: R allows at most " +
                        std::to_string(INT_MAX) + " along one dimension");
}

// Inside r_safe only (no C++ exceptions): dims already checked.
static SEXP shape_sexp_unsafe(const Shape& s) {
  SEXP v = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)s.size()));
  for (size_t i = 0; i < s.size(); ++i) INTEGER(v)[i] = (int)s[i];
  UNPROTECT(1);
  return v;
}

// The truth value R's `if` sees in a one-element array (the object's logical
// data part, see R/array.R): NA for NA and NaN, as R's as.logical().
static int scalar_truth(const Buffer& b) {
  switch (b.dtype) {
    case DType::f64: { double v = b.as<double>()[0]; return std::isnan(v) ? NA_LOGICAL : v != 0; }
    case DType::f32: { float v = b.as<float>()[0]; return std::isnan(v) ? NA_LOGICAL : v != 0; }
    case DType::i32: { int v = b.as<int>()[0]; return v == NA_INTEGER ? NA_LOGICAL : v != 0; }
    default: { uint8_t v = b.as<uint8_t>()[0]; return v == kNABool ? NA_LOGICAL : v != 0; }
  }
}

SEXP new_array(BufferPtr b) {
  check_r_dims(b->shape);
  const Shape& shape = b->shape;
  const char* dt = dtype_name(b->dtype);
  const bool one = b->size() == 1 && b->data;
  const int truth = one ? scalar_truth(*b) : NA_LOGICAL;
  SEXP o = PROTECT(r_safe([&] {
    SEXP o;
    if (one) {
      o = PROTECT(Rf_allocVector(LGLSXP, 1));
      LOGICAL(o)[0] = truth;
      DUPLICATE_ATTRIB(o, proto_array);
    } else {
      o = PROTECT(Rf_duplicate(proto_array));
    }
    R_do_slot_assign(o, s_dtype, Rf_mkString(dt));
    R_do_slot_assign(o, s_shape, shape_sexp_unsafe(shape));
    R_do_slot_assign(o, s_device, Rf_mkString("cpu"));
    UNPROTECT(1);
    return o;
  }));
  SEXP p = PROTECT(wrap_buffer(std::move(b)));
  r_safe([&] { R_do_slot_assign(o, s_ptr, p); });
  UNPROTECT(2);
  return o;
}

SEXP new_tracer(const GraphPtr& g, SEXP gptr, int id, int truth) {
  const Type& t = g->type(id);
  check_r_dims(t.shape);
  const char* dt = dtype_name(t.dtype);
  int level = g->level;
  return r_safe([&] {
    SEXP o;
    if (truth != -1) {
      o = PROTECT(Rf_allocVector(LGLSXP, 1));
      LOGICAL(o)[0] = truth;
      DUPLICATE_ATTRIB(o, proto_tracer);
    } else {
      o = PROTECT(Rf_duplicate(proto_tracer));
    }
    R_do_slot_assign(o, s_dtype, Rf_mkString(dt));
    R_do_slot_assign(o, s_shape, shape_sexp_unsafe(t.shape));
    R_do_slot_assign(o, s_graph, gptr);
    R_do_slot_assign(o, s_id, Rf_ScalarInteger(id));
    R_do_slot_assign(o, s_level, Rf_ScalarInteger(level));
    UNPROTECT(1);
    return o;
  });
}

// R_do_slot raises an R error for an object without the slot.
static SEXP slot(SEXP x, SEXP name) {
  return r_safe([&] { return R_do_slot(x, name); });
}
BufferPtr array_buffer(SEXP arr) { return get_buffer(slot(arr, s_ptr)); }
GraphPtr tracer_graph(SEXP tr) { return get_graph(slot(tr, s_graph)); }
int tracer_id(SEXP tr) {
  SEXP id = slot(tr, s_id);
  if (TYPEOF(id) != INTSXP || Rf_xlength(id) != 1) fail("internal", "invalid rj_tracer");
  return INTEGER(id)[0];
}

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
  check_r_dims(b.shape);
  int64_t n = b.size();
  SEXPTYPE type = b.dtype == DType::i32 ? INTSXP : b.dtype == DType::b8 ? LGLSXP : REALSXP;
  const Shape& shape = b.shape;
  SEXP out = PROTECT(r_safe([&] {
    SEXP v = PROTECT(Rf_allocVector(type, n));
    if (shape.size() >= 2) Rf_setAttrib(v, R_DimSymbol, shape_sexp_unsafe(shape));
    UNPROTECT(1);
    return v;
  }));
  switch (b.dtype) {
    case DType::f64:
      if (n) std::memcpy(REAL(out), b.data, n * sizeof(double));
      break;
    case DType::f32: copy_convert(b.as<float>(), REAL(out), n); break;
    case DType::i32:
      if (n) std::memcpy(INTEGER(out), b.data, n * sizeof(int));
      break;
    default: {
      const uint8_t* p = b.as<uint8_t>();
      for (int64_t i = 0; i < n; ++i) LOGICAL(out)[i] = p[i] == kNABool ? NA_LOGICAL : p[i];
      break;
    }
  }
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
      SEXP xi = PROTECT(r_safe([&] { return Rf_coerceVector(x, REALSXP); }));
      for (int k = 0; k < Rf_length(xi); ++k) r.push_back((int64_t)REAL(xi)[k]);
      UNPROTECT(1);
      return r;
    };
    if (nm == attr_names[0]) a.ints = ints(v);
    else if (nm == attr_names[1]) for (int k = 0; k < Rf_length(v); ++k) a.lists.push_back(ints(VECTOR_ELT(v, k)));
    else if (nm == attr_names[2]) a.shape = ints(v);
    else if (nm == attr_names[3]) a.dtype = dtype_from_name(str_arg(v));
    else if (nm == attr_names[4]) {
      SEXP sv = r_safe([&] { return Rf_coerceVector(v, REALSXP); });  // coercion can warn (an error under warn = 2)
      a.scalar = Rf_xlength(sv) ? REAL(sv)[0] : NA_REAL;
    }
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
  r_unwind_token();
  set_interrupt_checker(r_interrupt_pending);
  return R_NilValue;
}

// Native runtime state, for rjax_threads(), rjax_memory() and tests.
SEXP rjc_runtime_info() {
  RJ_TRY
  MemoryStats m = memory_stats();
  int threads = pool_threads();
  int deflt = pool_default_threads();
  JitStats j = llvm_jit_stats();
  double v[] = {(double)threads,      (double)deflt,         (double)m.live_bytes, (double)m.live_blocks,
                (double)m.peak_bytes, (double)m.pooled_bytes, (double)kPoolCap,     (double)m.machine_bytes,
                (double)g_gc_mark,    (double)j.modules,     (double)j.kernels};
  const char* names[] = {"threads",    "default_threads", "live_bytes", "live_blocks",    "peak_bytes", "pooled_bytes",
                         "pool_cap",   "machine_bytes",   "gc_mark",    "kernel_modules", "kernels"};
  const int n = sizeof(v) / sizeof(v[0]);
  return r_safe([&] {
    SEXP out = PROTECT(Rf_allocVector(REALSXP, n));
    SEXP nm = PROTECT(Rf_allocVector(STRSXP, n));
    for (int i = 0; i < n; ++i) {
      REAL(out)[i] = v[i];
      SET_STRING_ELT(nm, i, Rf_mkChar(names[i]));
    }
    Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(2);
    return out;
  });
  RJ_CATCH
  return R_NilValue;
}

// The thread pool's own checks (tests/testthat/test-threads.R).
SEXP rjc_pool_selftest() {
  RJ_TRY
  return r_string(pool_selftest());
  RJ_CATCH
  return R_NilValue;
}

// Gives the block pool's kept memory back to the system.
SEXP rjc_release_memory() {
  RJ_TRY
  release_pooled();
  return R_NilValue;
  RJ_CATCH
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
