// Rendering fused kernels as CUDA C (see render.h). CudaScalar is the third
// renderer of scalar descriptions (after the interpreter's tape and the LLVM
// IR builder): each basis op of src/ir/scalar.h becomes one C statement.
#include "render.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "../../ir/scalar.h"

namespace rj {
namespace cuda {
namespace {

const char* ctype(DType d) {
  switch (d) {
    case DType::f32: return "float";
    case DType::f64: return "double";
    case DType::i32: return "int";
    case DType::b8: return "unsigned char";
  }
  return "void";
}

std::string f64_literal(double x) {
  char buf[64];
  if (std::isfinite(x)) {
    std::snprintf(buf, sizeof buf, "%a", x);
  } else {
    uint64_t bits;
    std::memcpy(&bits, &x, 8);  // NaN payloads (R's NA) and infinities, bit-exact
    std::snprintf(buf, sizeof buf, "rj_bits_f64(0x%016llxULL)", (unsigned long long)bits);
  }
  return buf;
}

std::string f32_literal(double v) {
  float x = (float)v;
  char buf[64];
  if (std::isfinite(x)) {
    std::snprintf(buf, sizeof buf, "%af", (double)x);
  } else {
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    std::snprintf(buf, sizeof buf, "rj_bits_f32(0x%08xu)", (unsigned)bits);
  }
  return buf;
}

// Renders scalar descriptions as statements "const T tN = ...;" appended to
// `out`; an SVal's id is N.
struct CudaScalar : ScalarBuilder {
  std::ostringstream& out;
  std::string indent;
  int next = 0;
  explicit CudaScalar(std::ostringstream& o, std::string ind) : out(o), indent(std::move(ind)) {}

  static std::string name(SVal s) { return "t" + std::to_string(s.id); }
  SVal emit(const std::string& expr, DType d) {
    SVal s{next++, d};
    out << indent << "const " << ctype(d) << " " << name(s) << " = " << expr << ";\n";
    return s;
  }
  // A C expression already in scope (a loaded operand, an accumulator).
  SVal bind(const std::string& expr, DType d) { return emit(expr, d); }

  SVal constant(double v, DType d) override {
    switch (d) {
      case DType::f64: return emit(f64_literal(v), d);
      case DType::f32: return emit(f32_literal(v), d);
      case DType::i32: {
        int32_t i = v != v ? 0 : v >= 2147483647.0 ? INT32_MAX : v <= -2147483648.0 ? INT32_MIN : (int32_t)v;
        return emit(i == INT32_MIN ? "(-2147483647 - 1)" : std::to_string(i), d);
      }
      case DType::b8: return emit("(unsigned char)" + std::to_string((unsigned)(uint8_t)v), d);
    }
    return SVal{};
  }

  SVal call_special(const SpecialFn& f, const std::vector<SVal>& args) override {
    DType d = args[0].dtype;
    std::string e = std::string("rj::special::sf_") + f.name + "(";
    for (size_t k = 0; k < args.size(); ++k) e += (k ? ", (double)" : "(double)") + name(args[k]);
    e += ")";
    return emit(d == DType::f32 ? "(float)" + e : e, d);
  }

  void warn_if(SVal c, uint32_t code) override {
    out << indent << "rj_flags |= " << name(c) << " ? " << code << "u : 0u;\n";
  }

  static std::string fn(const char* base, DType d) { return d == DType::f32 ? std::string(base) + "f" : base; }

  std::string convert(const std::string& x, DType from, DType to) {
    if (to == DType::b8) return "(unsigned char)(" + x + " != 0)";  // NaN != 0: true
    if (from == DType::b8) return std::string("(") + ctype(to) + ")(" + x + " != 0)";
    if (to == DType::i32 && is_float(from)) return "rj_f2i((double)" + x + ")";
    return std::string("(") + ctype(to) + ")" + x;
  }

  SVal basis(SOp o, const SVal* a, int n, DType result) override {
    const DType d = a[0].dtype;
    const bool fl = is_float(d);
    std::string x = name(a[0]), y = n > 1 ? name(a[1]) : "";
    std::string e;
    auto bin = [&](const char* op) { return "(" + x + " " + op + " " + y + ")"; };
    auto boolean = [&](const std::string& s) { return "(unsigned char)(" + s + ")"; };
    switch (o) {
      case SOp::add: e = fl ? bin("+") : "rj_iadd(" + x + ", " + y + ")"; break;
      case SOp::sub: e = fl ? bin("-") : "rj_isub(" + x + ", " + y + ")"; break;
      case SOp::mul: e = fl ? bin("*") : "rj_imul(" + x + ", " + y + ")"; break;
      case SOp::div: e = fl ? bin("/") : "rj_idiv(" + x + ", " + y + ", 0)"; break;
      case SOp::floordiv: e = "rj_idiv(" + x + ", " + y + ", 1)"; break;
      case SOp::floormod: e = "rj_idiv(" + x + ", " + y + ", 2)"; break;
      case SOp::neg: e = fl ? "(-" + x + ")" : "rj_isub(0, " + x + ")"; break;
      case SOp::abs: e = fl ? fn("fabs", d) + "(" + x + ")" : "(" + x + " < 0 ? rj_isub(0, " + x + ") : " + x + ")"; break;
      case SOp::min: e = "rj_min(" + x + ", " + y + ")"; break;
      case SOp::max: e = "rj_max(" + x + ", " + y + ")"; break;
      case SOp::eq: e = boolean(bin("==")); break;
      case SOp::ne: e = boolean(bin("!=")); break;
      case SOp::lt: e = boolean(bin("<")); break;
      case SOp::le: e = boolean(bin("<=")); break;
      case SOp::gt: e = boolean(bin(">")); break;
      case SOp::ge: e = boolean(bin(">=")); break;
      case SOp::and_: e = boolean("(" + x + " != 0) & (" + y + " != 0)"); break;
      case SOp::or_: e = boolean("(" + x + " != 0) | (" + y + " != 0)"); break;
      case SOp::not_: e = boolean(x + " == 0"); break;
      case SOp::select: e = "(" + x + " != 0 ? " + y + " : " + name(a[2]) + ")"; break;
      case SOp::convert: e = convert(x, d, result); break;
      case SOp::is_nan: e = fl ? boolean(x + " != " + x) : "(unsigned char)0"; break;
      case SOp::is_na_value:
        e = d == DType::f64   ? "rj_is_na_f64(" + x + ")"
            : d == DType::f32 ? "(unsigned char)0"
            : d == DType::i32 ? boolean(x + " == (-2147483647 - 1)")
                              : boolean(x + " == 255");
        break;
      case SOp::floor: case SOp::ceil: case SOp::trunc: case SOp::rint: case SOp::sqrt: case SOp::exp:
      case SOp::expm1: case SOp::log: case SOp::log1p: case SOp::sin: case SOp::cos: case SOp::tan:
      case SOp::asin: case SOp::acos: case SOp::atan: case SOp::sinh: case SOp::cosh: case SOp::tanh:
      case SOp::asinh: case SOp::acosh: case SOp::atanh: case SOp::tgamma:
        e = fn(sop_name(o), d) + "(" + x + ")";  // C's names: rint is nearbyint in the default rounding mode
        break;
      case SOp::atan2: case SOp::pow: e = fn(sop_name(o), d) + "(" + x + ", " + y + ")"; break;
      case SOp::count: fail("internal", "cuda renderer: bad basis op");
    }
    // R's NA_real_ is a NaN payload that x86 arithmetic carries through; a
    // GPU's arithmetic and math functions return the canonical NaN instead.
    // f64 results keep an operand's NaN as the host does (the first NaN
    // operand), so NA + 1 stays NA on the device. (Sign and selection ops
    // move bits and need nothing; f32 has no NA.)
    if (result == DType::f64 && d == DType::f64 && o != SOp::neg && o != SOp::abs && o != SOp::min && o != SOp::max &&
        o != SOp::select && o != SOp::convert)
      e = n == 1 ? "rj_nan_keep1(" + e + ", " + x + ")" : "rj_nan_keep2(" + e + ", " + x + ", " + y + ")";
    return emit(e, result);
  }
};

bool is_red(const KOp& op) { return prim(op.prim).reduces; }

struct KernelText {
  const KernelSpec& s;
  int k;
  std::ostringstream os;
  std::vector<int> reds;  // op indices of the reductions, in order

  KernelText(const KernelSpec& spec, int index) : s(spec), k(index) {
    for (size_t o = 0; o < s.ops.size(); ++o)
      if (is_red(s.ops[o])) reds.push_back((int)o);
  }
  std::string kname(const char* part) const { return "rjk" + std::to_string(k) + "_" + part; }
  size_t n_in() const { return s.input_dtypes.size(); }
  int out_slot(int op) const {
    for (size_t o = 0; o < s.outputs.size(); ++o)
      if (s.outputs[o] == op) return (int)(n_in() + o);
    fail("internal", "cuda renderer: reduction without an output");
  }
  DType ptr_dtype(size_t p) const { return p < n_in() ? s.input_dtypes[p] : s.ops[s.outputs[p - n_in()]].dtype; }

  std::string params() const {
    std::string ps;
    for (size_t p = 0; p < n_in() + s.outputs.size(); ++p)
      ps += std::string(p < n_in() ? "const " : "") + ctype(ptr_dtype(p)) + "* __restrict__ p" + std::to_string(p) + ", ";
    return ps + "const long long rows, const long long cols, double* __restrict__ part, unsigned* flags, const long long nchunk";
  }

  // The monoid of reduction r as device functions: combine and finish.
  void monoid_functions() {
    for (size_t r = 0; r < reds.size(); ++r) {
      const KOp& op = s.ops[reds[r]];
      const Monoid& M = *prim(op.prim).monoid;
      DType in = op.arg_dtypes[0];
      {
        os << "RJ_DEV double " << kname("comb") << r << "(const double a, const double b, unsigned& rj_flags) {\n";
        CudaScalar sb(os, "  ");
        SVal res = M.combine(sb, sb.bind("a", DType::f64), sb.bind("b", DType::f64), in);
        os << "  return " << CudaScalar::name(res) << ";\n}\n";
      }
      {
        os << "RJ_DEV " << ctype(op.dtype) << " " << kname("finish") << r << "(const double a, unsigned& rj_flags) {\n";
        CudaScalar sb(os, "  ");
        SVal res = M.finish(sb, sb.bind("a", DType::f64), in, op.dtype);
        if (res.dtype != op.dtype) fail("internal", "cuda renderer: finish of " + prim(op.prim).name + " has the wrong dtype");
        os << "  return " << CudaScalar::name(res) << ";\n}\n";
      }
    }
  }

  std::string operand(const KOp& op, size_t a, const std::vector<std::string>& vals, CudaScalar& sb) {
    const KRef& r = op.args[a];
    if (r.kind == KRef::op) return vals[r.index];
    if (r.kind == KRef::imm) return CudaScalar::name(sb.constant(r.value, op.arg_dtypes[a]));
    std::string p = "p" + std::to_string(r.index);
    switch (r.map) {
      case IndexMap::linear: {  // a slice is read in place at an offset (KRef)
        std::string at = r.ld ? "i + j * " + std::to_string(r.ld) + "LL" : std::string("lin");
        return p + "[" + at + (r.offset ? " + " + std::to_string(r.offset) + "LL" : "") + "]";
      }
      case IndexMap::scalar: return p + "[0]";
      case IndexMap::col: return p + "[i]";
      case IndexMap::row: return p + "[j]";
    }
    return "";
  }

  // The loop body at (i, j, lin): every op, reductions folded into acc<r>,
  // element-wise outputs stored.
  void body(const std::string& ind) {
    CudaScalar sb(os, ind);
    std::vector<std::string> vals(s.ops.size());
    int r = 0;
    for (size_t o = 0; o < s.ops.size(); ++o) {
      const KOp& op = s.ops[o];
      const PrimDef& p = prim(op.prim);
      if (p.reduces) {
        DType in = op.arg_dtypes[0];
        SVal x = sb.bind(operand(op, 0, vals, sb), in);
        SVal lifted = p.monoid->lift(sb, x, in);
        SVal acc = p.monoid->combine(sb, sb.bind("acc" + std::to_string(r), DType::f64), lifted, in);
        os << ind << "acc" << r << " = " << CudaScalar::name(acc) << ";\n";
        ++r;
        continue;
      }
      if (is_index_map(op)) {
        vals[o] = operand(op, 0, vals, sb);
        continue;
      }
      std::vector<SVal> args;
      for (size_t a = 0; a < op.args.size(); ++a) args.push_back(sb.bind(operand(op, a, vals, sb), op.arg_dtypes[a]));
      SVal res = p.scalar(sb, args, op.attrs);
      if (res.dtype != op.dtype) fail("internal", "cuda renderer: " + p.name + " gives " + dtype_name(res.dtype));
      vals[o] = CudaScalar::name(res);
    }
    for (size_t q = 0; q < s.outputs.size(); ++q) {
      int o = s.outputs[q];
      if (is_red(s.ops[o])) continue;
      os << ind << "p" << n_in() + q << "[lin] = " << vals[o] << ";\n";
    }
  }

  void accumulators(const std::string& ind) {
    for (size_t r = 0; r < reds.size(); ++r) {
      const KOp& op = s.ops[reds[r]];
      os << ind << "double acc" << r << " = " << f64_literal(prim(op.prim).monoid->identity(op.arg_dtypes[0])) << ";\n";
    }
  }
  std::string identity(size_t r) const {
    const KOp& op = s.ops[reds[r]];
    return f64_literal(prim(op.prim).monoid->identity(op.arg_dtypes[0]));
  }
  // Block-wide reduction of every accumulator (the result is in thread 0).
  void block_reduce(const std::string& ind) {
    for (size_t r = 0; r < reds.size(); ++r)
      os << ind << "acc" << r << " = rj_block_reduce<" << kname("comb") << r << ">(acc" << r << ", " << identity(r)
         << ", rj_sm, rj_flags);\n";
  }

  void elementwise_loop(const std::string& ind) {
    os << ind << "const long long n = rows * cols;\n";
    os << ind << "for (long long lin = (long long)blockIdx.x * blockDim.x + threadIdx.x; lin < n; lin += (long long)gridDim.x * blockDim.x) {\n";
    os << ind << "  const long long j = lin / rows, i = lin - j * rows;\n";
    body(ind + "  ");
    os << ind << "}\n";
  }

  void render() {
    monoid_functions();
    const std::string head = "extern \"C\" __global__ void ";
    os << head << kname("main") << "(" << params() << ") {\n";
    os << "  unsigned rj_flags = 0;\n";
    switch (s.red) {
      case RedKind::none:
        elementwise_loop("  ");
        break;
      case RedKind::all:
        // Stage 1: each block reduces its grid-stride share into part[block * n_red + r].
        os << "  __shared__ double rj_sm[32];\n";
        accumulators("  ");
        elementwise_loop("  ");
        block_reduce("  ");
        for (size_t r = 0; r < reds.size(); ++r)
          os << "  if (threadIdx.x == 0) part[(long long)blockIdx.x * " << reds.size() << " + " << r << "] = acc" << r << ";\n";
        break;
      case RedKind::col:
        // One block per column (grid-stride over columns); the column's rows are contiguous.
        os << "  __shared__ double rj_sm[32];\n";
        os << "  for (long long j = blockIdx.x; j < cols; j += gridDim.x) {\n";
        accumulators("    ");
        os << "    for (long long i = threadIdx.x; i < rows; i += blockDim.x) {\n";
        os << "      const long long lin = i + j * rows;\n";
        body("      ");
        os << "    }\n";
        block_reduce("    ");
        for (size_t r = 0; r < reds.size(); ++r)
          os << "    if (threadIdx.x == 0) p" << out_slot(reds[r]) << "[j] = " << kname("finish") << r << "(acc" << r
             << ", rj_flags);\n";
        os << "  }\n";
        break;
      case RedKind::row:
        // Stage 1: thread per row (coalesced), blockIdx.y = a chunk of columns;
        // part[(r * nchunk + c) * rows + i].
        os << "  const long long chunk = (cols + nchunk - 1) / nchunk;\n";
        os << "  const long long jlo = (long long)blockIdx.y * chunk;\n";
        os << "  const long long jhi = jlo + chunk < cols ? jlo + chunk : cols;\n";
        os << "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < rows; i += (long long)gridDim.x * blockDim.x) {\n";
        accumulators("    ");
        os << "    for (long long j = jlo; j < jhi; ++j) {\n";
        os << "      const long long lin = i + j * rows;\n";
        body("      ");
        os << "    }\n";
        for (size_t r = 0; r < reds.size(); ++r)
          os << "    part[(" << r << "LL * nchunk + blockIdx.y) * rows + i] = acc" << r << ";\n";
        os << "  }\n";
        break;
    }
    os << "  if (rj_flags) atomicOr(flags, rj_flags);\n}\n";

    if (s.red == RedKind::all) {
      // Stage 2: one block combines the partials in a fixed order and finishes.
      os << head << kname("fin") << "(" << params() << ") {\n";
      os << "  unsigned rj_flags = 0;\n  __shared__ double rj_sm[32];\n";
      for (size_t r = 0; r < reds.size(); ++r) {
        os << "  {\n    double acc = " << identity(r) << ";\n";
        os << "    for (long long c = threadIdx.x; c < nchunk; c += blockDim.x) acc = " << kname("comb") << r << "(acc, part[c * "
           << reds.size() << " + " << r << "], rj_flags);\n";
        os << "    acc = rj_block_reduce<" << kname("comb") << r << ">(acc, " << identity(r) << ", rj_sm, rj_flags);\n";
        os << "    if (threadIdx.x == 0) p" << out_slot(reds[r]) << "[0] = " << kname("finish") << r << "(acc, rj_flags);\n  }\n";
      }
      os << "  if (rj_flags) atomicOr(flags, rj_flags);\n}\n";
    } else if (s.red == RedKind::row) {
      os << head << kname("fin") << "(" << params() << ") {\n";
      os << "  unsigned rj_flags = 0;\n";
      os << "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < rows; i += (long long)gridDim.x * blockDim.x) {\n";
      for (size_t r = 0; r < reds.size(); ++r) {
        os << "    {\n      double acc = " << identity(r) << ";\n";
        os << "      for (long long c = 0; c < nchunk; ++c) acc = " << kname("comb") << r << "(acc, part[(" << r
           << "LL * nchunk + c) * rows + i], rj_flags);\n";
        os << "      p" << out_slot(reds[r]) << "[i] = " << kname("finish") << r << "(acc, rj_flags);\n    }\n";
      }
      os << "  }\n  if (rj_flags) atomicOr(flags, rj_flags);\n}\n";
    }
  }

  // Host entry of the grid shim: the kernel's parameters from an array of
  // pointers to them (cuLaunchKernel's convention).
  void shim_wrapper(const char* part) {
    os << "extern \"C\" void " << kname(part) << "_shim(void** a) {\n  " << kname(part) << "(";
    size_t np = n_in() + s.outputs.size();
    for (size_t p = 0; p < np; ++p) os << "*(" << ctype(ptr_dtype(p)) << "**)a[" << p << "], ";
    os << "*(long long*)a[" << np << "], *(long long*)a[" << np + 1 << "], *(double**)a[" << np + 2 << "], *(unsigned**)a["
       << np + 3 << "], *(long long*)a[" << np + 4 << "]);\n}\n";
  }
};

// Helpers every kernel uses; plain C++ that compiles for the device (NVRTC)
// and the host (the shim). RJ_DEV, rj_bits_f64/f32 and rj_dbits come from
// the target's prelude.
const char* kCommon = R"RJ(
RJ_DEV int rj_iadd(int a, int b) { return (int)((unsigned)a + (unsigned)b); }
RJ_DEV int rj_isub(int a, int b) { return (int)((unsigned)a - (unsigned)b); }
RJ_DEV int rj_imul(int a, int b) { return (int)((unsigned)a * (unsigned)b); }
// i32 division family (src/ir/scalar.h): divisor 0 gives 0, -1 never traps.
// mode 0: truncating quotient, 1: floor quotient, 2: floor remainder.
RJ_DEV int rj_idiv(int a, int d, int mode) {
  if (d == 0) return 0;
  if (d == -1) return mode == 2 ? 0 : rj_isub(0, a);
  int q = a / d, r = a % d;
  bool adjust = r != 0 && ((r < 0) != (d < 0));
  if (mode == 2) return adjust ? r + d : r;
  if (mode == 1) return adjust ? q - 1 : q;
  return q;
}
// float -> i32: truncation, saturating, NaN -> 0.
RJ_DEV int rj_f2i(double x) {
  return x != x ? 0 : x >= 2147483647.0 ? 2147483647 : x <= -2147483648.0 ? (-2147483647 - 1) : (int)x;
}
RJ_DEV unsigned char rj_is_na_f64(double x) {
  return (unsigned char)(x != x && (unsigned)(rj_dbits(x) & 0xFFFFFFFFull) == 1954u);
}
// The result, or the first NaN operand when the result is NaN (see CudaScalar::basis).
RJ_DEV double rj_nan_keep1(double r, double x) { return r != r && x != x ? x : r; }
RJ_DEV double rj_nan_keep2(double r, double x, double y) { return r != r ? (x != x ? x : y != y ? y : r) : r; }
// R's pmin/pmax: NaN when either is NaN (the second one's when both are).
template <class T> RJ_DEV T rj_min(T x, T y) { T r = y < x ? y : x; r = x != x ? x : r; return y != y ? y : r; }
template <class T> RJ_DEV T rj_max(T x, T y) { T r = y > x ? y : x; r = x != x ? x : r; return y != y ? y : r; }
// Block-wide reduction with warp shuffles, in a fixed order (deterministic):
// lanes fold down within each warp, warp 0 folds the warps' results. The
// result is valid in thread 0; sm holds 32 doubles. Every thread calls it.
template <double (*C)(double, double, unsigned&)>
RJ_DEV double rj_block_reduce(double v, double ident, double* sm, unsigned& fl) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
  for (int off = 16; off > 0; off >>= 1) v = C(v, __shfl_down_sync(0xffffffffu, v, off), fl);
  if (lane == 0) sm[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < nw ? sm[lane] : ident;
    for (int off = 16; off > 0; off >>= 1) v = C(v, __shfl_down_sync(0xffffffffu, v, off), fl);
  }
  __syncthreads();
  return v;
}
)RJ";

#include "special_text.h"  // kSpecialText: src/prims/special.h, embedded at build time

}  // namespace

std::string render_kernels(const std::vector<KernelSpec>& specs, bool shim_wrappers) {
  std::ostringstream body;
  for (size_t k = 0; k < specs.size(); ++k) {
    KernelText t(specs[k], (int)k);
    t.render();
    if (shim_wrappers) {
      t.shim_wrapper("main");
      if (specs[k].red == RedKind::all || specs[k].red == RedKind::row) t.shim_wrapper("fin");
    }
    body << "// ---- kernel " << k << ": " << specs[k].key().substr(0, 200) << "\n" << t.os.str();
  }
  std::string b = body.str();
  std::string out;
  if (b.find("rj::special::") != std::string::npos) out += kSpecialText;
  out += kCommon;
  return out + b;
}

LaunchShape launch_shape(const KernelSpec& spec, int64_t rows, int64_t cols, int block, int max_blocks) {
  LaunchShape ls;
  for (auto& op : spec.ops)
    if (is_red(op)) ++ls.n_red;
  auto blocks = [&](int64_t work) {
    int64_t b = (work + block - 1) / block;
    return (unsigned)std::max<int64_t>(1, std::min<int64_t>(b, max_blocks));
  };
  ls.main.bx = ls.fin.bx = (unsigned)block;
  switch (spec.red) {
    case RedKind::none: ls.main.gx = blocks(rows * cols); break;
    case RedKind::all:
      // Each stage-1 thread folds at least 8 elements; at most max_blocks partials.
      ls.main.gx = blocks((rows * cols + 7) / 8);
      ls.nchunk = ls.main.gx;
      ls.has_fin = true;
      ls.fin.gx = 1;
      break;
    case RedKind::col: ls.main.gx = (unsigned)std::max<int64_t>(1, std::min<int64_t>(cols, 65535)); break;
    case RedKind::row: {
      ls.main.gx = blocks(rows);
      // Enough column chunks to give the device ~64k threads of work, each
      // chunk at least 16 columns.
      int64_t want = std::max<int64_t>(1, (int64_t)65536 / std::max<int64_t>(1, (int64_t)ls.main.gx * block));
      ls.nchunk = std::max<int64_t>(1, std::min<int64_t>({want, (cols + 15) / 16, 65535}));
      ls.main.gy = (unsigned)ls.nchunk;
      ls.has_fin = true;
      ls.fin.gx = blocks(rows);
      break;
    }
  }
  return ls;
}

size_t partial_size(const KernelSpec& spec, const LaunchShape& ls, int64_t rows) {
  if (!ls.has_fin) return 0;
  size_t per = spec.red == RedKind::row ? (size_t)std::max<int64_t>(rows, 0) : 1;
  return (size_t)ls.nchunk * (size_t)ls.n_red * per;
}

}  // namespace cuda
}  // namespace rj
