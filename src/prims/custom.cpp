// custom_vjp_call: a call of a function with a user-defined gradient rule
// (R's custom_vjp(f, fwd, bwd)). The node owns three traced sub-graphs:
//   sub[0] f:   args            -> value (one array)
//   sub[1] fwd: args            -> value, residual leaves...
//   sub[2] bwd: residuals..., g -> one cotangent per argument leaf
// Its inputs are the argument leaves; attrs.dtype/attrs.shape its type.
//
// Why a node holding sub-graphs (and not an R-level trick): gradients are a
// graph transform that runs after tracing, so the rule must travel with the
// graph; with the sub-graphs in the node, the same program works eagerly
// (R calls f directly), under jit (the simplifier inlines f, so backends
// never see this node) and under grad at any nesting depth (the VJP rule
// below inlines fwd then bwd; those inlined ops are ordinary primitives, so
// grad of grad differentiates bwd, as JAX does).
//
// The sub-graphs must not capture values of enclosing traces (R checks it
// when the node is made): their inputs are exactly the node's inputs.
#include "../ir/replay.h"
#include "prim_util.h"

namespace rj {
namespace {

Type infer_custom(const std::vector<Type>&, const Attrs& a) { return Type{a.dtype, a.shape}; }

std::vector<int> vjp_custom(Builder& b, const Node& n, int, int ct) {
  if (n.sub.size() != 3) fail("internal", "custom_vjp_call without its three sub-graphs");
  const Graph& fwd = *n.sub[1];
  const Graph& bwd = *n.sub[2];
  auto fm = replay(b, fwd, n.in);
  std::vector<int> bin;
  for (size_t k = 1; k < fwd.outputs.size(); ++k) bin.push_back(fm[fwd.outputs[k]]);
  bin.push_back(ct);
  auto bm = replay(b, bwd, bin);
  std::vector<int> out;
  for (size_t k = 0; k < n.in.size(); ++k) {
    int c = k < bwd.outputs.size() ? bm[bwd.outputs[k]] : -1;
    if (!is_float(b.type(n.in[k]).dtype)) c = -1;  // integer arguments get no cotangent
    out.push_back(c);
  }
  return out;
}

std::string print_custom(const Attrs&) { return ""; }

PrimRegistration reg([] {
  PrimDef d;
  d.name = "custom_vjp_call";
  d.r_name = "custom_vjp";
  d.arity = -1;
  d.infer = infer_custom;
  d.eval = nullptr;       // never run: optimize() inlines f first
  d.no_eval = "inlined by optimize() before any backend runs the program";
  d.vjp = vjp_custom;
  d.foldable = false;
  d.print_attrs = print_custom;
  return d;
}());

}  // namespace

// Inlines f's sub-graph of a custom_vjp_call node (used by the simplifier).
int inline_custom_call(Builder& b, const Node& n, const std::vector<int>& in) {
  const Graph& f = *n.sub.at(0);
  auto m = replay(b, f, in);
  return m[f.outputs.at(0)];
}

}  // namespace rj
