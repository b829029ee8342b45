// Compiling rendered kernels with NVRTC (opened at run time, api.h). NVRTC
// has no C++ standard library: the three standard headers the rendered text
// and src/prims/special.h include are stand-ins mapping std:: onto CUDA's
// device math (passed to NVRTC as named headers, nothing read from disk).
#include <vector>

#include "../../ir/ir.h"
#include "api.h"
#include "render.h"

namespace rj {
namespace cuda {

namespace {
const char* kCmath = R"RJ(#pragma once
namespace std {
using ::pow; using ::log; using ::exp; using ::fabs; using ::floor; using ::ceil; using ::trunc; using ::tan;
using ::log1p; using ::expm1; using ::sqrt; using ::sin; using ::cos; using ::isfinite; using ::isnan;
using ::lgamma; using ::tgamma; using ::atan; using ::atan2;
// long double is double on the device (src/prims/special.h's R %% uses it).
__device__ inline double floor(long double x) { return ::floor((double)x); }
}
)RJ";
const char* kLimits = R"RJ(#pragma once
namespace std {
template <class T> struct numeric_limits;
template <> struct numeric_limits<double> {
  static __host__ __device__ constexpr double epsilon() { return 2.220446049250313080847e-16; }
  static __host__ __device__ double quiet_NaN() { return __longlong_as_double(0x7ff8000000000000LL); }
  static __host__ __device__ double infinity() { return __longlong_as_double(0x7ff0000000000000LL); }
};
}
)RJ";
const char* kCstdint = R"RJ(#pragma once
typedef signed char int8_t; typedef unsigned char uint8_t; typedef int int32_t; typedef unsigned uint32_t;
typedef long long int64_t; typedef unsigned long long uint64_t;
)RJ";
}  // namespace

const std::vector<NamedHeader>& nvrtc_headers() {
  static const std::vector<NamedHeader> h = {{"cmath", kCmath}, {"limits", kLimits}, {"cstdint", kCstdint}};
  return h;
}

std::string nvrtc_prelude() {
  return "#include <cstdint>\n"
         "#define RJ_DEV __device__ __forceinline__\n"
         "#define RJ_HOST_DEVICE __device__\n"
         "__device__ __forceinline__ double rj_bits_f64(unsigned long long b) { return __longlong_as_double((long long)b); }\n"
         "__device__ __forceinline__ float rj_bits_f32(unsigned b) { return __uint_as_float(b); }\n"
         "__device__ __forceinline__ unsigned long long rj_dbits(double x) { return (unsigned long long)__double_as_longlong(x); }\n";
}

std::string compile_nvrtc(const std::string& source, const std::string& arch, bool ptx, std::string* log_out) {
  const cu::Api& a = cu::require_nvrtc();
  std::string text = nvrtc_prelude() + source;
  std::vector<const char*> hs, hn;
  for (auto& h : nvrtc_headers()) hs.push_back(h.text), hn.push_back(h.name);
  cu::nvrtcProgram prog = nullptr;
  int r = a.nvrtcCreateProgram(&prog, text.c_str(), "rjax_kernels.cu", (int)hs.size(), hs.data(), hn.data());
  if (r != 0) fail("device", std::string("NVRTC could not create a program: ") + a.nvrtcGetErrorString(r));
  struct Destroy {
    const cu::Api& a;
    cu::nvrtcProgram* p;
    ~Destroy() { a.nvrtcDestroyProgram(p); }
  } destroy{a, &prog};
  // CUBIN for the exact architecture (a newer PTX ISA than the driver knows
  // is rejected); PTX on request (for the JIT of newer devices).
  std::string gpu = (ptx ? "--gpu-architecture=compute_" : "--gpu-architecture=sm_") + arch.substr(arch.find('_') + 1);
  std::vector<const char*> opts = {gpu.c_str(), "-std=c++17", "-default-device",
                                   "--diag-suppress=177,550"};
  int cr = a.nvrtcCompileProgram(prog, (int)opts.size(), opts.data());
  size_t n = 0;
  a.nvrtcGetProgramLogSize(prog, &n);
  std::string log(n, '\0');
  if (n) a.nvrtcGetProgramLog(prog, &log[0]);
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  if (log_out) *log_out = log;
  if (cr != 0) fail("internal", "NVRTC rejected a generated kernel (" + std::string(a.nvrtcGetErrorString(cr)) + "):\n" + log);
  std::string out;
  if (ptx) {
    a.nvrtcGetPTXSize(prog, &n);
    out.resize(n);
    a.nvrtcGetPTX(prog, &out[0]);
  } else {
    a.nvrtcGetCUBINSize(prog, &n);
    out.resize(n);
    a.nvrtcGetCUBIN(prog, &out[0]);
  }
  return out;
}

}  // namespace cuda
}  // namespace rj
