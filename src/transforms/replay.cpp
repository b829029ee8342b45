// Dead-code elimination (replay() and graph_like() are in src/ir/replay.cpp).
#include "passes.h"

namespace rj {

bool RewrittenTuples::read(const Node& n, int v, std::vector<int>& map, std::vector<int>& side) const {
  auto it = outs.find(n.in.at(0));
  if (it == outs.end()) return false;
  const int k = (int)n.attrs.ints.at(0);
  map[v] = it->second.first.at(k);
  side[v] = it->second.second.at(k);
  return true;
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
