// Forward-mode automatic differentiation as a graph transform: the program is
// replayed node by node, and beside each node its forward rule (PrimDef::jvp,
// or jvp_tuple for control flow) emits the tangent of its output from the
// tangents of its inputs, into the same graph. Rules are written in IR with
// differentiable primitives, so the result can be differentiated again in
// either mode (jvp of jvp, vjp of jvp: hessian() is forward over reverse).
//
// Design (see inst/DESIGN-NOTES.md, "Transformations"): every primitive keeps
// its VJP rule beside its JVP rule rather than deriving reverse mode by
// transposing the JVP as JAX does. The VJP rules existed and are tested;
// keeping both costs one more rule per non-element-wise primitive, while
// element-wise primitives write neither (both come from their partials).
// A few primitives whose forward rule would repeat the case analysis of
// their VJP (prod with zeros, ties of max/min, running extremes) take the
// JVP from the VJP by transposition (jvp_by_transpose below).
#include <unordered_map>

#include "../prims/prim_util.h"
#include "passes.h"

namespace rj {

void jvp_replay(Builder& b, const Graph& src, const std::vector<int>& inputs, const std::vector<int>& in_tangents,
                std::vector<int>* outs, std::vector<int>* out_tangents) {
  std::vector<int> map(src.nodes.size(), -1), tan(src.nodes.size(), -1);
  auto ins = src.inputs();
  if (ins.size() != inputs.size() || in_tangents.size() != inputs.size())
    fail("internal", "jvp_replay: input count mismatch");
  for (size_t i = 0; i < ins.size(); ++i) {
    map[ins[i]] = inputs[i];
    tan[ins[i]] = in_tangents[i];
  }
  const int param_id = prim_id("param"), get_id = prim_id("tuple_get");
  RewrittenTuples tuples;
  for (size_t v = 0; v < src.nodes.size(); ++v) {
    const Node& n = src.nodes[v];
    if (n.prim == param_id || map[v] >= 0) continue;
    if (n.value) {
      map[v] = b.constant(n.value, n.type.weak);
      continue;
    }
    std::vector<int> in, tin;
    bool any = false;
    for (int i : n.in) {
      in.push_back(map[i]);
      tin.push_back(tan[i]);
      any = any || tan[i] >= 0;
    }
    const PrimDef& p = prim(n.prim);
    if (n.prim == get_id) {
      if (!tuples.read(n, (int)v, map, tan)) map[v] = b.emit(n.prim, in, n.attrs);
      continue;
    }
    if (n.is_tuple() && !any) {  // copied as it is; its tuple_gets are replayed after it
      map[v] = reemit(b, n, in);
      continue;
    }
    Node c = n;
    c.in = in;
    if (n.is_tuple()) {
      if (!p.jvp_tuple) fail("grad", "rjax has no forward-mode rule for '" + p.name + "'");
      std::vector<int> touts;
      std::vector<int> o = p.jvp_tuple(b, c, tin, &touts);
      touts.resize(o.size(), -1);
      map[v] = (int)v;  // marks it done; its outputs are read through `tuples`
      tuples.outs[(int)v] = {o, touts};
      continue;
    }
    const int out = reemit(b, n, in);  // custom rules (custom_vjp_call) own sub-graphs
    map[v] = out;
    if (!any || p.nondiff || !is_float(b.type(out).dtype)) continue;
    if (!p.jvp) fail("grad", "rjax has no forward-mode rule for '" + p.name + "'");
    c.type = b.type(out);
    int t = p.jvp(b, c, out, tin);
    if (t >= 0) {
      const Type ot = b.type(out);
      if (b.type(t).dtype != ot.dtype) t = b.convert(t, ot.dtype);
      if (b.type(t).shape != ot.shape) {
        if (b.type(t).rank() != 0)
          fail("internal", "JVP of " + p.name + " gives " + b.type(t).str() + " for an output of type " + ot.str());
        t = b.broadcast_to(t, ot.shape);
      }
    }
    tan[v] = t;
  }
  outs->clear();
  out_tangents->clear();
  for (int o : src.outputs) {
    outs->push_back(map[o]);
    out_tangents->push_back(tan[o]);
  }
}

namespace {

Type strong(Type t) {
  t.weak = false;
  return t;
}

}  // namespace

GraphPtr jvp(const Graph& g, const std::vector<int>& wrt) {
  auto out = graph_like(g);
  auto ins = out->inputs();
  std::vector<int> tangents(ins.size(), -1);
  for (int k : wrt) {
    if (k < 0 || k >= (int)ins.size()) fail("internal", "jvp: wrt index out of range");
    const Type t = out->type(ins[k]);
    if (!is_float(t.dtype))
      fail("grad", "cannot differentiate with respect to '" + out->nodes[ins[k]].label + "': it has dtype " +
                       dtype_name(t.dtype) + "; only f32 and f64 arrays have tangents");
    tangents[k] = out->add_param(strong(t), "<tangent>");
  }
  Builder b(*out);
  std::vector<int> o, to;
  jvp_replay(b, g, ins, tangents, &o, &to);
  for (int v : o) out->outputs.push_back(v);
  for (size_t k = 0; k < o.size(); ++k) out->outputs.push_back(to[k] >= 0 ? to[k] : b.zeros_like(o[k]));
  return out;
}

GraphPtr jvp_graph(const Graph& g, const std::vector<char>& has_t, const std::vector<char>& want_t) {
  if (!g.captures.empty()) fail("internal", "jvp_graph: the graph captures values");
  auto out = std::make_shared<Graph>();
  out->level = g.level;
  std::vector<int> ins, tangents(g.params.size(), -1);
  for (int p : g.params) ins.push_back(out->add_param(g.type(p), g.nodes[p].label));
  for (size_t k = 0; k < g.params.size(); ++k)
    if (k < has_t.size() && has_t[k]) tangents[k] = out->add_param(strong(g.type(g.params[k])), "<tangent>");
  Builder b(*out);
  std::vector<int> o, to;
  jvp_replay(b, g, ins, tangents, &o, &to);
  for (int v : o) out->outputs.push_back(v);
  for (size_t k = 0; k < o.size(); ++k)
    if (k < want_t.size() && want_t[k]) out->outputs.push_back(to[k] >= 0 ? to[k] : b.full(0, strong(b.type(o[k]))));
  return out;
}

// J t from the VJP rule: the rule is linear in its cotangent u, so
// <vjp(u), t> = u . (J t), whose gradient in u is J t. The small graph
// [inputs, u, tangents] -> <vjp(u), t> is differentiated in reverse with
// respect to u and replayed into b with u = 0 (the gradient does not depend
// on u; the primal node it re-emits is shared with the existing one by CSE).
int jvp_by_transpose(Builder& b, const Node& n, int out, const std::vector<int>& in_tangents) {
  const PrimDef& p = prim(n.prim);
  if (!p.vjp) fail("internal", "jvp_by_transpose: " + p.name + " has no VJP rule");
  Graph h;
  std::vector<int> xs, ts, bin;
  for (int v : n.in) {
    xs.push_back(h.add_param(strong(b.type(v)), "<x>"));
    bin.push_back(v);
  }
  const int u = h.add_param(strong(b.type(out)), "<u>");
  bin.push_back(b.zeros_like(out));
  std::vector<int> with_t;
  for (size_t k = 0; k < n.in.size(); ++k)
    if (k < in_tangents.size() && in_tangents[k] >= 0) {
      ts.push_back(h.add_param(strong(b.type(in_tangents[k])), "<t>"));
      bin.push_back(in_tangents[k]);
      with_t.push_back((int)k);
    }
  if (with_t.empty()) return -1;
  Builder hb(h);
  const int y = hb.emit(n.prim, xs, n.attrs);
  Node c = h.nodes[y];
  const std::vector<int> cts = p.vjp(hb, c, y, u);
  int s = -1;
  for (size_t j = 0; j < with_t.size(); ++j) {
    const int k = with_t[j];
    if (k >= (int)cts.size() || cts[k] < 0) continue;
    int term = hb.sum_to_shape(hb.mul(cts[k], ts[j]), {});
    s = s < 0 ? term : hb.add(s, term);
  }
  if (s < 0) return -1;
  h.outputs = {s};
  GraphPtr dh = vjp(h, {(int)xs.size()});  // outputs: [s, ds/du]
  auto m = replay(b, *dh, bin);
  return m[dh->outputs.at(1)];
}

}  // namespace rj
