// R warnings for the warnings native code raised (src/runtime/status.h).
//
// An entry point clears stale bits when it starts and, once its C++ work is
// finished and every C++ object of that work is destroyed, emits the bits
// raised meanwhile as R warnings with R's own texts ("NAs produced by
// integer overflow", ...). Emitting can longjmp (options(warn = 2) turns a
// warning into an error), which is why it runs outside the C++ frames:
//   SEXP rjc_x(SEXP a) { rj_clear_warnings(); return rj_emit_warnings(x_impl(a)); }
#pragma once
#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

void rj_clear_warnings();
// Emits the pending warnings (keeping `result` protected meanwhile); returns result.
SEXP rj_emit_warnings(SEXP result);
