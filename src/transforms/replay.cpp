// replay(), graph_like() and dead-code elimination.
#include "passes.h"

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

bool RewrittenTuples::read(const Node& n, int v, std::vector<int>& map, std::vector<int>& side) const {
  auto it = outs.find(n.in.at(0));
  if (it == outs.end()) return false;
  const int k = (int)n.attrs.ints.at(0);
  map[v] = it->second.first.at(k);
  side[v] = it->second.second.at(k);
  return true;
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

GraphPtr dce(const Graph& g) {
  std::vector<char> live(g.nodes.size(), 0);
  for (int o : g.outputs) live[o] = 1;
  for (int v = (int)g.nodes.size() - 1; v >= 0; --v)
    if (live[v])
      for (int i : g.nodes[v].in) live[i] = 1;
  auto out = graph_like(g);
  Builder b(*out);
  auto map = replay(b, g, out->inputs(), &live);
  for (int o : g.outputs) out->outputs.push_back(map[o]);
  return out;
}

}  // namespace rj
