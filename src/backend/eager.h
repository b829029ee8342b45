// Eager evaluation services for front ends (the R glue): running the nodes
// of a graph that constant folding could not evaluate, and converting a
// buffer's dtype with the primitive's semantics.
#pragma once
#include <vector>

#include "backend.h"

namespace rj {

// Values of nodes `ids` of g, whose inputs are all constants (eager mode:
// non-foldable primitives such as large broadcasts), run by the interpreter.
std::vector<BufferPtr> eval_nodes(const Graph& g, const std::vector<int>& ids);

// `x` as dtype d (the convert primitive's semantics); x itself when it has d.
BufferPtr convert_buffer(const BufferPtr& x, DType d);

}  // namespace rj
