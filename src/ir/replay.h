// Graph utilities that primitive rules and transforms share: re-emitting a
// graph into a builder, making an empty graph with another's inputs, and the
// one transform service rules of control flow need (the VJP of a sub-graph).
//
// Layering: src/prims depends only on src/ir; src/transforms on both. The
// VJP rules of scan and cond differentiate their bodies, which is a
// transform: they call subgraph_vjp(), a hook that src/transforms/vjp.cpp
// fills in when the library loads, so no primitive includes a transform header.
#pragma once
#include "ir.h"

namespace rj {

// Re-emits the nodes of `src` into `b.g` (all of them, or those with
// keep[v] != 0), with src's inputs bound to `inputs`; returns the new id of
// every node (-1 for skipped ones).
std::vector<int> replay(Builder& b, const Graph& src, const std::vector<int>& inputs,
                        const std::vector<char>* keep = nullptr);

// Re-emits node n with inputs `in` into b.g: nodes owning sub-graphs
// (control flow, custom rules) are copied as they are, others emitted.
int reemit(Builder& b, const Node& n, std::vector<int> in);

// A new graph with the same inputs (params and captures) as `g`, ready to be
// filled.
GraphPtr graph_like(const Graph& g);

// The backward program of a self-contained graph (see vjp_graph in
// src/transforms/passes.h, which implements it).
using SubgraphVjpFn = GraphPtr (*)(const Graph& g, const std::vector<int>& wrt, const std::vector<char>& has_ct);
void set_subgraph_vjp(SubgraphVjpFn f);
GraphPtr subgraph_vjp(const Graph& g, const std::vector<int>& wrt, const std::vector<char>& has_ct);

// Forward mode and batching of sub-graphs, for the rules of control flow and
// custom_vjp. Declared here so that no primitive includes a transform header;
// defined in src/transforms/jvp.cpp and vmap.cpp (same library).
// Forward mode of a self-contained graph (control-flow bodies): params are
// g's params, then a tangent for each param k with has_t[k]; outputs are g's
// outputs, then a tangent for each output k with want_t[k] (zeros where none).
GraphPtr jvp_graph(const Graph& g, const std::vector<char>& has_t, const std::vector<char>& want_t);

// Replays src into b.g (inputs bound to `inputs`, their tangents to
// `in_tangents`, -1 for none), emitting every node's forward rule beside it;
// returns src's outputs in *outs and their tangents (-1: zero) in *out_tangents.
void jvp_replay(Builder& b, const Graph& src, const std::vector<int>& inputs, const std::vector<int>& in_tangents,
                std::vector<int>* outs, std::vector<int>* out_tangents);

// Replays src into b.g with its inputs bound to `inputs`, batched along
// in_axes (-1: not batched), applying each primitive's batching rule; returns
// the outputs and their batch axes (-1: not batched).
void batch_replay(Builder& b, const Graph& src, const std::vector<int>& inputs, const std::vector<int>& in_axes,
                  std::vector<int>* outs, std::vector<int>* out_axes);

}  // namespace rj
