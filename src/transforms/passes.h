// Graph-to-graph transforms. Each builds a new graph through Builder::emit,
// so type checking, constant folding and CSE apply to every result.
#pragma once
#include "../ir/replay.h"

namespace rj {

// replay() and graph_like() come from src/ir/replay.h.

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

// One sweep of algebraic simplification (simplify.cpp lists the rewrites),
// followed by dead-code elimination.
GraphPtr simplify(const Graph& g);

// The standard pipeline before compiling or printing: DCE, then simplify to
// a fixpoint (inlines custom_vjp calls and drops stop_gradient, so it must
// run only after every gradient transform).
GraphPtr optimize(const Graph& g);

}  // namespace rj
