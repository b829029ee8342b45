// The interpreter backend: runs a graph node by node with each primitive's
// reference kernel (PrimDef::eval, or its scalar description on the
// interpreter's tape: eval_prim), freeing every intermediate buffer after its last use.
#include <unordered_map>

#include "../backend.h"
#include "../control.h"

namespace rj {

void check_inputs(const Graph& g, const std::vector<BufferPtr>& inputs) {
  auto ins = g.inputs();
  if (ins.size() != inputs.size())
    fail("internal", "program takes " + std::to_string(ins.size()) + " inputs, got " + std::to_string(inputs.size()));
  for (size_t i = 0; i < ins.size(); ++i) {
    const Type& t = g.type(ins[i]);
    if (!inputs[i] || inputs[i]->dtype != t.dtype || inputs[i]->shape != t.shape)
      fail("internal", "input " + std::to_string(i + 1) + " does not match the compiled signature " + t.str());
  }
}

namespace {

struct InterpExecutable : Executable {
  std::vector<int> last_use;  // index of the last node reading each value
  std::unordered_map<int, std::unique_ptr<ControlRunner>> control;  // tuple nodes
  int tuple_get = prim_id("tuple_get");

  std::vector<BufferPtr> run(const std::vector<BufferPtr>& inputs) override {
    const Graph& g = *graph;
    check_inputs(g, inputs);
    std::vector<BufferPtr> vals(g.nodes.size());
    auto ins = g.inputs();
    for (size_t i = 0; i < ins.size(); ++i) vals[ins[i]] = inputs[i];
    std::vector<const Buffer*> args;
    std::unordered_map<int, std::vector<BufferPtr>> tuples;  // outputs of tuple nodes
    for (size_t v = 0; v < g.nodes.size(); ++v) {
      const Node& n = g.nodes[v];
      if (n.value) { vals[v] = n.value; continue; }
      if (vals[v]) continue;  // a param
      if (n.is_tuple()) {
        std::vector<BufferPtr> in;
        for (int i : n.in) in.push_back(vals[i]);
        tuples[(int)v] = control.at((int)v)->run(in);
        for (int i : n.in)
          if (last_use[i] == (int)v) vals[i].reset();
        continue;
      }
      if (n.prim == tuple_get) {
        vals[v] = tuples.at(n.in[0]).at(n.attrs.ints[0]);
        continue;
      }
      const PrimDef& p = prim(n.prim);
      args.clear();
      for (int i : n.in) args.push_back(vals[i].get());
      auto out = make_buffer(n.type.dtype, n.type.shape);
      eval_prim(p, args, *out, n.attrs);
      vals[v] = std::move(out);
      for (int i : n.in)
        if (last_use[i] == (int)v) vals[i].reset();
    }
    std::vector<BufferPtr> outs;
    for (int o : g.outputs) outs.push_back(vals[o]);
    return outs;
  }
};

}  // namespace

ExecutablePtr compile_interp(GraphPtr g) {
  auto e = std::make_shared<InterpExecutable>();
  e->graph = g;
  e->backend = "interp";
  e->last_use.assign(g->nodes.size(), -1);
  for (size_t v = 0; v < g->nodes.size(); ++v)
    for (int i : g->nodes[v].in) e->last_use[i] = (int)v;
  for (int o : g->outputs) e->last_use[o] = (int)g->nodes.size();  // outputs live to the end
  for (size_t v = 0; v < g->nodes.size(); ++v)
    if (g->nodes[v].is_tuple()) e->control[(int)v] = make_control_runner(g->nodes[v], "interp");
  return e;
}

ExecutablePtr compile(GraphPtr g, const std::string& backend) {
  if (backend == "interp") return compile_interp(g);
  if (backend == "llvm") return compile_llvm(g);
  if (backend == "cuda") return compile_cuda(g);
  if (backend == "cuda-shim") return compile_cuda_shim(g);
  fail("backend", "unknown backend '" + backend + "': available backends are \"llvm\", \"interp\", \"cuda\" and \"cuda-shim\"");
}

}  // namespace rj
