// Core work of tracing front ends: the R glue (src/rcpp_trace.cpp) brings R
// values into a graph (tracers, constants) and converts results back; every
// graph construction beyond that happens here, in C++ without R, so that
// other front ends and the unit tests (tests/cpp) build the same nodes.
#pragma once
#include <string>
#include <vector>

#include "../ir/ir.h"

namespace rj {

// Brings value v of b.g to type `want` (dtype, then shape) as a call of a
// traced function with that parameter type does; with check_size, a shape
// of another element count is an internal error naming `what` (otherwise
// the reshape's own shape error).
int coerce_to(Builder& b, int v, const Type& want, const std::string& what, bool check_size);

// Records a control-flow node (name "scan", "while" or "cond"; layouts in
// src/prims/control.h) in the open trace `target`. `bodies` are the traced
// bodies (their captures of enclosing traces become the node's
// loop-invariant inputs, and the bodies self-contained copies), `args` the
// explicit inputs as ids of target ([init, xs] / [init] / [pred,
// operands]), `ints` for scan {length, reverse, nx}. Returns the ids of the
// node's outputs (tuple_get nodes).
std::vector<int> build_control(Graph& target, const std::string& name, const std::vector<GraphPtr>& bodies,
                               const std::vector<int>& args, const std::vector<int64_t>& ints);

// Records a call of a function with a custom gradient rule: a
// custom_vjp_call node owning the traced graphs f, fwd, bwd (src/prims/custom.cpp)
// applied to `args` (ids of g). Returns the node's id.
int build_custom_vjp(Graph& g, const GraphPtr& f, const GraphPtr& fwd, const GraphPtr& bwd, const std::vector<int>& args);

// Inlines a finished graph into the open trace b.g: args (ids of b.g) are
// coerced to its parameter types, its captures taken from the enclosing
// traces. Returns the ids of its outputs in b.g.
std::vector<int> inline_graph(Builder& b, const Graph& sub, const std::vector<int>& args);

}  // namespace rj
