// replay(), graph_like() and the sub-graph VJP hook (see replay.h).
#include "replay.h"

namespace rj {

GraphPtr graph_like(const Graph& g) {
  auto out = std::make_shared<Graph>();
  out->level = g.level;
  for (int p : g.params) out->add_param(g.type(p), g.nodes[p].label);
  for (size_t i = 0; i < g.captures.size(); ++i) {
    Node n = g.nodes[g.captures[i]];
    out->nodes.push_back(n);
    out->captures.push_back((int)out->nodes.size() - 1);
    out->capture_src.push_back(g.capture_src[i]);
  }
  return out;
}

int reemit(Builder& b, const Node& n, std::vector<int> in) {
  if (n.sub.empty()) return b.emit(n.prim, std::move(in), n.attrs);
  // Nodes owning sub-graphs (control flow, custom_vjp_call) are copied with
  // their inputs remapped; their sub-graphs capture nothing, so they need no
  // rewiring. No CSE for them: sharing would need comparing sub-graphs.
  Node c = n;
  c.in = std::move(in);
  b.g.nodes.push_back(std::move(c));
  return (int)b.g.nodes.size() - 1;
}

std::vector<int> replay(Builder& b, const Graph& src, const std::vector<int>& inputs, const std::vector<char>* keep) {
  std::vector<int> map(src.nodes.size(), -1);
  auto ins = src.inputs();
  if (ins.size() != inputs.size()) fail("internal", "replay: input count mismatch");
  for (size_t i = 0; i < ins.size(); ++i) map[ins[i]] = inputs[i];
  int param_id = prim_id("param");
  for (size_t v = 0; v < src.nodes.size(); ++v) {
    const Node& n = src.nodes[v];
    if (n.prim == param_id || map[v] >= 0) continue;
    if (keep && !(*keep)[v]) continue;
    if (n.value) { map[v] = b.constant(n.value, n.type.weak); continue; }
    std::vector<int> in;
    for (int i : n.in) in.push_back(map[i]);
    map[v] = reemit(b, n, std::move(in));
  }
  return map;
}

namespace {
SubgraphVjpFn& subgraph_vjp_fn() {
  static SubgraphVjpFn f = nullptr;
  return f;
}
}  // namespace

void set_subgraph_vjp(SubgraphVjpFn f) { subgraph_vjp_fn() = f; }

GraphPtr subgraph_vjp(const Graph& g, const std::vector<int>& wrt, const std::vector<char>& has_ct) {
  if (!subgraph_vjp_fn()) fail("internal", "the VJP transform is not linked in (src/transforms/vjp.cpp)");
  return subgraph_vjp_fn()(g, wrt, has_ct);
}

}  // namespace rj
