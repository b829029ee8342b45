// Running control-flow nodes (scan, while, cond; layouts in
// src/prims/control.h). Both backends hand a tuple node to a ControlRunner
// made when the enclosing program is compiled: it compiles the node's
// sub-graphs once, with the same backend, and runs the loop in C++ (no R and
// no graph work per iteration).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "backend.h"

namespace rj {

struct ControlRunner {
  virtual ~ControlRunner() = default;
  // Inputs in the order of the node's inputs; one buffer per output of the node.
  virtual std::vector<BufferPtr> run(const std::vector<BufferPtr>& in) = 0;
};

std::unique_ptr<ControlRunner> make_control_runner(const Node& n, const std::string& backend);

}  // namespace rj
