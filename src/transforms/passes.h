// Graph-to-graph transforms. Each builds a new graph through Builder::emit,
// so type checking, constant folding and CSE apply to every result.
#pragma once
#include <unordered_map>

#include "../ir/ir.h"

namespace rj {

// Re-emits the nodes of `src` into `b.g` (all of them, or those with
// keep[v] != 0), with src's inputs bound to `inputs`; returns the new id of
// every node (-1 for skipped ones).
std::vector<int> replay(Builder& b, const Graph& src, const std::vector<int>& inputs,
                        const std::vector<char>* keep = nullptr);

// Re-emits node n with inputs `in` into b.g: nodes owning sub-graphs
// (control flow, custom rules) are copied as they are, others emitted.
int reemit(Builder& b, const Node& n, std::vector<int> in);

// The tuple nodes a transform rewrote (jvp, vmap): per source node id, the
// ids of its new outputs and one side value per output (tangent, batch axis).
struct RewrittenTuples {
  std::unordered_map<int, std::pair<std::vector<int>, std::vector<int>>> outs;
  // For a tuple_get n (source id v) of a rewritten tuple: sets map[v] and
  // side[v] and returns true.
  bool read(const Node& n, int v, std::vector<int>& map, std::vector<int>& side) const;
};

// A new graph with the same inputs (params and captures) as `g`, ready to be
// filled; returns it and the ids of its inputs.
GraphPtr graph_like(const Graph& g);

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

// Forward mode of a self-contained graph (control-flow bodies): params are
// g's params, then a tangent for each param k with has_t[k]; outputs are g's
// outputs, then a tangent for each output k with want_t[k] (zeros where none).
GraphPtr jvp_graph(const Graph& g, const std::vector<char>& has_t, const std::vector<char>& want_t);

// Replays src into b.g (inputs bound to `inputs`, their tangents to
// `in_tangents`, -1 for none), emitting every node's forward rule beside it;
// returns src's outputs in *outs and their tangents (-1: zero) in *out_tangents.
void jvp_replay(Builder& b, const Graph& src, const std::vector<int>& inputs, const std::vector<int>& in_tangents,
                std::vector<int>* outs, std::vector<int>* out_tangents);

// Batching (vmap.cpp). The result's params have the types of g's params with
// a batch axis of extent `size` inserted at in_axes[k] (-1: param k is not
// batched); every output is batched, its batch axis at out_axes[k] (-1: the
// trailing axis). g must not capture values.
GraphPtr vmap(const Graph& g, const std::vector<int>& in_axes, int64_t size, const std::vector<int>& out_axes);

// Replays src into b.g with its inputs bound to `inputs`, batched along
// in_axes (-1: not batched), applying each primitive's batching rule; returns
// the outputs and their batch axes (-1: not batched).
void batch_replay(Builder& b, const Graph& src, const std::vector<int>& inputs, const std::vector<int>& in_axes,
                  std::vector<int>* outs, std::vector<int>* out_axes);

// One sweep of algebraic simplification (simplify.cpp lists the rewrites),
// followed by dead-code elimination.
GraphPtr simplify(const Graph& g);

// The standard pipeline before compiling or printing: DCE, then simplify to
// a fixpoint (inlines custom_vjp calls and drops stop_gradient, so it must
// run only after every gradient transform).
GraphPtr optimize(const Graph& g);

}  // namespace rj
