// The table of named special functions (src/prims/special.h) that scalar
// descriptions reach through ScalarBuilder::call(). Each has a C-linkage
// wrapper: the interpreter calls it through the pointer, the LLVM backend
// registers it in its JIT as an absolute symbol under `symbol` (R loads
// package libraries privately, so the JIT's process-symbol search cannot
// find them) and emits calls to it.
#include "../ir/scalar.h"
#include "special.h"

extern "C" {
double rj_sf_lgamma(double x) { return rj::special::sf_lgamma(x); }
double rj_sf_psigamma(double x, double n) { return rj::special::sf_psigamma(x, n); }
double rj_sf_fmod(double x, double y) { return rj::special::sf_r_fmod(x, y); }
double rj_sf_fdiv(double x, double y) { return rj::special::sf_r_fdiv(x, y); }
double rj_sf_pnorm(double z, double lower, double log_p) { return rj::special::sf_pnorm(z, lower, log_p); }
double rj_sf_qnorm(double p, double lower, double log_p) { return rj::special::sf_qnorm(p, lower, log_p); }
}

namespace rj {

const std::vector<SpecialFn>& special_fns() {
  static const std::vector<SpecialFn> t = {
      {"lgamma", 1, "rj_sf_lgamma", (void*)&rj_sf_lgamma},
      {"psigamma", 2, "rj_sf_psigamma", (void*)&rj_sf_psigamma},
      {"r_fmod", 2, "rj_sf_fmod", (void*)&rj_sf_fmod},
      {"r_fdiv", 2, "rj_sf_fdiv", (void*)&rj_sf_fdiv},
      {"pnorm", 3, "rj_sf_pnorm", (void*)&rj_sf_pnorm},
      {"qnorm", 3, "rj_sf_qnorm", (void*)&rj_sf_qnorm},
  };
  return t;
}

}  // namespace rj
