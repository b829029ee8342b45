// The CUDA C renderer: each fused kernel (src/transforms/fusion.h, described
// by a KernelSpec) becomes CUDA C text rendered from the primitives' scalar
// descriptions and monoids (src/ir/scalar.h), the same ones the interpreter
// and the LLVM backend lower. Nothing here knows what a primitive computes.
//
// The text is target-neutral: compile_nvrtc() prepends the NVRTC prelude
// (standard-header stand-ins, __device__ helpers); the host grid shim
// (shim.h) prepends a header that maps the CUDA built-ins onto plain C++
// (blocks and threads as loops and fibers, shuffles emulated), so the same
// text is run and checked on every machine.
//
// Kernel k of a set is rendered as
//   rjk<k>_main(p0..pN-1, rows, cols, part, flags, nchunk)   always
//   rjk<k>_fin (p0..pN-1, rows, cols, part, flags, nchunk)   full and row reductions
// p: inputs then outputs (device pointers, the specs' dtypes); rows x cols the
// column-major domain; part: the reduction's partial accumulators (doubles);
// flags: the device's warning word (src/runtime/status.h codes, ORed);
// nchunk: the number of stage-1 partials (blocks of a full reduction, column
// chunks of a row reduction). Launch shapes come from launch_shape().
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../llvm/kernel_spec.h"

namespace rj {
namespace cuda {

constexpr int kBlock = 256;  // threads per block (a multiple of the warp size)

struct Launch {
  unsigned gx = 1, gy = 1, bx = kBlock;
};
struct LaunchShape {
  Launch main, fin;     // fin only used when has_fin
  bool has_fin = false;
  int64_t nchunk = 1;   // stage-1 partials per reduction
  int n_red = 0;        // reductions in the kernel
};
// How kernel `spec` over `rows x cols` is launched with `block` threads per
// block and `max_blocks` blocks at most on the x axis (the grid-stride loops
// cover the rest). A fixed function of its arguments: results never depend
// on the device's size, only on these numbers.
LaunchShape launch_shape(const KernelSpec& spec, int64_t rows, int64_t cols, int block = kBlock, int max_blocks = 1024);
// Doubles of partial accumulators kernel `spec` needs for this shape.
size_t partial_size(const KernelSpec& spec, const LaunchShape& ls, int64_t rows);

// CUDA C text of kernels 0..n-1 (names rjk<k>_main / rjk<k>_fin), after
// the common helpers. `shim_wrappers` adds, per kernel, a host entry
// `extern "C" void rjk<k>_main_shim(void** args)` for the grid shim.
std::string render_kernels(const std::vector<KernelSpec>& specs, bool shim_wrappers);

// The text the NVRTC compile prepends (the standard headers NVRTC lacks are
// passed to it as named headers: nvrtc_headers()).
std::string nvrtc_prelude();
struct NamedHeader { const char* name; const char* text; };
const std::vector<NamedHeader>& nvrtc_headers();

// NVRTC: compiles `source` (as rendered, nvrtc_prelude() is prepended here)
// for `arch` ("sm_90"): CUBIN bytes, or PTX when ptx is true. Throws
// Error("device") without NVRTC, Error("internal") with the compiler's log
// when the text does not compile.
std::string compile_nvrtc(const std::string& source, const std::string& arch, bool ptx = false,
                          std::string* log = nullptr);

}  // namespace cuda
}  // namespace rj
