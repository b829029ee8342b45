// Executors of the control-flow primitives, shared by every backend.
//
// Per iteration a loop only moves shared pointers: scanned inputs are read
// through views into their stacked buffers (no copy), the carry is the body's
// output buffers, and each per-iteration output is copied once into its slab
// of the stacked result.
//
// Every iteration polls for a user interrupt (check_interrupt: a coarse
// clock read, the host's checker every few tens of ms), so that a long or
// endless loop (while_loop(function(c) TRUE, ...)) stops on Ctrl-C; the
// exception unwinds the loop and frees its buffers.
#include "control.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "../prims/control.h"
#include "../runtime/interrupt.h"
#include "../transforms/passes.h"

namespace rj {
namespace {

ExecutablePtr compile_body(const GraphPtr& g, const std::string& backend) {
  // Bodies are optimised here, not when they are traced: the VJP rules must
  // see them as traced (with stop_gradient and custom_vjp_call nodes).
  return compile(optimize(*g), backend);
}

struct ScanRunner : ControlRunner {
  ScanLayout L;
  std::vector<Type> outs;
  ExecutablePtr body;
  std::vector<size_t> x_slab, y_slab;  // bytes of one slice
  std::vector<BufferPtr> body_in;

  ScanRunner(const Node& n, const std::string& backend) : L(n), outs(n.outs) {
    body = compile_body(n.sub.at(0), backend);
    const Graph& g = *body->graph;
    for (int j = 0; j < L.nx; ++j) {
      const Type& t = g.type(g.params[L.nc + j]);
      x_slab.push_back((size_t)t.size() * dtype_size(t.dtype));
    }
    for (int j = 0; j < L.ny; ++j) {
      const Type& t = outs[L.nc + j];
      y_slab.push_back((size_t)(t.size() / (L.length ? L.length : 1)) * dtype_size(t.dtype));
    }
  }

  std::vector<BufferPtr> run(const std::vector<BufferPtr>& in) override {
    const Graph& g = *body->graph;
    std::vector<BufferPtr> carry(in.begin(), in.begin() + L.nc);
    std::vector<BufferPtr> ys;
    for (int j = 0; j < L.ny; ++j) ys.push_back(make_buffer(outs[L.nc + j].dtype, outs[L.nc + j].shape));
    body_in.assign(in.begin(), in.end());
    struct Release {  // do not keep the inputs alive between calls, nor after an error
      std::vector<BufferPtr>& v;
      ~Release() { v.clear(); }
    } release{body_in};
    for (int64_t t = 0; t < L.length; ++t) {
      check_interrupt();
      int64_t idx = L.reverse ? L.length - 1 - t : t;
      for (int i = 0; i < L.nc; ++i) body_in[i] = carry[i];
      for (int j = 0; j < L.nx; ++j) {
        const Type& st = g.type(g.params[L.nc + j]);
        body_in[L.nc + j] = buffer_view(in[L.nc + j], (size_t)idx * x_slab[j], st.dtype, st.shape);
      }
      std::vector<BufferPtr> r = body->run(body_in);
      for (int i = 0; i < L.nc; ++i) carry[i] = std::move(r[i]);
      for (int j = 0; j < L.ny; ++j)
        if (y_slab[j]) std::memcpy(static_cast<char*>(ys[j]->data) + idx * y_slab[j], r[L.nc + j]->data, y_slab[j]);
    }
    carry.insert(carry.end(), ys.begin(), ys.end());
    return carry;
  }
};

// The truth value of a loop or branch predicate; NA (or NaN) is an error, as
// R's `if (NA)` and `while (NA)` are.
bool predicate(const Buffer& b, const char* what) {
  bool na = b.dtype == DType::b8 ? b.as<uint8_t>()[0] == kNABool
            : b.dtype == DType::i32 ? b.as<int32_t>()[0] == std::numeric_limits<int32_t>::min()
                                    : std::isnan(b.get(0));
  if (na) fail("na", std::string("missing value where TRUE/FALSE needed: the ") + what + " is NA");
  return b.get(0) != 0;
}

struct WhileRunner : ControlRunner {
  WhileLayout L;
  ExecutablePtr cond, body;

  WhileRunner(const Node& n, const std::string& backend) : L(n) {
    cond = compile_body(n.sub.at(0), backend);
    body = compile_body(n.sub.at(1), backend);
  }

  std::vector<BufferPtr> run(const std::vector<BufferPtr>& in) override {
    std::vector<BufferPtr> carry(in.begin(), in.begin() + L.nc);
    std::vector<BufferPtr> cond_in(carry), body_in(carry);
    cond_in.insert(cond_in.end(), in.begin() + L.nc, in.begin() + L.nc + L.ncc);
    body_in.insert(body_in.end(), in.begin() + L.nc + L.ncc, in.end());
    for (;;) {
      check_interrupt();
      for (int i = 0; i < L.nc; ++i) cond_in[i] = carry[i];
      if (!predicate(*cond->run(cond_in)[0], "condition of while_loop()")) break;
      for (int i = 0; i < L.nc; ++i) body_in[i] = carry[i];
      std::vector<BufferPtr> r = body->run(body_in);
      for (int i = 0; i < L.nc; ++i) carry[i] = std::move(r[i]);
    }
    return carry;
  }
};

struct CondRunner : ControlRunner {
  CondLayout L;
  ExecutablePtr branch[2];  // true, false

  CondRunner(const Node& n, const std::string& backend) : L(n) {
    branch[0] = compile_body(n.sub.at(0), backend);
    branch[1] = compile_body(n.sub.at(1), backend);
  }

  std::vector<BufferPtr> run(const std::vector<BufferPtr>& in) override {
    bool p = predicate(*in[0], "predicate of cond()");
    std::vector<BufferPtr> args(in.begin() + 1, in.begin() + 1 + L.no);
    auto from = in.begin() + 1 + L.no + (p ? 0 : L.nt);
    args.insert(args.end(), from, from + (p ? L.nt : L.nf));
    return branch[p ? 0 : 1]->run(args);
  }
};

}  // namespace

std::unique_ptr<ControlRunner> make_control_runner(const Node& n, const std::string& backend) {
  const std::string& name = prim(n.prim).name;
  if (name == "scan") return std::make_unique<ScanRunner>(n, backend);
  if (name == "while") return std::make_unique<WhileRunner>(n, backend);
  if (name == "cond") return std::make_unique<CondRunner>(n, backend);
  fail("internal", "no executor for the tuple node '" + name + "'");
}

}  // namespace rj
