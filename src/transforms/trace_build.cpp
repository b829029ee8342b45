// Graph construction for tracing front ends (see trace_build.h).
#include "trace_build.h"

#include "../prims/control.h"
#include "passes.h"

namespace rj {

int coerce_to(Builder& b, int v, const Type& want, const std::string& what, bool check_size) {
  if (b.type(v).dtype != want.dtype) v = b.convert(v, want.dtype);
  if (b.type(v).shape != want.shape) {
    if (check_size && b.type(v).size() != shape_size(want.shape))
      fail("internal", what + " has type " + b.type(v).str() + ", expected " + want.str());
    v = b.reshape(v, want.shape);
  }
  return v;
}

std::vector<int> build_control(Graph& target, const std::string& name, const std::vector<GraphPtr>& bodies,
                               const std::vector<int>& args, const std::vector<int64_t>& ints) {
  if (target.closed) fail("internal", "control flow recorded into a finished trace");
  if (bodies.empty()) fail("internal", name + " without bodies");
  Builder b(target);
  std::vector<GraphPtr> subs;
  std::vector<std::vector<int>> consts;
  for (const GraphPtr& gp : bodies) {
    const Graph& g = *gp;
    std::vector<int> cs;
    for (auto& src : g.capture_src) {
      if (!src.outer || src.outer->level > target.level) fail("internal", "a loop body captured a value of an inner trace");
      cs.push_back(src.outer == &target ? src.id : target.capture(src.outer, src.id));
    }
    auto own = std::make_shared<Graph>(g);
    own->params.insert(own->params.end(), own->captures.begin(), own->captures.end());
    own->captures.clear();
    own->capture_src.clear();
    own->closed = true;
    subs.push_back(own);
    consts.push_back(cs);
  }
  // The explicit inputs, brought to the types the bodies were traced with.
  const int n_args = (int)args.size();
  std::vector<Type> want;
  const Graph& g0 = *subs.at(0);
  int64_t length = 0;
  int nx = 0;
  if (name == "scan") {
    if (ints.size() < 3) fail("internal", "scan needs {length, reverse, nx}");
    length = ints[0];
    nx = (int)ints[2];
    for (int i = 0; i < n_args; ++i) want.push_back(g0.type(g0.params.at(i)));
  } else if (name == "while") {
    if (subs.size() != 2) fail("internal", "while needs a condition and a body");
    for (int i = 0; i < n_args; ++i) want.push_back(g0.type(subs[1]->params.at(i)));
  } else if (name == "cond") {
    if (subs.size() != 2) fail("internal", "cond needs two branches");
    want.push_back(Type{DType::b8, {}});
    for (int i = 1; i < n_args; ++i) want.push_back(g0.type(g0.params.at(i - 1)));
  } else {
    fail("internal", "unknown control primitive '" + name + "'");
  }
  for (int i = n_args - nx; i < n_args; ++i) want[i] = stacked_type(want[i], length);
  std::vector<int> in;
  for (int i = 0; i < n_args; ++i) in.push_back(coerce_to(b, args[i], want[i], name + ": input " + std::to_string(i + 1), true));
  Attrs a;
  std::vector<Type> outs;
  auto out_types = [](const Graph& g, size_t from, size_t to) {
    std::vector<Type> r;
    for (size_t k = from; k < to; ++k) r.push_back(g.type(g.outputs[k]));
    return r;
  };
  for (auto& cs : consts) in.insert(in.end(), cs.begin(), cs.end());
  if (name == "scan") {
    const int nc = n_args - nx;
    a.ints = {length, nc, nx, ints[1] ? 1 : 0};
    outs = out_types(g0, 0, nc);
    for (auto& t : out_types(g0, nc, g0.outputs.size())) outs.push_back(stacked_type(t, length));
  } else if (name == "while") {
    a.ints = {n_args, (int64_t)consts[0].size(), (int64_t)consts[1].size()};
    outs = out_types(*subs[1], 0, subs[1]->outputs.size());
  } else {
    a.ints = {n_args - 1, (int64_t)consts[0].size(), (int64_t)consts[1].size()};
    outs = out_types(g0, 0, g0.outputs.size());
  }
  return b.emit_tuple(name, in, subs, a, outs);
}

int build_custom_vjp(Graph& g, const GraphPtr& f, const GraphPtr& fwd, const GraphPtr& bwd, const std::vector<int>& args) {
  for (const GraphPtr& s : {f, fwd, bwd})
    if (!s->captures.empty())
      fail("grad", "custom_vjp: f, fwd and bwd must not use traced values from outside (closures over a value "
                   "being traced); pass such values as arguments");
  if (f->outputs.size() != 1) fail("grad", "custom_vjp: f must return a single array");
  if (args.size() != f->params.size()) fail("internal", "custom_vjp: wrong number of arguments");
  Builder b(g);
  Node n;
  n.prim = prim_id("custom_vjp_call");
  for (size_t i = 0; i < args.size(); ++i) n.in.push_back(coerce_to(b, args[i], f->type(f->params[i]), "custom_vjp", false));
  n.sub = {f, fwd, bwd};
  n.type = f->type(f->outputs[0]);
  n.type.weak = false;
  n.attrs.dtype = n.type.dtype;
  n.attrs.shape = n.type.shape;
  g.nodes.push_back(std::move(n));
  return (int)g.nodes.size() - 1;
}

std::vector<int> inline_graph(Builder& b, const Graph& sub, const std::vector<int>& args) {
  if (args.size() != sub.params.size()) fail("internal", "graph call: wrong number of arguments");
  for (auto& cs : sub.capture_src)
    if (!cs.outer || cs.outer->level > b.g.level) fail("internal", "graph call: captured value outside the calling trace");
  std::vector<int> in;
  for (size_t i = 0; i < args.size(); ++i) in.push_back(coerce_to(b, args[i], sub.type(sub.params[i]), "graph call", false));
  for (auto& cs : sub.capture_src) in.push_back(cs.outer == &b.g ? cs.id : b.g.capture(cs.outer, cs.id));
  auto map = replay(b, sub, in);
  std::vector<int> ids;
  for (int o : sub.outputs) ids.push_back(map[o]);
  return ids;
}

}  // namespace rj
