// Shared pieces of the R glue: external pointers, S4 objects, conversions
// between R vectors and buffers, and error forwarding.
//
// Errors and R's longjmp. An R error (or an allocation failure) longjmps
// over every frame between it and R's handler, so no C++ destructor in
// those frames would run. Two rules keep C++ and R apart:
// - The body of every .Call entry point is written between RJ_TRY and
//   RJ_CATCH: it runs as a lambda inside rj::guarded(), which catches C++
//   exceptions and raises the classed R condition (rjax_<kind>_error, or
//   R's own interrupt condition) only after all C++ objects are destroyed.
// - R API calls that can raise an R error (anything that allocates:
//   Rf_allocVector, Rf_mkString, Rf_duplicate, Rf_setAttrib, ...) go
//   through r_safe() or the helpers below (r_string(), new_array(), ...):
//   r_safe() catches R's longjmp with R_UnwindProtect, turns it into the C++
//   exception RUnwind, and guarded() resumes R's unwinding
//   (R_ContinueUnwind) once the C++ frames are gone. Code inside an r_safe()
//   lambda must neither throw nor own objects with destructors.
//
// After a successful body, guarded() also turns notices of the native
// runtime into R warnings (threads that could not be started:
// rjax_threads_warning), applies options(rjax.threads), and runs R's
// garbage collector when native memory held by R objects has grown (see
// r_after_call() in rcpp_array.cpp).
#pragma once
#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

#include <csetjmp>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>

#include "backend/backend.h"
#include "ir/ir.h"

namespace rj {

// Raises rjax_<kind>_error in R (via rjax:::rj_abort), or R's interrupt
// condition for kind "interrupt"; never returns.
[[noreturn]] void r_signal(const char* kind, const char* msg);

// Thrown by r_safe() when R code raised an R error; carries nothing (the
// pending R unwind lives in r_unwind_token()). Not a std::exception, so
// generic handlers in the core do not mistake it for a core error.
struct RUnwind {};
SEXP r_unwind_token();

// Runs f (R API calls only: no C++ exceptions, no objects with destructors)
// so that an R error in it becomes a C++ RUnwind exception.
template <class F>
SEXP r_safe(F&& f) {
  std::jmp_buf jb;
  if (setjmp(jb)) throw RUnwind{};
  SEXP token = r_unwind_token();
  SEXP res = R_UnwindProtect(
      [](void* d) -> SEXP {
        F& fn = *static_cast<std::remove_reference_t<F>*>(d);
        if constexpr (std::is_void_v<decltype(fn())>) {
          fn();
          return R_NilValue;
        } else {
          return fn();
        }
      },
      &f,
      [](void* j, Rboolean jump) {
        if (jump) std::longjmp(*static_cast<std::jmp_buf*>(j), 1);
      },
      &jb, token);
  SETCAR(token, R_NilValue);
  return res;
}

// After the body of an entry point: notices to warnings, threads option,
// GC on native-memory growth. Returns res.
SEXP r_after_call(SEXP res);
void r_before_call();

// The body of an entry point (see the file comment).
template <class F>
SEXP guarded(F&& body) {
  char kind[64] = {0};
  char msg[4096] = {0};
  bool unwind = false;
  SEXP res = R_NilValue;
  r_before_call();
  try {
    res = body();
  } catch (RUnwind&) {
    unwind = true;
  } catch (Error& e) {
    std::strncpy(kind, e.kind.c_str(), sizeof(kind) - 1);
    std::strncpy(msg, e.what(), sizeof(msg) - 1);
  } catch (std::bad_alloc&) {
    std::strcpy(kind, "memory");
    std::strcpy(msg, "out of memory: rjax could not allocate what this operation needs");
  } catch (std::exception& e) {
    std::strcpy(kind, "internal");
    std::strncpy(msg, e.what(), sizeof(msg) - 1);
  } catch (...) {
    std::strcpy(kind, "internal");
    std::strcpy(msg, "unknown C++ exception");
  }
  if (unwind) R_ContinueUnwind(r_unwind_token());
  if (kind[0]) r_signal(kind, msg);
  return r_after_call(res);
}

#define RJ_TRY return rj::guarded([&]() -> SEXP {
#define RJ_CATCH });

// R values made safely (r_safe inside).
SEXP r_string(const std::string& s);     // character(1)
SEXP r_char(const std::string& s);       // CHARSXP
SEXP r_int(int v);
SEXP r_lgl(bool v);
SEXP r_alloc(SEXPTYPE type, R_xlen_t n);
void r_set_attrib(SEXP x, SEXP name, SEXP value);

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
// rj_tracer; `truth` (TRUE/FALSE/NA_LOGICAL, or -1: unknown) is the value
// R's `if` reads when a one-element bool tracer's value is known (un-jitted
// grad traces with the concrete inputs at hand).
SEXP new_tracer(const GraphPtr& g, SEXP gptr, int id, int truth = -1);
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
