// Batching (vmap) as a graph transform: the program is replayed node by
// node; a node with a batched input is replaced by what its batching rule
// (PrimDef::batch, or batch_tuple for control flow) emits, which computes the
// node for every lane at once (element-wise ops on the batched operands, one
// batched GEMM, batched solve/chol/det kernels, ...). Nodes without batched
// inputs are copied as they are. No rule loops over lanes.
//
// Axis convention. Rules accept a batch axis anywhere, but they bring it to
// the trailing axis, where a column-major array stores each lane's slice
// contiguously: x[, , k] is one block, so reshapes of [s..., B] keep every
// lane, a stack of matrices [m, n, B] is what batched kernels read in place,
// and a batched right-hand side [k, n, B] is the matrix [k, n B] of one GEMM.
// It is also R's own convention for stacking results (sapply(), simplify2array()
// put each result in a column), so R's vmap() batches the last axis by default.
#include <unordered_map>

#include "../prims/prim_util.h"
#include "passes.h"

namespace rj {

void batch_replay(Builder& b, const Graph& src, const std::vector<int>& inputs, const std::vector<int>& in_axes,
                  std::vector<int>* outs, std::vector<int>* out_axes) {
  std::vector<int> map(src.nodes.size(), -1), axis(src.nodes.size(), -1);
  auto ins = src.inputs();
  if (ins.size() != inputs.size() || in_axes.size() != inputs.size()) fail("internal", "batch_replay: input count mismatch");
  for (size_t i = 0; i < ins.size(); ++i) {
    map[ins[i]] = inputs[i];
    axis[ins[i]] = in_axes[i];
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
    std::vector<int> in, ax;
    std::vector<Type> in_types;
    bool any = false;
    for (int i : n.in) {
      in.push_back(map[i]);
      ax.push_back(axis[i]);
      in_types.push_back(src.type(i));
      any = any || axis[i] >= 0;
    }
    const PrimDef& p = prim(n.prim);
    if (n.prim == get_id) {
      if (!tuples.read(n, (int)v, map, axis)) map[v] = b.emit(n.prim, in, n.attrs);
      continue;
    }
    if (!any) {  // nothing batched reaches it: copied as it is
      map[v] = reemit(b, n, in);
      continue;
    }
    if (n.is_tuple()) {
      if (!p.batch_tuple) fail("unsupported", "vmap: rjax has no batching rule for '" + p.name + "'");
      std::vector<int> oax;
      std::vector<int> o = p.batch_tuple(b, n, in_types, in, ax, &oax);
      map[v] = (int)v;  // done; its outputs are read through `tuples`
      tuples.outs[(int)v] = {o, oax};
      continue;
    }
    if (!p.batch) fail("unsupported", "vmap: rjax has no batching rule for '" + p.name + "'");
    int oax = -1;
    map[v] = p.batch(b, n, in_types, in, ax, &oax);
    axis[v] = oax;
  }
  outs->clear();
  out_axes->clear();
  for (int o : src.outputs) {
    outs->push_back(map[o]);
    out_axes->push_back(axis[o]);
  }
}

GraphPtr vmap(const Graph& g, const std::vector<int>& in_axes, int64_t size, const std::vector<int>& out_axes) {
  if (in_axes.size() != g.params.size()) fail("internal", "vmap: one axis per parameter expected");
  auto out = std::make_shared<Graph>();
  out->level = g.level;
  std::vector<int> ins, axes;
  for (size_t k = 0; k < g.params.size(); ++k) {
    Type t = g.type(g.params[k]);
    const int ax = in_axes[k];
    if (ax >= 0) {
      if (ax > t.rank()) fail("internal", "vmap: batch axis out of range");
      t.shape.insert(t.shape.begin() + ax, size);
      t.weak = false;
    }
    ins.push_back(out->add_param(t, g.nodes[g.params[k]].label));
    axes.push_back(ax);
  }
  for (size_t i = 0; i < g.captures.size(); ++i) {  // values of enclosing traces: not batched
    out->nodes.push_back(g.nodes[g.captures[i]]);
    out->captures.push_back((int)out->nodes.size() - 1);
    out->capture_src.push_back(g.capture_src[i]);
    ins.push_back(out->captures.back());
    axes.push_back(-1);
  }
  Builder b(*out);
  std::vector<int> o, oax;
  batch_replay(b, g, ins, axes, &o, &oax);
  for (size_t k = 0; k < o.size(); ++k) {
    int v = batch_last(b, o[k], oax[k], size);
    const int r = b.type(v).rank();
    int want = k < out_axes.size() && out_axes[k] >= 0 ? out_axes[k] : r - 1;
    if (want >= r) fail("internal", "vmap: output batch axis out of range");
    out->outputs.push_back(move_axis(b, v, r - 1, want));
  }
  return out;
}

}  // namespace rj
