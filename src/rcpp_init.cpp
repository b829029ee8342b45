// Registers the .Call entry points (NAMESPACE: useDynLib(rjax, .registration = TRUE, .fixes = "C_")).
#define R_NO_REMAP
#include <R.h>
#include <R_ext/Rdynload.h>
#include <Rinternals.h>

extern "C" {
SEXP rjc_init(SEXP, SEXP);
SEXP rjc_array(SEXP, SEXP);
SEXP rjc_array_values(SEXP);
SEXP rjc_bind(SEXP, SEXP, SEXP);
SEXP rjc_graph_new(SEXP);
SEXP rjc_graph_param(SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP rjc_graph_finish(SEXP, SEXP);
SEXP rjc_graph_close(SEXP);
SEXP rjc_graph_set_concrete(SEXP, SEXP);
SEXP rjc_graph_optimize(SEXP);
SEXP rjc_graph_vjp(SEXP, SEXP);
SEXP rjc_graph_jvp(SEXP, SEXP);
SEXP rjc_graph_vmap(SEXP, SEXP, SEXP, SEXP);
SEXP rjc_graph_inline(SEXP, SEXP, SEXP);
SEXP rjc_custom_jvp_call(SEXP, SEXP, SEXP, SEXP);
SEXP rjc_graph_pass(SEXP, SEXP);
SEXP rjc_custom_vjp_call(SEXP, SEXP, SEXP, SEXP);
SEXP rjc_graph_print(SEXP);
SEXP rjc_graph_verify(SEXP);
SEXP rjc_graph_info(SEXP);
SEXP rjc_graph_call(SEXP, SEXP, SEXP);
SEXP rjc_tracer_sources(SEXP);
SEXP rjc_tracer_weak(SEXP);
SEXP rjc_compile(SEXP, SEXP);
SEXP rjc_run(SEXP, SEXP);
SEXP rjc_exe_info(SEXP);
SEXP rjc_exe_describe(SEXP);
SEXP rjc_control(SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP rjc_registry();
SEXP rjc_graph_prims(SEXP);
SEXP rjc_rule_check(SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP rjc_runtime_info(void);
SEXP rjc_release_memory(void);
SEXP rjc_pool_selftest(void);
SEXP rjc_signature(SEXP, SEXP);  // rcpp_dispatch.cpp (speed)
SEXP rjc_dispatch(SEXP, SEXP, SEXP, SEXP);
SEXP rjc_program_bytes(SEXP, SEXP);
SEXP rjc_program_parse(SEXP);
SEXP rjc_program_signature(SEXP);
SEXP rjc_array_bytes(SEXP);
SEXP rjc_array_from_bytes(SEXP, SEXP, SEXP);
SEXP rjc_ptr_alive(SEXP);
SEXP rjc_npy_write(SEXP, SEXP);
SEXP rjc_npy_read(SEXP);
SEXP rjc_cache_stats(void);
SEXP rjc_cuda_info(void);
SEXP rjc_cuda_source(SEXP);
SEXP rjc_cuda_nvrtc(SEXP, SEXP);
SEXP rjc_cuda_require(void);
SEXP rjc_cuda_sync(void);
SEXP rjc_mpi(SEXP, SEXP);

#define ENTRY(name, n) {#name, (DL_FUNC)&name, n}
static const R_CallMethodDef call_methods[] = {
    ENTRY(rjc_init, 2),          ENTRY(rjc_array, 2),       ENTRY(rjc_array_values, 1),
    ENTRY(rjc_bind, 3),          ENTRY(rjc_graph_new, 1),   ENTRY(rjc_graph_param, 5),
    ENTRY(rjc_graph_finish, 2),  ENTRY(rjc_graph_close, 1), ENTRY(rjc_graph_set_concrete, 2), ENTRY(rjc_graph_optimize, 1),
    ENTRY(rjc_graph_vjp, 2), ENTRY(rjc_graph_jvp, 2), ENTRY(rjc_graph_vmap, 4), ENTRY(rjc_graph_inline, 3), ENTRY(rjc_custom_jvp_call, 4),     ENTRY(rjc_graph_print, 1), ENTRY(rjc_graph_verify, 1),
    ENTRY(rjc_graph_info, 1),    ENTRY(rjc_graph_call, 3),  ENTRY(rjc_tracer_sources, 1), ENTRY(rjc_tracer_weak, 1),
    ENTRY(rjc_compile, 2),       ENTRY(rjc_run, 2),         ENTRY(rjc_exe_info, 1),
    ENTRY(rjc_graph_pass, 2),    ENTRY(rjc_custom_vjp_call, 4), ENTRY(rjc_exe_describe, 1),
    ENTRY(rjc_control, 5),       ENTRY(rjc_registry, 0),    ENTRY(rjc_graph_prims, 1),
    ENTRY(rjc_rule_check, 5),
    ENTRY(rjc_runtime_info, 0),  ENTRY(rjc_release_memory, 0), ENTRY(rjc_pool_selftest, 0), ENTRY(rjc_signature, 2), ENTRY(rjc_dispatch, 4),
    ENTRY(rjc_program_bytes, 2), ENTRY(rjc_program_parse, 1), ENTRY(rjc_program_signature, 1),
    ENTRY(rjc_array_bytes, 1),   ENTRY(rjc_array_from_bytes, 3), ENTRY(rjc_ptr_alive, 1),
    ENTRY(rjc_npy_write, 2),     ENTRY(rjc_npy_read, 1),      ENTRY(rjc_cache_stats, 0),
    ENTRY(rjc_cuda_info, 0),     ENTRY(rjc_cuda_source, 1), ENTRY(rjc_cuda_nvrtc, 2),
    ENTRY(rjc_cuda_require, 0),  ENTRY(rjc_cuda_sync, 0),
    ENTRY(rjc_mpi, 2),
    {NULL, NULL, 0}};

void R_init_rjax(DllInfo* dll) {
  R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
}
}
