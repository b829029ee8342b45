// Graph-to-graph transforms. Each builds a new graph through Builder::emit,
// so type checking, constant folding and CSE apply to every result.
#pragma once
#include <unordered_map>

#include "../ir/replay.h"

namespace rj {

// replay(), reemit(), graph_like() and the transform services primitive rules
// use (subgraph_vjp, jvp_graph, jvp_replay, batch_replay) are declared in
// src/ir/replay.h.

// The tuple nodes a transform rewrote (jvp, vmap): per source node id, the
// ids of its new outputs and one side value per output (tangent, batch axis).
struct RewrittenTuples {
  std::unordered_map<int, std::pair<std::vector<int>, std::vector<int>>> outs;
  // For a tuple_get n (source id v) of a rewritten tuple: sets map[v] and
  // side[v] and returns true.
  bool read(const Node& n, int v, std::vector<int>& map, std::vector<int>& side) const;
};

// Dead-code elimination: keeps only what the outputs need.
GraphPtr dce(const Graph& g);

// Reverse-mode AD. The result has g's inputs and outputs
//   [g's outputs..., d out0 / d input_k for k in wrt]
// where out0 (g.outputs[0]) must be a float scalar; the remaining outputs of g
// (auxiliary values) pass through undifferentiated.
GraphPtr vjp(const Graph& g, const std::vector<int>& wrt);

// The backward program of a self-contained graph (no captures), used for
// the bodies of control flow: its inputs are [g's params..., a cotangent for
// each output k of g with has_ct[k]], its outputs the cotangents of the
// params listed in wrt (zeros where none flows).
GraphPtr vjp_graph(const Graph& g, const std::vector<int>& wrt, const std::vector<char>& has_ct);

// Forward-mode AD (jvp.cpp). The result's params are g's params followed by
// one tangent param per input listed in wrt (its type; float inputs only);
// its outputs are g's outputs followed by one tangent per output (zeros where
// none flows). Captures stay captures.
GraphPtr jvp(const Graph& g, const std::vector<int>& wrt);



// Batching (vmap.cpp). The result's params have the types of g's params with
// a batch axis of extent `size` inserted at in_axes[k] (-1: param k is not
// batched); every output is batched, its batch axis at out_axes[k] (-1: the
// trailing axis). g must not capture values.
GraphPtr vmap(const Graph& g, const std::vector<int>& in_axes, int64_t size, const std::vector<int>& out_axes);


// One sweep of algebraic simplification (simplify.cpp lists the rewrites),
// followed by dead-code elimination.
GraphPtr simplify(const Graph& g);

// The standard pipeline before compiling or printing: DCE, then simplify to
// a fixpoint (inlines custom_vjp calls and drops stop_gradient, so it must
// run only after every gradient transform).
GraphPtr optimize(const Graph& g);

}  // namespace rj
