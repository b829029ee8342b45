// Reverse-mode automatic differentiation as a graph transform. The forward
// program is replayed into a new graph, then each primitive's VJP rule emits
// the backward program into the same graph. Because the rules build IR with
// the same Builder, the result can be differentiated again (grad of grad).
//
// Tuple nodes (control flow) have one VJP rule for all their outputs: the
// cotangents reaching their tuple_get nodes are collected per output and
// handed to PrimDef::vjp_tuple when the sweep reaches the tuple node (always
// after all of its tuple_gets, which come later in the graph).
#include <unordered_map>

#include "passes.h"

namespace rj {
namespace {

// Marks the values of b.g (its first n nodes) that depend on a differentiated input.
std::vector<char> depends_on(const Graph& g, int n, const std::vector<int>& from) {
  std::vector<char> needs(n, 0);
  for (int v : from) needs[v] = 1;
  for (int v = 0; v < n; ++v)
    for (int i : g.nodes[v].in)
      if (needs[i]) needs[v] = 1;
  return needs;
}

void accumulate(Builder& b, std::unordered_map<int, int>& ct, int v, int c) {
  auto prev = ct.find(v);
  ct[v] = prev == ct.end() ? c : b.add(prev->second, c);
}

// Propagates the cotangents in `ct` (seeded by the caller) backwards over
// the first n_fwd nodes of b.g; on return ct holds every cotangent reached.
void backprop(Builder& b, int n_fwd, const std::vector<char>& needs, std::unordered_map<int, int>& ct) {
  Graph& g = b.g;
  const int param_id = prim_id("param"), get_id = prim_id("tuple_get");
  std::unordered_map<int, std::vector<int>> tuple_ct;  // tuple node -> cotangent per output
  for (int v = n_fwd - 1; v >= 0; --v) {
    if (!needs[v]) continue;
    Node n = g.nodes[v];  // a copy: emitting may grow the node vector
    if (n.prim == param_id) continue;
    const PrimDef& p = prim(n.prim);
    std::vector<int> cts;
    if (n.prim == get_id) {
      auto it = ct.find(v);
      if (it == ct.end()) continue;
      auto& slots = tuple_ct[n.in[0]];
      slots.resize(g.nodes[n.in[0]].outs.size(), -1);
      int k = (int)n.attrs.ints[0];
      slots[k] = slots[k] < 0 ? it->second : b.add(slots[k], it->second);
      continue;
    }
    if (n.is_tuple()) {
      auto it = tuple_ct.find(v);
      if (it == tuple_ct.end()) continue;
      if (!p.vjp_tuple) fail("grad", "rjax has no gradient rule for '" + p.name + "'");
      std::vector<int> outs_ct = it->second;
      outs_ct.resize(n.outs.size(), -1);
      cts = p.vjp_tuple(b, n, outs_ct);
    } else {
      auto it = ct.find(v);
      if (it == ct.end()) continue;
      if (p.nondiff) continue;  // declared non-differentiable: its inputs get no cotangent
      if (!p.vjp) fail("grad", "rjax has no gradient rule for '" + p.name + "'");
      cts = p.vjp(b, n, v, it->second);
    }
    for (size_t k = 0; k < n.in.size(); ++k) {
      int i = n.in[k];
      if (k >= cts.size() || cts[k] < 0 || !needs[i]) continue;
      int c = cts[k];
      if (!g.type(c).same(g.type(i)))
        fail("internal", "VJP of " + p.name + " gives " + g.type(c).str() + " for an input of type " + g.type(i).str());
      accumulate(b, ct, i, c);
    }
  }
}

void check_differentiable(const Graph& g, int v) {
  if (!is_float(g.type(v).dtype))
    fail("grad", "cannot differentiate with respect to '" + g.nodes[v].label + "': it has dtype " +
                     dtype_name(g.type(v).dtype) + "; only f32 and f64 arrays have gradients");
}

}  // namespace

// The input values to differentiate, checked (float dtype, valid index).
static std::vector<int> wrt_inputs(const Graph& g, const std::vector<int>& ins, const std::vector<int>& wrt) {
  std::vector<int> from;
  for (int k : wrt) {
    if (k < 0 || k >= (int)ins.size()) fail("internal", "vjp: wrt index out of range");
    check_differentiable(g, ins[k]);
    from.push_back(ins[k]);
  }
  return from;
}

GraphPtr vjp(const Graph& g, const std::vector<int>& wrt) {
  if (g.outputs.empty()) fail("grad", "the function returns nothing to differentiate");
  auto out = graph_like(g);
  Builder b(*out);
  auto ins = out->inputs();
  auto map = replay(b, g, ins);
  int y = map[g.outputs[0]];
  const Type yt = out->type(y);
  if (!is_float(yt.dtype) || yt.size() != 1)
    fail("grad", "grad() needs a function that returns a float scalar, but it returned " + yt.str() +
                     "; reduce it first (sum(), mean()) or use a Jacobian transform");
  int n_fwd = (int)out->nodes.size();
  std::vector<int> from = wrt_inputs(*out, ins, wrt);
  std::unordered_map<int, int> ct;
  ct[y] = b.reshape(b.scalar(1, yt.dtype), yt.shape);
  backprop(b, n_fwd, depends_on(*out, n_fwd, from), ct);
  for (int o : g.outputs) out->outputs.push_back(map[o]);
  for (int k : wrt) {
    auto it = ct.find(ins[k]);
    out->outputs.push_back(it != ct.end() ? it->second : b.zeros_like(ins[k]));
  }
  return out;
}

// Control-flow VJP rules (src/prims/control.cpp) reach this through the
// hook of src/ir/replay.h, so that primitives do not include transforms.
static const bool kSubgraphVjpHook = (set_subgraph_vjp(&vjp_graph), true);

GraphPtr vjp_graph(const Graph& g, const std::vector<int>& wrt, const std::vector<char>& has_ct) {
  if (!g.captures.empty()) fail("internal", "vjp_graph: the graph captures values");
  if (has_ct.size() != g.outputs.size()) fail("internal", "vjp_graph: one flag per output expected");
  auto out = std::make_shared<Graph>();
  out->level = g.level;
  for (int p : g.params) out->add_param(g.type(p), g.nodes[p].label);
  std::vector<int> ct_params;
  for (size_t k = 0; k < g.outputs.size(); ++k)
    if (has_ct[k]) ct_params.push_back(out->add_param(g.type(g.outputs[k]), "<cotangent>"));
  Builder b(*out);
  std::vector<int> ins(out->params.begin(), out->params.begin() + g.params.size());
  auto map = replay(b, g, ins);
  int n_fwd = (int)out->nodes.size();
  std::vector<int> from = wrt_inputs(*out, ins, wrt);
  std::unordered_map<int, int> ct;
  size_t c = 0;
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    if (!has_ct[k]) continue;
    accumulate(b, ct, map[g.outputs[k]], ct_params[c++]);
  }
  backprop(b, n_fwd, depends_on(*out, n_fwd, from), ct);
  for (int k : wrt) {
    auto it = ct.find(ins[k]);
    out->outputs.push_back(it != ct.end() ? it->second : b.zeros_like(ins[k]));
  }
  return out;
}

}  // namespace rj
