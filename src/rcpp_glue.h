// Shared pieces of the R glue: external pointers, S4 objects, conversions
// between R vectors and buffers, and error forwarding.
//
// Errors: C++ exceptions are caught inside RJ_TRY/RJ_CATCH; the classed R
// condition is raised only after every C++ object of the frame is destroyed,
// so no destructor is skipped by R's longjmp.
#pragma once
#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

#include <cstring>
#include <string>

#include "backend/backend.h"
#include "ir/ir.h"

namespace rj {

// Raises rjax_<kind>_error in R (via rjax:::rj_abort); never returns.
[[noreturn]] void r_signal(const char* kind, const char* msg);

#define RJ_TRY                 \
  char rj_err_kind_[64] = {0}; \
  char rj_err_msg_[4096] = {0}; \
  try {
#define RJ_CATCH                                                                       \
  }                                                                                    \
  catch (rj::Error & e) {                                                              \
    std::strncpy(rj_err_kind_, e.kind.c_str(), sizeof(rj_err_kind_) - 1);             \
    std::strncpy(rj_err_msg_, e.what(), sizeof(rj_err_msg_) - 1);                     \
  }                                                                                    \
  catch (std::bad_alloc&) {                                                            \
    std::strcpy(rj_err_kind_, "memory");                                               \
    std::strcpy(rj_err_msg_, "out of memory");                                         \
  }                                                                                    \
  catch (std::exception & e) {                                                         \
    std::strcpy(rj_err_kind_, "internal");                                             \
    std::strncpy(rj_err_msg_, e.what(), sizeof(rj_err_msg_) - 1);                     \
  }                                                                                    \
  rj::r_signal(rj_err_kind_, rj_err_msg_);

// External pointers to shared C++ objects, tagged by kind.
SEXP wrap_buffer(BufferPtr b);     // a bare external pointer
SEXP wrap_graph(GraphPtr g);
SEXP wrap_exe(ExecutablePtr e);
BufferPtr get_buffer(SEXP ptr);
GraphPtr get_graph(SEXP ptr);
ExecutablePtr get_exe(SEXP ptr);

// S4 objects (built from prototypes registered at load time).
bool is_array(SEXP x);
bool is_tracer(SEXP x);
SEXP new_array(BufferPtr b);                            // rj_array
SEXP new_tracer(const GraphPtr& g, SEXP gptr, int id);   // rj_tracer
BufferPtr array_buffer(SEXP arr);                       // buffer of an rj_array
GraphPtr tracer_graph(SEXP tr);
int tracer_id(SEXP tr);

// R atomic vector -> buffer; dtype "" keeps R's type. NA in integer or
// logical data is an error; NA in doubles becomes NaN.
BufferPtr buffer_from_r(SEXP x, const std::string& dtype);
SEXP buffer_to_r(const Buffer& b);
Shape r_shape(SEXP x);  // dims, or [n] for vectors, [] for length-1 vectors

std::string str_arg(SEXP x);
Attrs attrs_from_r(SEXP list);

}  // namespace rj
