// R glue of the program format (src/ir/serialize.h): programs to and from
// files and raw vectors. Meta entries travel as a named list of raw vectors
// (the R side keeps its tree structures and signature there).
#include "backend/llvm/objcache_stats.h"
#include "ir/serialize.h"
#include "runtime/npy.h"
#include "rcpp_glue.h"

using namespace rj;

namespace {

Program program_from_r(SEXP gptr, SEXP meta) {
  Program p;
  p.graph = get_graph(gptr);
  SEXP nms = Rf_getAttrib(meta, R_NamesSymbol);
  for (R_xlen_t i = 0; i < Rf_xlength(meta); ++i) {
    SEXP v = VECTOR_ELT(meta, i);
    if (TYPEOF(v) != RAWSXP || nms == R_NilValue) fail("internal", "program meta must be a named list of raw vectors");
    p.meta[CHAR(STRING_ELT(nms, i))] = std::string(reinterpret_cast<const char*>(RAW(v)), (size_t)Rf_xlength(v));
  }
  return p;
}

SEXP raw_of(const std::string& s) {
  SEXP r = r_alloc(RAWSXP, (R_xlen_t)s.size());
  if (!s.empty()) std::memcpy(RAW(r), s.data(), s.size());
  return r;
}

// list(graph, meta, format_version, rjax_version)
SEXP program_to_r(const Program& p, const ProgramHeader& h) {
  SEXP out = PROTECT(r_alloc(VECSXP, 4));
  SET_VECTOR_ELT(out, 0, wrap_graph(p.graph));
  SEXP meta = PROTECT(r_alloc(VECSXP, (R_xlen_t)p.meta.size()));
  SEXP nms = PROTECT(r_alloc(STRSXP, (R_xlen_t)p.meta.size()));
  R_xlen_t i = 0;
  for (auto& kv : p.meta) {
    SET_VECTOR_ELT(meta, i, raw_of(kv.second));
    SET_STRING_ELT(nms, i, r_char(kv.first));
    ++i;
  }
  r_set_attrib(meta, R_NamesSymbol, nms);
  SET_VECTOR_ELT(out, 1, meta);
  SET_VECTOR_ELT(out, 2, r_int((int)h.format_version));
  SET_VECTOR_ELT(out, 3, r_string(h.rjax_version));
  UNPROTECT(3);
  return out;
}

std::string bytes_of(SEXP raw) {
  if (TYPEOF(raw) != RAWSXP) fail("type", "a program must be a raw vector");
  return std::string(reinterpret_cast<const char*>(RAW(raw)), (size_t)Rf_xlength(raw));
}

}  // namespace

extern "C" {

// The program of graph `gptr` with `meta` as a raw vector (file contents).
SEXP rjc_program_bytes(SEXP gptr, SEXP meta) {
  RJ_TRY
  return raw_of(serialize_program(program_from_r(gptr, meta)));
  RJ_CATCH
  return R_NilValue;
}

// Parses and verifies program bytes (a raw vector): list(graph, meta, format_version, rjax_version).
SEXP rjc_program_parse(SEXP raw) {
  RJ_TRY
  std::string b = bytes_of(raw);
  Program p = parse_program(b);
  return program_to_r(p, read_program_header(b));
  RJ_CATCH
  return R_NilValue;
}

// The program's inputs ("label type") and output types, for printing.
SEXP rjc_program_signature(SEXP gptr) {
  RJ_TRY
  GraphPtr g = get_graph(gptr);
  auto ins = g->inputs();
  SEXP out = PROTECT(r_alloc(VECSXP, 2));
  SEXP in = r_alloc(STRSXP, (R_xlen_t)ins.size());
  SET_VECTOR_ELT(out, 0, in);
  for (size_t k = 0; k < ins.size(); ++k)
    SET_STRING_ELT(in, (R_xlen_t)k, r_char(g->nodes[ins[k]].label + " " + g->type(ins[k]).str()));
  SEXP os = r_alloc(STRSXP, (R_xlen_t)g->outputs.size());
  SET_VECTOR_ELT(out, 1, os);
  for (size_t k = 0; k < g->outputs.size(); ++k) SET_STRING_ELT(os, (R_xlen_t)k, r_char(g->type(g->outputs[k]).str()));
  UNPROTECT(1);
  return out;
  RJ_CATCH
  return R_NilValue;
}

// The bytes of an rj_array's buffer (column-major, the dtype's layout).
SEXP rjc_array_bytes(SEXP arr) {
  RJ_TRY
  BufferPtr b = array_buffer(arr);
  return raw_of(std::string(static_cast<const char*>(b->data), b->nbytes()));
  RJ_CATCH
  return R_NilValue;
}

// An rj_array of dtype `dtype` and shape `shape` holding the bytes `raw`.
SEXP rjc_array_from_bytes(SEXP raw, SEXP dtype, SEXP shape) {
  RJ_TRY
  if (TYPEOF(raw) != RAWSXP || TYPEOF(shape) != INTSXP) fail("type", "rj_unpack(): a saved array needs raw data and integer dims");
  Shape s;
  for (R_xlen_t i = 0; i < Rf_xlength(shape); ++i) {
    if (INTEGER(shape)[i] < 0) fail("format", "a saved array has a negative dimension");
    s.push_back(INTEGER(shape)[i]);
  }
  DType d = dtype_from_name(str_arg(dtype));
  if ((size_t)Rf_xlength(raw) != (size_t)shape_size(s) * dtype_size(d))
    fail("format", "a saved array of " + Type{d, s}.str() + " has " + std::to_string(Rf_xlength(raw)) + " bytes of data");
  BufferPtr b = make_buffer(d, s);
  if (b->nbytes()) std::memcpy(b->data, RAW(raw), b->nbytes());
  return new_array(b);
  RJ_CATCH
  return R_NilValue;
}

// Whether an external pointer still points to native memory (FALSE after
// the object was saved and restored: R saves external pointers as NULL).
SEXP rjc_ptr_alive(SEXP p) {
  return Rf_ScalarLogical(TYPEOF(p) == EXTPTRSXP && R_ExternalPtrAddr(p) != nullptr);
}

// Writes an rj_array to a .npy file / reads one as an rj_array.
SEXP rjc_npy_write(SEXP arr, SEXP path) {
  RJ_TRY
  npy_save(*array_buffer(arr), str_arg(path));
  return R_NilValue;
  RJ_CATCH
  return R_NilValue;
}

SEXP rjc_npy_read(SEXP path) {
  RJ_TRY
  return new_array(npy_load(str_arg(path)));
  RJ_CATCH
  return R_NilValue;
}

// Counters of the persistent compile cache in this session:
// c(hits, misses, rejected, writes).
SEXP rjc_cache_stats(void) {
  RJ_TRY
  ObjCacheStats st = object_cache_stats();
  SEXP out = r_alloc(REALSXP, 4);
  REAL(out)[0] = (double)st.hits;
  REAL(out)[1] = (double)st.misses;
  REAL(out)[2] = (double)st.rejected;
  REAL(out)[3] = (double)st.writes;
  return out;
  RJ_CATCH
  return R_NilValue;
}

}  // extern "C"
