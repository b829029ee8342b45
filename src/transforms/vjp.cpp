// Reverse-mode automatic differentiation as a graph transform. The forward
// program is replayed into a new graph, then each primitive's VJP rule emits
// the backward program into the same graph. Because the rules build IR with
// the same Builder, the result can be differentiated again (grad of grad).
#include <unordered_map>

#include "passes.h"

namespace rj {

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

  // Which values depend on a differentiated input.
  std::vector<char> needs(n_fwd, 0);
  for (int k : wrt) {
    if (k < 0 || k >= (int)ins.size()) fail("internal", "vjp: wrt index out of range");
    if (!is_float(out->type(ins[k]).dtype))
      fail("grad", "cannot differentiate with respect to '" + out->nodes[ins[k]].label + "': it has dtype " +
                       dtype_name(out->type(ins[k]).dtype) + "; only f32 and f64 arrays have gradients");
    needs[ins[k]] = 1;
  }
  for (int v = 0; v < n_fwd; ++v)
    for (int i : out->nodes[v].in)
      if (needs[i]) needs[v] = 1;

  std::unordered_map<int, int> ct;
  ct[y] = b.reshape(b.scalar(1, yt.dtype), yt.shape);
  for (int v = n_fwd - 1; v >= 0; --v) {
    auto it = ct.find(v);
    if (it == ct.end() || !needs[v]) continue;
    Node n = out->nodes[v];  // a copy: emitting may grow the node vector
    if (n.prim == prim_id("param")) continue;
    const PrimDef& p = prim(n.prim);
    bool any = false;
    for (int i : n.in) any = any || needs[i];
    if (!any) continue;
    if (!p.vjp) fail("grad", "rjax has no gradient rule for '" + p.name + "'");
    std::vector<int> cts = p.vjp(b, n, v, it->second);
    for (size_t k = 0; k < n.in.size(); ++k) {
      int i = n.in[k];
      if (k >= cts.size() || cts[k] < 0 || !needs[i]) continue;
      int c = cts[k];
      if (!out->type(c).same(out->type(i)))
        fail("internal", "VJP of " + p.name + " gives " + out->type(c).str() + " for an input of type " + out->type(i).str());
      auto prev = ct.find(i);
      ct[i] = prev == ct.end() ? c : b.add(prev->second, c);
    }
  }
  for (int o : g.outputs) out->outputs.push_back(map[o]);
  for (int k : wrt) {
    int in = ins[k];
    auto it = ct.find(in);
    out->outputs.push_back(it != ct.end() ? it->second : b.zeros_like(in));
  }
  return out;
}

}  // namespace rj
