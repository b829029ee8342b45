// See rcpp_warnings.h.
#include "rcpp_warnings.h"

#include "runtime/status.h"

void rj_clear_warnings() { rj::take_warnings(); }

SEXP rj_emit_warnings(SEXP result) {
  uint32_t bits = rj::take_warnings();
  if (!bits) return result;
  PROTECT(result);
  for (uint32_t k = 0; k < rj::kWarnCount; ++k)
    if (bits & (1u << k)) {
      const char* text = rj::warning_text(1u << k);
      if (text) Rf_warningcall(R_NilValue, "%s", text);
    }
  UNPROTECT(1);
  return result;
}
