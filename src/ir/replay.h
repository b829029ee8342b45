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

// A new graph with the same inputs (params and captures) as `g`, ready to be
// filled.
GraphPtr graph_like(const Graph& g);

// The backward program of a self-contained graph (see vjp_graph in
// src/transforms/passes.h, which implements it).
using SubgraphVjpFn = GraphPtr (*)(const Graph& g, const std::vector<int>& wrt, const std::vector<char>& has_ct);
void set_subgraph_vjp(SubgraphVjpFn f);
GraphPtr subgraph_vjp(const Graph& g, const std::vector<int>& wrt, const std::vector<char>& has_ct);

}  // namespace rj
