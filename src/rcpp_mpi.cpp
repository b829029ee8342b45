// R glue of the MPI runtime (src/runtime/mpi.h): one entry point,
// rjc_mpi(op, arg), so that the collectives' R code (R/distributed.R) can
// start MPI, read its state, agree on program hashes and end the job.
#include <functional>

#include "rcpp_glue.h"
#include "runtime/mpi.h"
#include "runtime/nccl.h"

using namespace rj;

namespace {

SEXP info_to_r(const mpi::Info& s) {
  const mpi::Counters c = mpi::counters();
  return r_safe([&] {
    const char* names[] = {"launched", "active", "broken", "rank", "size", "library", "timeout",
                           "deterministic", "calls", "bytes", "why_inactive"};
    const int n = sizeof(names) / sizeof(names[0]);
    SEXP out = PROTECT(Rf_allocVector(VECSXP, n));
    SET_VECTOR_ELT(out, 0, Rf_ScalarLogical(s.launched));
    SET_VECTOR_ELT(out, 1, Rf_ScalarLogical(s.active));
    SET_VECTOR_ELT(out, 2, Rf_ScalarLogical(s.broken));
    SET_VECTOR_ELT(out, 3, Rf_ScalarInteger(s.rank));
    SET_VECTOR_ELT(out, 4, Rf_ScalarInteger(s.size));
    SET_VECTOR_ELT(out, 5, Rf_mkString(s.library.c_str()));
    SET_VECTOR_ELT(out, 6, Rf_ScalarReal(mpi::timeout()));
    SET_VECTOR_ELT(out, 7, Rf_ScalarLogical(mpi::deterministic()));
    SET_VECTOR_ELT(out, 8, Rf_ScalarReal((double)c.calls));
    SET_VECTOR_ELT(out, 9, Rf_ScalarReal((double)c.bytes));
    SET_VECTOR_ELT(out, 10, Rf_mkString(s.why_inactive.c_str()));
    SEXP nm = PROTECT(Rf_allocVector(STRSXP, n));
    for (int i = 0; i < n; ++i) SET_STRING_ELT(nm, i, Rf_mkChar(names[i]));
    Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(2);
    return out;
  });
}

}  // namespace

extern "C" {

// op: "init" (start MPI when launched by mpirun; returns the state),
// "info" (the state, without starting MPI), "timeout" (arg: seconds),
// "deterministic" (arg: TRUE/FALSE), "emit0" (a node without inputs in an
// open trace: the trace records it instead of a constant), "agree" (arg: list(key, what): every
// rank must pass the same key), "reset" (traffic counters), "abort" (arg:
// message; ends the job), "nccl" (NCCL's state), "finalize".
SEXP rjc_mpi(SEXP op, SEXP arg) {
  RJ_TRY
  const std::string o = str_arg(op);
  if (o == "info") return info_to_r(mpi::info());
  if (o == "init") return info_to_r(mpi::init());
  if (o == "timeout") {
    mpi::set_timeout(Rf_asReal(arg));
    return info_to_r(mpi::info());
  }
  if (o == "deterministic") {
    mpi::set_deterministic(Rf_asLogical(arg) == TRUE);
    return info_to_r(mpi::info());
  }
  if (o == "agree") {
    const std::string key = str_arg(VECTOR_ELT(arg, 0)), what = str_arg(VECTOR_ELT(arg, 1));
    mpi::check_agreement((uint64_t)std::hash<std::string>()(key), what);
    return r_lgl(true);
  }
  if (o == "reset") {
    mpi::reset_counters();
    return info_to_r(mpi::info());
  }
  if (o == "emit0") {  // list(graph, prim, attrs): a node without inputs (axis_index) in an open trace
    SEXP gptr = VECTOR_ELT(arg, 0);
    GraphPtr g = get_graph(gptr);
    Builder b(*g);
    const int id = b.emit(str_arg(VECTOR_ELT(arg, 1)), {}, attrs_from_r(VECTOR_ELT(arg, 2)));
    return new_tracer(g, gptr, id);
  }
  if (o == "nccl") {  // NCCL's state (src/runtime/nccl.h), opening it if needed
    const nccl::Info n = nccl::info();
    return r_safe([&] {
      const char* names[] = {"loaded", "library", "version", "why_not", "in_use", "calls", "bytes"};
      SEXP out = PROTECT(Rf_allocVector(VECSXP, 7));
      SET_VECTOR_ELT(out, 0, Rf_ScalarLogical(n.loaded));
      SET_VECTOR_ELT(out, 1, Rf_mkString(n.library.c_str()));
      SET_VECTOR_ELT(out, 2, Rf_ScalarInteger(n.version));
      SET_VECTOR_ELT(out, 3, Rf_mkString(n.why_not.c_str()));
      SET_VECTOR_ELT(out, 4, Rf_ScalarLogical(n.in_use));
      SET_VECTOR_ELT(out, 5, Rf_ScalarReal((double)n.calls));
      SET_VECTOR_ELT(out, 6, Rf_ScalarReal((double)n.bytes));
      SEXP nm = PROTECT(Rf_allocVector(STRSXP, 7));
      for (int i = 0; i < 7; ++i) SET_STRING_ELT(nm, i, Rf_mkChar(names[i]));
      Rf_setAttrib(out, R_NamesSymbol, nm);
      UNPROTECT(2);
      return out;
    });
  }
  if (o == "abort") mpi::abort_job(1, str_arg(arg));
  if (o == "finalize") {
    mpi::finalize();
    return r_lgl(true);
  }
  fail("internal", "rjc_mpi: unknown operation " + o);
  RJ_CATCH
  return R_NilValue;
}
}
