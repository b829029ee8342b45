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

// Forward mode differentiates f itself: the custom rule defines reverse mode only.
int jvp_custom(Builder& b, const Node& n, int, const std::vector<int>& t) {
  std::vector<int> o, to;
  jvp_replay(b, *n.sub.at(0), n.in, t, &o, &to);
  return to.at(0);
}

// vmap batches f itself (the custom rule then applies to unbatched calls only).
int batch_custom(Builder& b, const Node& n, const std::vector<Type>&, const std::vector<int>& v,
                 const std::vector<int>& ax, int* oax) {
  std::vector<int> o, oa;
  batch_replay(b, *n.sub.at(0), v, ax, &o, &oa);
  *oax = oa.at(0);
  return o.at(0);
}

std::string print_custom(const Attrs&) { return ""; }

// A call with a custom rule: never run (optimize() inlines f first).
PrimDef custom_prim(const char* name, const char* r_name, VjpFn vjp, JvpFn jvp) {
  PrimDef d = make_prim(name, -1, infer_custom, nullptr, vjp, print_custom);
  d.r_name = r_name;
  d.no_eval = "inlined by optimize() before any backend runs the program";
  d.jvp = jvp;
  d.batch = batch_custom;
  d.foldable = false;
  return d;
}

PrimRegistration reg(custom_prim("custom_vjp_call", "custom_vjp", vjp_custom, jvp_custom));

// ---- custom_jvp_call: a call of a function with a user-defined forward rule
// (R's custom_jvp(f, jvp)). Sub-graphs:
//   sub[0] f:    args -> value
//   sub[1] rule: [args..., one tangent per arg...] -> [value, tangent]
// Forward mode runs the rule; reverse mode transposes it (the tangent it
// returns is linear in the input tangents, so its VJP with respect to them,
// at zero tangents, is the pullback), as JAX derives reverse mode from a
// custom JVP. vmap batches f.

std::vector<int> rule_inputs(Builder& b, const Node& n, const std::vector<int>& t) {
  std::vector<int> in = n.in;
  const Graph& rule = *n.sub.at(1);
  for (size_t k = 0; k < n.in.size(); ++k) {
    int v = k < t.size() ? t[k] : -1;
    in.push_back(v >= 0 ? v : b.full(0, rule.type(rule.params.at(n.in.size() + k))));
  }
  return in;
}

int jvp_custom_rule(Builder& b, const Node& n, int, const std::vector<int>& t) {
  const Graph& rule = *n.sub.at(1);
  auto m = replay(b, rule, rule_inputs(b, n, t));
  return m[rule.outputs.at(1)];
}

std::vector<int> vjp_custom_rule(Builder& b, const Node& n, int, int ct) {
  const Graph& rule = *n.sub.at(1);
  const int na = (int)n.in.size();
  std::vector<int> wrt;
  for (int k = 0; k < na; ++k) wrt.push_back(na + k);
  GraphPtr vg = subgraph_vjp(rule, wrt, {0, 1});
  std::vector<int> in = rule_inputs(b, n, {});
  in.push_back(ct);
  auto m = replay(b, *vg, in);
  std::vector<int> out;
  for (int k = 0; k < na; ++k) {
    int c = m[vg->outputs.at(k)];
    if (!is_float(b.type(n.in[k]).dtype)) c = -1;
    else if (b.type(c).dtype != b.type(n.in[k]).dtype) c = b.convert(c, b.type(n.in[k]).dtype);
    out.push_back(c);
  }
  return out;
}

PrimRegistration reg_jvp(custom_prim("custom_jvp_call", "custom_jvp", vjp_custom_rule, jvp_custom_rule));

}  // namespace

// Inlines f's sub-graph of a custom_vjp_call node (used by the simplifier).
int inline_custom_call(Builder& b, const Node& n, const std::vector<int>& in) {
  const Graph& f = *n.sub.at(0);
  auto m = replay(b, f, in);
  return m[f.outputs.at(0)];
}

}  // namespace rj
