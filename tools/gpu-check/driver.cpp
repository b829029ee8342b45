// rjax-gpu-check: a standalone driver of rjax's C++ core and CUDA backend
// (no R), built by tools/gpu-check.sh on a machine with or without a GPU.
//
//   rjax-gpu-check agree DEVICE N CSV     every element-wise primitive of the
//       registry, f32 and f64, on DEVICE (cuda | shim) vs the interpreter;
//       one CSV row per primitive and dtype
//   rjax-gpu-check pln DEVICE DATA N ITERS DTYPE CSV
//       the JAX tutorial's PLN step chain (its objective with the trace slip,
//       RAdam, scale(-1), clip(0.1)) for ITERS iterations, the data rows
//       repeated to N rows; DEVICE cuda | shim | interp; appends timings and
//       the final loss to CSV
//
// The PLN step is built here with the core's graph builder (hand-written
// gradients as in tools/bench-peers/pln_numpy.py). Once the export work
// lands (src/ir/serialize.*, rjax-run), this program is replaced by
// exporting the R tutorial program and running it with rjax-run.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/api.h"
#include "backend/cuda/device.h"
#include "ir/ir.h"
#include "runtime/status.h"
#include "transforms/passes.h"

namespace rj {
// This driver carries no LLVM: the CPU reference is the interpreter.
ExecutablePtr compile_llvm(GraphPtr) { fail("backend", "rjax-gpu-check is built without the LLVM backend"); }
}  // namespace rj

using namespace rj;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

ExecutablePtr compile_for(const std::string& dev, GraphPtr g) {
  if (dev == "cuda") return cuda::compile_on_device(g, cuda::gpu_device(), "cuda");
  if (dev == "shim") return cuda::compile_on_device(g, cuda::shim_device(), "cuda-shim");
  return compile(g, "interp");
}

// ---- agreement suite ------------------------------------------------------------

// Operand kinds: x in (0.05, 0.95), y in (1.1, 3), z normal*3 with NA, NaN,
// +-Inf, 0 at the front; b, c logical.
std::string kinds_for(const std::string& p, int arity) {
  if (p == "acosh" || p == "psigamma") return "y";
  if (p == "pnorm" || p == "qnorm") return "xzy";
  if (p == "convert") return "z";
  if (p == "not") return "b";
  if (p == "and" || p == "or") return "bc";
  if (p == "select") return "bxz";
  const char* zs[] = {"neg", "abs", "sign", "floor", "ceiling", "round", "trunc", "is_na", "is_nan", "is_finite",
                      "sin", "cos", "atan", "sinh", "tanh", "asinh", "exp", "expm1", "stop_gradient"};
  for (const char* z : zs)
    if (p == z) return "z";
  if (arity == 2) return "zy";
  return "x";
}

Attrs attrs_for(const std::string& p) {
  Attrs a;
  if (p == "psigamma") a.ints = {1};
  if (p == "pnorm" || p == "qnorm") a.ints = {1, 0};
  if (p == "convert") a.dtype = DType::i32;
  return a;
}

BufferPtr operand(char kind, DType dt, int64_t n, std::mt19937_64& rng) {
  bool logical = kind == 'b' || kind == 'c';
  BufferPtr b = make_buffer(logical ? DType::b8 : dt, {n});
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> nd(0, 1);
  const double special[] = {na_real(), NAN, INFINITY, -INFINITY, 0.0, -0.5, 2.5};
  for (int64_t i = 0; i < n; ++i) {
    double v;
    if (logical) {
      b->as<uint8_t>()[i] = u(rng) > (kind == 'b' ? 0.5 : 0.3);
      continue;
    }
    if (kind == 'x') v = 0.05 + 0.9 * u(rng);
    else if (kind == 'y') v = 1.1 + 1.9 * u(rng);
    else if (kind == 'z') v = i < 7 ? special[i] : 3 * nd(rng);
    if (kind == 'z' && i == 0 && dt == DType::f32) v = NAN;
    if (dt == DType::f32) b->as<float>()[i] = (float)v;
    else b->as<double>()[i] = v;
  }
  return b;
}

// Worst relative error of a vs b (NaN only matches NaN); -1 on a mismatch
// that is not numeric (NaN pattern, integers, bools), -2 when only R's NA
// and NaN are confused (f64: NA_real_ is a NaN payload, which the device's
// arithmetic must keep, as R's does).
double compare(const Buffer& a, const Buffer& b) {
  double worst = 0;
  bool na_confused = false;
  for (int64_t i = 0; i < a.size(); ++i) {
    double x = a.get(i), y = b.get(i);
    if (x != x || y != y) {
      if ((x != x) != (y != y)) return -1;
      if (a.dtype == DType::f64 && is_na_real(x) != is_na_real(y)) na_confused = true;
      continue;
    }
    if (!is_float(a.dtype)) {
      if (x != y) return -1;
      continue;
    }
    if (x == y) continue;  // infinities
    if (std::isinf(x) || std::isinf(y)) return -1;
    worst = std::max(worst, std::fabs(x - y) / std::max(1.0, std::fabs(y)));
  }
  return na_confused ? -2 : worst;
}

// One program applying every element-wise primitive of the registry to
// parameters x y z b c (kinds_for()); names[k] is output k's primitive.
GraphPtr all_elementwise(DType dt, int64_t n, const std::vector<BufferPtr>& xs, std::vector<std::string>* names) {
  auto g = std::make_shared<Graph>();
  Builder b(*g);
  std::vector<int> params;
  for (int k = 0; k < 5; ++k) params.push_back(g->add_param(Type{xs[k]->dtype, {n}}, std::string(1, "xyzbc"[k])));
  for (int id = 0; id < prim_count(); ++id) {
    const PrimDef& p = prim(id);
    if (!p.elementwise || !p.scalar) continue;
    std::string ks = kinds_for(p.name, p.arity);
    std::vector<int> in;
    for (char k : ks) in.push_back(params[std::string("xyzbc").find(k)]);
    try {
      g->outputs.push_back(b.emit(id, in, attrs_for(p.name)));
      names->push_back(p.name);
    } catch (const Error& e) {
      std::fprintf(stderr, "agree: %s skipped (%s)\n", p.name.c_str(), e.what());
    }
  }
  return optimize(*g);
}

int agree(const std::string& dev, int64_t n, const std::string& csv) {
  std::ofstream out(csv, std::ios::app);
  int failures = 0;
  for (DType dt : {DType::f64, DType::f32}) {
    std::mt19937_64 rng(7);
    std::vector<BufferPtr> xs;
    for (char k : std::string("xyzbc")) xs.push_back(operand(k, dt, n, rng));
    std::vector<std::string> names;
    GraphPtr opt = all_elementwise(dt, n, xs, &names);
    take_warnings();
    double t0 = now();
    auto ref = compile(opt, "interp")->run(xs);
    uint32_t w_ref = take_warnings();
    double t1 = now();
    auto exe = compile_for(dev, opt);
    double t2 = now();
    auto got = exe->run(xs);
    double t3 = now();
    uint32_t w_got = take_warnings();
    const double tol = dt == DType::f32 ? 2e-6 : 1e-12;
    for (size_t k = 0; k < names.size(); ++k) {
      double err = compare(*got[k], *ref[k]);
      bool ok = err >= 0 && err <= tol;
      if (err == -2) std::fprintf(stderr, "agree: %s %s: NA and NaN confused\n", names[k].c_str(), dtype_name(dt));
      failures += !ok;
      out << "agree," << dev << "," << names[k] << "," << dtype_name(dt) << "," << n << "," << err << ","
          << (ok ? "pass" : "FAIL") << "\n";
    }
    out << "agree_warnings," << dev << ",all," << dtype_name(dt) << "," << n << "," << (w_ref == w_got ? 0 : -1) << ","
        << (w_ref == w_got ? "pass" : "FAIL") << "\n";
    failures += w_ref != w_got;
    out << "agree_timing," << dev << ",compile_s," << dtype_name(dt) << "," << n << "," << (t2 - t1) << ",info\n";
    out << "agree_timing," << dev << ",run_s," << dtype_name(dt) << "," << n << "," << (t3 - t2) << ",info\n";
    (void)t0;
  }
  std::printf("agree (%s): %d failure(s)\n", dev.c_str(), failures);
  return failures ? 1 : 0;
}

// ---- the PLN tutorial chain -------------------------------------------------------

std::vector<double> read_csv_matrix(const std::string& path, int64_t* rows, int64_t* cols) {
  std::ifstream f(path);
  if (!f) fail("io", "cannot read " + path);
  std::string line;
  std::getline(f, line);  // header
  std::vector<std::vector<double>> r;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) row.push_back(std::atof(cell.c_str()));
    r.push_back(row);
  }
  *rows = (int64_t)r.size();
  *cols = r.empty() ? 0 : (int64_t)r[0].size();
  std::vector<double> cm((size_t)(*rows * *cols));
  for (int64_t i = 0; i < *rows; ++i)
    for (int64_t j = 0; j < *cols; ++j) cm[(size_t)(i + j * *rows)] = r[(size_t)i][(size_t)j];
  return cm;
}

struct Pln {
  int64_t n, p;
  DType dt;
  GraphPtr step;  // inputs: Y O X stir B M S mB vB mM vM mS vS t; outputs: B M S mB vB mM vM mS vS t loss
};

// One RAdam update of the tutorial chain on parameter `x` with gradient `g`
// and state (m, v); t is the step count after this update (rank 0). Returns
// {x', m', v'}.
std::vector<int> radam(Builder& b, int x, int g, int m, int v, int t, DType dt) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8, thr = 5, rho_inf = 2 / (1 - b2) - 1;
  auto c = [&](double z) { return b.scalar(z, dt); };
  auto e = [&](const char* op, std::vector<int> in) { return b.emit(op, in); };
  int m2 = b.add(b.mul(c(b1), m), b.mul(c(1 - b1), g));
  int v2 = b.add(b.mul(c(b2), v), b.mul(c(1 - b2), b.mul(g, g)));
  int b1t = e("pow", {c(b1), t}), b2t = e("pow", {c(b2), t});
  int rho = b.sub(c(rho_inf), b.div(b.mul(b.mul(c(2), t), b2t), b.sub(c(1), b2t)));
  int mhat = b.div(m2, b.sub(c(1), b1t));
  int vhat = b.div(v2, b.sub(c(1), b2t));
  int r = e("sqrt", {b.div(b.mul(b.mul(b.sub(rho, c(4)), b.sub(rho, c(2))), c(rho_inf)),
                           b.mul(c((rho_inf - 4) * (rho_inf - 2)), rho))});
  int ok = e("ge", {rho, c(thr)});
  // r is NaN while rho < 4; select keeps mhat there.
  int u = b.select(ok, b.div(b.mul(r, mhat), b.add(e("sqrt", {vhat}), c(eps))), mhat);
  int step = e("max", {e("min", {b.neg(u), c(0.1)}), c(-0.1)});
  return {b.add(x, step), m2, v2};
}

Pln build_pln(int64_t n, int64_t p, DType dt) {
  Pln P{n, p, dt, std::make_shared<Graph>()};
  Graph& g = *P.step;
  Builder b(g);
  auto par = [&](const char* nm, Shape s) { return g.add_param(Type{dt, s}, nm); };
  int Y = par("Y", {n, p}), O = par("O", {n, p}), X = par("X", {n, 1}), stir = par("stir", {});
  int B = par("B", {1, p}), M = par("M", {n, p}), S = par("S", {n, p});
  int st[6];
  const char* sn[6] = {"mB", "vB", "mM", "vM", "mS", "vS"};
  for (int k = 0; k < 6; ++k) st[k] = par(sn[k], k < 2 ? Shape{1, p} : Shape{n, p});
  int t = par("t", {});
  auto c = [&](double z) { return b.scalar(z, dt); };
  auto e = [&](const char* op, std::vector<int> in) { return b.emit(op, in); };
  BufferPtr eye = make_buffer(dt, {p, p});
  for (int64_t i = 0; i < p * p; ++i) {
    double v = (i % (p + 1)) == 0 ? 1.0 : 0.0;
    if (dt == DType::f32) eye->as<float>()[i] = (float)v;
    else eye->as<double>()[i] = v;
  }
  int I = b.constant(eye);
  int S2 = b.mul(S, S);
  int cs = b.sum(S2, {0});                                  // colSums(S2), [p]
  int csrow = b.reshape(cs, {1, p});
  int Sigma = b.div(b.add(b.matmul(M, M, true, false), b.mul(b.broadcast_to(csrow, {p, p}), I)), c((double)n));
  int Om = b.emit("solve", {Sigma, I});
  int dOm = b.reshape(b.sum(b.mul(Om, I), {0}), {1, p});    // diag(Om) as a row
  int Z = b.add(b.add(O, b.matmul(X, B)), M);
  int A = e("exp", {b.add(Z, b.div(S2, c(2)))});
  int tr = b.add(b.sum(b.mul(M, M), {0, 1}), b.sum(b.mul(csrow, dOm), {0, 1}));  // the tutorial's slip: M, not M %*% Om
  int logdet = b.emit("logabsdet", {Om});
  int ll = b.sum(b.add(b.sub(b.mul(Y, Z), A), b.mul(c(0.5), e("log", {S2}))), {0, 1});
  int elbo = b.sub(b.add(b.sub(b.add(b.mul(c(n / 2.0), logdet), ll), b.mul(c(0.5), tr)), c(n * p / 2.0)), stir);
  int loss = b.neg(elbo);
  int YA = b.sub(Y, A);
  int gB = b.neg(b.matmul(X, YA, true, false));
  int gM = b.neg(b.sub(YA, M));
  int gS = b.neg(b.sub(b.add(b.neg(b.mul(A, S)), b.div(c(1), S)), b.mul(S, b.broadcast_to(dOm, {n, p}))));
  int t1 = b.add(t, c(1));
  auto rB = radam(b, B, gB, st[0], st[1], t1, dt);
  auto rM = radam(b, M, gM, st[2], st[3], t1, dt);
  auto rS = radam(b, S, gS, st[4], st[5], t1, dt);
  g.outputs = {rB[0], rM[0], rS[0], rB[1], rB[2], rM[1], rM[2], rS[1], rS[2], t1, loss};
  P.step = optimize(g);
  return P;
}

BufferPtr fill(DType dt, Shape s, double v) {
  BufferPtr b = make_buffer(dt, s);
  for (int64_t i = 0; i < b->size(); ++i) {
    if (dt == DType::f32) b->as<float>()[i] = (float)v;
    else b->as<double>()[i] = v;
  }
  return b;
}

int pln(const std::string& dev, const std::string& data, int64_t n, int iters, DType dt, const std::string& csv) {
  int64_t n0, p, n1, p1;
  std::vector<double> y = read_csv_matrix(data + "/counts.csv", &n0, &p);
  std::vector<double> off = read_csv_matrix(data + "/offsets.csv", &n1, &p1);
  if (n0 != n1 || p != p1) fail("io", "counts and offsets differ in shape");
  BufferPtr Y = make_buffer(dt, {n, p}), O = make_buffer(dt, {n, p});
  double stir = 0;
  for (int64_t j = 0; j < p; ++j)
    for (int64_t i = 0; i < n; ++i) {
      double yv = y[(size_t)(i % n0 + j * n0)], ov = std::log(off[(size_t)(i % n0 + j * n0)]);
      double k = std::max(yv, 1.0);
      stir += std::log(std::sqrt(2 * M_PI * k)) + k * std::log(k / M_E);
      if (dt == DType::f32) Y->as<float>()[i + j * n] = (float)yv, O->as<float>()[i + j * n] = (float)ov;
      else Y->as<double>()[i + j * n] = yv, O->as<double>()[i + j * n] = ov;
    }
  double t0 = now();
  Pln P = build_pln(n, p, dt);
  ExecutablePtr exe = compile_for(dev, P.step);
  double t1 = now();
  if (std::getenv("RJAX_GPU_CHECK_PLAN")) std::printf("%s\n%s\n", print_graph(*P.step).c_str(), exe->describe().c_str());
  std::vector<BufferPtr> in = {Y, O, fill(dt, {n, 1}, 1), scalar_buffer(dt, stir), fill(dt, {1, p}, 0), fill(dt, {n, p}, 0),
                               fill(dt, {n, p}, 1)};
  for (int k = 0; k < 6; ++k) in.push_back(fill(dt, k < 2 ? Shape{1, p} : Shape{n, p}, 0));
  in.push_back(scalar_buffer(dt, 0));
  std::vector<double> losses;
  double first_iter = 0;
  if (dev == "interp") {
    for (int it = 0; it < iters; ++it) {
      double a = now();
      auto out = exe->run(in);
      if (it == 0) first_iter = now() - a;
      for (int k = 0; k < 10; ++k) in[4 + k] = out[k];
      losses.push_back(out[10]->get(0));
    }
  } else {
    // The state stays on the device: outputs 0..9 feed inputs 4..13.
    std::vector<std::pair<int, int>> carry;
    for (int k = 0; k < 10; ++k) carry.push_back({k, 4 + k});
    std::vector<std::vector<double>> rec;
    double a = now();
    cuda::run_chain(*exe, in, 1, carry, {10}, &rec);
    first_iter = now() - a;
    t1 = now();
    cuda::run_chain(*exe, in, iters, carry, {10}, &rec);
    losses = rec[0];
  }
  double t2 = now();
  take_warnings();
  std::ofstream out(csv, std::ios::app);
  out << "pln," << dev << ",compile_s," << dtype_name(dt) << "," << n << "," << (t1 - t0) << ",info\n";
  out << "pln," << dev << ",first_call_s," << dtype_name(dt) << "," << n << "," << first_iter << ",info\n";
  out << "pln," << dev << ",run_s_" << iters << "," << dtype_name(dt) << "," << n << "," << (t2 - t1) << ",info\n";
  out.precision(10);
  for (int it : {0, 1, 9, 99, iters - 1})
    if (it >= 0 && it < iters) out << "pln," << dev << ",loss_" << it + 1 << "," << dtype_name(dt) << "," << n << "," << losses[(size_t)it] << ",info\n";
  std::printf("pln (%s, %s, n = %lld): compile %.3f s, %d iterations %.3f s, final loss %.8g\n", dev.c_str(),
              dtype_name(dt), (long long)n, t1 - t0, iters, t2 - t1, losses.back());
  return 0;
}

// NVRTC compiles of every rendered kernel of the agreement programs and the
// PLN step, for `arch` (no GPU needed).
int nvrtc(const std::string& arch, const std::string& csv) {
  std::ofstream out(csv, std::ios::app);
  int failures = 0;
  for (DType dt : {DType::f64, DType::f32}) {
    std::mt19937_64 rng(7);
    std::vector<BufferPtr> xs;
    for (char k : std::string("xyzbc")) xs.push_back(operand(k, dt, 16, rng));
    std::vector<std::string> names;
    std::vector<std::pair<std::string, GraphPtr>> progs = {{"all_elementwise", all_elementwise(dt, 16, xs, &names)},
                                                           {"pln_step", build_pln(116, 114, dt).step}};
    for (auto& pg : progs) {
      double t0 = now();
      bool ok = true;
      size_t bytes = 0;
      try {
        bytes = cuda::compile_nvrtc(cuda::render_program(*pg.second), arch).size();
      } catch (const std::exception& e) {
        ok = false;
        std::fprintf(stderr, "nvrtc %s: %s\n", pg.first.c_str(), e.what());
      }
      failures += !ok;
      out << "nvrtc," << arch << "," << pg.first << "," << dtype_name(dt) << ",," << bytes << "," << (ok ? "pass" : "FAIL") << "\n";
      out << "nvrtc_timing," << arch << "," << pg.first << "_compile_s," << dtype_name(dt) << ",," << now() - t0 << ",info\n";
    }
  }
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "agree" && argc == 5) return agree(argv[2], std::atoll(argv[3]), argv[4]);
    if (mode == "pln" && argc == 8)
      return pln(argv[2], argv[3], std::atoll(argv[4]), std::atoi(argv[5]), dtype_from_name(argv[6]), argv[7]);
    if (mode == "nvrtc" && argc == 4) return nvrtc(argv[2], argv[3]);
    if (mode == "devices") {
      std::printf("%s", cu::describe_libraries().c_str());
      for (auto& d : cu::devices())
        std::printf("cuda:%d %s, %.1f GiB, sm_%d%d\n", d.ordinal, d.name.c_str(), d.total_memory / 1073741824.0, d.major, d.minor);
      return 0;
    }
    std::fprintf(stderr, "usage: rjax-gpu-check agree DEVICE N CSV | nvrtc ARCH CSV | pln DEVICE DATA N ITERS DTYPE CSV | devices\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rjax-gpu-check: %s\n", e.what());
    return 1;
  }
}
