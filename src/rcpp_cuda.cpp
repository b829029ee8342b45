// R glue of the CUDA backend (src/backend/cuda/): what the libraries and
// devices are, the rendered source of a program, NVRTC compiles (for the
// tests that run without a GPU), and selecting the GPU.
#include "rcpp_glue.h"

#include "backend/cuda/api.h"
#include "backend/cuda/device.h"
#include "backend/cuda/render.h"

using namespace rj;

extern "C" {

// list(libraries = chr, names = chr, memory = dbl (bytes), arch = chr, nvrtc = lgl, driver = lgl)
SEXP rjc_cuda_info(void) {
  RJ_TRY
  std::string libs = cu::describe_libraries();
  std::vector<cu::DeviceInfo> ds = cu::devices();
  const cu::Api& a = cu::api();
  std::vector<std::string> archs;
  for (auto& d : ds) archs.push_back("sm_" + std::to_string(d.major * 10 + d.minor));
  bool nvrtc = a.nvrtc != nullptr, driver = a.driver != nullptr;
  const char* names[] = {"libraries", "names", "memory", "arch", "nvrtc", "driver"};
  return r_safe([&]() -> SEXP {
    SEXP out = PROTECT(Rf_allocVector(VECSXP, 6));
    SET_VECTOR_ELT(out, 0, Rf_mkString(libs.c_str()));
    SEXP nm = Rf_allocVector(STRSXP, (R_xlen_t)ds.size());
    SET_VECTOR_ELT(out, 1, nm);
    SEXP mem = Rf_allocVector(REALSXP, (R_xlen_t)ds.size());
    SET_VECTOR_ELT(out, 2, mem);
    SEXP ar = Rf_allocVector(STRSXP, (R_xlen_t)ds.size());
    SET_VECTOR_ELT(out, 3, ar);
    for (size_t k = 0; k < ds.size(); ++k) {
      SET_STRING_ELT(nm, (R_xlen_t)k, Rf_mkChar(ds[k].name.c_str()));
      REAL(mem)[k] = (double)ds[k].total_memory;
      SET_STRING_ELT(ar, (R_xlen_t)k, Rf_mkChar(archs[k].c_str()));
    }
    SET_VECTOR_ELT(out, 4, Rf_ScalarLogical(nvrtc));
    SET_VECTOR_ELT(out, 5, Rf_ScalarLogical(driver));
    SEXP n = Rf_allocVector(STRSXP, 6);
    Rf_setAttrib(out, R_NamesSymbol, n);
    for (int k = 0; k < 6; ++k) SET_STRING_ELT(n, k, Rf_mkChar(names[k]));
    UNPROTECT(1);
    return out;
  });
  RJ_CATCH
}

// The CUDA C the renderer makes of a program's fused kernels.
SEXP rjc_cuda_source(SEXP gptr) {
  RJ_TRY
  return r_string(cuda::render_program(*get_graph(gptr)));
  RJ_CATCH
}

// Compiles rendered source with NVRTC for `arch`; returns the CUBIN's size
// in bytes (errors: rjax_device_error without NVRTC, rjax_internal_error
// with the compiler's log).
SEXP rjc_cuda_nvrtc(SEXP src, SEXP arch) {
  RJ_TRY
  std::string cubin = cuda::compile_nvrtc(str_arg(src), str_arg(arch));
  return r_safe([&]() -> SEXP { return Rf_ScalarReal((double)cubin.size()); });
  RJ_CATCH
}

// Opens GPU 0 (rjax_device_error saying what is missing); returns its name.
SEXP rjc_cuda_require(void) {
  RJ_TRY
  return r_string(cuda::gpu_device().name());
  RJ_CATCH
}

// Waits for the device's queued work (nothing to do without one).
SEXP rjc_cuda_sync(void) {
  RJ_TRY
  if (!cu::devices().empty()) cuda::gpu_device().sync();
  return R_NilValue;
  RJ_CATCH
}

}  // extern "C"
