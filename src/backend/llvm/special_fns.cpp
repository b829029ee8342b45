// Scalar special functions that generated code calls by name. They are the
// interpreter's own implementations (src/prims/special.h), exported with C
// linkage and registered in the JIT as absolute symbols (R loads package
// libraries privately, so the JIT's process-symbol search cannot see them).
#include "special_fns.h"

#include "../../prims/special.h"

extern "C" {
double rj_lgamma(double x) { return rj::lgamma_r_safe(x); }
double rj_digamma(double x) { return rj::digamma(x); }
double rj_trigamma(double x) { return rj::trigamma(x); }
double rj_fmod(double x, double y) { return rj::r_fmod(x, y); }
double rj_ffloor(double x, double y) { return rj::r_ffloor(x, y); }
}
